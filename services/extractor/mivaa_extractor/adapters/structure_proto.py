"""Translation of the structured model to the search service's messages (protobuf, not gRPC)."""

from __future__ import annotations

from typing import cast

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa_extractor.extraction.structure.markdown import page_markdown
from mivaa_extractor.extraction.structure.model import Block, BlockKind, DocumentInfo, ExtractedImage, PageLayout

# grpc_tools' .pyi types EnumTypeWrapper.Value as returning int; for this enum it returns a BlockType.
BLOCK_TYPES = {kind: cast(pb.BlockType, pb.BlockType.Value(f"BLOCK_TYPE_{kind.name}")) for kind in BlockKind}

# Image bytes travel in pieces of at most this size, well under gRPC's default message limit.
IMAGE_PIECE_BYTES = 1 << 20


def image_name(document: str, sha256: str) -> str:
    return f"{document}/images/{sha256}"


def metadata_to_proto(info: DocumentInfo) -> tuple[pb.DocumentMetadata, list[pb.OutlineEntry]]:
    metadata = pb.DocumentMetadata(
        title=info.title,
        authors=list(info.authors),
        subject=info.subject,
        keywords=list(info.keywords),
        creator=info.creator,
        producer=info.producer,
        create_date=info.created,
        modify_date=info.modified,
        language=info.language,
    )
    outline = [pb.OutlineEntry(level=e.level, title=e.title, page=e.page) for e in info.outline]
    return metadata, outline


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
                cells=[
                    pb.TableCell(
                        row=cell.row,
                        column=cell.column,
                        row_span=cell.row_span,
                        column_span=cell.column_span,
                        text=cell.text,
                        header=cell.header,
                    )
                    for cell in table.cells
                ],
            )
        )
    if block.image is not None:
        message.image = image_name(document, block.image.sha256)
    return message


def image_pieces(image: ExtractedImage) -> list[pb.ImageContent]:
    data = image.data
    return [
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
