"""Right-to-left and mixed-direction lines come out in logical order: the order a user types a query in.

PDFs drawn in visual order (glyphs left to right, as many producers write
them; Chromium does so word by word) are made here with PyMuPDF's
insert_text, which draws a string's characters left to right as given: the
visual strings below are what the Unicode bidi algorithm displays for the
logical ones (python-bidi's get_display, written out so the test needs no bidi
library). MuPDF's own HTML engine (insert_htmlbox) writes logical order with
the pen moving left: both must read the same.
"""

from __future__ import annotations

import pathlib

import pymupdf
import pytest

from bench.quality_words import word_recall
from mivaa_extractor.extraction.structure.bidi import logical_text, visual_clusters
from mivaa_extractor.extraction.structure.document import extract_document
from mivaa_extractor.extraction.structure.reading_order import reading_order

HEBREW_FONT = pathlib.Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# (logical, visual) pairs of a right-to-left paragraph.
HEADING = ("דוח התחנה 2024", "2024 הנחתה חוד")
LINES = (
    ("המחיר הוא 40 שקלים עבור Model X והמשלוח חינם", "םניח חולשמהו Model X רובע םילקש 40 אוה ריחמה"),
    ("שומר המגדלור (הישן) מדד 3.5 מטר", "רטמ 3.5 דדמ (ןשיה) רולדגמה רמוש"),
)
# One paragraph wrapped on two lines that share their right edge (pure Hebrew: visual = reversed).
WRAPPED = ("זהו עמוד שנכתב מימין לשמאל כדי לבדוק", "שכל מילה נשמרת במקומה.")
# A left-to-right sentence with a Hebrew phrase inside.
MIXED = ("The log entry reads את כיוון הרוח for that morning", "The log entry reads חורה ןוויכ תא for that morning")


def _clusters(visual: str) -> list[str]:
    return list(visual)


@pytest.mark.parametrize(("logical", "visual"), [HEADING, *LINES])
def test_a_right_to_left_line_drawn_left_to_right_reads_in_logical_order(logical: str, visual: str):
    assert logical_text(_clusters(visual), right_to_left=True) == logical


def test_a_hebrew_phrase_in_an_english_line_is_turned_round_and_nothing_else():
    assert logical_text(_clusters(MIXED[1]), right_to_left=False) == MIXED[0]
    # A number after the Hebrew word is drawn left of it ("Price 40 מחיר"); it stays after the word.
    assert logical_text(_clusters("Price 40 ריחמ and again"), right_to_left=False) == "Price מחיר 40 and again"
    assert logical_text(_clusters("plain English 2024"), right_to_left=False) == "plain English 2024"


def _span(*chars: tuple[str, float, float]) -> dict:
    return {"chars": [{"c": c, "bbox": (x0, 100.0, x1, 112.0)} for c, x0, x1 in chars]}


def test_a_lam_alef_ligature_stays_whole_and_in_order():
    # As MuPDF reads Chromium's "ملاحظات": the alef of the ligature, zero wide, handed before its lam.
    span = _span(("م", 535.6, 544.3), ("ا", 535.6, 535.6), ("ل", 525.0, 535.6), ("ح", 514.9, 525.0))
    assert logical_text(visual_clusters([span], 12.0) or [], right_to_left=True) == "ملاح"
    # "الأرصاد": the alef (with hamza) handed after its lam, zero wide at the lam's left edge.
    span = _span(("ا", 293.5, 296.0), ("ل", 288.0, 293.5), ("أ", 288.0, 288.0), ("ر", 284.0, 288.0))
    assert logical_text(visual_clusters([span], 12.0) or [], right_to_left=True) == "الأر"


def test_a_glyph_standing_for_a_whole_word_keeps_the_order_mupdf_gave():
    # The corpus's habibi.pdf: one glyph mapped to "َبيبي habibi", its characters zero wide.
    span = _span(("ح", 62.2, 70.0), *((c, 70.0, 70.0) for c in "َبيبي h"), ("a", 70.0, 77.1))
    assert visual_clusters([span], 12.0) is None


