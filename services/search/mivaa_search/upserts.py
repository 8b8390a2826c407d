"""An UpsertChunks stream (header, then pages, images and chunks in any order) read into the
domain's DocumentContent: the servicer's translation of the one streaming write."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import numpy as np
from google.protobuf import json_format

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa_platform.errors import InvalidArgument
from mivaa_search.names import DOMAIN, image_ref
from mivaa_search.store import (
    ChunkRecord,
    DocumentContent,
    EntityMention,
    ImageRecord,
    PlacementRecord,
)
from mivaa_search.store.records import MAX_DIMENSION

# One document's images, buffered while its stream is open.
MAX_IMAGE_BYTES_PER_DOCUMENT = 512 << 20
BLOCK_TYPE_NAMES = {value: name.removeprefix("BLOCK_TYPE_").lower() for name, value in pb.BlockType.items()}
ENTITY_TYPE_NAMES = {value: name.removeprefix("ENTITY_TYPE_") for name, value in pb.EntityType.items()}


@dataclass(frozen=True)
class Upsert:
    document: str  # the document's id
    content: DocumentContent


async def read_upsert(messages: AsyncIterator[pb.UpsertChunksRequest], document_id: Callable[[str], str]) -> Upsert:
    """The stream as a DocumentContent. Vectors may be of any dimension an index takes: the store
    checks them against the tenant's model's (tenants may use models of different dimensions)."""
    header: pb.UpsertChunksHeader | None = None
    chunks: list[ChunkRecord] = []
    seen: set[int] = set()
    pages: dict[int, bytes] = {}
    placements: list[PlacementRecord] = []
    images: dict[str, _ImageAssembly] = {}
    image_bytes = 0
    async for message in messages:
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
            placements.extend(_placements(page))
        elif content == "image":
            piece = message.image
            image_bytes += len(piece.data)
            if image_bytes > MAX_IMAGE_BYTES_PER_DOCUMENT:
                raise InvalidArgument(
                    "IMAGES_TOO_LARGE", "The document's images exceed what one document may store.", domain=DOMAIN
                )
            images.setdefault(piece.sha256, _ImageAssembly(piece)).add(piece)
        elif content == "chunk":
            chunks.append(_chunk(message.chunk, seen))
        else:
            raise InvalidArgument("UPSERT_HEADER_REPEATED", "Only the first message may be a header.", domain=DOMAIN)
    if header is None:
        raise InvalidArgument("UPSERT_HEADER_MISSING", "The stream carried no header.", domain=DOMAIN)
    records = [assembly.record() for assembly in images.values()]
    stored = {record.sha256 for record in records}
    return Upsert(
        document=document_id(header.document),
        content=DocumentContent(
            chunks=chunks,
            model=header.model,
            page_count=header.page_count,
            mark_ready=header.mark_ready,
            pages=sorted(pages.items()),
            images=records,
            placements=[placement for placement in placements if placement.sha256 in stored],
            metadata=json_format.MessageToDict(header.metadata, preserving_proto_field_name=True)
            if header.HasField("metadata")
            else None,
            outline=[json_format.MessageToDict(e, preserving_proto_field_name=True) for e in header.outline] or None,
        ),
    )


def _placements(page: pb.Page) -> list[PlacementRecord]:
    """Where the page shows figures that carry an image."""
    found = []
    for block in page.blocks:
        if block.type == pb.BLOCK_TYPE_FIGURE and block.image:
            _, sha256 = image_ref(block.image)
            box = block.bbox
            found.append(PlacementRecord(sha256, page.number, (box.x0, box.y0, box.x1, box.y1), block.text))
    return found


def _chunk(chunk: pb.Chunk, seen: set[int]) -> ChunkRecord:
    if not 1 <= len(chunk.embedding) <= MAX_DIMENSION:
        raise InvalidArgument(
            "EMBEDDING_DIMENSION_MISMATCH",
            f"Chunk {chunk.index} has {len(chunk.embedding)} dimensions; a vector index takes 1 to {MAX_DIMENSION}.",
            domain=DOMAIN,
        )
    if chunk.index in seen:
        raise InvalidArgument("DUPLICATE_CHUNK_INDEX", f"Chunk index {chunk.index} was sent twice.", domain=DOMAIN)
    seen.add(chunk.index)
    ocr = chunk.text_source == pb.TEXT_SOURCE_OCR
    return ChunkRecord(
        index=chunk.index,
        text=chunk.text,
        page_start=chunk.page_start,
        page_end=chunk.page_end,
        token_count=chunk.token_count,
        # float32 in one buffer: a list of Python floats is ~8x the size, and a long document's
        # chunks are all held until the commit.
        embedding=np.asarray(chunk.embedding, dtype=np.float32),
        text_source="OCR" if ocr else "TEXT_LAYER",
        ocr_confidence=chunk.ocr_confidence if ocr else None,
        section_path=list(chunk.section_path),
        block_types=[BLOCK_TYPE_NAMES.get(value, "unspecified") for value in chunk.block_types],
        entities=[
            EntityMention(ENTITY_TYPE_NAMES.get(e.type, "UNSPECIFIED"), e.text, list(e.pages)) for e in chunk.entities
        ],
    )


class _ImageAssembly:
    """An image's pieces, gathered while the upsert stream is open."""

    def __init__(self, first: pb.ImageContent):
        self.sha256 = first.sha256
        self.mime_type = first.mime_type
        self.width = first.width
        self.height = first.height
        self.size_bytes = first.size_bytes
        self.embedding = np.asarray(first.embedding, dtype=np.float32)
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
            self.sha256,
            self.mime_type,
            self.width,
            self.height,
            bytes(self._data),
            self.embedding,
            self.embedding_model,
        )
