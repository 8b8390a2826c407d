"""gRPC adapters that implement the extractor's ports against the peer services."""

from __future__ import annotations

import grpc
from google.protobuf import field_mask_pb2

from mivaa.search.v1 import search_service_pb2, search_service_pb2_grpc
from mivaa_extractor.ports import NewDocument
from mivaa_platform.grpc_errors import from_rpc_error


class SearchCatalog:
    """DocumentCatalog and ChunkIndex over SearchService."""

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
            response = await self._stub.CreateDocument(request)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        return response.document, response.created

    async def set_state(
        self, name: str, state: search_service_pb2.DocumentState, *, job: str | None = None
    ) -> search_service_pb2.Document:
        paths = ["state"] + (["job"] if job is not None else [])
        request = search_service_pb2.UpdateDocumentRequest(
            document=search_service_pb2.Document(name=name, state=state, job=job or ""),
            update_mask=field_mask_pb2.FieldMask(paths=paths),
        )
        try:
            response = await self._stub.UpdateDocument(request)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        return response.document

    async def open_writer(self, document: str, *, model: str, page_count: int) -> _StreamingChunkWriter:
        call = self._stub.UpsertChunks()
        writer = _StreamingChunkWriter(call)
        await writer.send(
            search_service_pb2.UpsertChunksRequest(
                header=search_service_pb2.UpsertChunksHeader(
                    document=document, model=model, page_count=page_count, mark_ready=True
                )
            )
        )
        return writer


class _StreamingChunkWriter:
    """Chunks go out on one client stream; the server commits only when the stream closes cleanly."""

    def __init__(self, call: grpc.aio.StreamUnaryCall):
        self._call = call

    async def send(self, request: search_service_pb2.UpsertChunksRequest) -> None:
        try:
            await self._call.write(request)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        except grpc.aio.UsageError:
            # The server already ended the call (an error); awaiting it tells which.
            await self._result()

    async def write(self, chunk: search_service_pb2.Chunk) -> None:
        await self.send(search_service_pb2.UpsertChunksRequest(chunk=chunk))

    async def _result(self) -> search_service_pb2.UpsertChunksResponse:
        try:
            return await self._call
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc

    async def commit(self) -> int:
        try:
            await self._call.done_writing()
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        response = await self._result()
        return response.chunks_written

    async def abort(self) -> None:
        self._call.cancel()
