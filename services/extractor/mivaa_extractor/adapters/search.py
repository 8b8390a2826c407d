"""gRPC adapters that implement the extractor's ports against the peer services."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import grpc
from google.protobuf import field_mask_pb2

from mivaa.ocr.v1 import ocr_service_pb2, ocr_service_pb2_grpc
from mivaa.search.v1 import search_service_pb2, search_service_pb2_grpc
from mivaa_extractor.ports import NewDocument, RecognizedPage
from mivaa_platform.errors import Internal
from mivaa_platform.grpc_errors import from_rpc_error
from mivaa_platform.tenancy import tenant_metadata


class SearchCatalog:
    """DocumentCatalog and ChunkIndex over SearchService.

    Every call carries the document's tenant as `x-mivaa-tenant` metadata, so the
    search service reads and writes that tenant's documents only.
    """

    def __init__(self, channel: grpc.aio.Channel):
        self._stub = search_service_pb2_grpc.SearchServiceStub(channel)

    async def create(self, document: NewDocument) -> tuple[search_service_pb2.Document, bool]:
        request = search_service_pb2.CreateDocumentRequest(
            document=search_service_pb2.Document(
                filename=document.filename,
                title=document.title,
                labels=document.labels,
                sha256=document.sha256,
                size_bytes=document.size_bytes,
                page_count=document.page_count,
                job=document.job,
            )
        )
        try:
            response = await self._stub.CreateDocument(request, metadata=tenant_metadata(document.tenant))
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        return response.document, response.created

    async def set_state(
        self, name: str, state: search_service_pb2.DocumentState, *, tenant: str, job: str | None = None
    ) -> search_service_pb2.Document:
        paths = ["state"] + (["job"] if job is not None else [])
        request = search_service_pb2.UpdateDocumentRequest(
            document=search_service_pb2.Document(name=name, state=state, job=job or ""),
            update_mask=field_mask_pb2.FieldMask(paths=paths),
        )
        try:
            response = await self._stub.UpdateDocument(request, metadata=tenant_metadata(tenant))
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        return response.document

    async def get(self, name: str, *, tenant: str) -> search_service_pb2.Document:
        request = search_service_pb2.GetDocumentRequest(name=name)
        try:
            response = await self._stub.GetDocument(request, metadata=tenant_metadata(tenant))
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        return response.document

    async def delete(self, name: str, *, tenant: str) -> None:
        try:
            await self._stub.DeleteDocument(
                search_service_pb2.DeleteDocumentRequest(name=name), metadata=tenant_metadata(tenant)
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc

    async def open_writer(
        self,
        document: str,
        *,
        tenant: str,
        model: str,
        page_count: int,
        metadata: search_service_pb2.DocumentMetadata | None = None,
        outline: Sequence[search_service_pb2.OutlineEntry] = (),
    ) -> _StreamingChunkWriter:
        writer = _StreamingChunkWriter()
        writer.attach(self._stub.UpsertChunks(writer.requests(), metadata=tenant_metadata(tenant)))
        await writer.send(
            search_service_pb2.UpsertChunksRequest(
                header=search_service_pb2.UpsertChunksHeader(
                    document=document,
                    model=model,
                    page_count=page_count,
                    mark_ready=True,
                    metadata=metadata,
                    outline=list(outline),
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

    def __init__(self) -> None:
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

    async def write(self, chunk: search_service_pb2.Chunk) -> None:
        await self.send(search_service_pb2.UpsertChunksRequest(chunk=chunk))

    async def write_page(self, page: search_service_pb2.Page) -> None:
        await self.send(search_service_pb2.UpsertChunksRequest(page=page))

    async def write_image(self, piece: search_service_pb2.ImageContent) -> None:
        await self.send(search_service_pb2.UpsertChunksRequest(image=piece))

    def _attached_call(self) -> grpc.aio.StreamUnaryCall:
        if self.call is None:  # open_writer attaches the call before anyone can send
            raise RuntimeError("chunk writer used before a call was attached")
        return self.call

    async def _result(self) -> search_service_pb2.UpsertChunksResponse:
        try:
            return await self._attached_call()
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc

    async def commit(self) -> int:
        await self._queue.put(_END_OF_STREAM)
        response = await self._result()
        return response.chunks_written

    async def abort(self) -> None:
        self._attached_call().cancel()


class OcrClient:
    """PageRecognizer over OcrService: one bidirectional stream per batch of pages."""

    def __init__(self, channel: grpc.aio.Channel, *, engine: str = "", languages: tuple[str, ...] = ()):
        self._stub = ocr_service_pb2_grpc.OcrServiceStub(channel)
        self._options = ocr_service_pb2.OcrOptions(engine=engine, languages=list(languages), correct_orientation=True)

    async def recognize(self, pages: Sequence[tuple[int, bytes]], dpi: int) -> dict[int, RecognizedPage]:
        async def requests() -> AsyncIterator[ocr_service_pb2.StreamRecognizeTextRequest]:
            for index, (number, png) in enumerate(pages):
                yield ocr_service_pb2.StreamRecognizeTextRequest(
                    options=self._options if index == 0 else None,
                    page=ocr_service_pb2.PageImage(page_id=str(number), image=png, dpi=dpi),
                )

        results: dict[int, RecognizedPage] = {}
        try:
            async for response in self._stub.StreamRecognizeText(requests()):
                result = response.result
                number = int(result.page_id)
                results[number] = RecognizedPage(number=number, text=result.text, confidence=result.confidence)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "ocr") from exc
        return results
