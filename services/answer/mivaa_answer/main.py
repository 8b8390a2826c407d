"""Answer process: questions answered from a tenant's documents, with citations."""

from __future__ import annotations

import logging

from mivaa.answer.v1 import answer_service_pb2_grpc
from mivaa_answer.clients import Embedder, SearchClient
from mivaa_answer.generation.base import AnswerGenerator
from mivaa_answer.generation.extractive import ExtractiveGenerator
from mivaa_answer.relevance import SentenceRanker
from mivaa_answer.servicer import AnswerServicer
from mivaa_answer.settings import PREFIX, AnswerSettings
from mivaa_answer.store import AnswerStore, SummaryCacheView
from mivaa_answer.usecases.ask import Ask, AskPolicy, GeneratorChoice
from mivaa_answer.usecases.summarize import Summarize
from mivaa_platform.channels import create_channel, wait_until_serving
from mivaa_platform.config import ConfigError, ServerSettings, load_config
from mivaa_platform.embedder_client import EmbedderClient
from mivaa_platform.metrics import watch_pool
from mivaa_platform.runtime import run_service
from mivaa_platform.server import GrpcService
from mivaa_platform.telemetry import start_metrics_server
from mivaa_platform.tls import ClientTls

log = logging.getLogger("mivaa.answer")


def default_choice(settings: AnswerSettings) -> GeneratorChoice:
    try:
        choice = GeneratorChoice(settings.default_generator)
    except ValueError:
        raise ConfigError(f"{PREFIX}_DEFAULT_GENERATOR must be 'extractive' or 'llm'") from None
    if choice is GeneratorChoice.LLM and not settings.llm_url:
        raise ConfigError(f"{PREFIX}_DEFAULT_GENERATOR is 'llm' but {PREFIX}_LLM_URL is not set")
    return choice


def llm_generator(settings: AnswerSettings) -> AnswerGenerator | None:
    """The OpenAI-compatible chat generator when one is configured (ANSWER_LLM_URL)."""
    if not settings.llm_url:
        return None
    # Imported here: only a configured LLM loads llama-index's OpenAI client.
    from mivaa_answer.generation.llm import LlmGenerator, load_api_key

    generator: AnswerGenerator = LlmGenerator(
        url=settings.llm_url,
        model=settings.llm_model,
        api_key=load_api_key(settings.llm_api_key_file),
        timeout_seconds=settings.llm_timeout_seconds,
    )
    return generator


async def amain() -> int:
    settings = load_config(AnswerSettings, PREFIX)
    server_settings = load_config(ServerSettings, PREFIX)
    default = default_choice(settings)
    start_metrics_server(server_settings.metrics_port, server_settings.host, tls=server_settings)

    service = GrpcService("answer", server_settings)
    tls = ClientTls.from_env(PREFIX)
    search_channel = create_channel(settings.search_addr, tls=tls, unary_seconds=settings.search_timeout_seconds)
    embedder_channel = create_channel(settings.embedder_addr, tls=tls, unary_seconds=settings.embedder_timeout_seconds)
    embedder_client = EmbedderClient(embedder_channel, settings.model)
    await wait_until_serving(embedder_channel, "mivaa.embedder.v1.EmbedderService")
    await wait_until_serving(search_channel, "mivaa.search.v1.SearchService")
    model_name = await embedder_client.resolve_model()
    store = await AnswerStore.open(settings.database_url, max_size=settings.pool_size)
    watch_pool("answer", store.pool_stats)
    search = SearchClient(search_channel, timeout=settings.search_timeout_seconds)
    ranker = SentenceRanker(Embedder(embedder_client))
    extractive = ExtractiveGenerator(ranker, min_similarity=settings.min_relevance)
    llm = llm_generator(settings)
    ask = Ask(
        retrieval=search,
        pages=search,
        conversations=store,
        ranker=ranker,
        extractive=extractive,
        llm=llm,
        default=default,
        policy=AskPolicy(
            max_question_bytes=settings.max_question_bytes,
            min_relevance=settings.min_relevance,
            fallback_to_extractive=settings.llm_fallback_to_extractive,
        ),
    )
    summarize = Summarize(
        documents=search, pages=search, cache=SummaryCacheView(store), extractive=extractive, llm=llm, default=default
    )
    service.add(
        answer_service_pb2_grpc.add_AnswerServiceServicer_to_server,
        AnswerServicer(ask, summarize),
        "mivaa.answer.v1.AnswerService",
    )
    await service.start()
    service.watch_dependencies({"postgres": store.ping})
    log.info(
        "ready", extra={"fields": {"model": model_name, "llm": settings.llm_model or "", "default": default.value}}
    )

    async def shutdown() -> None:
        await store.close()
        await search_channel.close()
        await embedder_channel.close()

    return await service.run_until_signalled(shutdown)


def main() -> None:
    run_service("answer", amain)


if __name__ == "__main__":
    main()
