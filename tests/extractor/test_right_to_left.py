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
