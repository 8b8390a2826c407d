"""Headings on pages made here: run-in bold headings, numbered headings in the body font, title-page lines.

Each page is written with PyMuPDF's base-14 fonts (Helvetica, Helvetica-Bold) at
chosen positions, so the truth (which lines are headings, at what level, which
are list items, author lines or table rows) is known exactly.
"""

from __future__ import annotations

import pathlib

import pymupdf
import pytest

from bench.quality_words import word_recall
from mivaa_extractor.extraction.structure.document import extract_document
from mivaa_extractor.extraction.structure.model import BlockKind

BODY = 10.0
LINE = 12.0
LEFT = 72.0

RUN_IN = (
    # (bold phrase, regular text of its first line, its second line)
    (
        "Boots Self-Locking Nut.",
        "The Boots self-locking nut is of one piece, all-metal construction,",
        "designed to hold tight despite severe vibration. Note the two sections.",
    ),
    (
        "Stainless Steel Self-Locking Nut",
        "The stainless steel self-locking nut may be spun on and off",
        "by hand as its locking action takes place only when the nut is seated.",
    ),
    (
        "Elastic Stop Nut:",
        "the elastic stop nut is a standard nut with the height increased",
        "to hold a fiber locking collar that grips the threads of the bolt.",
    ),
)
NOT_RUN_IN = (
    # Bold emphasis opening a sentence, a form field: paragraphs, not headings.
    ("Python", "is a language that many of the engineers on the team use daily,", "and it is taught in the course."),
    ("Name:", "Ada Keeper", ""),
)


def _write(page: pymupdf.Page, x: float, y: float, text: str, *, bold: bool = False, size: float = BODY) -> float:
    """Writes `text` at (x, y); returns the x where the next word would start."""
    font = "hebo" if bold else "helv"
    page.insert_text((x, y), text, fontname=font, fontsize=size)
    return x + pymupdf.get_text_length(text + " ", fontname=font, fontsize=size)


def _run_in_pdf(path: pathlib.Path) -> pathlib.Path:
    doc = pymupdf.open()
    page = doc.new_page()
    _write(page, LEFT, 72, "Nuts and Bolts", bold=True, size=16)
    y = 104.0
    _write(page, LEFT, y, "Aircraft nuts are made in many shapes and sizes and of many materials. They are")
    _write(page, LEFT, y + LINE, "held with cotter pins or safety wire or are self-locking nuts of various designs.")
    y += 2 * LINE + 10
    for head, first, second in RUN_IN + NOT_RUN_IN:
        x = _write(page, LEFT, y, head, bold=True)
        _write(page, x, y, first)
        if second:
            _write(page, LEFT, y + LINE, second)
        y += 2 * LINE + 10
    doc.save(path)
    return path


def test_run_in_bold_headings_become_headings_before_their_paragraph(tmp_path: pathlib.Path):
    path = _run_in_pdf(tmp_path / "run-in.pdf")
    blocks = [b for b in extract_document(path).pages[0].blocks if b.kind is not BlockKind.PAGE_NUMBER]
    headings = [(b.level, b.text) for b in blocks if b.kind is BlockKind.HEADING]
    # One level below the section heading (set large; no bold headings in the body size here), the trailing
    # period or colon dropped.
    assert headings == [
        (1, "Nuts and Bolts"),
        (2, "Boots Self-Locking Nut"),
        (2, "Stainless Steel Self-Locking Nut"),
        (2, "Elastic Stop Nut"),
    ]
    texts = [b.text for b in blocks]
    for head, first, second in RUN_IN:
        heading = texts.index(head.rstrip(".:"))
        # The paragraph follows its heading whole: the rest of the first line, then the next line.
        assert texts[heading + 1] == f"{first} {second}"
    paragraphs = [b.text for b in blocks if b.kind is BlockKind.PARAGRAPH]
    assert f"Python {NOT_RUN_IN[0][1]} {NOT_RUN_IN[0][2]}" in paragraphs
    assert "Name: Ada Keeper" in paragraphs
    result = word_recall(path)
    assert not result.lost and result.recall == 1.0


NUMBERED = (
    # (heading line, level): the title (set large) is level 1; numbering depth below it.
    ("1 Introduction", 2),
    ("1.1 Background", 3),
    ("1.1.1 Earlier Work", 4),
    ("A.1 Proofs of the Lemmas", 3),
    ("Section 2 Methods", 2),
    ("IV. Discussion", 2),
)
PARAGRAPH = (
    "Body text follows the heading, and it is a long sentence of the paragraph that explains things.",
    "A second line of the same paragraph makes it clearly a paragraph and not a heading at all.",
)


