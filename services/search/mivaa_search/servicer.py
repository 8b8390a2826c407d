"""SearchService: translates between protos and the document store, nothing more."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import grpc
from google.protobuf import json_format, timestamp_pb2

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa.search.v1 import search_service_pb2_grpc
from mivaa_platform import limits
from mivaa_platform.embedder_client import EmbedderClient, ImageEmbedderClient
from mivaa_platform.errors import FailedPrecondition, InvalidArgument
from mivaa_platform.messaging import OriginalsStore
from mivaa_platform.tenancy import tenant_from_metadata
from mivaa_search.limits import check_filters, check_page_token, check_query, check_top_k
from mivaa_search.store import ChunkRecord, DocumentRecord, DocumentStore, ImageInfo, ImageRecord, PlacementRecord

DOMAIN = "search.mivaa"
UPDATABLE_FIELDS = frozenset({"state", "title", "page_count", "labels", "job"})
# DOCUMENT_VIEW_FULL answers must stay under gRPC's default 4 MiB message limit on the caller's side.
MAX_FULL_VIEW_BYTES = 3 << 20
# Pieces of streamed image bytes and exports.
STREAM_PIECE_BYTES = 256 << 10
# One document's images, buffered while its stream is open.
MAX_IMAGE_BYTES_PER_DOCUMENT = 512 << 20
BLOCK_TYPE_NAMES = {value: name.removeprefix("BLOCK_TYPE_").lower() for name, value in pb.BlockType.items()}


def document_id(name: str) -> str:
    prefix, _, identifier = name.partition("/")
    if prefix != "documents" or not identifier:
        raise InvalidArgument(
            "INVALID_DOCUMENT_NAME", "A document name looks like 'documents/{id}'.", domain=DOMAIN,
            metadata={"name": name[:100]},
        )
    return identifier


def image_ref(name: str) -> tuple[str, str]:
    """("documents/{id}/images/{sha256}") -> (document id, sha256)."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "documents" or parts[2] != "images" or not parts[1] or not parts[3]:
        raise InvalidArgument(
            "INVALID_IMAGE_NAME", "An image name looks like 'documents/{id}/images/{sha256}'.", domain=DOMAIN,
            metadata={"name": name[:120]},
        )
    return parts[1], parts[3]


def tenant_of(context) -> str:
    """The caller's tenant, from the `x-mivaa-tenant` metadata the gateway sets ("default" without it)."""
    return tenant_from_metadata(context.invocation_metadata())


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
        metadata=pb.DocumentMetadata.FromString(record.metadata) if record.metadata else None,
        outline=pb.UpsertChunksHeader.FromString(record.outline).outline if record.outline else [],
        image_count=record.image_count,
    )


def image_to_proto(document: str, image: ImageInfo) -> pb.Image:
    placements = [
        pb.ImagePlacement(
            page=p.page, bbox=pb.BoundingBox(x0=p.bbox[0], y0=p.bbox[1], x1=p.bbox[2], y1=p.bbox[3]), caption=p.caption
        )
        for p in image.placements
    ]
    return pb.Image(
        name=f"{document}/images/{image.sha256}",
        sha256=image.sha256,
        mime_type=image.mime_type,
        width=image.width,
        height=image.height,
        size_bytes=image.size_bytes,
        caption=next((p.caption for p in image.placements if p.caption), ""),
        placements=placements,
    )


