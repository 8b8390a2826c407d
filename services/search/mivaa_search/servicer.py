"""SearchService: translates between protos and the use cases, nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import cast

from google.protobuf import json_format, timestamp_pb2

from mivaa.jobs.v1.processing_options_pb2 import ProcessingOptions
from mivaa.search.v1 import search_service_pb2 as pb
from mivaa_platform import limits
from mivaa_platform.errors import InvalidArgument
from mivaa_platform.tenancy import tenant_from_metadata
from mivaa_search.export import json_object_with_array
from mivaa_search.intelligence_servicer import DocumentIntelligenceMethods
from mivaa_search.limits import check_custom_metadata
from mivaa_search.metrics import searched
from mivaa_search.names import DOMAIN, document_id, image_ref
from mivaa_search.reembedding_servicer import ReembeddingMethods
from mivaa_search.retention_servicer import RetentionMethods
from mivaa_search.search_protos import chunk_query, results_to_proto, time_field
from mivaa_search.store import DocumentFilter, DocumentRecord, ImageInfo, NewDocument, SearchFilter
from mivaa_search.upserts import read_upsert
from mivaa_search.usecases import DocumentCatalog, Search
from mivaa_search.usecases.intelligence import DocumentIntelligence
from mivaa_search.usecases.reembedding import Reembedding
from mivaa_search.usecases.retention import Retention

# What an original can be (the extractor tells them apart by signature).
MEDIA_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/tiff")
UPDATABLE_FIELDS = frozenset({"state", "title", "page_count", "labels", "job", "custom_metadata", "processing_options"})
# What a person may change: the gateway sets x-mivaa-subject on every call it forwards, and
# state, page_count and job belong to the pipeline, which calls search directly.
PUBLIC_UPDATABLE_FIELDS = frozenset({"title", "labels", "custom_metadata"})
SUBJECT_HEADER = "x-mivaa-subject"
# Pieces of streamed image bytes and exports.
STREAM_PIECE_BYTES = 256 << 10


def tenant_of(context) -> str:
    """The caller's tenant, from the `x-mivaa-tenant` metadata the gateway sets ("default" without it)."""
    return tenant_from_metadata(context.invocation_metadata())


def search_filter(documents: Iterable[str], labels: Iterable[str], *, all_versions: bool = False) -> SearchFilter:
    return SearchFilter(
        document_ids=[document_id(name) for name in documents], labels=list(labels), all_versions=all_versions
    )


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
        # grpc_tools' .pyi types EnumTypeWrapper.Value as returning int; it returns the enum's value.
        state=cast(pb.DocumentState, pb.DocumentState.Value(f"DOCUMENT_STATE_{record.state}")),
        job=record.job,
        chunk_count=record.chunk_count,
        create_time=_timestamp(record.create_time),
        update_time=_timestamp(record.update_time),
        metadata=json_format.ParseDict(record.metadata, pb.DocumentMetadata(), ignore_unknown_fields=True)
        if record.metadata
        else None,
        outline=[json_format.ParseDict(e, pb.OutlineEntry(), ignore_unknown_fields=True) for e in record.outline or ()],
        image_count=record.image_count,
        custom_metadata=record.custom_metadata,
        media_type=record.media_type,
        processing_options=_processing_options(record.processing_options),
        version=record.version,
        first_version=f"documents/{record.chain or record.id}",
        version_count=record.version_count,
    )


def _processing_options(stored: dict | None) -> ProcessingOptions:
    """The stored options (the defaults for a document stored before options existed)."""
    return json_format.ParseDict(stored or {}, ProcessingOptions(), ignore_unknown_fields=True)


def _stored_options(document: pb.Document) -> dict:
    """The options as the store keeps them (JSON; enums by name)."""
    return json_format.MessageToDict(document.processing_options)


def _media_type(value: str) -> str:
    """The original's media type as the extractor told it ("" from an older extractor: a PDF)."""
    if not value:
        return MEDIA_TYPES[0]
    if value not in MEDIA_TYPES:
        raise InvalidArgument(
            "MEDIA_TYPE_UNSUPPORTED",
            f"document.media_type must be one of {', '.join(MEDIA_TYPES)}.",
            domain=DOMAIN,
            metadata={"media_type": value[:64]},
        )
    return value


def _state_filter(state: int) -> str:
    """The store's name of a DocumentState filter ("" for any), or INVALID_STATE for an unknown number."""
    if state == pb.DOCUMENT_STATE_UNSPECIFIED:
        return ""
    if state not in pb.DocumentState.values():
        raise InvalidArgument("INVALID_STATE", "state must be a DocumentState.", domain=DOMAIN)
    return pb.DocumentState.Name(state).removeprefix("DOCUMENT_STATE_")


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