def _numbered_pdf(path: pathlib.Path) -> pathlib.Path:
    doc = pymupdf.open()
    page = doc.new_page()
    _write(page, LEFT, 60, "Coastal Light Stations", size=20)
    # Title-page lines set larger than the body: authors, affiliation, e-mail; none is a heading.
    _write(page, LEFT, 84, "Ada Keeper, Ben Lamp and Carl Dee", size=12)
    _write(page, LEFT, 100, "Department of Maritime Studies, Harbour University", size=12)
    _write(page, LEFT, 116, "ada.keeper@harbour.example", size=12)
    y = 150.0
    for index, (heading, _) in enumerate(NUMBERED):
        # Bold and plain numbered headings alike, in the body font size.
        _write(page, LEFT, y, heading, bold=index % 2 == 1)
        y += LINE + 4
        for line in PARAGRAPH:
            _write(page, LEFT, y, line)
            y += LINE
        y += 10
    # A numbered list: items, not headings.
    for item in ("1. Lamps were cleaned", "2. Lenses were polished", "3. Logs were written"):
        _write(page, LEFT, y, item)
        y += LINE + 2
    y += 10
    # Rows of a table nobody ruled: a number, a name and figures; not headings.
    for row in ("1 North Cape 42 71", "2 Gull Rock 28 35"):
        _write(page, LEFT, y, row)
        y += LINE + 2
    doc.save(path)
    return path


def test_numbered_headings_in_the_body_font_with_levels_from_the_numbering(tmp_path: pathlib.Path):
    path = _numbered_pdf(tmp_path / "numbered.pdf")
    document = extract_document(path)
    blocks = document.pages[0].blocks
    headings = [(b.level, b.text) for b in blocks if b.kind is BlockKind.HEADING]
    assert headings == [(1, "Coastal Light Stations"), *((level, text) for text, level in NUMBERED)]
    items = [b.text for b in blocks if b.kind is BlockKind.LIST_ITEM]
    assert items == ["1. Lamps were cleaned", "2. Lenses were polished", "3. Logs were written"]
    text = document.pages[0].text
    assert "Ada Keeper, Ben Lamp and Carl Dee" in text and "1 North Cape 42 71" in text
    assert not word_recall(path).lost


@pytest.mark.parametrize(
    "line",
    ["1 North Cape 42 71", "3. Logs were written.", "2 percent of the keepers agreed", "I am a keeper"],
)
def test_lines_that_only_look_numbered_are_not_numbered_headings(line: str):
    from mivaa_extractor.extraction.structure.headings import standalone_numbered

    assert standalone_numbered(line, 1) == 0


def _line(*spans: tuple[str, bool]) -> dict:
    """A page's text dict with one line of (text, bold) spans, as `get_text("dict")` gives it."""
    x = 72.0
    read = []
    for text, bold in spans:
        font = "Helvetica-Bold" if bold else "Helvetica"
        read.append(
            {"text": text, "bbox": (x, 100.0, x + 5.0 * len(text), 112.0), "size": 10.0, "flags": 0, "font": font}
        )
        x += 5.0 * len(text)
    line = {"bbox": (72.0, 100.0, x, 112.0), "dir": (1.0, 0.0), "spans": read}
    return {"width": 595.0, "height": 842.0, "blocks": [{"type": 0, "bbox": line["bbox"], "lines": [line]}]}


def test_right_to_left_line_with_a_bold_span_first_is_kept_whole():
    from mivaa_extractor.extraction.structure.headings import split_run_in
    from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource

    page = pymupdf.open().new_page()
    # Visual order: the bold span drawn leftmost ends the right-to-left sentence; it is no heading.
    hebrew = PageSource(page, _line(("כותרת מודגשת.", True), (" זהו עמוד שנכתב מימין לשמאל כדי לבדוק", False)))
    assert split_run_in(hebrew.lines[0], True) is None
    latin = PageSource(page, _line(("Bold Lead.", True), (" English text that follows the bold lead in", False)))
    head, rest = split_run_in(latin.lines[0], True) or (None, None)
    assert head is not None and rest is not None
    assert (head.text, rest.text, head.bold, rest.bold) == (
        "Bold Lead.",
        "English text that follows the bold lead in",
        True,
        False,
    )


