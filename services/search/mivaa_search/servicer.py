"""SearchService: translates between protos and the document store, nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from google.protobuf import timestamp_pb2

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa.search.v1 import search_service_pb2_grpc
from mivaa_platform.embedder_client import EmbedderClient
from mivaa_platform.errors import InvalidArgument
from mivaa_platform.messaging import OriginalsStore
from mivaa_search.store import ChunkRecord, DocumentRecord, DocumentStore

DOMAIN = "search.mivaa"
MAX_QUERY_CHARS = 4096
UPDATABLE_FIELDS = frozenset({"state", "title", "page_count", "labels", "job"})


def document_id(name: str) -> str:
    prefix, _, identifier = name.partition("/")
    if prefix != "documents" or not identifier:
        raise InvalidArgument(
            "INVALID_DOCUMENT_NAME", "A document name looks like 'documents/{id}'.", domain=DOMAIN,
            metadata={"name": name[:100]},
        )
    return identifier


def _timestamp(value) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    if value is not None:
        stamp.FromDatetime(value)
    return stamp


def to_proto(record: DocumentRecord) -> pb.Document:
    return pb.Document(
        name=f"documents/{record.id}",
        filename=record.filename,
        title=record.title,
        labels=record.labels,
        sha256=record.sha256,
        size_bytes=record.size_bytes,
        page_count=record.page_count,
        state=pb.DocumentState.Value(f"DOCUMENT_STATE_{record.state}"),
        job=record.job,
        chunk_count=record.chunk_count,
        create_time=_timestamp(record.create_time),
        update_time=_timestamp(record.update_time),
    )


class SearchServicer(search_service_pb2_grpc.SearchServiceServicer):
    def __init__(self, store: DocumentStore, embedder: EmbedderClient, originals: OriginalsStore, dimension: int):
        self._store = store
        self._embedder = embedder
        self._originals = originals
        self._dimension = dimension

    async def CreateDocument(self, request: pb.CreateDocumentRequest, context) -> pb.CreateDocumentResponse:
        document = request.document
        if len(document.sha256) != 64:
            raise InvalidArgument("INVALID_SHA256", "document.sha256 must be 64 hex digits.", domain=DOMAIN)
        record, created = await self._store.create_document(
            filename=document.filename,
            title=document.title,
            labels=list(document.labels),
            sha256=document.sha256,
            size_bytes=document.size_bytes,
            page_count=document.page_count,
            job=document.job,
        )
        return pb.CreateDocumentResponse(document=to_proto(record), created=created)

    async def GetDocument(self, request: pb.GetDocumentRequest, context) -> pb.GetDocumentResponse:
        record = await self._store.get_document(document_id(request.name))
        return pb.GetDocumentResponse(document=to_proto(record))

    async def ListDocuments(self, request: pb.ListDocumentsRequest, context) -> pb.ListDocumentsResponse:
        records, next_token = await self._store.list_documents(request.page_size, request.page_token, list(request.labels))
        return pb.ListDocumentsResponse(documents=[to_proto(r) for r in records], next_page_token=next_token)

    async def UpdateDocument(self, request: pb.UpdateDocumentRequest, context) -> pb.UpdateDocumentResponse:
        paths = list(request.update_mask.paths)
        unknown = set(paths) - UPDATABLE_FIELDS
        if not paths or unknown:
            raise InvalidArgument(
                "INVALID_UPDATE_MASK",
                f"update_mask must name some of: {', '.join(sorted(UPDATABLE_FIELDS))}.",
                domain=DOMAIN,
            )
        document = request.document
        fields: dict[str, object] = {}
        for path in paths:
            if path == "state":
                if document.state == pb.DOCUMENT_STATE_UNSPECIFIED:
                    raise InvalidArgument("INVALID_STATE", "document.state must be set.", domain=DOMAIN)
                fields["state"] = pb.DocumentState.Name(document.state).removeprefix("DOCUMENT_STATE_")
            elif path == "labels":
                fields["labels"] = list(document.labels)
            else:
                fields[path] = getattr(document, path)
        record = await self._store.update_document(document_id(document.name), **fields)
        return pb.UpdateDocumentResponse(document=to_proto(record))

    async def DeleteDocument(self, request: pb.DeleteDocumentRequest, context) -> pb.DeleteDocumentResponse:
        record = await self._store.delete_document(document_id(request.name))
        # sha256 is unique per document, so the original belongs to this document alone.
        await self._originals.delete(record.sha256)
        return pb.DeleteDocumentResponse()

    async def UpsertChunks(
        self, request_iterator: AsyncIterator[pb.UpsertChunksRequest], context
    ) -> pb.UpsertChunksResponse:
        header: pb.UpsertChunksHeader | None = None
        chunks: list[ChunkRecord] = []
        seen: set[int] = set()
        async for message in request_iterator:
            if header is None:
                if message.WhichOneof("content") != "header":
                    raise InvalidArgument("UPSERT_HEADER_MISSING", "The first message must be the header.", domain=DOMAIN)
                header = message.header
                document_id(header.document)
                continue
            if message.WhichOneof("content") != "chunk":
                raise InvalidArgument("UPSERT_HEADER_REPEATED", "Only the first message may be a header.", domain=DOMAIN)
            chunk = message.chunk
            if len(chunk.embedding) != self._dimension:
                raise InvalidArgument(
                    "EMBEDDING_DIMENSION_MISMATCH",
                    f"Chunk {chunk.index} has {len(chunk.embedding)} dimensions; the index holds {self._dimension}.",
                    domain=DOMAIN,
                )
            if chunk.index in seen:
                raise InvalidArgument("DUPLICATE_CHUNK_INDEX", f"Chunk index {chunk.index} was sent twice.", domain=DOMAIN)
            seen.add(chunk.index)
            chunks.append(
                ChunkRecord(
                    index=chunk.index,
                    text=chunk.text,
                    page_start=chunk.page_start,
                    page_end=chunk.page_end,
                    token_count=chunk.token_count,
                    embedding=list(chunk.embedding),
                    text_source="OCR" if chunk.text_source == pb.TEXT_SOURCE_OCR else "TEXT_LAYER",
                    ocr_confidence=chunk.ocr_confidence if chunk.text_source == pb.TEXT_SOURCE_OCR else None,
                )
            )
        if header is None:
            raise InvalidArgument("UPSERT_HEADER_MISSING", "The stream carried no header.", domain=DOMAIN)
        record = await self._store.replace_chunks(
            document_id(header.document),
            chunks,
            model=header.model,
            page_count=header.page_count,
            mark_ready=header.mark_ready,
        )
        return pb.UpsertChunksResponse(chunks_written=len(chunks), document=to_proto(record))

    async def SearchChunks(self, request: pb.SearchChunksRequest, context) -> pb.SearchChunksResponse:
        query = request.query.strip()
        if not query:
            raise InvalidArgument("QUERY_EMPTY", "query must not be empty.", domain=DOMAIN)
        if len(query) > MAX_QUERY_CHARS:
            raise InvalidArgument("QUERY_TOO_LONG", f"query is longer than {MAX_QUERY_CHARS} characters.", domain=DOMAIN)
        if request.top_k < 0:
            raise InvalidArgument("INVALID_TOP_K", "top_k must not be negative.", domain=DOMAIN)
        document_ids = [document_id(name) for name in request.documents]
        embedded = await self._embedder.embed([query])
        hits = await self._store.search(
            embedded.vectors[0], request.top_k, document_ids=document_ids, labels=list(request.labels)
        )
        return pb.SearchChunksResponse(
            hits=[
                pb.SearchHit(
                    document=f"documents/{hit.document_id}",
                    document_title=hit.document_title,
                    chunk_index=hit.chunk_index,
                    text=hit.text,
                    page_start=hit.page_start,
                    page_end=hit.page_end,
                    score=hit.score,
                    text_source=pb.TextSource.Value(f"TEXT_SOURCE_{hit.text_source}"),
                    ocr_confidence=hit.ocr_confidence or 0.0,
                )
                for hit in hits
            ],
            model=self._embedder.model,
        )
