"""Structured extraction on PDFs with known ground truth (generated here) and on the corpus."""

from __future__ import annotations

import io
import json
import pickle
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

from mivaa_extractor.extraction.chunking import Chunker
from mivaa_extractor.extraction.structure.document import extract_document
from mivaa_extractor.extraction.structure.furniture import FurnitureDetector
from mivaa_extractor.extraction.structure.language import guess_language
from mivaa_extractor.extraction.structure.markdown import page_json
from mivaa_extractor.extraction.structure.model import FURNITURE, Block, BlockKind, PageLayout
from mivaa_extractor.extraction.structure.pymupdf_backend import pdf_date_to_iso
from mivaa_extractor.extraction.structure.reading_order import reading_order
from tests.support import structured_pdfs as sp


@pytest.fixture(scope="module")
def structured(tmp_path_factory) -> tuple[Path, sp.StructuredPdf]:
    pdf = sp.make_structured_pdf()
    path = tmp_path_factory.mktemp("structured") / "survey.pdf"
    path.write_bytes(pdf.data)
    return path, pdf


@pytest.fixture(scope="module")
def document(structured):
    return extract_document(structured[0])


def kinds(page: PageLayout) -> list[BlockKind]:
    return [block.kind for block in page.blocks]


def test_metadata_outline_and_language(document):
    info = document.info
    assert info.title == sp.TITLE
    assert info.authors == ("Ada Keeper", "Ben Lamp")
    assert info.created == "2026-01-02T15:04:05+01:00"
    assert info.language == "en"
    assert [(entry.level, entry.title, entry.page) for entry in info.outline] == [
        (1, sp.TITLE, 1),
        (2, "1 Introduction", 1),
        (2, "2 Measurements", 2),
        (2, "3 Coastal Notes", 3),
    ]


def test_headings_with_levels(document):
    headings = [(b.level, b.text) for page in document.pages for b in page.blocks if b.kind is BlockKind.HEADING]
    assert headings == sp.HEADINGS


def test_hyphenation_joined_and_paragraph_reflowed(document):
    text = document.pages[0].text
    assert "long and stormy maintenance season that kept the keepers busy." in text
    assert "main-" not in text


def test_list_items(document):
    items = [b for b in document.pages[0].blocks if b.kind is BlockKind.LIST_ITEM]
    assert [b.text.lstrip("\u2022\u00b7 ") for b in items] == sp.LIST_ITEMS
    assert all(b.level == 1 for b in items)


def test_furniture_is_recognised_and_kept_out_of_text_markdown_and_chunks(document):
    for page in document.pages:
        furniture = [b for b in page.blocks if b.kind in FURNITURE]
        assert {b.kind for b in furniture} == {BlockKind.PAGE_HEADER, BlockKind.PAGE_NUMBER}, page.number
        assert sp.HEADER not in page.text and "of 3" not in page.text
    markdown = document.markdown()
    assert sp.HEADER not in markdown and "Page 2 of 3" not in markdown
    chunks = Chunker().chunk(document.pages)
    assert not any(sp.HEADER in chunk.text or "of 3" in chunk.text for chunk in chunks)


def test_table_cells_and_caption(document):
    page = document.pages[1]
    (table_block,) = [b for b in page.blocks if b.kind is BlockKind.TABLE]
    assert table_block.table.grid() == sp.TABLE
    assert table_block.table.header_rows == 1
    captions = [b.text for b in page.blocks if b.kind is BlockKind.CAPTION]
    assert captions == [sp.TABLE_CAPTION]
    # Neither the caption nor the paragraphs around it are inside the table.
    assert "Beam ranges were measured" in page.text and "All stations met" in page.text
    assert "| North Cape | 42 | 71 |" in document.markdown()


