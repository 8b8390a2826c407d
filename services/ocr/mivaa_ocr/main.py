"""OCR process: engines in a pool of worker processes behind mivaa.ocr.v1.OcrService."""

from __future__ import annotations

import logging

from mivaa.ocr.v1 import ocr_service_pb2_grpc
from mivaa_ocr.pool import OcrPool
from mivaa_ocr.scripts import parse_script_languages
from mivaa_ocr.servicer import OcrServicer
from mivaa_ocr.settings import PREFIX, OcrSettings
from mivaa_platform.config import ConfigError, ServerSettings, load_config
from mivaa_platform.errors import MivaaError
from mivaa_platform.runtime import run_service
from mivaa_platform.server import GrpcService
from mivaa_platform.telemetry import start_metrics_server

log = logging.getLogger("mivaa.ocr")

SERVICE = "mivaa.ocr.v1.OcrService"


def build_pool(settings: OcrSettings) -> OcrPool:
    options: dict[str, dict] = {
        "tesseract": {"languages": settings.tesseract_languages},
        "easyocr": {"languages": settings.easyocr_languages},
    }
    if settings.tessdata_dir:
        options["tesseract"]["tessdata_dir"] = settings.tessdata_dir
    if settings.easyocr_model_dir:
        options["easyocr"]["model_dir"] = settings.easyocr_model_dir
    try:
        return OcrPool(
            settings.engines,
            engine_options=options,
            default_engine=settings.default_engine,
            preload=settings.preload_engines,
            processes=settings.processes,
            worker_memory_bytes=settings.worker_memory_mb << 20,
            max_pixels=int(settings.max_megapixels * 1_000_000),
            page_timeout=settings.page_timeout_seconds,
            min_confidence=settings.min_confidence,
            script_languages=parse_script_languages(settings.script_languages),
        )
    except MivaaError as error:
        raise ConfigError(f"ocr configuration is invalid:\n  {error.message}") from None
    except ValueError as error:
        raise ConfigError(f"ocr configuration is invalid:\n  {error}") from None


async def amain() -> None:
    settings = load_config(OcrSettings, PREFIX)
    server_settings = load_config(ServerSettings, PREFIX)
    start_metrics_server(server_settings.metrics_port, server_settings.host, tls=server_settings)
    pool = build_pool(settings)
    service = GrpcService("ocr", server_settings)
    service.add(ocr_service_pb2_grpc.add_OcrServiceServicer_to_server, OcrServicer(pool), SERVICE)
    await service.start()  # NOT_SERVING until every worker has loaded and warmed its engines
    await service.set_dependency("engines", False)
    try:
        await pool.start()
    except MivaaError as error:
        await service.stop()
        await pool.close()
        raise ConfigError(f"ocr engines failed to load: {error.message}") from None
    await service.set_dependency("engines", True)
    await service.set_serving(True)
    await service.run_until_signalled(pool.close)


def main() -> None:
    run_service("ocr", amain)


if __name__ == "__main__":
    main()
