"""Scoring for bench/retrieval_quality.py: ranks, recall@k and MRR; SearchChunks per mode; Ask latency and citations.

A hit is right when it is in the query's document and its page range holds one
of the query's answer pages. Searches go through the gateway (Envoy: TLS, JWT,
RBAC, rate limit), as a user's would, paced under its per-subject search budget.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc

from bench.retrieval_sets import Query, squash
from bench.stats import percentile

# Below the gateway's budgets per subject (mivaa_gateway/rate_limits.py RateLimits: search 50/s, answer 5/s).
SEARCH_RATE_PER_SECOND = 40
ASK_RATE_PER_SECOND = 4
TOP_K = 10


@dataclass(frozen=True)
class Ranked:
    """One retrieved chunk, reduced to what scoring needs."""

    doc: str
    page_start: int
    page_end: int


@dataclass(frozen=True)
class Scores:
    queries: int
    recall_at_1: float
    recall_at_5: float
    mrr: float

    def row(self) -> str:
        return f"{self.recall_at_1:6.3f} {self.recall_at_5:6.3f} {self.mrr:6.3f}"


def rank_of(query: Query, hits: Sequence[Ranked]) -> int | None:
    """1-based rank of the first right hit, None when none is right."""
    for rank, hit in enumerate(hits, 1):
        if hit.doc == query.doc and any(hit.page_start <= page <= hit.page_end for page in query.pages):
            return rank
    return None


def score(ranks: Sequence[int | None]) -> Scores:
    n = max(len(ranks), 1)
    return Scores(
        len(ranks),
        sum(1 for r in ranks if r is not None and r <= 1) / n,
        sum(1 for r in ranks if r is not None and r <= 5) / n,
        sum(1 / r for r in ranks if r is not None) / n,
    )


def search_stub_modes() -> dict[str, int]:
    from mivaa.search.v1 import search_service_pb2 as search_pb

    return {
        "VECTOR": search_pb.SEARCH_MODE_VECTOR,
        "KEYWORD": search_pb.SEARCH_MODE_KEYWORD,
        "HYBRID": search_pb.SEARCH_MODE_HYBRID,
    }


async def search_ranks(
    stub, queries: Sequence[Query], mode: int, doc_of: Callable[[str], str], *, documents: Sequence[str] = ()
) -> tuple[list[int | None], list[float]]:
    """Ranks of the queries under one SearchChunks mode, and each call's latency in ms."""
    from mivaa.search.v1 import search_service_pb2 as search_pb

    ranks: list[int | None] = []
    latencies: list[float] = []
    interval = 1 / SEARCH_RATE_PER_SECOND
    for query in queries:
        request = search_pb.SearchChunksRequest(query=query.text, top_k=TOP_K, mode=mode, documents=list(documents))
        started = time.perf_counter()
        response = await stub.SearchChunks(request, timeout=30)
        elapsed = time.perf_counter() - started
        latencies.append(elapsed * 1000)
        hits = [Ranked(doc_of(h.document), h.page_start, h.page_end) for h in response.hits]
        ranks.append(rank_of(query, hits))
        if elapsed < interval:
            await asyncio.sleep(interval - elapsed)
    return ranks, latencies


async def mode_is_honoured(stub, query: str, *, documents: Sequence[str] = ()) -> bool:
    """Whether the search service ranks by `mode`: a KEYWORD search embeds nothing, so it names no model."""
    from mivaa.search.v1 import search_service_pb2 as search_pb

    request = search_pb.SearchChunksRequest(
        query=query, top_k=1, mode=search_pb.SEARCH_MODE_KEYWORD, documents=list(documents)
    )
    response = await stub.SearchChunks(request, timeout=30)
    return not response.model


@dataclass
class AskFigures:
    """Extractive Ask over the question set: latencies, citation precision, answers citing an answer page."""

    first_token_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    citations: int = 0
    citations_on_page: int = 0
    answers_citing_answer_page: int = 0
    found: int = 0
    skipped: str = ""

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"Ask: skipped ({self.skipped})"]
        n = len(self.total_ms)
        precision = self.citations_on_page / self.citations if self.citations else 0.0
        first_p95 = percentile(self.first_token_ms, 0.95) if self.first_token_ms else float("nan")
        return [
            f"Ask (extractive), {n} questions, one at a time through the gateway:",
            f"  first answer text: p50 {percentile(self.first_token_ms, 0.5):7.1f} ms  p95 {first_p95:7.1f} ms"
            f"  (target p95 < 500 ms: {'met' if first_p95 < 500 else 'NOT met'})",
            f"  whole answer:      p50 {percentile(self.total_ms, 0.5):7.1f} ms  p95 "
            f"{percentile(self.total_ms, 0.95):7.1f} ms  mean {statistics.mean(self.total_ms):7.1f} ms",
            f"  citation precision (the cited page contains the quote): {precision:.3f} "
            f"({self.citations_on_page}/{self.citations})",
            f"  answers found: {self.found}/{n}; answers citing an answer page: {self.answers_citing_answer_page}/{n}",
        ]


async def measure_ask(
    channel, questions: Sequence[Query], doc_of: Callable[[str], str], page_text: Callable[[str, int], str]
) -> AskFigures:
    """Asks each question with the extractive generator; UNIMPLEMENTED/UNAVAILABLE skip the whole part."""
    from mivaa.answer.v1 import answer_service_pb2 as answer_pb
    from mivaa.answer.v1 import answer_service_pb2_grpc

    stub = answer_service_pb2_grpc.AnswerServiceStub(channel)
    figures = AskFigures()
    for query in questions:
        request = answer_pb.AskRequest(question=query.text, generator=answer_pb.GENERATOR_EXTRACTIVE)
        started = time.perf_counter()
        first: float | None = None
        cited_pages: set[int] = set()
        try:
            async for event in stub.Ask(request, timeout=60):
                kind = event.WhichOneof("event")
                if kind == "delta" and first is None:
                    first = (time.perf_counter() - started) * 1000
                elif kind == "citations":
                    for citation in event.citations.citations:
                        doc = doc_of(citation.document)
                        figures.citations += 1
                        if squash(citation.quote) in squash(page_text(doc, citation.page)):
                            figures.citations_on_page += 1
                        if doc == query.doc:
                            cited_pages.add(citation.page)
                elif kind == "done":
                    figures.found += int(event.done.found)
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE):
                return AskFigures(skipped=f"AnswerService answered {error.code().name}: {error.details()}")
            raise
        elapsed = time.perf_counter() - started
        figures.total_ms.append(elapsed * 1000)
        if elapsed < 1 / ASK_RATE_PER_SECOND:
            await asyncio.sleep(1 / ASK_RATE_PER_SECOND - elapsed)
        figures.first_token_ms.append(first if first is not None else figures.total_ms[-1])
        figures.answers_citing_answer_page += int(bool(cited_pages & set(query.pages)))
    return figures
