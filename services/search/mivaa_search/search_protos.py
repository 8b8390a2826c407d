"""SearchChunks between protos and the search use case: the request as a ChunkQuery, hits as SearchHits."""

from __future__ import annotations

import datetime as dt
from typing import cast

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa_platform.errors import InvalidArgument
from mivaa_search.names import DOMAIN, document_id
from mivaa_search.store import EntityRef, SearchFilter
from mivaa_search.upserts import BLOCK_TYPE_NAMES
from mivaa_search.usecases.intelligence import entity_refs
from mivaa_search.usecases.ranking import RankedHit
from mivaa_search.usecases.search import ChunkQuery, ChunkResults

_MODES = {pb.SEARCH_MODE_HYBRID: "HYBRID", pb.SEARCH_MODE_VECTOR: "VECTOR", pb.SEARCH_MODE_KEYWORD: "KEYWORD"}
_BLOCK_TYPES = {name: value for value, name in BLOCK_TYPE_NAMES.items()}
_ENTITY_TYPE_NAMES = {value: name.removeprefix("ENTITY_TYPE_") for name, value in pb.EntityType.items()}


def entity_type_name(value: int) -> str:
    """The store's name of an EntityType ("" for UNSPECIFIED; an unknown number is refused later)."""
    name = _ENTITY_TYPE_NAMES.get(value, f"#{value}")
    return "" if name == "UNSPECIFIED" else name


def entity_type(name: str) -> pb.EntityType:
    # grpc_tools' .pyi types EnumTypeWrapper.Value as returning int; it returns the enum's value.
    return cast(pb.EntityType, pb.EntityType.Value(f"ENTITY_TYPE_{name}"))


def search_entities(request: pb.SearchChunksRequest) -> list[EntityRef]:
    """SearchChunksRequest.entities as the store's filter (checked: count, length, type)."""
    return entity_refs([(entity.text, entity_type_name(entity.type)) for entity in request.entities])


def chunk_query(request: pb.SearchChunksRequest) -> ChunkQuery:
    where = SearchFilter(
        document_ids=[document_id(name) for name in request.documents],
        labels=list(request.labels),
        page_min=request.page_min,
        page_max=request.page_max,
        created_after=time_field(request, "create_time_after"),
        created_before=time_field(request, "create_time_before"),
        block_types=[BLOCK_TYPE_NAMES.get(value, "unspecified") for value in request.block_types],
        languages=list(request.languages),
        entities=search_entities(request),
        custom_metadata=dict(request.custom_metadata),
        all_versions=request.include_all_versions,
    )
    return ChunkQuery(
        text=request.query,
        top_k=request.top_k,
        # An unknown enum number reaches the use case as a mode it refuses (INVALID_MODE).
        mode=_MODES.get(request.mode, "HYBRID" if request.mode == pb.SEARCH_MODE_UNSPECIFIED else f"#{request.mode}"),
        min_score=request.min_score,
        where=where,
        diversity=request.diversity,
        page_token=request.page_token,
    )


def time_field(request: pb.SearchChunksRequest | pb.ListDocumentsRequest, field: str) -> dt.datetime | None:
    """A request's Timestamp field as an aware datetime (None when unset), or INVALID_TIME_RANGE."""
    if not request.HasField(field):
        return None
    try:
        return getattr(request, field).ToDatetime(tzinfo=dt.UTC)
    except ValueError:  # outside years 1..9999, or nanos out of range
        raise InvalidArgument("INVALID_TIME_RANGE", f"{field} is not a valid timestamp.", domain=DOMAIN) from None


def hit_to_proto(ranked: RankedHit) -> pb.SearchHit:
    hit = ranked.hit
    return pb.SearchHit(
        document=f"documents/{hit.document_id}",
        document_title=hit.document_title,
        chunk_index=hit.chunk_index,
        text=hit.text,
        page_start=hit.page_start,
        page_end=hit.page_end,
        score=ranked.score,
        text_source=cast(pb.TextSource, pb.TextSource.Value(f"TEXT_SOURCE_{hit.text_source}")),
        ocr_confidence=hit.ocr_confidence or 0.0,
        section_path=hit.section_path or [],
        highlights=[pb.Highlight(start=start, end=end) for start, end in ranked.highlights],
        vector_score=ranked.vector_score,
        keyword_score=ranked.keyword_score,
        block_types=[cast(pb.BlockType, _BLOCK_TYPES.get(kind, 0)) for kind in hit.block_types or ()],
        language=hit.language,
    )


def results_to_proto(results: ChunkResults) -> pb.SearchChunksResponse:
    return pb.SearchChunksResponse(
        hits=[hit_to_proto(r) for r in results.hits], model=results.model, next_page_token=results.next_page_token
    )