def test_figure_extracted_once_with_caption_and_viewable(document, structured):
    page = document.pages[0]
    (figure,) = [b for b in page.blocks if b.kind is BlockKind.FIGURE]
    assert figure.image.caption == sp.FIGURE_CAPTION
    x0, y0, x1, y1 = figure.bbox
    assert abs(x0 - 72) < 2 and abs(x1 - 312) < 2 and abs((y1 - y0) - 140) < 2
    (image,) = document.images.values()
    assert image.sha256 == figure.image.sha256
    picture = Image.open(io.BytesIO(image.data)).convert("RGB")
    assert picture.size == (240, 140)
    assert picture.getpixel((10, 70))[0] > 180 and picture.getpixel((230, 70))[2] > 180  # red left, blue right
    assert f"![{sp.FIGURE_CAPTION}](images/{image.sha256}." in document.markdown()


def test_two_columns_then_the_line_below_them(document):
    texts = [b.text for b in document.pages[2].body_blocks()]
    left = next(i for i, t in enumerate(texts) if t.startswith("The western column"))
    right = next(i for i, t in enumerate(texts) if t.startswith("The eastern column"))
    below = next(i for i, t in enumerate(texts) if t.startswith("Read the station register"))
    assert left < right < below


def test_links(document):
    (block,) = [b for b in document.pages[2].blocks if b.links]
    (link,) = block.links
    assert link.uri == sp.LINK_URI
    assert link.text == "Read the station register online."
    assert f"[Read the station register online.]({sp.LINK_URI})" in document.markdown()


def test_chunks_follow_structure(document):
    chunks = Chunker().chunk(document.pages)
    by_section = {chunk.section_path: chunk for chunk in chunks}
    assert (sp.TITLE, "1 Introduction") in by_section
    intro = by_section[(sp.TITLE, "1 Introduction")]
    # Headings with nothing between them open one chunk together.
    assert intro.text.startswith(f"{sp.TITLE}\n\n1 Introduction\n\nThe survey covers")
    table_chunks = [chunk for chunk in chunks if BlockKind.TABLE in chunk.block_kinds]
    assert len(table_chunks) == 1
    assert table_chunks[0].section_path == (sp.TITLE, "2 Measurements")
    assert table_chunks[0].text.splitlines()[:2] == [sp.TABLE_CAPTION, "| Station | Range (km) | Height (m) |"]
    assert not any(sp.TABLE_CAPTION in chunk.text for chunk in chunks if chunk not in table_chunks)
    # No chunk mixes two sections.
    assert not any("Beam ranges" in chunk.text and "stormy" in chunk.text for chunk in chunks)


