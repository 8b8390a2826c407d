"""Embedder process: ONNX models on onnxruntime (CUDA when present), batched across callers."""

from __future__ import annotations

import logging
import pathlib
from dataclasses import dataclass

from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa_embedder.registry import ModelRegistry
from mivaa_embedder.servicer import EmbedderServicer
from mivaa_embedder.text_model import PRECISIONS
from mivaa_platform.config import ConfigError, ServerSettings, load_config
from mivaa_platform.runtime import run_service
from mivaa_platform.server import GrpcService
from mivaa_platform.telemetry import start_metrics_server

log = logging.getLogger("mivaa.embedder")

PREFIX = "EMBEDDER"


@dataclass(frozen=True)
class EmbedderSettings:
    models_dir: str = "models"
    text_models: tuple[str, ...] = ("all-MiniLM-L6-v2",)
    max_batch_texts: int = 128
    max_wait_ms: float = 5.0
    # onnxruntime intra-op threads; 0 means one per core.
    threads: int = 0
    # Model variant: "auto" (int8 on CPU when exported, fp32 on CUDA), "fp32" or "int8".
    precision: str = "auto"


async def amain() -> None:
    settings = load_config(EmbedderSettings, PREFIX)
    if settings.precision not in PRECISIONS:
        raise ConfigError(
            f"embedder configuration is invalid:\n  {PREFIX}_PRECISION: expected one of "
            f"{', '.join(PRECISIONS)}, got {settings.precision!r}"
        )
    server_settings = load_config(ServerSettings, PREFIX)
    start_metrics_server(server_settings.metrics_port, server_settings.host)
    registry = ModelRegistry(
        pathlib.Path(settings.models_dir),
        settings.text_models,
        max_batch_texts=settings.max_batch_texts,
        max_wait_ms=settings.max_wait_ms,
        threads=settings.threads or None,
        precision=settings.precision,
    )
    service = GrpcService("embedder", server_settings)
    service.add(
        embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server,
        EmbedderServicer(registry),
        "mivaa.embedder.v1.EmbedderService",
    )
    await service.start()  # NOT_SERVING until the models are loaded
    await registry.load()
    await service.set_serving(True)
    await service.run_until_signalled(registry.close)


def main() -> None:
    run_service("embedder", amain)


if __name__ == "__main__":
    main()
