"""The catalog and the index over SearchService: DocumentCatalog and ChunkIndex of `mivaa_extractor.ports`."""

from __future__ import annotations

import struct
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import IO, TypeVar

import grpc
from google.protobuf import field_mask_pb2

from mivaa.jobs.v1.processing_options_pb2 import ProcessingOptions
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
from mivaa_platform.errors import MivaaError
from mivaa_platform.grpc_errors import from_rpc_error
from mivaa_platform.tenancy import tenant_metadata

Response = TypeVar("Response")
# Asking search for a tenant's text model: one indexed row read.
MODEL_LOOKUP_SECONDS = 10.0


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

    def __init__(
        self, channel: grpc.aio.Channel, *, index_time_limit_seconds: float = 1800.0, spool_dir: str | None = None
    ):
        self._stub = search_service_pb2_grpc.SearchServiceStub(channel)
        # Bounds sending a spooled document and its commit (not its extraction).
        self._index_seconds = index_time_limit_seconds
        self._spool_dir = spool_dir

    async def create(self, document: NewDocument) -> tuple[CatalogDocument, bool]:
        request = search_service_pb2.CreateDocumentRequest(
            document=new_document_to_proto(document),
            parent=document.parent,
            replace_by_filename=document.replace_by_filename,
        )
        response = await _from_search(self._stub.CreateDocument(request, metadata=tenant_metadata(document.tenant)))
        return document_from_proto(response.document), response.created

    async def set_state(
        self,
        name: str,
        state: DocumentState,
        *,
        tenant: str,
        job: str | None = None,
        processing_options: ProcessingOptions | None = None,
    ) -> CatalogDocument:
        paths = ["state"] + (["job"] if job is not None else [])
        document = search_service_pb2.Document(name=name, state=DOCUMENT_STATES[state], job=job or "")
        if processing_options is not None:
            paths.append("processing_options")
            document.processing_options.CopyFrom(processing_options)
        request = search_service_pb2.UpdateDocumentRequest(
            document=document, update_mask=field_mask_pb2.FieldMask(paths=paths)
        )
        response = await _from_search(self._stub.UpdateDocument(request, metadata=tenant_metadata(tenant)))
        return document_from_proto(response.document)

    async def get(self, name: str, *, tenant: str) -> CatalogDocument:
        request = search_service_pb2.GetDocumentRequest(name=name)
        response = await _from_search(self._stub.GetDocument(request, metadata=tenant_metadata(tenant)))
        return document_from_proto(response.document)

    async def check_image(self, name: str, *, tenant: str) -> None:
        request = search_service_pb2.GetImageRequest(name=name)
        await _from_search(self._stub.GetImage(request, metadata=tenant_metadata(tenant)))

    async def image_content(self, name: str, *, tenant: str) -> bytes:
        request = search_service_pb2.GetImageContentRequest(name=name)
        pieces = []
        try:
            async for piece in self._stub.GetImageContent(request, metadata=tenant_metadata(tenant)):
                pieces.append(piece.data)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        return b"".join(pieces)

    async def delete(self, name: str, *, tenant: str) -> None:
        request = search_service_pb2.DeleteDocumentRequest(name=name)
        await _from_search(self._stub.DeleteDocument(request, metadata=tenant_metadata(tenant)))

    async def text_model(self, tenant: str) -> str:
        """The tenant's text model as search reports it (GetReembedding's active_model: a tenant
        with no re-embedding has the default one, ""), so an upload is embedded once, with it."""
        request = search_service_pb2.GetReembeddingRequest(name="reembeddings/latest")
        try:
            response = await _from_search(
                self._stub.GetReembedding(request, metadata=tenant_metadata(tenant), timeout=MODEL_LOOKUP_SECONDS)
            )
        except MivaaError as error:
            if error.reason in ("REEMBEDDING_NOT_FOUND", "REEMBEDDING_UNAVAILABLE"):
                return ""
            raise
        return response.active_model

    async def open_writer(self, target: IndexTarget) -> SpooledChunkWriter:
        metadata, outline = metadata_to_proto(target.info)
        header = search_service_pb2.UpsertChunksRequest(
            header=search_service_pb2.UpsertChunksHeader(
                document=target.document,
                model=target.model,
                page_count=target.page_count,
                mark_ready=True,
                metadata=metadata,
                outline=outline,
            )
        )
        return SpooledChunkWriter(
            lambda requests: self._stub.UpsertChunks(
                requests, metadata=tenant_metadata(target.tenant), timeout=self._index_seconds
            ),
            header,
            target.document,
            self._spool_dir,
        )


_LENGTH = struct.Struct(">I")


class SpooledChunkWriter:
    """Chunks, pages and images go to a spool file while the document is extracted and embedded;
    commit opens the UpsertChunks stream and sends them all, and the server commits when it ends.

    The stream lasts only as long as the transfer and the database write, so no document's size
    is limited by a call deadline (a 619-page handbook's stream, held open while it was embedded,
    ran past the search service's ceiling), and a slow search service never holds up extraction.
    The spool is an unnamed temporary file: a crashed worker leaves nothing behind.
    """

    def __init__(
        self,
        open_call: Callable[[AsyncIterator[search_service_pb2.UpsertChunksRequest]], grpc.aio.StreamUnaryCall],
        header: search_service_pb2.UpsertChunksRequest,
        document: str,
        spool_dir: str | None,
    ) -> None:
        self._open_call = open_call
        self._document = document
        # Owned by the writer until commit or abort closes it, so no `with` block can hold it.
        self._spool: IO[bytes] = tempfile.TemporaryFile(dir=spool_dir or None, prefix="mivaa-upsert-")  # noqa: SIM115
        self._call: grpc.aio.StreamUnaryCall | None = None
        self._append(header)  # the stream's first message

    def _append(self, request: search_service_pb2.UpsertChunksRequest) -> None:
        data = request.SerializeToString()
        self._spool.write(_LENGTH.pack(len(data)))
        self._spool.write(data)

    async def write(self, chunk: EmbeddedChunk) -> None:
        self._append(search_service_pb2.UpsertChunksRequest(chunk=chunk_to_proto(chunk)))

    async def write_page(self, page: PageLayout, *, ocr: bool) -> None:
        self._append(search_service_pb2.UpsertChunksRequest(page=page_to_proto(page, self._document, ocr=ocr)))

    async def write_image(self, image: ExtractedImage, *, vector: Sequence[float], model: str) -> None:
        for piece in image_pieces(image, vector, model):
            self._append(search_service_pb2.UpsertChunksRequest(image=piece))

    async def _requests(self) -> AsyncIterator[search_service_pb2.UpsertChunksRequest]:
        # Plain reads: the spool was written moments ago and sits in the page cache.
        while prefix := self._spool.read(_LENGTH.size):
            (length,) = _LENGTH.unpack(prefix)
            yield search_service_pb2.UpsertChunksRequest.FromString(self._spool.read(length))

    async def commit(self) -> int:
        self._spool.flush()
        self._spool.seek(0)
        self._call = self._open_call(self._requests())
        try:
            response = await _from_search(self._call)
        finally:
            self._spool.close()
        return response.chunks_written

    async def abort(self) -> None:
        if self._call is not None:
            self._call.cancel()
        self._spool.close()