def test_same_row_blocks_of_a_right_to_left_page_are_read_right_first():
    boxes = [(72.0, 100.0, 200.0, 112.0), (300.0, 100.0, 520.0, 112.0)]
    assert reading_order(boxes, right_to_left=True) == [1, 0]
    assert reading_order(boxes) == [0, 1]


def _visual_pdf(path: pathlib.Path) -> pathlib.Path:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_font(fontname="hebrew", fontfile=str(HEBREW_FONT))

    def right_aligned(y: float, text: str, size: float) -> None:
        width = pymupdf.Font(fontfile=str(HEBREW_FONT)).text_length(text, fontsize=size)
        page.insert_text((523 - width, y), text, fontname="hebrew", fontsize=size)

    right_aligned(90, HEADING[1], 18)
    for index, (_, visual) in enumerate(LINES):
        right_aligned(130 + 16 * index, visual, 11)
    page.insert_text((72, 200), MIXED[1], fontname="hebrew", fontsize=11)
    for index, logical in enumerate(WRAPPED):
        right_aligned(240 + 13 * index, logical[::-1], 11)
    doc.save(path)
    doc.close()
    return path


@pytest.mark.skipif(not HEBREW_FONT.is_file(), reason="fonts-dejavu-core is not installed")
def test_visual_order_pdf_reads_in_logical_order_and_keeps_every_word(tmp_path: pathlib.Path):
    path = _visual_pdf(tmp_path / "visual-hebrew.pdf")
    markdown = extract_document(path).markdown()
    # What a user types to search: the phrases in logical order, whole.
    assert HEADING[0] in markdown
    for logical, _ in LINES:
        assert logical in markdown, f"{logical!r} not in {markdown!r}"
    assert MIXED[0] in markdown
    assert "שקלים עבור Model X" in markdown
    # MuPDF makes a block of each line of the ragged-left paragraph: one paragraph again.
    assert f"{WRAPPED[0]} {WRAPPED[1]}" in markdown, markdown
    # MuPDF's raw text turns each word drawn right to left round too: the words compare as they are.
    result = word_recall(path)
    assert result.raw >= 25
    assert not result.lost, f"words lost: {result.sample('lost', 20)}"


def test_html_laid_out_rtl_pdf_and_visual_pdf_read_the_same(tmp_path: pathlib.Path):
    doc = pymupdf.open()
    page = doc.new_page()
    paragraphs = "".join(f'<p dir="rtl">{logical}</p>' for logical, _ in LINES)
    page.insert_htmlbox(pymupdf.Rect(72, 72, 520, 400), f'<h1 dir="rtl">{HEADING[0]}</h1>{paragraphs}')
    path = tmp_path / "html-hebrew.pdf"
    doc.save(path)
    doc.close()
    markdown = extract_document(path).markdown()
    assert f"# {HEADING[0]}" in markdown
    for logical, _ in LINES:
        assert logical in markdown, f"{logical!r} not in {markdown!r}"
    result = word_recall(path)
    assert not result.lost, f"words lost: {result.sample('lost', 20)}"


# A ruled right-to-left table (logical order, first column the rightmost) and a left-to-right table with a
# column of Hebrew phrases, both drawn glyph by glyph from left to right as most producers do.
RTL_TABLE = (
    ("צוות", "מדידה", "ערך"),
    ("שומר המגדלור", "את גובה הגלים", "3.5"),
    ("צוות התחנה", "את כיוון הרוח", "12.0"),
    ("חוקרי האקלים", "את טמפרטורת המים", "18.5"),
)
LTR_TABLE = (
    ("Team", "Log entry", "Reading"),
    ("Mast team", "את גובה הגלים", "3.5"),
    ("Dock watch", "את כיוון הרוח", "12.0"),
    ("Night shift", "את הראות", "7.5"),
)


