"""Search: chunks by meaning (vectors), by words (full text) or both fused; images by vectors.

A chunk search ranks to the depth its page needs (plus one, to know whether another page
follows), fuses, filters by min_score, reranks, diversifies, then cuts the page and reads its
hits with the query's words highlighted (the rankings carry keys and scores only). A page
token holds the offset of the next page and is tied to the tenant and to every parameter that
shapes the ranking.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
from dataclasses import dataclass, field

from mivaa_platform.errors import FailedPrecondition, InvalidArgument, Unavailable
from mivaa_platform.pagination import decode_page_token, encode_page_token, filter_fingerprint, invalid_page_token
from mivaa_search.limits import (
    check_block_types,
    check_custom_metadata,
    check_filters,
    check_languages,
    check_page_range,
    check_query,
    check_scoring,
    check_time_range,
    check_top_k,
)
from mivaa_search.store import ChunkHit, ChunkRank, ImageHit, SearchFilter, SearchStore
from mivaa_search.store.records import DEFAULT_TOP_K, DOMAIN, MAX_TOP_K
from mivaa_search.store.retrieval import ModelCheck, TenantModelChanged
from mivaa_search.usecases.ports import ImageEmbedder, TextEmbedder
from mivaa_search.usecases.ranking import RankedHit, Reranker, chunk_key, diversify, fuse, single

MODES = ("HYBRID", "VECTOR", "KEYWORD")
# How far a search ranks: pages beyond it are not offered (a page token past it is refused).
MAX_SEARCH_DEPTH = 1000
# How deep each ranking goes when fusion or diversity reorders hits (pages end there).
RERANKED_DEPTH = 200
# Times a search embeds its query again when the tenant's model changed meanwhile.
MODEL_SWITCH_RETRIES = 2


@dataclass(frozen=True)
class ChunkQuery:
    text: str
    top_k: int = 0  # 0 means DEFAULT_TOP_K; cut to MAX_TOP_K
    mode: str = "HYBRID"
    min_score: float = 0.0
    where: SearchFilter = field(default_factory=SearchFilter)
    diversity: float = 0.0
    page_token: str = ""


@dataclass(frozen=True)
class ChunkResults:
    hits: list[RankedHit[ChunkHit]]
    model: str  # the model that embedded the query; "" for KEYWORD
    next_page_token: str


class Search:
    def __init__(
        self,
        store: SearchStore,
        texts: TextEmbedder,
        images: ImageEmbedder | None = None,
        reranker: Reranker | None = None,
    ):
        self._store = store
        self._texts = texts
        self._images = images
        self._reranker = reranker
        self._models = TenantModels(texts.model)

    async def chunks(self, query: ChunkQuery, *, tenant: str) -> ChunkResults:
        text = check_query(query.text)
        where = _checked(query)
        count = min(check_top_k(query.top_k) or DEFAULT_TOP_K, MAX_TOP_K)
        scope = _scope(query, text, where, tenant)
        offset = _offset(decode_page_token(query.page_token, "hits", scope=scope, domain=DOMAIN))
        # One ranking alone is the same order however deep it goes: rank as deep as this page needs.
        # Fusion and diversity reorder by what else was found, so they always rank to one depth
        # and every page is cut from the same order (pages never overlap or skip).
        depth = min(offset + count + 1, MAX_SEARCH_DEPTH)
        reordered = query.mode == "HYBRID" or query.diversity > 0
        ranked_depth = RERANKED_DEPTH if reordered else depth
        vectors = query.diversity > 0
        # The two rankings run at once, on two pooled connections.
        (by_vector, model), by_keyword = await asyncio.gather(
            self._by_vector(text, query.mode, ranked_depth, where, tenant=tenant, with_vectors=vectors),
            self._by_keyword(text, query.mode, ranked_depth, where, tenant=tenant, with_vectors=vectors),
        )
        if query.mode == "HYBRID":
            ranked = fuse(by_vector, by_keyword)
        else:
            ranked = single(by_vector or by_keyword, vector=query.mode == "VECTOR")
        if query.min_score:
            ranked = [r for r in ranked if r.score >= query.min_score]
        if self._reranker is not None:
            ranked = await self._reranked(text, ranked, tenant)
        ranked = diversify(ranked, query.diversity, len(ranked))
        cut = ranked[offset : offset + count]
        more = len(ranked) > offset + count and offset + count < MAX_SEARCH_DEPTH
        token = encode_page_token("hits", {"o": offset + count}, scope=scope) if more and cut else ""
        # A hit whose document was deleted or replaced since it was ranked is left out of its page.
        found = await self._store.chunks.read_by_key([r.hit for r in cut], tenant=tenant, query=text)
        page = []
        for r in cut:
            if (read := found.get(chunk_key(r.hit))) is not None:
                hit, spans = read
                page.append(RankedHit(hit, r.score, r.vector_score, r.keyword_score, spans))
        return ChunkResults(page, model, token)

    async def _reranked(self, text: str, ranked: list[RankedHit[ChunkRank]], tenant: str) -> list[RankedHit[ChunkRank]]:
        assert self._reranker is not None
        found = await self._store.chunks.read_by_key([r.hit for r in ranked], tenant=tenant)
        texts = [read[0].text if (read := found.get(chunk_key(r.hit))) is not None else "" for r in ranked]
        return await self._reranker.rerank(text, ranked, texts)

    async def _by_vector(
        self, text: str, mode: str, depth: int, where: SearchFilter, *, tenant: str, with_vectors: bool
    ) -> tuple[list[ChunkRank], str]:
        """The nearest chunks and the model that embedded the query ("" when not asked for)."""
        if mode not in ("HYBRID", "VECTOR"):
            return [], ""
        # A tenant that re-embedded its documents with another model is searched with that one.
        # The query is embedded with the model the tenant had last time (no lookup first), and
        # the tenant's model is checked in the snapshot its vectors are read from: after a
        # switch, the query is embedded once more with the model the tenant has now.
        model = self._models.get(tenant)
        for _ in range(MODEL_SWITCH_RETRIES + 1):
            try:
                return await self._nearest(text, model, depth, where, tenant=tenant, with_vectors=with_vectors), model
            except TenantModelChanged as changed:
                model = self._models.remember(tenant, changed.model)
        raise Unavailable(
            "MODEL_SWITCHING", "The tenant's model kept changing during the search; retry.", domain=DOMAIN
        )

    async def _nearest(
        self, text: str, model: str, depth: int, where: SearchFilter, *, tenant: str, with_vectors: bool
    ) -> list[ChunkRank]:
        embedded = await (self._texts.embed([text]) if model == self._texts.model else self._texts.embed([text], model))
        return await self._store.chunks.rank_nearest(
            embedded.vectors[0],
            depth,
            where,
            tenant=tenant,
            with_vectors=with_vectors,
            model_check=ModelCheck(model, self._texts.model),
        )

    async def _by_keyword(
        self, text: str, mode: str, depth: int, where: SearchFilter, *, tenant: str, with_vectors: bool
    ) -> list[ChunkRank]:
        if mode not in ("HYBRID", "KEYWORD"):
            return []
        return await self._store.chunks.rank_keyword(text, depth, where, tenant=tenant, with_vectors=with_vectors)

    async def images(
        self, top_k: int, where: SearchFilter, *, tenant: str, text: str | None = None, image: bytes | None = None
    ) -> tuple[list[ImageHit], str]:
        """Images nearest to a text or an image (exactly one of them), and the image model's name."""
        if self._images is None:
            raise FailedPrecondition("IMAGE_MODEL_UNAVAILABLE", "Image search is not configured.", domain=DOMAIN)
        check_top_k(top_k)
        check_filters(documents=where.document_ids, labels=where.labels)
        if text is not None:
            model, vectors = await self._images.embed_texts([check_query(text, "text")])
        elif image is not None:
            if not image:
                raise InvalidArgument("QUERY_EMPTY", "image must not be empty.", domain=DOMAIN)
            model, vectors = await self._images.embed_images([image], skip_unreadable=False)
        else:
            raise InvalidArgument("QUERY_EMPTY", "Give a text or an image to search with.", domain=DOMAIN)
        hits = await self._store.images.search(vectors[0], model, top_k, where, tenant=tenant)
        return hits, model


