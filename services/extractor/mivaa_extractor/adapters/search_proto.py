"""Translation between the extractor's types and the search service's messages (protobuf, not gRPC).

Documents both ways (the catalog answers with them, the upload API shows them);
the structure model, chunks and images one way, into the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import cast

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa_extractor.extraction.structure.markdown import page_markdown
from mivaa_extractor.extraction.structure.model import (
    Block,
    BlockKind,
    DocumentInfo,
    ExtractedImage,
    OutlineEntry,
    PageLayout,
)
from mivaa_extractor.ports import CatalogDocument, DocumentState, EmbeddedChunk, NewDocument

# grpc_tools' .pyi types EnumTypeWrapper.Value as returning int; for this enum it returns a BlockType.
BLOCK_TYPES = {kind: cast(pb.BlockType, pb.BlockType.Value(f"BLOCK_TYPE_{kind.name}")) for kind in BlockKind}

# grpc_tools' .pyi types EnumTypeWrapper.Value as returning int; it returns the enum's value.
ENTITY_TYPES = {
    name.removeprefix("ENTITY_TYPE_"): cast(pb.EntityType, value)
    for name, value in pb.EntityType.items()
    if value != pb.ENTITY_TYPE_UNSPECIFIED
}
DOCUMENT_STATES = {
    state: cast(pb.DocumentState, pb.DocumentState.Value(f"DOCUMENT_STATE_{state.value}")) for state in DocumentState
}
_STATES_BY_NUMBER = {number: state for state, number in DOCUMENT_STATES.items()}

# TableCell's fields, named as the structure model's cells name them.
_CELL_FIELDS = ("row", "column", "row_span", "column_span", "text", "header")

# Image bytes travel in pieces of at most this size, well under gRPC's default message limit.
IMAGE_PIECE_BYTES = 1 << 20


def image_name(document: str, sha256: str) -> str:
    return f"{document}/images/{sha256}"


# DocumentMetadata's scalar fields, by the name DocumentInfo gives them.
_METADATA_FIELDS = {
    "title": "title",
    "subject": "subject",
    "creator": "creator",
    "producer": "producer",
    "create_date": "created",
    "modify_date": "modified",
    "language": "language",
}


def metadata_to_proto(info: DocumentInfo) -> tuple[pb.DocumentMetadata, list[pb.OutlineEntry]]:
    metadata = pb.DocumentMetadata(
        **{field: getattr(info, ours) for field, ours in _METADATA_FIELDS.items()},
        authors=list(info.authors),
        keywords=list(info.keywords),
    )
    outline = [pb.OutlineEntry(level=e.level, title=e.title, page=e.page) for e in info.outline]
    return metadata, outline


# Fields a document has under the same name and type here and in the search message.
_PLAIN_FIELDS = (
    "name",
    "sha256",
    "job",
    "filename",
    "title",
    "size_bytes",
    "page_count",
    "chunk_count",
    "image_count",
    "media_type",
    "version",
    "first_version",
    "version_count",
)
_NEW_DOCUMENT_FIELDS = ("filename", "title", "labels", "sha256", "size_bytes", "page_count", "job", "media_type")


def new_document_to_proto(document: NewDocument) -> pb.Document:
    message = pb.Document(**{field: getattr(document, field) for field in _NEW_DOCUMENT_FIELDS})
    if document.processing_options is not None:
        message.processing_options.CopyFrom(document.processing_options)
    return message


def document_from_proto(message: pb.Document) -> CatalogDocument:
    has_info = message.HasField("metadata") or bool(message.outline)
    return CatalogDocument(
        **{field: getattr(message, field) for field in _PLAIN_FIELDS},
        # The catalog always records a state; an unset one reads as not processed yet.
        state=_STATES_BY_NUMBER.get(message.state, DocumentState.PENDING),
        labels=tuple(message.labels),
        create_time=message.create_time.ToDatetime(tzinfo=UTC) if message.HasField("create_time") else None,
        update_time=message.update_time.ToDatetime(tzinfo=UTC) if message.HasField("update_time") else None,
        info=_info_from_proto(message) if has_info else None,
        processing_options=message.processing_options if message.HasField("processing_options") else None,
    )


def document_to_proto(document: CatalogDocument) -> pb.Document:
    message = pb.Document(
        **{field: getattr(document, field) for field in _PLAIN_FIELDS},
        state=DOCUMENT_STATES[document.state],
        labels=document.labels,
    )
    for field, moment in (("create_time", document.create_time), ("update_time", document.update_time)):
        if moment is not None:
            getattr(message, field).FromDatetime(moment)
    if document.processing_options is not None:
        message.processing_options.CopyFrom(document.processing_options)
    if document.info is not None:
        metadata, outline = metadata_to_proto(document.info)
        message.metadata.CopyFrom(metadata)
        message.outline.extend(outline)
    return message


def _info_from_proto(message: pb.Document) -> DocumentInfo:
    metadata = message.metadata
    return DocumentInfo(
        page_count=message.page_count,
        **{ours: getattr(metadata, field) for field, ours in _METADATA_FIELDS.items()},
        authors=tuple(metadata.authors),
        keywords=tuple(metadata.keywords),
        outline=tuple(OutlineEntry(level=e.level, title=e.title, page=e.page) for e in message.outline),
    )


def chunk_to_proto(embedded: EmbeddedChunk) -> pb.Chunk:
    chunk = embedded.chunk
    return pb.Chunk(
        index=chunk.index,
        text=chunk.text,
        page_start=chunk.page_start,
        page_end=chunk.page_end,
        embedding=embedded.embedding,
        token_count=embedded.token_count,
        text_source=pb.TEXT_SOURCE_OCR if embedded.from_ocr else pb.TEXT_SOURCE_TEXT_LAYER,
        ocr_confidence=embedded.ocr_confidence,
        section_path=list(chunk.section_path),
        block_types=[BLOCK_TYPES[kind] for kind in chunk.block_kinds],
        entities=[
            pb.ChunkEntity(type=ENTITY_TYPES[entity.type], text=entity.text, pages=entity.pages)
            for entity in embedded.entities
        ],
    )


def page_to_proto(page: PageLayout, document: str, *, ocr: bool = False) -> pb.Page:
    """The page as stored; image links in its Markdown point at the images' resource names."""

    def image_link(sha256: str, _mime: str) -> str:
        return image_name(document, sha256)

    message = pb.Page(
        number=page.number,
        width=page.width,
        height=page.height,
        rotation=page.rotation,
        blocks=[_block(block, document) for block in page.blocks],
        markdown=page_markdown(page, image_link),
        text_source=pb.TEXT_SOURCE_OCR if ocr else pb.TEXT_SOURCE_TEXT_LAYER,
        ocr_reason=page.ocr_reason or "",
    )
    if page.error is not None:
        message.error_reason = page.error.reason
        message.error_message = page.error.message
    return message