class SearchServicer(search_service_pb2_grpc.SearchServiceServicer):
    def __init__(
        self,
        store: DocumentStore,
        embedder: EmbedderClient,
        originals: OriginalsStore,
        dimension: int,
        images: ImageEmbedderClient | None = None,
    ):
        self._images = images
        self._store = store
        self._embedder = embedder
        self._originals = originals
        self._dimension = dimension

    async def CreateDocument(self, request: pb.CreateDocumentRequest, context) -> pb.CreateDocumentResponse:
        document = request.document
        if len(document.sha256) != 64:
            raise InvalidArgument("INVALID_SHA256", "document.sha256 must be 64 hex digits.", domain=DOMAIN)
        # The same limits as an upload (mivaa_platform.limits), whoever calls.
        record, created = await self._store.create_document(
            filename=limits.check_filename(document.filename, domain=DOMAIN, field="document.filename"),
            title=limits.check_title(document.title, domain=DOMAIN, field="document.title"),
            labels=limits.check_labels(document.labels, domain=DOMAIN, field="document.labels"),
            sha256=document.sha256,
            size_bytes=document.size_bytes,
            page_count=document.page_count,
            job=document.job,
            tenant=tenant_of(context),
        )
        return pb.CreateDocumentResponse(document=to_proto(record), created=created)

    async def GetDocument(self, request: pb.GetDocumentRequest, context) -> pb.GetDocumentResponse:
        tenant = tenant_of(context)
        identifier = document_id(request.name)
        document = to_proto(await self._store.get_document(identifier, tenant=tenant))
        if request.view == pb.DOCUMENT_VIEW_FULL:
            size = await self._store.pages_size(identifier, tenant=tenant)
            if size > MAX_FULL_VIEW_BYTES:
                raise FailedPrecondition(
                    "DOCUMENT_TOO_LARGE_FOR_VIEW",
                    "The document's pages are too large for one response; use ListPages or ExportDocument.",
                    domain=DOMAIN,
                    metadata={"pages_bytes": str(size), "max_bytes": str(MAX_FULL_VIEW_BYTES)},
                )
            markdown = []
            async for _, layout in self._store.iter_pages(identifier, tenant=tenant):
                page = pb.Page.FromString(layout)
                document.pages.append(page)
                if page.markdown:
                    markdown.append(page.markdown)
            document.markdown = "\n\n".join(markdown)
        return pb.GetDocumentResponse(document=document)

    async def ListDocuments(self, request: pb.ListDocumentsRequest, context) -> pb.ListDocumentsResponse:
        check_filters(labels=request.labels)
        records, next_token = await self._store.list_documents(
            request.page_size, check_page_token(request.page_token), list(request.labels), tenant=tenant_of(context)
        )
        return pb.ListDocumentsResponse(documents=[to_proto(r) for r in records], next_page_token=next_token)

    async def UpdateDocument(self, request: pb.UpdateDocumentRequest, context) -> pb.UpdateDocumentResponse:
        tenant = tenant_of(context)
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
                fields["labels"] = limits.check_labels(document.labels, domain=DOMAIN, field="document.labels")
            elif path == "title":
                fields["title"] = limits.check_title(document.title, domain=DOMAIN, field="document.title")
            else:
                fields[path] = getattr(document, path)
        record = await self._store.update_document(document_id(document.name), tenant=tenant, **fields)
        return pb.UpdateDocumentResponse(document=to_proto(record))

    async def DeleteDocument(self, request: pb.DeleteDocumentRequest, context) -> pb.DeleteDocumentResponse:
        record = await self._store.delete_document(document_id(request.name), tenant=tenant_of(context))
        # Originals are stored by content and shared by every tenant that uploaded the same bytes:
        # delete one only when no document (of any tenant) still has it.
        if not await self._store.sha256_in_use(record.sha256):
            await self._originals.delete(record.sha256)
        return pb.DeleteDocumentResponse()

    async def UpsertChunks(
        self, request_iterator: AsyncIterator[pb.UpsertChunksRequest], context
    ) -> pb.UpsertChunksResponse:
        tenant = tenant_of(context)
        header: pb.UpsertChunksHeader | None = None
        chunks: list[ChunkRecord] = []
        seen: set[int] = set()
        pages: dict[int, bytes] = {}
        placements: list[PlacementRecord] = []
        images: dict[str, _ImageAssembly] = {}
        image_bytes = 0
        async for message in request_iterator:
            content = message.WhichOneof("content")
            if header is None:
                if content != "header":
                    raise InvalidArgument("UPSERT_HEADER_MISSING", "The first message must be the header.", domain=DOMAIN)
                header = message.header
                document_id(header.document)
                continue
            if content == "page":
                page = message.page
                if page.number < 1:
                    raise InvalidArgument("INVALID_PAGE_NUMBER", "Page numbers start at 1.", domain=DOMAIN)
                pages[page.number] = page.SerializeToString()
                for block in page.blocks:
                    if block.type == pb.BLOCK_TYPE_FIGURE and block.image:
                        _, sha256 = image_ref(block.image)
                        box = block.bbox
                        placements.append(PlacementRecord(sha256, page.number, (box.x0, box.y0, box.x1, box.y1), block.text))
                continue
            if content == "image":
                piece = message.image
                image_bytes += len(piece.data)
                if image_bytes > MAX_IMAGE_BYTES_PER_DOCUMENT:
                    raise InvalidArgument(
                        "IMAGES_TOO_LARGE", "The document's images exceed what one document may store.", domain=DOMAIN
                    )
                images.setdefault(piece.sha256, _ImageAssembly(piece)).add(piece)
                continue
            if content != "chunk":
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
                    section_path=list(chunk.section_path),
                    block_types=[BLOCK_TYPE_NAMES.get(value, "unspecified") for value in chunk.block_types],
                )
            )
        if header is None:
            raise InvalidArgument("UPSERT_HEADER_MISSING", "The stream carried no header.", domain=DOMAIN)
        records = [assembly.record() for assembly in images.values()]
        stored = {record.sha256 for record in records}
        record = await self._store.replace_chunks(
            document_id(header.document),
            chunks,
            model=header.model,
            page_count=header.page_count,
            mark_ready=header.mark_ready,
            pages=sorted(pages.items()),
            images=records,
            placements=[placement for placement in placements if placement.sha256 in stored],
            metadata=header.metadata.SerializeToString() if header.HasField("metadata") else None,
            outline=pb.UpsertChunksHeader(outline=header.outline).SerializeToString() if header.outline else None,
            tenant=tenant,
        )
        return pb.UpsertChunksResponse(
            chunks_written=len(chunks), document=to_proto(record), pages_written=len(pages), images_written=len(records)
        )

    # -- structure ---------------------------------------------------------------

    async def ListPages(self, request: pb.ListPagesRequest, context) -> pb.ListPagesResponse:
        pages, token = await self._store.list_pages(
            document_id(request.parent), request.page_size, check_page_token(request.page_token), tenant=tenant_of(context)
        )
        return pb.ListPagesResponse(pages=[pb.Page.FromString(layout) for _, layout in pages], next_page_token=token)

    async def ExportDocument(
        self, request: pb.ExportDocumentRequest, context
    ) -> AsyncIterator[pb.ExportDocumentResponse]:
        tenant = tenant_of(context)
        identifier = document_id(request.name)
        record = await self._store.get_document(identifier, tenant=tenant)
        as_json = request.format == pb.EXPORT_FORMAT_JSON
        mime_type = "application/json" if as_json else "text/markdown"
        first = True

        def piece(text: str) -> list[pb.ExportDocumentResponse]:
            nonlocal first
            data = text.encode("utf-8")
            out = []
            for offset in range(0, len(data), STREAM_PIECE_BYTES):
                out.append(pb.ExportDocumentResponse(data=data[offset : offset + STREAM_PIECE_BYTES], mime_type=mime_type if first else ""))
                first = False
            return out

        document = to_proto(record)
        if as_json:
            head = json_format.MessageToDict(document, preserving_proto_field_name=True)
            head_text = json.dumps(head, ensure_ascii=False)
            # The pages go inside the document object, streamed one by one.
            for message in piece(head_text[:-1] + (', "pages": [' if head else '{"pages": [')):
                yield message
            separator = ""
            async for _, layout in self._store.iter_pages(identifier, tenant=tenant):
                page = json_format.MessageToDict(pb.Page.FromString(layout), preserving_proto_field_name=True)
                for message in piece(separator + json.dumps(page, ensure_ascii=False)):
                    yield message
                separator = ", "
            for message in piece("]}\n"):
                yield message
            return
        separator = ""
        async for _, layout in self._store.iter_pages(identifier, tenant=tenant):
            markdown = pb.Page.FromString(layout).markdown
            if markdown:
                for message in piece(separator + markdown):
                    yield message
                separator = "\n\n"
        for message in piece("\n"):
            yield message

    async def SearchImages(self, request: pb.SearchImagesRequest, context) -> pb.SearchImagesResponse:
        tenant = tenant_of(context)
        if self._images is None:
            raise FailedPrecondition("IMAGE_MODEL_UNAVAILABLE", "Image search is not configured.", domain=DOMAIN)
        check_top_k(request.top_k)
        check_filters(documents=request.documents, labels=request.labels)
        document_ids = [document_id(name) for name in request.documents]
        kind = request.WhichOneof("query")
        if kind == "text":
            model, vectors = await self._images.embed_texts([check_query(request.text, "text")])
        elif kind == "image":
            if not request.image:
                raise InvalidArgument("QUERY_EMPTY", "image must not be empty.", domain=DOMAIN)
            model, vectors = await self._images.embed_images([request.image], skip_unreadable=False)
        else:
            raise InvalidArgument("QUERY_EMPTY", "Give a text or an image to search with.", domain=DOMAIN)
        hits = await self._store.search_images(
            vectors[0], model, request.top_k, document_ids, list(request.labels), tenant=tenant
        )
        return pb.SearchImagesResponse(
            hits=[
                pb.ImageHit(
                    image=image_to_proto(f"documents/{hit.document_id}", hit.image),
                    document=f"documents/{hit.document_id}",
                    document_title=hit.document_title,
                    score=hit.score,
                )
                for hit in hits
            ],
            model=model,
        )

    async def ListImages(self, request: pb.ListImagesRequest, context) -> pb.ListImagesResponse:
        identifier = document_id(request.parent)
        images, token = await self._store.list_images(
            identifier, request.page_size, check_page_token(request.page_token), tenant=tenant_of(context)
        )
        return pb.ListImagesResponse(
            images=[image_to_proto(f"documents/{identifier}", image) for image in images], next_page_token=token
        )

    async def GetImage(self, request: pb.GetImageRequest, context) -> pb.GetImageResponse:
        identifier, sha256 = image_ref(request.name)
        image = await self._store.get_image(identifier, sha256, tenant=tenant_of(context))
        return pb.GetImageResponse(image=image_to_proto(f"documents/{identifier}", image))

    async def GetImageContent(
        self, request: pb.GetImageContentRequest, context
    ) -> AsyncIterator[pb.GetImageContentResponse]:
        identifier, sha256 = image_ref(request.name)
        mime_type, data = await self._store.get_image_data(identifier, sha256, tenant=tenant_of(context))
        for offset in range(0, max(len(data), 1), STREAM_PIECE_BYTES):
            yield pb.GetImageContentResponse(
                data=data[offset : offset + STREAM_PIECE_BYTES], mime_type=mime_type if offset == 0 else ""
            )

    async def SearchChunks(self, request: pb.SearchChunksRequest, context) -> pb.SearchChunksResponse:
        tenant = tenant_of(context)
        query = check_query(request.query)
        check_top_k(request.top_k)
        check_filters(documents=request.documents, labels=request.labels)
        document_ids = [document_id(name) for name in request.documents]
        embedded = await self._embedder.embed([query])
        hits = await self._store.search(
            embedded.vectors[0], request.top_k, document_ids=document_ids, labels=list(request.labels), tenant=tenant
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
                    section_path=hit.section_path or [],
                )
                for hit in hits
            ],
            model=self._embedder.model,
        )


class _ImageAssembly:
    """An image's pieces, gathered while the upsert stream is open."""

    def __init__(self, first: pb.ImageContent):
        self.sha256 = first.sha256
        self.mime_type = first.mime_type
        self.width = first.width
        self.height = first.height
        self.size_bytes = first.size_bytes
        self.embedding = list(first.embedding)
        self.embedding_model = first.embedding_model
        self._data = bytearray()

    def add(self, piece: pb.ImageContent) -> None:
        self._data += piece.data

    def record(self) -> ImageRecord:
        if self.mime_type not in ("image/png", "image/jpeg"):
            raise InvalidArgument("INVALID_IMAGE", f"Image {self.sha256} is not PNG or JPEG.", domain=DOMAIN)
        if len(self._data) != self.size_bytes:
            raise InvalidArgument("IMAGE_INCOMPLETE", f"Image {self.sha256} arrived incomplete.", domain=DOMAIN)
        return ImageRecord(
            self.sha256, self.mime_type, self.width, self.height, bytes(self._data), self.embedding, self.embedding_model
        )