def _checked(query: ChunkQuery) -> SearchFilter:
    """The filter with its languages normalized, once every parameter is within its limits."""
    if query.mode not in MODES:
        raise InvalidArgument("INVALID_MODE", f"mode must be one of {', '.join(MODES)}.", domain=DOMAIN)
    where = query.where
    check_filters(documents=where.document_ids, labels=where.labels)
    check_custom_metadata(where.custom_metadata)
    check_scoring(query.min_score, query.diversity)
    check_page_range(where.page_min, where.page_max)
    check_time_range(where.created_after, where.created_before)
    check_block_types(where.block_types)
    languages = check_languages(where.languages)
    return dataclasses.replace(where, languages=languages)


def _scope(query: ChunkQuery, text: str, where: SearchFilter, tenant: str) -> str:
    """What a page token is tied to: the tenant, and everything that shapes the ranking."""
    shape = json.dumps([text, query.mode, query.min_score, query.diversity, query.top_k], ensure_ascii=False)
    return f"{tenant}/{filter_fingerprint([shape, *where.fingerprint_parts()])}"


def _offset(after: dict[str, object] | None) -> int:
    if after is None:
        return 0
    value = after.get("o")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_SEARCH_DEPTH:
        raise invalid_page_token("The page token is not one this service issued.", DOMAIN)
    return value


class TenantModels:
    """The text model each tenant's chunks were last seen embedded with, for tenants that
    switched away from the configured one (a guess, checked by every search; bounded)."""

    def __init__(self, base_model: str, capacity: int = 10_000):
        self._base_model = base_model
        self._capacity = capacity
        self._models: collections.OrderedDict[str, str] = collections.OrderedDict()

    def get(self, tenant: str) -> str:
        return self._models.get(tenant, self._base_model)

    def remember(self, tenant: str, model: str) -> str:
        self._models.pop(tenant, None)
        if model != self._base_model:
            self._models[tenant] = model
            if len(self._models) > self._capacity:
                self._models.popitem(last=False)
        return model
