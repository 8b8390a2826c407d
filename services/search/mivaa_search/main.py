"""Search process: documents, chunks and vectors in PostgreSQL + pgvector."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from mivaa.embedder.v1.embedder_service_pb2 import MODALITY_TEXT
from mivaa.search.v1 import search_service_pb2_grpc
from mivaa_platform import messaging
from mivaa_platform.channels import create_channel, wait_until_serving
from mivaa_platform.config import ServerSettings, load_config
from mivaa_platform.embedder_client import EmbedderClient, ImageEmbedderClient
from mivaa_platform.metrics import watch_pool
from mivaa_platform.runtime import run_service
from mivaa_platform.server import GrpcService
from mivaa_platform.telemetry import start_metrics_server
from mivaa_platform.tls import ClientTls
from mivaa_search.metrics import INDEX_REBUILDS, ORIGINALS_PENDING, ORIGINALS_SWEPT, VECTOR_RECALL
from mivaa_search.servicer import SearchServicer
from mivaa_search.settings import PREFIX, SearchSettings
from mivaa_search.store import SearchStore, VectorTuning
from mivaa_search.usecases import DocumentCatalog, IndexUpkeep, Search
from mivaa_search.usecases.intelligence import DocumentIntelligence
from mivaa_search.usecases.originals import OriginalsSweep
from mivaa_search.usecases.reembedding import Reembedding
from mivaa_search.usecases.retention import Retention, RetentionBounds

log = logging.getLogger("mivaa.search")
# How often a replica looks for a re-embedding to resume (a start wakes its own at once).
REEMBEDDING_POLL_SECONDS = 10.0


class ServedTextModels:
    """The embedder's text-capable models (CLIP text towers included): name -> dimension."""

    def __init__(self, embedder: EmbedderClient):
        self._embedder = embedder

    async def text_models(self) -> dict[str, int]:
        models = await self._embedder.list_models()
        return {m.name: m.dimension for m in models if MODALITY_TEXT in (m.modality, *m.input_modalities)}


async def amain() -> int:
    settings = load_config(SearchSettings, PREFIX)
    server_settings = load_config(ServerSettings, PREFIX)
    start_metrics_server(server_settings.metrics_port, server_settings.host, tls=server_settings)

    service = GrpcService("search", server_settings)
    nc = await messaging.connect(
        messaging.NatsSettings.from_env(PREFIX),
        name="mivaa-search",
        on_closed=lambda: service.fail("the NATS connection closed for good"),
    )
    js = nc.jetstream()  # the extractor declares the topology; search only deletes originals
    embedder_channel = create_channel(settings.embedder_addr, tls=ClientTls.from_env(PREFIX))
    embedder = EmbedderClient(embedder_channel, settings.model)
    await wait_until_serving(embedder_channel, "mivaa.embedder.v1.EmbedderService")
    model_name = await embedder.resolve_model()
    models = await embedder.list_models()
    dimension = next(m.dimension for m in models if m.name == model_name)
    store = await SearchStore.open(settings.database_url, dimension=dimension, max_size=settings.pool_size)
    watch_pool("search", store.pool_stats)
    store.chunks.tuning = VectorTuning(settings.exact_scan_max_chunks, settings.hnsw_ef_search)
    VECTOR_RECALL.labels(str(dimension)).set(float("nan"))  # until the first probe
    upkeep = IndexUpkeep(store, settings.recall_probe_sample, on_rebuilt=INDEX_REBUILDS.inc)
    originals = messaging.OriginalsStore(js)
    catalog = DocumentCatalog(store, originals, upkeep)
    retention = Retention(store, catalog, RetentionBounds(min_seconds=settings.retention_min_seconds))
    reembedding = Reembedding(
        store,
        EmbedderClient(embedder_channel, model_name, bulk=True),
        ServedTextModels(embedder),
        model_name,
        batch_chunks=max(1, settings.reembed_batch_chunks),
    )
    service.add(
        search_service_pb2_grpc.add_SearchServiceServicer_to_server,
        SearchServicer(
            catalog,
            Search(store, embedder, images=ImageEmbedderClient(embedder_channel, interactive=True)),
            DocumentIntelligence(store),
            retention,
            reembedding,
        ),
        "mivaa.search.v1.SearchService",
    )
    await service.start()
    # NOT_SERVING while PostgreSQL is unreachable: every call needs it.
    service.watch_dependencies({"postgres": store.ping})
    log.info("ready", extra={"fields": {"model": model_name, "dimension": dimension}})
    maintenance = (
        asyncio.create_task(maintain(upkeep, settings.maintenance_interval_seconds), name="mivaa-search-maintenance")
        if settings.maintenance_interval_seconds > 0
        else None
    )
    sweep = OriginalsSweep(
        store,
        originals,
        dt.timedelta(seconds=settings.orphan_original_grace_seconds),
        on_swept=lambda kind, count: ORIGINALS_SWEPT.labels(kind).inc(count),
    )
    sweeping = (
        asyncio.create_task(sweep_originals(sweep, settings.originals_sweep_interval_seconds), name="mivaa-originals")
        if settings.originals_sweep_interval_seconds > 0
        else None
    )

    stop_retention = asyncio.Event()
    retaining = asyncio.create_task(retention.run(stop_retention, settings.retention_sweep_seconds))
    reembedding_work = asyncio.create_task(reembedding.run(stop_retention, REEMBEDDING_POLL_SECONDS))

    async def shutdown() -> None:
        stop_retention.set()
        await retaining
        reembedding_work.cancel()  # a batch cut short is redone by the next claim
        await asyncio.gather(reembedding_work, return_exceptions=True)
        for task in (maintenance, sweeping):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await upkeep.close()
        await store.close()
        await embedder_channel.close()
        await nc.drain()

    return await service.run_until_signalled(shutdown)


async def maintain(upkeep: IndexUpkeep, interval: float) -> None:
    """Index upkeep on a timer: rebuild when due, probe recall, export both."""
    delay = min(interval, 30.0)  # a first probe soon after start, then one per interval
    while True:
        await asyncio.sleep(delay)
        delay = interval
        try:
            report = await upkeep.run_once()
        except Exception:  # a failed round (database away) is retried at the next one
            log.exception("vector index maintenance failed")
            continue
        for dimension, recall in report.recall.items():
            VECTOR_RECALL.labels(str(dimension)).set(float("nan") if recall is None else recall)
        log.info("vector recall probe", extra={"fields": {"recall": {str(d): r for d, r in report.recall.items()}}})


async def sweep_originals(sweep: OriginalsSweep, interval: float) -> None:
    """The originals sweep on a timer (usecases.originals), a first round soon after start."""
    delay = min(interval, 60.0)
    while True:
        await asyncio.sleep(delay)
        delay = interval
        try:
            report = await sweep.run_once()
        except Exception:  # a failed round (database or NATS away) is retried at the next one
            log.exception("originals sweep failed")
            continue
        ORIGINALS_PENDING.set(report.pending_deletions)


def main() -> None:
    run_service("search", amain)


if __name__ == "__main__":
    main()
