"""Embedder process: ONNX models on onnxruntime (CUDA when present), batched across callers."""

from __future__ import annotations

import logging
import pathlib

from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa_embedder.clip_model import PRECISIONS as IMAGE_PRECISIONS
from mivaa_embedder.registry import ModelRegistry
from mivaa_embedder.servicer import MAX_REQUEST_MESSAGE_BYTES, EmbedderServicer
from mivaa_embedder.settings import PREFIX, EmbedderSettings
from mivaa_embedder.text_model import PRECISIONS
from mivaa_platform.config import ConfigError, ServerSettings, load_config
from mivaa_platform.runtime import run_service
from mivaa_platform.server import GrpcService
from mivaa_platform.telemetry import start_metrics_server

log = logging.getLogger("mivaa.embedder")


async def amain() -> None:
    settings = load_config(EmbedderSettings, PREFIX)
    if settings.precision not in PRECISIONS:
        raise ConfigError(
            f"embedder configuration is invalid:\n  {PREFIX}_PRECISION: expected one of "
            f"{', '.join(PRECISIONS)}, got {settings.precision!r}"
        )
    problems = []
    if settings.image_precision not in IMAGE_PRECISIONS:
        problems.append(
            f"{PREFIX}_IMAGE_PRECISION: expected one of {', '.join(IMAGE_PRECISIONS)}, got {settings.image_precision!r}"
        )
    if settings.max_batch_images < 1:
        problems.append(f"{PREFIX}_MAX_BATCH_IMAGES: must be at least 1, got {settings.max_batch_images}")
    if not settings.bulk_cores_while_querying >= 0:  # NaN fails too
        problems.append(
            f"{PREFIX}_BULK_CORES_WHILE_QUERYING: must be 0 (no limit) or more, got {settings.bulk_cores_while_querying}"
        )
    if settings.max_image_pixels < 1:
        problems.append(f"{PREFIX}_MAX_IMAGE_PIXELS: must be at least 1, got {settings.max_image_pixels}")
    if problems:
        raise ConfigError("embedder configuration is invalid:\n  " + "\n  ".join(problems))
    image_models: tuple[str, ...] | None = settings.image_models or None  # None: every CLIP export found
    if image_models and [m.lower() for m in image_models] == ["none"]:
        image_models = ()
    server_settings = load_config(ServerSettings, PREFIX)
    start_metrics_server(server_settings.metrics_port, server_settings.host, tls=server_settings)
    registry = ModelRegistry(
        pathlib.Path(settings.models_dir),
        settings.text_models,
        max_batch_texts=settings.max_batch_texts,
        max_wait_ms=settings.max_wait_ms,
        threads=settings.threads or None,
        precision=settings.precision,
        image_models=image_models,
        max_batch_images=settings.max_batch_images,
        image_precision=settings.image_precision,
        max_image_pixels=settings.max_image_pixels,
        decode_threads=settings.decode_threads or None,
        bulk_cores_while_querying=settings.bulk_cores_while_querying,
    )
    # EmbedImages takes one image of up to 32 MiB per message, plus its id and model name.
    service = GrpcService("embedder", server_settings, max_receive_message_bytes=MAX_REQUEST_MESSAGE_BYTES)
    service.add(
        embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server,
        EmbedderServicer(registry),
        "mivaa.embedder.v1.EmbedderService",
    )
    await service.start()  # NOT_SERVING until the models are loaded
    await service.set_dependency("models", False)
    await registry.load()
    await service.set_dependency("models", True)
    await service.set_serving(True)
    await service.run_until_signalled(registry.close)


def main() -> None:
    run_service("embedder", amain)


if __name__ == "__main__":
    main()
