"""gRPC adapters for the use cases' ports: the search service (retrieval, pages, documents) and
the embedder. Every call forwards the caller's tenant (`x-mivaa-tenant`) and has a deadline."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from llama_index.core.callbacks import CallbackManager
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from mivaa.search.v1 import search_service_pb2, search_service_pb2_grpc
from mivaa_answer.usecases.ports import DocumentInfo, PageBlock, PageText, RetrievalScope
from mivaa_platform.embedder_client import EmbedderClient
from mivaa_platform.errors import NotFound
from mivaa_platform.grpc_errors import from_rpc_error
from mivaa_platform.tenancy import tenant_metadata

# ListPages returns at most this many pages a call.
_MAX_PAGE_SIZE = 200


class SearchChunksRetriever(BaseRetriever):
    """A llama-index retriever over SearchService.SearchChunks (HYBRID), for one tenant and scope.

    Each node's metadata carries what a Passage needs: document, document_title, chunk_index,
    page_start, page_end.
    """

    def __init__(self, stub: search_service_pb2_grpc.SearchServiceStub, scope: RetrievalScope, timeout: float):
        super().__init__(callback_manager=CallbackManager([]))
        self._stub = stub
        self._scope = scope
        self._timeout = timeout

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        raise NotImplementedError("SearchChunksRetriever is asynchronous: call aretrieve")

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        request = search_service_pb2.SearchChunksRequest(
            query=query_bundle.query_str,
            top_k=self._scope.top_k,
            documents=list(self._scope.documents),
            labels=list(self._scope.labels),
            mode=search_service_pb2.SEARCH_MODE_HYBRID,
        )
        try:
            response = await self._stub.SearchChunks(
                request, metadata=tenant_metadata(self._scope.tenant), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        return [
            NodeWithScore(
                node=TextNode(
                    id_=f"{hit.document}/chunks/{hit.chunk_index}",
                    text=hit.text,
                    metadata={
                        "document": hit.document,
                        "document_title": hit.document_title,
                        "chunk_index": hit.chunk_index,
                        "page_start": hit.page_start,
                        "page_end": hit.page_end,
                    },
                ),
                score=hit.score,
            )
            for hit in response.hits
        ]


class SearchClient:
    """Retrieval, PageReader and DocumentReader over SearchService."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float):
        self._stub = search_service_pb2_grpc.SearchServiceStub(channel)
        self._timeout = timeout

    def retriever(self, scope: RetrievalScope) -> BaseRetriever:
        return SearchChunksRetriever(self._stub, scope, self._timeout)

    async def pages(self, document: str, first: int, last: int, *, tenant: str) -> list[PageText]:
        found: list[PageText] = []
        token = ""
        while True:
            request = search_service_pb2.ListPagesRequest(
                parent=document, page_size=min(_MAX_PAGE_SIZE, max(last, 1)), page_token=token
            )
            try:
                response = await self._stub.ListPages(request, metadata=tenant_metadata(tenant), timeout=self._timeout)
            except grpc.aio.AioRpcError as exc:
                error = from_rpc_error(exc, "search")
                if isinstance(error, NotFound):
                    return []  # deleted since it was retrieved: nothing to cite on it
                raise error from exc
            for page in response.pages:
                if first <= page.number <= last:
                    found.append(PageText(page.number, tuple(PageBlock(b.text, _box(b)) for b in page.blocks)))
            token = response.next_page_token
            if not token or not response.pages or response.pages[-1].number >= last:
                return found

    async def document(self, name: str, *, tenant: str) -> DocumentInfo:
        request = search_service_pb2.GetDocumentRequest(name=name)
        try:
            response = await self._stub.GetDocument(request, metadata=tenant_metadata(tenant), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        document = response.document
        version = f"{document.sha256}:{document.update_time.ToJsonString()}:{document.chunk_count}"
        return DocumentInfo(document.name, document.title or document.filename, document.page_count, version)


def _box(block: search_service_pb2.Block) -> tuple[float, float, float, float] | None:
    if not block.HasField("bbox"):
        return None
    return (block.bbox.x0, block.bbox.y0, block.bbox.x1, block.bbox.y1)


class Embedder:
    """TextEmbedder over EmbedderService (its channel gives every call a deadline)."""

    def __init__(self, client: EmbedderClient):
        self._client = client

    async def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        return (await self._client.embed(texts)).vectors
