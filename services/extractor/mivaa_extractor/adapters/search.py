"""The catalog and the index over SearchService: DocumentCatalog and ChunkIndex of `mivaa_extractor.ports`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import TypeVar

import grpc
from google.protobuf import field_mask_pb2

from mivaa.search.v1 import search_service_pb2, search_service_pb2_grpc
from mivaa_extractor.adapters.search_proto import (
    DOCUMENT_STATES,
    chunk_to_proto,
    document_from_proto,
    image_pieces,
    metadata_to_proto,
    new_document_to_proto,
    page_to_proto,
)
from mivaa_extractor.extraction.structure.model import ExtractedImage, PageLayout
from mivaa_extractor.ports import CatalogDocument, DocumentState, EmbeddedChunk, IndexTarget, NewDocument
from mivaa_platform.errors import Internal
from mivaa_platform.grpc_errors import from_rpc_error
from mivaa_platform.tenancy import tenant_metadata

Response = TypeVar("Response")


async def _from_search(call: Awaitable[Response]) -> Response:
    """The call's response; a failure as the MivaaError the search service sent."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc, "search") from exc


class SearchCatalog:
    """DocumentCatalog and ChunkIndex over SearchService.

    Every call carries the document's tenant as `x-mivaa-tenant` metadata, so the
    search service reads and writes that tenant's documents only.
    """

    def __init__(self, channel: grpc.aio.Channel):
        self._stub = search_service_pb2_grpc.SearchServiceStub(channel)

    async def create(self, document: NewDocument) -> tuple[CatalogDocument, bool]:
        request = search_service_pb2.CreateDocumentRequest(document=new_document_to_proto(document))
        response = await _from_search(self._stub.CreateDocument(request, metadata=tenant_metadata(document.tenant)))
        return document_from_proto(response.document), response.created

    async def set_state(
        self, name: str, state: DocumentState, *, tenant: str, job: str | None = None
    ) -> CatalogDocument:
        paths = ["state"] + (["job"] if job is not None else [])
        request = search_service_pb2.UpdateDocumentRequest(
            document=search_service_pb2.Document(name=name, state=DOCUMENT_STATES[state], job=job or ""),
            update_mask=field_mask_pb2.FieldMask(paths=paths),
        )
        response = await _from_search(self._stub.UpdateDocument(request, metadata=tenant_metadata(tenant)))
        return document_from_proto(response.document)

    async def get(self, name: str, *, tenant: str) -> CatalogDocument:
        request = search_service_pb2.GetDocumentRequest(name=name)
        response = await _from_search(self._stub.GetDocument(request, metadata=tenant_metadata(tenant)))
        return document_from_proto(response.document)

    async def delete(self, name: str, *, tenant: str) -> None:
        request = search_service_pb2.DeleteDocumentRequest(name=name)
        await _from_search(self._stub.DeleteDocument(request, metadata=tenant_metadata(tenant)))

    async def open_writer(self, target: IndexTarget) -> _StreamingChunkWriter:
        writer = _StreamingChunkWriter(target.document)
        writer.attach(self._stub.UpsertChunks(writer.requests(), metadata=tenant_metadata(target.tenant)))
        metadata, outline = metadata_to_proto(target.info)
        await writer.send(
            search_service_pb2.UpsertChunksRequest(
                header=search_service_pb2.UpsertChunksHeader(
                    document=target.document,
                    model=target.model,
                    page_count=target.page_count,
                    mark_ready=True,
                    metadata=metadata,
                    outline=outline,
                )
            )
        )
        return writer


_END_OF_STREAM = None


class _StreamingChunkWriter:
    """Chunks go out on one client stream; the server commits only when the stream closes cleanly.

    Requests flow through a bounded queue that the call's request iterator
    drains, so a slow server applies backpressure to the pipeline.
    """

    def __init__(self, document: str) -> None:
        self._document = document
        self._queue: asyncio.Queue[search_service_pb2.UpsertChunksRequest | None] = asyncio.Queue(maxsize=256)
        self._ended = asyncio.Event()
        self.call: grpc.aio.StreamUnaryCall | None = None

    async def requests(self) -> AsyncIterator[search_service_pb2.UpsertChunksRequest]:
        while (request := await self._queue.get()) is not _END_OF_STREAM:
            yield request

    def attach(self, call: grpc.aio.StreamUnaryCall) -> None:
        self.call = call
        call.add_done_callback(lambda _: self._ended.set())

    async def send(self, request: search_service_pb2.UpsertChunksRequest) -> None:
        if not self._ended.is_set() and not self._queue.full():
            self._queue.put_nowait(request)
            return
        # Queue full: wait for room, unless the server ends the call first (an error).
        put = asyncio.ensure_future(self._queue.put(request))
        ended = asyncio.ensure_future(self._ended.wait())
        done, pending = await asyncio.wait({put, ended}, return_when=asyncio.FIRST_COMPLETED)
        for future in pending:
            future.cancel()
        if put not in done:
            await self._result()
            raise Internal("UPSERT_ENDED_EARLY", "The search service closed the chunk stream early.")

    async def write(self, chunk: EmbeddedChunk) -> None:
        await self.send(search_service_pb2.UpsertChunksRequest(chunk=chunk_to_proto(chunk)))

    async def write_page(self, page: PageLayout, *, ocr: bool) -> None:
        await self.send(search_service_pb2.UpsertChunksRequest(page=page_to_proto(page, self._document, ocr=ocr)))

    async def write_image(self, image: ExtractedImage, *, vector: Sequence[float], model: str) -> None:
        for piece in image_pieces(image, vector, model):
            await self.send(search_service_pb2.UpsertChunksRequest(image=piece))

    def _attached_call(self) -> grpc.aio.StreamUnaryCall:
        if self.call is None:  # open_writer attaches the call before anyone can send
            raise RuntimeError("chunk writer used before a call was attached")
        return self.call

    async def _result(self) -> search_service_pb2.UpsertChunksResponse:
        return await _from_search(self._attached_call())

    async def commit(self) -> int:
        await self._queue.put(_END_OF_STREAM)
        response = await self._result()
        return response.chunks_written

    async def abort(self) -> None:
        self._attached_call().cancel()
