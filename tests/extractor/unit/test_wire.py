"""The structure model as JSON: exact round trips of real extraction output, and nothing but the model back."""

from __future__ import annotations

import pymupdf
import pytest

from mivaa_extractor.extraction.structure.model import (
    Block,
    BlockKind,
    DocumentInfo,
    ExtractedImage,
    FontProfile,
    ImagePlacement,
    Link,
    OutlineEntry,
    PageError,
    PageLayout,
    Table,
    TableCell,
)
from mivaa_extractor.extraction.structure.wire import WireError, from_json, to_json
from mivaa_extractor.extraction.text_extraction import extract_page_range, profile_pdf
from tests.support.pdfs import make_pdf


def every_feature() -> PageLayout:
    table = Table(
        2,
        2,
        (TableCell(0, 0, "a", header=True), TableCell(0, 1, "b|c", column_span=1), TableCell(1, 0, "ü", row_span=2)),
        1,
    )
    return PageLayout(
        number=3,
        width=595.2756,
        height=841.8898,
        rotation=90,
        blocks=[
            Block(BlockKind.HEADING, (1.0, 2.5, 3.0, 4.0), "Title", level=1, font_size=17.2154, bold=True),
            Block(BlockKind.TABLE, (0.1, 0.2, 0.3, 0.4), table.to_markdown(), table=table),
            Block(BlockKind.FIGURE, (5, 6, 7, 8), "Figure 1", image=ImagePlacement("ab" * 32, 3, (5, 6, 7, 8), "cap")),
            Block(
                BlockKind.PARAGRAPH, (0, 0, 1, 1), "see", links=(Link("see", uri="https://x.test"), Link("p", page=2))
            ),
        ],
        images=[ExtractedImage("ab" * 32, "image/png", 2, 3, b"\x89PNG\x00\xff")],
        error=None,
        ocr_reason="GARBLED_TEXT_LAYER",
        warnings=("w1",),
        skipped_images=4,
    )


def test_every_field_of_the_model_comes_back_equal():
    page = every_feature()
    assert from_json(PageLayout, to_json(page)) == page
    failed = PageLayout(number=9, error=PageError("PAGE_TIMEOUT", "Page 9 took too long."))
    assert from_json(list[PageLayout], to_json([page, failed])) == [page, failed]
    info = DocumentInfo(
        page_count=4,
        authors=("A", "B"),
        outline=(OutlineEntry(1, "Intro", 1),),
        page_faults=((2, PageError("PAGE_CONTENT_TOO_LARGE", "big")),),
    )
    profile = FontProfile(12.0, (18.0, 14.0), (0, 1), True, 1, frozenset({"hand-drawn", "well-known"}))
    assert from_json(tuple[DocumentInfo, FontProfile], to_json((info, profile))) == (info, profile)


def test_extracted_pages_survive_exactly(tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(make_pdf("wire", 5, filler_sentences=12))
    pages = extract_page_range(str(path), None, 0, 5)
    assert from_json(list[PageLayout], to_json(pages)) == pages
    read = profile_pdf(str(path), None)
    assert from_json(tuple[DocumentInfo, FontProfile], to_json(read)) == read


def test_pages_with_images_and_tables_survive_exactly(tmp_path):
    document = pymupdf.open()
    page = document.new_page()
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 120, 90), False)
    pixmap.set_rect(pixmap.irect, (200, 40, 40))
    page.insert_image(pymupdf.Rect(50, 50, 350, 275), pixmap=pixmap)
    rows = ["Name  Value", "alpha  1", "beta  2", "gamma  3"]
    for i, row in enumerate(rows):
        for j, cell in enumerate(row.split("  ")):
            page.insert_text((60 + 150 * j, 320 + 18 * i), cell, fontsize=10)
    path = tmp_path / "figure.pdf"
    document.save(path)
    pages = extract_page_range(str(path), None, 0, 1)
    assert pages[0].images, "the picture was extracted"
    assert from_json(list[PageLayout], to_json(pages)) == pages


@pytest.mark.parametrize(
    "data",
    [
        b"{not json",
        b'{"number": 1, "os": "system"}',  # a field the model does not have
        b'{"number": "1"}',  # the wrong type
        b'{"number": true}',  # bool is not an int here
        b'{"number": 1, "blocks": [{"kind": "script", "bbox": [0,0,0,0], "text": ""}]}',  # no such kind
        b'{"number": 1, "blocks": [{"kind": "paragraph", "bbox": [0,0,0], "text": ""}]}',  # bbox of 3
        b'{"number": 1, "images": [{"sha256": "", "mime_type": "", "width": 1, "height": 1, "data": "!!"}]}',
        b'{"number": 1, "blocks": {"__class__": "os.system"}}',
        b'["number"]',
    ],
)
def test_anything_but_the_model_is_refused(data):
    with pytest.raises(WireError):
        from_json(PageLayout, data)


def test_a_type_outside_the_model_cannot_be_written():
    with pytest.raises(TypeError):
        to_json({"a": 1})