def test_subtitle_and_author_centred_under_the_title_are_not_headings(tmp_path: pathlib.Path):
    doc = pymupdf.open()
    page = doc.new_page()
    middle = page.rect.width / 2

    def centred(y: float, text: str, size: float, bold: bool = False) -> None:
        font = "hebo" if bold else "helv"
        _write(
            page,
            middle - pymupdf.get_text_length(text, fontname=font, fontsize=size) / 2,
            y,
            text,
            bold=bold,
            size=size,
        )

    centred(72, "Tides and Fog", 22, bold=True)
    centred(98, "A report written for the harbour board", 13)
    centred(116, "Ada Keeper", 12)
    _write(page, LEFT, 160, "Morning Observations", bold=True, size=15)
    y = 180.0
    for line in PARAGRAPH:
        _write(page, LEFT, y, line)
        y += LINE
    _write(page, LEFT, y + 20, "Evening Summary", bold=True, size=15)
    _write(page, LEFT, y + 40, PARAGRAPH[0])
    path = tmp_path / "title.pdf"
    doc.save(path)
    blocks = extract_document(path).pages[0].blocks
    assert [(b.level, b.text) for b in blocks if b.kind is BlockKind.HEADING] == [
        (1, "Tides and Fog"),
        (2, "Morning Observations"),
        (2, "Evening Summary"),
    ]
    paragraphs = [b.text for b in blocks if b.kind is BlockKind.PARAGRAPH]
    assert paragraphs[:2] == ["A report written for the harbour board", "Ada Keeper"]


def test_run_in_heading_that_mupdf_cut_off_its_line_is_read_before_its_paragraph(tmp_path: pathlib.Path):
    doc = pymupdf.open()
    page = doc.new_page()
    y = 100.0
    for head, first, second in RUN_IN:
        # A wide gap after the bold phrase: MuPDF reads it as a line of its own beside the rest.
        x = _write(page, LEFT, y, head, bold=True) + 20
        _write(page, x, y, first)
        _write(page, LEFT, y + LINE, second)
        y += 2 * LINE + 10
    path = tmp_path / "gap.pdf"
    doc.save(path)
    blocks = [b for b in extract_document(path).pages[0].blocks if b.kind is not BlockKind.PAGE_NUMBER]
    expected = []
    for head, first, second in RUN_IN:
        expected += [(BlockKind.HEADING, head.rstrip(".:")), (BlockKind.PARAGRAPH, f"{first} {second}")]
    assert [(b.kind, b.text) for b in blocks] == expected


SECTION_BODY = (
    "The inspection covers every fastener on the panel and records its torque, its finish and its condition.",
    "Each finding is written in the log with the date, the inspector and the action that was taken for it.",
    "A fastener that fails twice in a row is replaced with a new one of the same part number and batch.",
)


def _outline_without_title_pdf(path: pathlib.Path) -> pathlib.Path:
    """A title in the largest font on page 1, numbered sections on page 2, and an outline of the sections only."""
    doc = pymupdf.open()
    title_page = doc.new_page()
    _write(title_page, LEFT, 200, "Fastener Handbook", bold=True, size=26)
    _write(title_page, LEFT, 260, "Prepared for the maintenance crews of the northern hangar.")
    page = doc.new_page()
    y = 72.0
    for heading, size in (("1 Inspection", 14.0), ("1.1 Torque Checks", 12.0), ("2 Replacement", 14.0)):
        _write(page, LEFT, y, heading, bold=True, size=size)
        y += size + 8
        for sentence in SECTION_BODY:
            _write(page, LEFT, y, sentence)
            y += LINE
        y += 2 * LINE
    # As word processors export it: the sections are in the outline, the title is not.
    doc.set_toc([[1, "1 Inspection", 2], [2, "1.1 Torque Checks", 2], [1, "2 Replacement", 2]])
    doc.save(path)
    return path


def test_outline_levels_sit_below_a_title_the_outline_leaves_out(tmp_path: pathlib.Path):
    doc = extract_document(_outline_without_title_pdf(tmp_path / "outline.pdf"))
    found = [(b.text, b.level) for page in doc.pages for b in page.blocks if b.kind is BlockKind.HEADING]
    assert found == [("Fastener Handbook", 1), ("1 Inspection", 2), ("1.1 Torque Checks", 3), ("2 Replacement", 2)]
