"""A task's processing options applied to its pages as they come from the page reader, before OCR.

OCR forced: every readable page is flagged for OCR (its text layer is replaced by what OCR reads);
OCR off: no page is, so a page without a text layer stays without text. Images off: the page
reader extracts no image (PageReader.pages(images=False): pictures are only located, no image
is decoded or encoded); any figure or image bytes a page still carries are dropped here, so
nothing is stored or embedded as an image (captions stay as text).
Tables off: each table row becomes a plain paragraph, chunked with the text around it.
"""

from __future__ import annotations

import dataclasses

from mivaa.jobs.v1 import processing_options_pb2 as options_pb2
from mivaa_extractor.extraction.structure.model import Block, BlockKind, PageLayout

# Why a page with a usable text layer is read by OCR anyway (Page.ocr_reason).
OCR_FORCED = "OCR_FORCED"


def apply_page_options(pages: list[PageLayout], options: options_pb2.ProcessingOptions) -> list[PageLayout]:
    for page in pages:
        if page.error is not None:
            continue
        if options.ocr_mode == options_pb2.OCR_MODE_FORCE and not page.ocr_reason:
            page.ocr_reason = OCR_FORCED
        elif options.ocr_mode == options_pb2.OCR_MODE_OFF:
            page.ocr_reason = None
        if options.images == options_pb2.IMAGE_EXTRACTION_OFF:
            page.blocks = [block for block in page.blocks if block.kind is not BlockKind.FIGURE]
            page.images = []
        if options.tables == options_pb2.TABLE_EXTRACTION_OFF:
            page.blocks = [plain for block in page.blocks for plain in _without_table(block)]
    return pages


def _without_table(block: Block) -> list[Block]:
    """A table block as one paragraph per non-empty row (its cells' text in order); others unchanged."""
    if block.kind is not BlockKind.TABLE:
        return [block]
    if block.table is None:
        return [dataclasses.replace(block, kind=BlockKind.PARAGRAPH)] if block.text.strip() else []
    rows = (" ".join(" ".join(cell.split()) for cell in row if cell.strip()) for row in block.table.grid())
    return [
        Block(kind=BlockKind.PARAGRAPH, bbox=block.bbox, text=text, font_size=block.font_size) for text in rows if text
    ]