def _visual(logical: str) -> str:
    """The visual string of a pure-Hebrew cell (reversed); English words and numbers are drawn as written."""
    return logical[::-1] if any("\u0590" <= ch <= "\u05ff" for ch in logical) else logical


def _ruled_table(page: pymupdf.Page, top: float, rows: tuple[tuple[str, ...], ...], right_to_left: bool) -> None:
    font = pymupdf.Font(fontfile=str(HEBREW_FONT))
    edges, height = (72.0, 222.0, 372.0, 522.0), 20.0
    for index in range(len(rows) + 1):
        page.draw_line((edges[0], top + index * height), (edges[-1], top + index * height), width=0.6)
    for x in edges:
        page.draw_line((x, top), (x, top + len(rows) * height), width=0.6)
    for r, row in enumerate(rows):
        for c, logical in enumerate(row):
            slot = len(row) - 1 - c if right_to_left else c  # a right-to-left table starts at its right edge
            text = _visual(logical)
            width = font.text_length(text, fontsize=10)
            x = edges[slot + 1] - 6 - width if right_to_left else edges[slot] + 6
            page.insert_text((x, top + r * height + 14), text, fontname="hebrew", fontsize=10)


@pytest.mark.skipif(not HEBREW_FONT.is_file(), reason="fonts-dejavu-core is not installed")
def test_table_cells_read_in_logical_order_and_a_right_to_left_table_from_its_right_edge(tmp_path: pathlib.Path):
    doc = pymupdf.open()
    for rows, right_to_left in ((RTL_TABLE, True), (LTR_TABLE, False)):  # one table a page
        page = doc.new_page()
        page.insert_font(fontname="hebrew", fontfile=str(HEBREW_FONT))
        _ruled_table(page, 100.0, rows, right_to_left=right_to_left)
    path = tmp_path / "rtl-tables.pdf"
    doc.save(path)
    doc.close()
    result = extract_document(path)
    tables = [block.table for page in result.pages for block in page.blocks if block.table is not None]
    assert [table.grid() for table in tables] == [
        [list(row) for row in RTL_TABLE],
        [list(row) for row in LTR_TABLE],
    ]
    assert tables[0].header_rows == 1
    assert "| צוות | מדידה | ערך |" in result.markdown()
    words = word_recall(path)
    assert not words.lost, f"words lost: {words.sample('lost', 20)}"


def test_chromium_right_to_left_page_with_a_table(tmp_path: pathlib.Path):
    """An HTML page in Hebrew (dir=rtl) with a ruled table, printed by Chromium as the bench's html-rtl family is."""
    from bench.ground_truth.converters import chromium_to_pdf, missing_converter
    from bench.ground_truth.html_tables import table_html

    if missing_converter("chromium"):
        pytest.skip(missing_converter("chromium") or "")
    cells = [[(text, 1, 1) for text in row] for row in RTL_TABLE]
    paragraph = f"<p>{LINES[0][0]}</p>"
    html = (
        '<html lang="he" dir="rtl"><head><meta charset="utf-8"><style>body { font-family: "DejaVu Sans"; }'
        "table { border-collapse: collapse; } td, th { padding: 3pt 6pt; border: 0.8pt solid #333; }</style>"
        f"</head><body>{paragraph}{table_html(cells, header_rows=1, ruled=True)}{paragraph}</body></html>"
    )
    source = tmp_path / "rtl-table.html"
    source.write_text(html, encoding="utf-8")
    pdf = tmp_path / "rtl-table.pdf"
    chromium_to_pdf(source, pdf)
    result = extract_document(pdf)
    tables = [block.table for page in result.pages for block in page.blocks if block.table is not None]
    assert [table.grid() for table in tables] == [[list(row) for row in RTL_TABLE]]
    assert LINES[0][0] in result.body_text()
