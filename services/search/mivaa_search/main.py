"""Search process: documents, chunks and vectors in PostgreSQL + pgvector."""

from __future__ import annotations

import logging

from mivaa.search.v1 import search_service_pb2_grpc
from mivaa_platform import messaging
from mivaa_platform.channels import create_channel, wait_until_serving
from mivaa_platform.config import ServerSettings, load_config
from mivaa_platform.embedder_client import EmbedderClient, ImageEmbedderClient
from mivaa_platform.runtime import run_service
from mivaa_platform.server import GrpcService
from mivaa_platform.telemetry import start_metrics_server
from mivaa_platform.tls import ClientTls
from mivaa_search.servicer import SearchServicer
from mivaa_search.settings import PREFIX, SearchSettings
from mivaa_search.store import SearchStore
from mivaa_search.usecases import DocumentCatalog, Search
from mivaa_search.usecases.intelligence import DocumentIntelligence

log = logging.getLogger("mivaa.search")


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
    service.add(
        search_service_pb2_grpc.add_SearchServiceServicer_to_server,
        SearchServicer(
            DocumentCatalog(store, messaging.OriginalsStore(js)),
            Search(store, embedder, images=ImageEmbedderClient(embedder_channel)),
            dimension,
            DocumentIntelligence(store),
        ),
        "mivaa.search.v1.SearchService",
    )
    await service.start()
    # NOT_SERVING while PostgreSQL is unreachable: every call needs it.
    service.watch_dependencies({"postgres": store.ping})
    log.info("ready", extra={"fields": {"model": model_name, "dimension": dimension}})

    async def shutdown() -> None:
        await store.close()
        await embedder_channel.close()
        await nc.drain()

    return await service.run_until_signalled(shutdown)


def main() -> None:
    run_service("search", amain)


if __name__ == "__main__":
    main()