async def _pieces(texts: AsyncIterator[str], mime_type: str) -> AsyncIterator[pb.ExportDocumentResponse]:
    """Text as UTF-8 in pieces of STREAM_PIECE_BYTES (the last one shorter); the mime type on the first."""
    buffer = bytearray()
    first = True
    async for text in texts:
        buffer += text.encode("utf-8")
        while len(buffer) >= STREAM_PIECE_BYTES:
            yield pb.ExportDocumentResponse(
                data=bytes(buffer[:STREAM_PIECE_BYTES]), mime_type=mime_type if first else ""
            )
            del buffer[:STREAM_PIECE_BYTES]
            first = False
    if buffer or first:
        yield pb.ExportDocumentResponse(data=bytes(buffer), mime_type=mime_type if first else "")


class SearchServicer(DocumentIntelligenceMethods, RetentionMethods, ReembeddingMethods):
    def __init__(
        self,
        catalog: DocumentCatalog,
        search: Search,
        intelligence: DocumentIntelligence,
        retention: Retention | None = None,
        reembedding: Reembedding | None = None,
    ):
        self._catalog = catalog
        self._search = search
        self._intelligence = intelligence
        self._retention = retention
        self._reembedding = reembedding

    async def CreateDocument(self, request: pb.CreateDocumentRequest, context) -> pb.CreateDocumentResponse:
        document = request.document
        if len(document.sha256) != 64:
            raise InvalidArgument("INVALID_SHA256", "document.sha256 must be 64 hex digits.", domain=DOMAIN)
        # The same limits as an upload (mivaa_platform.limits), whoever calls.
        new = NewDocument(
            filename=limits.check_filename(document.filename, domain=DOMAIN, field="document.filename"),
            title=limits.check_title(document.title, domain=DOMAIN, field="document.title"),
            labels=limits.check_labels(document.labels, domain=DOMAIN, field="document.labels"),
            sha256=document.sha256,
            size_bytes=document.size_bytes,
            page_count=document.page_count,
            job=document.job,
            media_type=_media_type(document.media_type),
            processing_options=_stored_options(document),
            parent=document_id(request.parent) if request.parent else "",
            replace_by_filename=request.replace_by_filename,
        )
        record, created = await self._catalog.create(new, tenant=tenant_of(context))
        return pb.CreateDocumentResponse(document=to_proto(record), created=created)

    async def GetTenantUsage(self, request: pb.GetTenantUsageRequest, context) -> pb.GetTenantUsageResponse:
        usage = await self._catalog.usage(tenant=tenant_of(context))
        return pb.GetTenantUsageResponse(
            documents=usage.documents,
            pages=usage.pages,
            original_bytes=usage.original_bytes,
            chunks=usage.chunks,
            vectors=usage.vectors,
            images=usage.images,
        )

    async def GetDocument(self, request: pb.GetDocumentRequest, context) -> pb.GetDocumentResponse:
        tenant = tenant_of(context)
        identifier = document_id(request.name)
        document = to_proto(await self._catalog.get(identifier, tenant=tenant))
        if request.view == pb.DOCUMENT_VIEW_FULL:
            markdown = []
            async for layout in await self._catalog.pages_for_full_view(identifier, tenant=tenant):
                page = pb.Page.FromString(layout)
                document.pages.append(page)
                if page.markdown:
                    markdown.append(page.markdown)
            document.markdown = "\n\n".join(markdown)
        return pb.GetDocumentResponse(document=document)

    async def ListDocuments(self, request: pb.ListDocumentsRequest, context) -> pb.ListDocumentsResponse:
        records, next_token = await self._catalog.list_documents(
            tenant=tenant_of(context),
            page_size=request.page_size,
            page_token=request.page_token,
            labels=list(request.labels),
            where=DocumentFilter(
                state=_state_filter(request.state),
                title_contains=request.title_contains,
                custom_metadata=dict(request.custom_metadata),
                created_after=time_field(request, "create_time_after"),
                created_before=time_field(request, "create_time_before"),
                all_versions=request.include_all_versions,
            ),
            order_by=request.order_by,
        )
        return pb.ListDocumentsResponse(documents=[to_proto(r) for r in records], next_page_token=next_token)

    async def ListDocumentVersions(
        self, request: pb.ListDocumentVersionsRequest, context
    ) -> pb.ListDocumentVersionsResponse:
        records, next_token = await self._catalog.list_versions(
            document_id(request.parent),
            tenant=tenant_of(context),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListDocumentVersionsResponse(documents=[to_proto(r) for r in records], next_page_token=next_token)

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
        from_gateway = any(key == SUBJECT_HEADER for key, _ in context.invocation_metadata() or ())
        if from_gateway and (refused := set(paths) - PUBLIC_UPDATABLE_FIELDS):
            raise InvalidArgument(
                "FIELD_NOT_UPDATABLE",
                f"Only title, labels and custom_metadata can be changed, not {', '.join(sorted(refused))}.",
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
            elif path == "custom_metadata":
                fields["custom_metadata"] = check_custom_metadata(document.custom_metadata, "document.custom_metadata")
            elif path == "title":
                fields["title"] = limits.check_title(document.title, domain=DOMAIN, field="document.title")
            elif path == "processing_options":
                fields["processing_options"] = _stored_options(document)
            else:
                fields[path] = getattr(document, path)
        record = await self._catalog.update(document_id(document.name), tenant=tenant, **fields)
        return pb.UpdateDocumentResponse(document=to_proto(record))

    async def DeleteDocument(self, request: pb.DeleteDocumentRequest, context) -> pb.DeleteDocumentResponse:
        await self._catalog.delete(
            document_id(request.name), tenant=tenant_of(context), all_versions=request.all_versions
        )
        return pb.DeleteDocumentResponse()

    async def UpsertChunks(
        self, request_iterator: AsyncIterator[pb.UpsertChunksRequest], context
    ) -> pb.UpsertChunksResponse:
        tenant = tenant_of(context)
        upsert = await read_upsert(request_iterator, document_id)
        if self._reembedding is None:
            record = await self._catalog.replace_content(upsert.document, upsert.content, tenant=tenant)
        else:  # stored with the vectors of the tenant's model, which may not be the extractor's
            record = await self._reembedding.replace_content(
                self._catalog, upsert.document, upsert.content, tenant=tenant
            )
        return pb.UpsertChunksResponse(
            chunks_written=len(upsert.content.chunks),
            document=to_proto(record),
            pages_written=len(upsert.content.pages),
            images_written=len(upsert.content.images),
        )

    # -- structure ---------------------------------------------------------------

    async def ListPages(self, request: pb.ListPagesRequest, context) -> pb.ListPagesResponse:
        pages, token = await self._catalog.list_pages(
            document_id(request.parent),
            tenant=tenant_of(context),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListPagesResponse(pages=[pb.Page.FromString(layout) for layout in pages], next_page_token=token)

    async def ExportDocument(
        self, request: pb.ExportDocumentRequest, context
    ) -> AsyncIterator[pb.ExportDocumentResponse]:
        tenant = tenant_of(context)
        identifier = document_id(request.name)
        document = to_proto(await self._catalog.get(identifier, tenant=tenant))
        pages = self._catalog.pages(identifier, tenant=tenant)
        if request.format == pb.EXPORT_FORMAT_JSON:
            texts = _json_export(document, pages)
            mime_type = "application/json"
        else:
            texts = _markdown_export(pages)
            mime_type = "text/markdown"
        async for message in _pieces(texts, mime_type):
            yield message

    async def SearchImages(self, request: pb.SearchImagesRequest, context) -> pb.SearchImagesResponse:
        tenant = tenant_of(context)
        searched(tenant)
        kind = request.WhichOneof("query")
        hits, model = await self._search.images(
            request.top_k,
            search_filter(request.documents, request.labels, all_versions=request.include_all_versions),
            tenant=tenant,
            text=request.text if kind == "text" else None,
            image=request.image if kind == "image" else None,
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
        images, token = await self._catalog.list_images(
            identifier, tenant=tenant_of(context), page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListImagesResponse(
            images=[image_to_proto(f"documents/{identifier}", image) for image in images], next_page_token=token
        )

    async def GetImage(self, request: pb.GetImageRequest, context) -> pb.GetImageResponse:
        identifier, sha256 = image_ref(request.name)
        image = await self._catalog.get_image(identifier, sha256, tenant=tenant_of(context))
        return pb.GetImageResponse(image=image_to_proto(f"documents/{identifier}", image))

    async def GetImageContent(
        self, request: pb.GetImageContentRequest, context
    ) -> AsyncIterator[pb.GetImageContentResponse]:
        identifier, sha256 = image_ref(request.name)
        mime_type, data = await self._catalog.get_image_data(identifier, sha256, tenant=tenant_of(context))
        for offset in range(0, max(len(data), 1), STREAM_PIECE_BYTES):
            yield pb.GetImageContentResponse(
                data=data[offset : offset + STREAM_PIECE_BYTES], mime_type=mime_type if offset == 0 else ""
            )

    async def SearchChunks(self, request: pb.SearchChunksRequest, context) -> pb.SearchChunksResponse:
        tenant = tenant_of(context)
        searched(tenant)
        results = await self._search.chunks(chunk_query(request), tenant=tenant)
        return results_to_proto(results)


async def _json_export(document: pb.Document, pages: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """The document with its pages, streamed a page at a time (metadata, outline, every block)."""

    async def page_dicts() -> AsyncIterator[dict]:
        async for layout in pages:
            yield json_format.MessageToDict(pb.Page.FromString(layout), preserving_proto_field_name=True)

    head = json_format.MessageToDict(document, preserving_proto_field_name=True)
    async for text in json_object_with_array(head, "pages", page_dicts()):
        yield text
    yield "\n"


async def _markdown_export(pages: AsyncIterator[bytes]) -> AsyncIterator[str]:
    separator = ""
    async for layout in pages:
        markdown = pb.Page.FromString(layout).markdown
        if markdown:
            yield separator + markdown
            separator = "\n\n"
    yield "\n"
