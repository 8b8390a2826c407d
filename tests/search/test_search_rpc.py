"""SearchChunks over gRPC (the servicer's translation): every new request field is honoured and
every new hit field filled; bad values are INVALID_ARGUMENT with their reason."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import timestamp_pb2

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa.search.v1 import search_service_pb2_grpc
from mivaa_platform.grpc_errors import error_reason
from mivaa_search.servicer import SearchServicer
from mivaa_search.usecases import DocumentCatalog, Search
from mivaa_search.usecases.intelligence import DocumentIntelligence
from tests.search.retrieval_support import IDENTIFIER
from tests.support.inprocess import serving

TENANT = [("x-mivaa-tenant", "default")]


@pytest.fixture
async def stub(store, embedder):
    servicer = SearchServicer(
        DocumentCatalog(store, originals=None), Search(store, embedder), DocumentIntelligence(store)
    )
    async with serving(
        "search-test",
        search_service_pb2_grpc.add_SearchServiceServicer_to_server,
        servicer,
        "mivaa.search.v1.SearchService",
    ) as (_, channel):
        yield search_service_pb2_grpc.SearchServiceStub(channel)


async def test_hybrid_hit_fields(stub, library):
    response = await stub.SearchChunks(pb.SearchChunksRequest(query=f"part {IDENTIFIER}", top_k=3), metadata=TENANT)
    top = response.hits[0]
    assert top.document == f"documents/{library['long']}" and top.chunk_index == 37
    assert top.vector_score != 0 and top.keyword_score > 0 and top.score > 0
    assert top.language == "en" and list(top.block_types) == [pb.BLOCK_TYPE_PARAGRAPH]
    marked = [top.text[h.start : h.end] for h in top.highlights]
    assert IDENTIFIER.lower() in {m.lower() for m in marked} and "part" in {m.lower() for m in marked}
    assert response.model and response.next_page_token


async def test_request_filters(stub, library):
    request = pb.SearchChunksRequest(
        query="eruption",
        mode=pb.SEARCH_MODE_KEYWORD,
        top_k=10,
        block_types=[pb.BLOCK_TYPE_TABLE],
        languages=["EN"],
        page_min=2,
        page_max=2,
        create_time_after=timestamp_pb2.Timestamp(seconds=1_600_000_000),
    )
    response = await stub.SearchChunks(request, metadata=TENANT)
    assert [(h.document, h.chunk_index) for h in response.hits] == [(f"documents/{library['volcano']}", 1)]
    assert not response.model and not response.next_page_token
    request.ClearField("create_time_after")
    request.create_time_before.FromSeconds(1_600_000_000)
    assert not (await stub.SearchChunks(request, metadata=TENANT)).hits


@pytest.mark.parametrize(
    ("request_fields", "reason"),
    [
        ({"mode": 42}, "INVALID_MODE"),
        ({"min_score": float("inf")}, "INVALID_MIN_SCORE"),
        ({"diversity": -0.5}, "INVALID_DIVERSITY"),
        ({"page_min": 9, "page_max": 3}, "INVALID_PAGE_RANGE"),
        ({"block_types": [pb.BLOCK_TYPE_UNSPECIFIED]}, "INVALID_BLOCK_TYPE"),
        ({"languages": ["x-klingon"]}, "INVALID_LANGUAGE"),
        ({"page_token": "not-a-token"}, "INVALID_PAGE_TOKEN"),
        ({"query": "  "}, "QUERY_EMPTY"),
        ({"documents": ["documents/not-a-uuid"]}, "INVALID_DOCUMENT_NAME"),
        ({"create_time_after": timestamp_pb2.Timestamp(seconds=10**12)}, "INVALID_TIME_RANGE"),
    ],
)
async def test_bad_requests(stub, request_fields, reason):
    fields = {"query": "volcano"} | request_fields
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.SearchChunks(pb.SearchChunksRequest(**fields), metadata=TENANT)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(refused.value) == reason


async def test_a_document_records_its_media_type(stub):
    def document(sha: str, media_type: str) -> pb.Document:
        return pb.Document(filename="scan.png", sha256=sha * 64, size_bytes=10, page_count=1, media_type=media_type)

    created = await stub.CreateDocument(pb.CreateDocumentRequest(document=document("a", "image/png")), metadata=TENANT)
    assert created.document.media_type == "image/png"
    fetched = await stub.GetDocument(pb.GetDocumentRequest(name=created.document.name), metadata=TENANT)
    assert fetched.document.media_type == "image/png"
    # An older extractor sends none: a PDF.
    older = await stub.CreateDocument(pb.CreateDocumentRequest(document=document("b", "")), metadata=TENANT)
    assert older.document.media_type == "application/pdf"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateDocument(pb.CreateDocumentRequest(document=document("c", "text/html")), metadata=TENANT)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(refused.value) == "MEDIA_TYPE_UNSUPPORTED"