def test_a_long_table_is_split_between_rows_with_the_header_repeated(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(height=1400)
    rows = [["Item", "Description", "Price"]] + [
        [f"Part {n}", f"replacement component number {n} for the northern lantern assembly", f"{n}.50"]
        for n in range(1, 41)
    ]
    for r, row in enumerate(rows):
        x = 40
        for c, cell in enumerate(row):
            width = (60, 380, 80)[c]
            rect = pymupdf.Rect(x, 40 + r * 20, x + width, 60 + r * 20)
            page.draw_rect(rect, width=0.5)
            page.insert_text((rect.x0 + 3, rect.y1 - 6), cell, fontsize=8, fontname="hebo" if r == 0 else "helv")
            x += width
    path = tmp_path / "long-table.pdf"
    doc.save(path)
    layout = extract_document(path)
    chunker = Chunker()
    chunks = [c for c in chunker.chunk(layout.pages) if BlockKind.TABLE in c.block_kinds]
    assert len(chunks) > 1
    seen_rows: list[str] = []
    for chunk in chunks:
        lines = chunk.text.splitlines()
        assert lines[0] == "| Item | Description | Price |" and lines[1] == "|---|---|---|"
        assert chunk.token_estimate <= chunker.max_tokens
        seen_rows.extend(lines[2:])
    assert seen_rows == [
        f"| Part {n} | replacement component number {n} for the northern lantern assembly | {n}.50 |"
        for n in range(1, 41)
    ]


def test_rotated_page_boxes_are_on_the_displayed_page(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=600)
    page.insert_text((50, 100), "Rotated page heading words", fontsize=12)
    page.set_rotation(90)
    path = tmp_path / "rotated.pdf"
    doc.save(path)
    (page_layout,) = extract_document(path).pages
    assert page_layout.rotation == 90 and (page_layout.width, page_layout.height) == (600, 400)
    (block,) = page_layout.blocks
    x0, y0, x1, y1 = block.bbox
    assert 0 <= x0 < x1 <= 600 and 0 <= y0 < y1 <= 400
    assert y1 - y0 > x1 - x0  # the line runs downwards on the displayed page


def test_json_rendering_is_plain_data(document):
    data = json.loads(json.dumps([page_json(page) for page in document.pages]))
    assert data[1]["blocks"][[b["type"] for b in data[1]["blocks"]].index("table")]["table"]["rows"] == 4
    assert pickle.loads(pickle.dumps(document.pages)) == document.pages


def test_furniture_detector_needs_repetition():
    pages = []
    for number in range(1, 8):
        words = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf")[number - 1]
        body = Block(BlockKind.PARAGRAPH, (50, 200, 500, 400), f"Body text about {words}, different on each page.")
        page = PageLayout(number=number, height=800, blocks=[body])
        page.blocks.insert(0, Block(BlockKind.PARAGRAPH, (50, 20, 300, 30), "Quarterly report"))
        if number == 4:
            page.blocks.append(Block(BlockKind.PARAGRAPH, (50, 780, 300, 790), "A one-off closing remark"))
        pages.append(page)
    detector = FurnitureDetector()
    out = [p for page in pages for p in detector.push(page)] + detector.finish()
    assert [p.number for p in out] == list(range(1, 8))
    assert all(p.blocks[0].kind is BlockKind.PAGE_HEADER for p in out)
    assert out[3].blocks[-1].kind is BlockKind.PARAGRAPH  # seen once: content, not furniture


def test_reading_order_two_columns_with_aligned_gaps_and_a_table_like_grid():
    # Two columns whose paragraph gaps line up, under a full-width title.
    title = (50, 20, 550, 40)
    left = [(50, 60, 290, 100), (50, 110, 290, 150)]
    right = [(310, 60, 550, 100), (310, 110, 550, 150)]
    boxes = [right[1], left[1], title, right[0], left[0]]
    order = [boxes[i] for i in reading_order(boxes)]
    assert order == [title, left[0], left[1], right[0], right[1]]
    # Label/value rows side by side are rows, not columns.
    grid = [(50, 60 + 20 * r, 120, 72 + 20 * r) for r in range(4)] + [
        (200, 60 + 20 * r, 300, 72 + 20 * r) for r in range(4)
    ]
    order = reading_order(grid)
    assert order == [0, 4, 1, 5, 2, 6, 3, 7]
    # Right to left: the right column first.
    assert reading_order([(50, 60, 290, 100), (310, 60, 550, 100)], right_to_left=True) == [1, 0]


def test_language_guess_and_dates():
    assert (
        guess_language(
            "Der Vektorraum ist ein Raum, in dem die Addition und die Multiplikation mit Skalaren definiert sind und für den die Axiome gelten, auch wenn es nicht so aussieht."
        )
        == "de"
    )
    assert guess_language("حَبيبي مرحبا بكم في هذا المكان") == "ar"
    assert guess_language("short") == ""
    assert pdf_date_to_iso("D:2023") == "2023-01-01"
    assert pdf_date_to_iso("garbage") == ""


# --- corpus ------------------------------------------------------------------------------


@pytest.mark.corpus
def test_corpus_multicolumn_read_column_by_column_with_its_table(corpus: Path):
    document = extract_document(corpus / "multicolumn.pdf")
    text = document.body_text()
    assert (
        text.index("Nulla malesuada porttitor diam")
        < text.index("pellentesque ante")
        < text.index("Suspendisse vel felis")
    )
    assert "adipiscing elit" in text
    tables = [b.table for page in document.pages for b in page.blocks if b.kind is BlockKind.TABLE]
    assert len(tables) == 1
    grid = tables[0].grid()
    assert grid[0][0] == "Country" and grid[0][4] == "Official Language"
    assert grid[1] == ["Austria", "8.9", "83,879", "Vienna", "German"]
    assert grid[5] == ["Finland", "5.5", "338,424", "Helsinki", "Finnish, Swedish"]
    assert tables[0].header_rows == 1


@pytest.mark.corpus
def test_corpus_geotopo_headings_follow_the_outline(corpus: Path):
    document = extract_document(corpus / "GeoTopo-komprimiert.pdf")
    headings = {b.text: b.level for page in document.pages for b in page.blocks if b.kind is BlockKind.HEADING}
    assert headings.get("1.1 Topologische Räume") == 2
    assert document.info.language == "de"
    assert len(document.info.outline) > 20
    # No page number leaks into the body text: a page's text never ends in its own number.
    assert sum(page.text.rstrip().endswith(str(page.number)) for page in document.pages) <= 3


@pytest.mark.corpus
def test_corpus_habibi_right_to_left_and_rotated(corpus: Path):
    for name in ("habibi.pdf", "habibi-oneline-cmap.pdf", "habibi-rotated.pdf"):
        document = extract_document(corpus / name)
        for page in document.pages:
            assert "حَبيبي" in page.text and "habibi" in page.text, (name, page.number, page.text)
            assert "\x03" not in page.text
    rotated = extract_document(corpus / "habibi-rotated.pdf")
    assert {page.rotation for page in rotated.pages} >= {90, 180}


def test_footnotes_code_and_numbered_lists(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    y = 100
    for line in (
        "Body text talks about harbours and tides in some detail for the reader",
        "and continues here with more words.",
    ):
        page.insert_text((72, y), line, fontsize=11, fontname="helv")
        y += 14
    page.insert_text((72, 200), "1. First numbered step", fontsize=11, fontname="helv")
    page.insert_text((72, 216), "2. Second numbered step", fontsize=11, fontname="helv")
    page.insert_text((72, 260), "def beacon(): return True", fontsize=10, fontname="cour")
    page.insert_text((72, 760), "1 The tide tables come from the harbour office.", fontsize=8, fontname="helv")
    path = tmp_path / "notes.pdf"
    doc.save(path)
    (layout,) = extract_document(path).pages
    by_kind = {}
    for block in layout.blocks:
        by_kind.setdefault(block.kind, []).append(block.text)
    assert by_kind[BlockKind.FOOTNOTE] == ["1 The tide tables come from the harbour office."]
    assert by_kind[BlockKind.LIST_ITEM] == ["1. First numbered step", "2. Second numbered step"]
    assert by_kind[BlockKind.CODE] == ["def beacon(): return True"]
    markdown = extract_document(path).markdown()
    assert "1. First numbered step\n\n2. Second numbered step" in markdown
    assert "```\ndef beacon(): return True\n```" in markdown


def test_internal_links_name_their_target_page(tmp_path):
    doc = pymupdf.open()
    for _ in range(3):
        doc.new_page()
    doc[2].insert_text((72, 100), "Appendix: tide tables", fontsize=11)
    first = doc[0]
    first.insert_text((72, 100), "See the appendix for the tide tables.", fontsize=11)
    first.insert_link({"kind": pymupdf.LINK_GOTO, "from": pymupdf.Rect(70, 88, 300, 104), "page": 2})
    path = tmp_path / "goto.pdf"
    doc.save(path)
    (link,) = [link for block in extract_document(path).pages[0].blocks for link in block.links]
    assert (link.uri, link.page) == ("", 3)
    assert link.text == "See the appendix for the tide tables."


@pytest.mark.corpus
def test_corpus_links_to_named_destinations_are_resolved(corpus: Path):
    # pdflatex writes its table of contents as links to named destinations.
    document = extract_document(corpus / "pdflatex-outline.pdf")
    links = {link.text: link.page for page in document.pages for block in page.blocks for link in block.links}
    assert links.get("1 Foo") == 2 and links.get("2 Bar") == 2
