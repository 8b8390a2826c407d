"""Extractor process: the upload/jobs API, extraction workers, or both (EXTRACTOR_ROLES)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import tempfile
from functools import partial

import grpc
from nats.aio.client import Client as NatsClient

from mivaa.admin.v1 import admin_service_pb2_grpc
from mivaa.extractor.v1 import extractor_service_pb2_grpc
from mivaa.images.v1 import image_analysis_service_pb2_grpc
from mivaa.webhooks.v1 import webhook_service_pb2_grpc
from mivaa_extractor import metrics
from mivaa_extractor.adapters.batch_store import BatchStore
from mivaa_extractor.adapters.image_analysis import EmbedderImageModel, OcrTextRecognizer, SearchImageStore
from mivaa_extractor.adapters.job_retention import run_retention
from mivaa_extractor.adapters.job_store import JobStore
from mivaa_extractor.adapters.ocr import OcrClient
from mivaa_extractor.adapters.page_reader import PageReading, ProcessPageReader
from mivaa_extractor.adapters.queue_status import WorkQueueInspector, export_queue_metrics
from mivaa_extractor.adapters.search import SearchCatalog
from mivaa_extractor.adapters.system_health import HealthTargets, SystemHealth
from mivaa_extractor.adapters.tenant_usage import TenantUsageReader
from mivaa_extractor.adapters.webhook_events import WebhookDispatcher
from mivaa_extractor.adapters.webhook_store import WebhookStore
from mivaa_extractor.adapters.work_queue import NatsWorkQueue
from mivaa_extractor.admin.retry import JobRetrier, RetryPorts
from mivaa_extractor.admin.servicer import AdminServicer
from mivaa_extractor.api.batch_uploads import BatchUploads
from mivaa_extractor.api.image_servicer import ImageAnalysisServicer
from mivaa_extractor.api.ingest import Ingestor, UploadLimits, UploadPorts
from mivaa_extractor.api.page_rendering import PageRenderer, RenderLimits
from mivaa_extractor.api.servicer import ExtractorServicer
from mivaa_extractor.api.url_fetch import FetchPolicy
from mivaa_extractor.api.url_import import ImportLimits, UrlImports
from mivaa_extractor.api.webhook_servicer import WebhookServicer
from mivaa_extractor.extraction.chunking import Chunker
from mivaa_extractor.extraction.entities import EntityRecognizer, EntitySettings
from mivaa_extractor.extraction.pictures import PictureLimits
from mivaa_extractor.extraction.structure.content_limits import ContentLimits
from mivaa_extractor.extraction.structure.images import ImageSettings
from mivaa_extractor.extraction.structure.page_analysis import AnalysisSettings
from mivaa_extractor.extraction.text_extraction import PageExtractor
from mivaa_extractor.images.analysis import ImageAnalyzer
from mivaa_extractor.images.pictures import AnalysisLimits
from mivaa_extractor.settings import PREFIX, ExtractorSettings
from mivaa_extractor.task_seal import TaskSealer
from mivaa_extractor.webhooks.delivery import Deliverer, RetryPolicy
from mivaa_extractor.webhooks.subscriptions import WebhookLimits
from mivaa_extractor.webhooks.targets import TargetPolicy
from mivaa_extractor.worker.consumer import ExtractWorker
from mivaa_extractor.worker.pipeline import DocumentPipeline, PipelinePorts, PipelineSettings
from mivaa_platform import messaging
from mivaa_platform.channels import create_channel, wait_until_serving
from mivaa_platform.config import ConfigError, ServerSettings, load_config
from mivaa_platform.embedder_client import EmbedderClient, ImageEmbedderClient
from mivaa_platform.metrics import watch_volumes
from mivaa_platform.outbound import AddressPolicy
from mivaa_platform.runtime import run_service
from mivaa_platform.server import GrpcService
from mivaa_platform.telemetry import start_metrics_server
from mivaa_platform.tls import ClientTls

log = logging.getLogger("mivaa.extractor")


async def amain() -> int:
    settings = load_config(ExtractorSettings, PREFIX)
    server_settings = load_config(ServerSettings, PREFIX)
    unknown = set(settings.roles) - {"api", "worker"}
    if unknown or not settings.roles:
        raise ConfigError(f"EXTRACTOR_ROLES must name api and/or worker, got {','.join(settings.roles)!r}")
    _check_limits(settings)
    start_metrics_server(server_settings.metrics_port, server_settings.host, tls=server_settings)
    metrics.initialize()
    watch_volumes("extractor", {"scratch": settings.scratch_dir or tempfile.gettempdir()})

    service = GrpcService("extractor", server_settings)
    nats_settings = messaging.NatsSettings.from_env(PREFIX)
    nc = await messaging.connect(
        nats_settings,
        name="mivaa-extractor",
        on_closed=lambda: service.fail("the NATS connection closed for good"),
    )
    js = nc.jetstream()
    await messaging.ensure_topology(js, replicas=nats_settings.stream_replicas)
    jobs = JobStore(js)
    batch_store = BatchStore(js, jobs)
    originals = messaging.OriginalsStore(js)
    tls = ClientTls.from_env(PREFIX)  # None: plaintext peers
    task_sealer = TaskSealer.from_file(settings.task_key_file)  # a bad key file stops start-up
    search_channel = create_channel(settings.search_addr, tls=tls)
    embedder_channel = create_channel(settings.embedder_addr, unary_seconds=120.0, tls=tls)
    catalog = SearchCatalog(
        search_channel,
        index_time_limit_seconds=settings.index_time_limit_seconds,
        spool_dir=settings.scratch_dir or None,
    )
    channels = [search_channel, embedder_channel]

    ingestor: Ingestor | None = None
    renderer: PageRenderer | None = None
    dispatcher: WebhookDispatcher | None = None
    if "api" in settings.roles:
        ingestor = Ingestor(
            UploadPorts(
                jobs=jobs, originals=originals, catalog=catalog, work=NatsWorkQueue(js), task_sealer=task_sealer
            ),
            UploadLimits(
                max_bytes=settings.max_upload_bytes,
                max_pages=settings.max_pages,
                pictures=PictureLimits(
                    max_pixels=settings.max_picture_pixels,
                    max_side_px=settings.max_picture_side_px,
                    max_frames=settings.max_picture_pages,
                ),
            ),
        )
        renderer = PageRenderer(catalog, originals, _render_limits(settings), images=catalog)
        service.add(
            extractor_service_pb2_grpc.add_ExtractorServiceServicer_to_server,
            ExtractorServicer(
                ingestor,
                jobs,
                renderer,
                BatchUploads(batch_store, max_documents=settings.batch_max_documents),
                _url_imports(settings),
            ),
            "mivaa.extractor.v1.ExtractorService",
        )
        channels += _add_admin_service(service, settings, ingestor, jobs, nc, search_channel, embedder_channel, tls)
        dispatcher = _add_webhook_service(service, settings, js, task_sealer)
        channels += _add_image_analysis_service(service, settings, search_channel, embedder_channel, tls)
        await ingestor.warm_up()
        await renderer.warm_up()
    await service.start()

    stop = asyncio.Event()
    background: list[asyncio.Task] = []
    if "api" in settings.roles:
        background.append(asyncio.create_task(run_retention(jobs, settings.job_retention_seconds, stop, batch_store)))
        background.append(asyncio.create_task(export_queue_metrics(WorkQueueInspector(js), stop)))
    if dispatcher is not None:
        webhook_task = asyncio.create_task(dispatcher.run(stop))
        webhook_task.add_done_callback(_exit_if_worker_died(stop, service, "the webhook dispatcher"))
        background.append(webhook_task)
    worker_task: asyncio.Task | None = None
    page_extractor: PageExtractor | None = None
    entity_recognizer: EntityRecognizer | None = None
    if "worker" in settings.roles:
        embedder = EmbedderClient(embedder_channel, bulk=True)  # chunks: every waiting query goes first
        await wait_until_serving(embedder_channel, "mivaa.embedder.v1.EmbedderService")
        await embedder.resolve_model()
        page_extractor = _page_extractor(settings)
        await page_extractor.warm_up()
        if settings.entity_processes > 0:
            entity_recognizer = EntityRecognizer(
                EntitySettings(
                    processes=settings.entity_processes,
                    batch_time_limit_seconds=settings.entity_batch_time_limit_seconds,
                )
            )
            await entity_recognizer.warm_up()
        recognizer = None
        if settings.ocr_addr:
            ocr_channel = create_channel(settings.ocr_addr, stream_seconds=1800.0, tls=tls)
            channels.append(ocr_channel)
            recognizer = OcrClient(ocr_channel, engine=settings.ocr_engine, languages=settings.ocr_languages)
        ports = PipelinePorts(
            jobs=jobs,
            originals=originals,
            catalog=catalog,
            embedder=embedder,
            index=catalog,
            pages=ProcessPageReader(page_extractor, _page_reading(settings)),
            task_sealer=task_sealer,
            recognizer=recognizer,
            image_embedder=ImageEmbedderClient(embedder_channel, settings.image_model)
            if settings.embed_images
            else None,
            entities=entity_recognizer,
        )
        pipeline = DocumentPipeline(ports, partial(_new_chunker, settings), _pipeline_settings(settings))
        worker = ExtractWorker(
            js,
            pipeline,
            ack_wait_seconds=settings.ack_wait_seconds,
            max_deliver=settings.max_deliver,
            concurrent_tasks=settings.concurrent_tasks,
        )
        worker_task = asyncio.create_task(worker.run(stop))
        worker_task.add_done_callback(_exit_if_worker_died(stop, service, "the worker loop"))

    async def nats_connected() -> bool:
        return nc.is_connected

    # NOT_SERVING while NATS is unreachable (uploads, jobs and tasks all go through it).
    service.watch_dependencies({"nats": nats_connected})

    async def shutdown() -> None:
        stop.set()
        if worker_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(worker_task, timeout=10)
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if ingestor is not None:
            ingestor.close()
        if renderer is not None:
            renderer.close()
        if page_extractor is not None:
            page_extractor.close()
        if entity_recognizer is not None:
            entity_recognizer.close()
        for channel in channels:
            await channel.close()
        await nc.drain()

    return await service.run_until_signalled(shutdown)


def _add_admin_service(
    service: GrpcService,
    settings: ExtractorSettings,
    ingestor: Ingestor,
    jobs: JobStore,
    nc: NatsClient,
    search_channel: grpc.aio.Channel,
    embedder_channel: grpc.aio.Channel,
    tls: ClientTls | None,
) -> list[grpc.aio.Channel]:
    """AdminService beside the upload API (it owns the jobs, the work queue and NATS); the channels it opened."""
    ports = ingestor.ports
    extra = {
        name: create_channel(address, tls=tls) if address else None
        for name, address in (("ocr", settings.ocr_addr), ("answer", settings.answer_addr))
    }
    js = nc.jetstream()
    health = SystemHealth(
        HealthTargets(
            services={"search": search_channel, "embedder": embedder_channel, **extra},
            nats=nc,
            scratch_dir=settings.scratch_dir,
        )
    )
    retrier = JobRetrier(
        RetryPorts(
            jobs=jobs,
            catalog=ports.catalog,
            originals=ports.originals,
            work=ports.work,
            task_sealer=ports.task_sealer,
            validate=ingestor.validate,
        )
    )
    service.add(
        admin_service_pb2_grpc.add_AdminServiceServicer_to_server,
        AdminServicer(jobs, retrier, WorkQueueInspector(js), health, TenantUsageReader(search_channel, jobs)),
        "mivaa.admin.v1.AdminService",
    )
    return [channel for channel in extra.values() if channel is not None]


def _url_imports(settings: ExtractorSettings) -> UrlImports:
    """ImportDocument's fetches: the upload's size cap, the configured addresses, deadlines and slots."""
    policy = FetchPolicy(
        max_bytes=settings.max_upload_bytes,
        addresses=AddressPolicy(
            allow_loopback=settings.import_allow_loopback, allow_private=settings.import_allow_private
        ),
        max_redirects=settings.import_max_redirects,
        connect_seconds=settings.import_connect_seconds,
        read_seconds=settings.import_read_seconds,
        total_seconds=settings.import_total_seconds,
        ca_file=settings.import_ca_file,
    )
    return UrlImports(policy, ImportLimits(per_tenant=settings.import_per_tenant, total=settings.import_concurrent))


def _add_webhook_service(
    service: GrpcService, settings: ExtractorSettings, js, sealer: TaskSealer
) -> WebhookDispatcher:
    """WebhookService beside the upload API, and the dispatcher that delivers job events to it."""
    targets = TargetPolicy(
        max_uri_chars=settings.webhook_max_uri_chars,
        allow_http=settings.webhook_allow_http,
        allow_loopback=settings.webhook_allow_loopback,
        allow_private=settings.webhook_allow_private,
    )
    retry = RetryPolicy(
        max_attempts=settings.webhook_max_attempts,
        backoff_seconds=settings.webhook_backoff_seconds,
        max_backoff_seconds=settings.webhook_max_backoff_seconds,
        timeout_seconds=settings.webhook_timeout_seconds,
    )
    store = WebhookStore(js, sealer)  # secrets sealed at rest with the task key
    service.add(
        webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server,
        WebhookServicer(store, WebhookLimits(per_tenant=settings.webhook_max_per_tenant, targets=targets)),
        "mivaa.webhooks.v1.WebhookService",
    )
    return WebhookDispatcher(js, store, Deliverer(store, targets, retry))


def _add_image_analysis_service(
    service: GrpcService,
    settings: ExtractorSettings,
    search_channel: grpc.aio.Channel,
    embedder_channel: grpc.aio.Channel,
    tls: ClientTls | None,
) -> list[grpc.aio.Channel]:
    """ImageAnalysisService beside the upload API (stored images, OCR and the image model are its peers)."""
    ocr_channel = create_channel(settings.ocr_addr, tls=tls) if settings.ocr_addr else None
    analyzer = ImageAnalyzer(
        SearchImageStore(search_channel, max_bytes=settings.image_analysis_max_bytes),
        EmbedderImageModel(embedder_channel, settings.image_model),
        OcrTextRecognizer(ocr_channel, engine=settings.ocr_engine, languages=settings.ocr_languages)
        if ocr_channel is not None
        else None,
        limits=AnalysisLimits(
            max_bytes=settings.image_analysis_max_bytes, max_pixels=settings.image_analysis_max_pixels
        ),
        default_labels=settings.image_analysis_labels,
    )
    service.add(
        image_analysis_service_pb2_grpc.add_ImageAnalysisServiceServicer_to_server,
        ImageAnalysisServicer(analyzer, max_batch_images=settings.image_analysis_batch_max),
        "mivaa.images.v1.ImageAnalysisService",
    )
    return [ocr_channel] if ocr_channel is not None else []


def _page_extractor(settings: ExtractorSettings) -> PageExtractor:
    def mebibytes(value: int) -> int | None:
        return value << 20 if value else None

    return PageExtractor(
        workers=settings.processes or None,
        page_time_limit=settings.page_time_limit_seconds,
        memory_limit_bytes=mebibytes(settings.worker_memory_limit_mb),
        recycle_above_rss_bytes=mebibytes(settings.worker_recycle_rss_mb),
        recycle_after_tasks=settings.worker_recycle_after_tasks or None,
        settings=AnalysisSettings(
            images=ImageSettings(
                min_side_px=settings.image_min_side_px,
                min_area_ratio=settings.image_min_area_ratio,
                max_side_px=settings.image_max_side_px,
            ),
            extract_images=settings.extract_images,
            detect_tables=settings.detect_tables,
            content=ContentLimits(
                page_content_bytes=settings.page_content_limit_mb << 20,
                page_image_bytes=settings.page_image_limit_mb << 20,
                document_content_bytes=settings.document_content_limit_mb << 20,
            ),
        ),
    )


def _render_limits(settings: ExtractorSettings) -> RenderLimits:
    return RenderLimits(
        seconds=settings.render_time_limit_seconds,
        processes=settings.render_processes,
        memory_limit_bytes=(settings.worker_memory_limit_mb << 20) or None,
        cache_bytes=settings.render_cache_mb << 20,
    )


def _page_reading(settings: ExtractorSettings) -> PageReading:
    """Every PageReading field is an ExtractorSettings field of the same name."""
    return PageReading(**{field.name: getattr(settings, field.name) for field in dataclasses.fields(PageReading)})


def _pipeline_settings(settings: ExtractorSettings) -> PipelineSettings:
    return PipelineSettings(embed_batch=settings.embed_batch, scratch_dir=settings.scratch_dir or None)


def _new_chunker(settings: ExtractorSettings, max_tokens: int = 0) -> Chunker:
    """The configured chunker, or one of `max_tokens` (a document's processing options; overlap kept below half)."""
    size = max_tokens or settings.chunk_max_tokens
    overlap = min(settings.chunk_overlap_tokens, size // 2)
    if settings.tokenizer_path:
        return Chunker.from_tokenizer_file(settings.tokenizer_path, max_tokens=size, overlap_tokens=overlap)
    return Chunker(max_tokens=size, overlap_tokens=overlap)


def _check_limits(settings: ExtractorSettings) -> None:
    for name in (
        "concurrent_tasks",
        "page_content_limit_mb",
        "page_image_limit_mb",
        "document_content_limit_mb",
        "ocr_max_pixels",
        "ocr_min_dpi",
        "ocr_dpi",
        "render_processes",
        "webhook_max_attempts",
        "webhook_max_per_tenant",
        "image_analysis_max_bytes",
        "image_analysis_max_pixels",
        "image_analysis_batch_max",
    ):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{PREFIX}_{name.upper()} must be at least 1, got {getattr(settings, name)}")


def _exit_if_worker_died(stop: asyncio.Event, service: GrpcService, what: str):
    """A consumer loop (`what`) that ends on its own must not leave a process that looks healthy but
    consumes nothing: log it and stop the process, so its supervisor starts a fresh one."""

    def check(task: asyncio.Task) -> None:
        if stop.is_set() or task.cancelled():
            return
        log.critical(f"{what} ended unexpectedly; exiting", exc_info=task.exception())
        service.fail(f"{what} ended")

    return check


def main() -> None:
    run_service("extractor", amain)


if __name__ == "__main__":
    main()
