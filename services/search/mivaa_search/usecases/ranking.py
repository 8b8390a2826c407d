"""Combining rankings: reciprocal rank fusion, maximal marginal relevance, and the reranking stage.

Pure functions over what the store's rankings returned (keys, scores and, for diversity, vectors:
ChunkRank); no SQL, no grpc. A page's hits, texts and all, are read once it is cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

import numpy as np

from mivaa_search.store import ChunkHit, ChunkRank

H = TypeVar("H", ChunkRank, ChunkHit)  # a ranking's entries; a page's hits once read

RRF_K = 60  # the constant of Cormack et al.: a hit ranked r-th adds 1 / (60 + r)
# Keyword hits enter the fusion only when they match well: at least KEYWORD_FLOOR (a phrase or
# most of the words, not one common word of a long query) and at least KEYWORD_RELATIVE of the
# best keyword hit. Rank fusion ignores how far apart scores are, so without the cut a chunk
# that only shares "review" with the query would count as much as the one holding the exact
# part number.
KEYWORD_FLOOR = 0.2
KEYWORD_RELATIVE = 0.5


@dataclass(frozen=True)
class RankedHit(Generic[H]):
    hit: H
    score: float  # on the mode's scale (see SearchHit.score)
    vector_score: float = 0.0  # cosine similarity, 0 when the vector ranking did not find it
    keyword_score: float = 0.0  # full-text rank, 0 when the keyword ranking did not find it
    highlights: tuple[tuple[int, int], ...] = ()


def chunk_key(hit: ChunkRank | ChunkHit) -> tuple[str, int]:
    """A chunk's identity in rankings and pages: (document id, chunk index)."""
    return hit.document_id, hit.chunk_index


def single(hits: Sequence[ChunkRank], *, vector: bool) -> list[RankedHit[ChunkRank]]:
    """One ranking as it is: the score is that ranking's own."""
    return [
        RankedHit(h, h.score, vector_score=h.score if vector else 0.0, keyword_score=0.0 if vector else h.score)
        for h in hits
    ]


def fuse(vector: Sequence[ChunkRank], keyword: Sequence[ChunkRank]) -> list[RankedHit[ChunkRank]]:
    """Reciprocal rank fusion of the two rankings: sum of 1 / (RRF_K + rank) over those that found a hit
    (keyword hits below the KEYWORD_FLOOR / KEYWORD_RELATIVE cut do not count as found).

    Ties go to the hit the keyword ranking put higher (an exact term match is the rarer
    evidence), then to document and chunk order, so pages of results are stable."""
    fused: dict[tuple[str, int], RankedHit[ChunkRank]] = {}
    best = max((hit.score for hit in keyword), default=0.0)
    keyword = [hit for hit in keyword if hit.score >= max(KEYWORD_FLOOR, KEYWORD_RELATIVE * best)]
    for rank, hit in enumerate(vector, start=1):
        fused[chunk_key(hit)] = RankedHit(hit, 1.0 / (RRF_K + rank), vector_score=hit.score)
    keyword_rank: dict[tuple[str, int], int] = {}
    for rank, hit in enumerate(keyword, start=1):
        key = chunk_key(hit)
        keyword_rank[key] = rank
        found = fused.get(key)
        if found is None:
            fused[key] = RankedHit(hit, 1.0 / (RRF_K + rank), keyword_score=hit.score)
        else:
            fused[key] = replace(found, score=found.score + 1.0 / (RRF_K + rank), keyword_score=hit.score)
    unranked = len(keyword) + 1
    return sorted(
        fused.values(), key=lambda r: (-r.score, keyword_rank.get(chunk_key(r.hit), unranked), *chunk_key(r.hit))
    )


def diversify(ranked: Sequence[RankedHit[ChunkRank]], diversity: float, count: int) -> list[RankedHit[ChunkRank]]:
    """The first `count` hits by maximal marginal relevance: each next hit maximises
    (1 - diversity) * relevance - diversity * (its highest cosine similarity to those already chosen),
    relevance being the score scaled to [0, 1] by the best one."""
    if diversity <= 0 or len(ranked) < 2:
        return list(ranked[:count])
    best = max(r.score for r in ranked) or 1.0
    relevance = np.array([r.score / best for r in ranked], dtype=np.float32)
    vectors = np.stack([_unit(r.hit.embedding) for r in ranked])
    chosen: list[int] = []
    closest = np.full(len(ranked), -np.inf, dtype=np.float32)  # highest similarity to a chosen hit
    remaining = np.ones(len(ranked), dtype=bool)
    while len(chosen) < min(count, len(ranked)):
        penalty = np.where(np.isfinite(closest), closest, 0.0)
        value = (1.0 - diversity) * relevance - diversity * penalty
        value[~remaining] = -np.inf
        pick = int(np.argmax(value))
        chosen.append(pick)
        remaining[pick] = False
        closest = np.maximum(closest, vectors @ vectors[pick])
    return [ranked[i] for i in chosen]


def _unit(vector: object) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm else array


class Reranker(Protocol):
    """A stage that may reorder and rescore the fused candidates (a cross-encoder, say) before
    diversity and paging: given the query and each candidate's text, in the candidates' order.

    None ships: no cross-encoder comes in a registry package that runs offline. Search reads the
    candidates' texts only when it has one; a real one plugs in here without touching retrieval
    or paging."""

    async def rerank(
        self, query: str, ranked: Sequence[RankedHit[ChunkRank]], texts: Sequence[str]
    ) -> list[RankedHit[ChunkRank]]: ...