def _block(block: Block, document: str) -> pb.Block:
    message = pb.Block(
        type=BLOCK_TYPES[block.kind],
        bbox=pb.BoundingBox(x0=block.bbox[0], y0=block.bbox[1], x1=block.bbox[2], y1=block.bbox[3]),
        text=block.text,
        level=block.level,
        links=[pb.Link(text=link.text, uri=link.uri, page=link.page) for link in block.links],
    )
    if block.table is not None:
        table = block.table
        message.table.CopyFrom(
            pb.Table(
                row_count=table.row_count,
                column_count=table.column_count,
                header_row_count=table.header_rows,
                cells=[pb.TableCell(**{field: getattr(cell, field) for field in _CELL_FIELDS}) for cell in table.cells],
            )
        )
    if block.image is not None:
        message.image = image_name(document, block.image.sha256)
    return message


def image_pieces(image: ExtractedImage, vector: Sequence[float] = (), model: str = "") -> list[pb.ImageContent]:
    """The image in pieces of IMAGE_PIECE_BYTES; the first carries its vector, if it has one."""
    data = image.data
    pieces = [
        pb.ImageContent(
            sha256=image.sha256,
            mime_type=image.mime_type,
            width=image.width,
            height=image.height,
            size_bytes=len(data),
            data=data[offset : offset + IMAGE_PIECE_BYTES],
        )
        for offset in range(0, max(len(data), 1), IMAGE_PIECE_BYTES)
    ]
    if vector:
        pieces[0].embedding.extend(vector)
        pieces[0].embedding_model = model
    return pieces
