"""Table detection: generated pages with known ground truth, then the shared corpus.

Every generated page puts a paragraph above and below the table (and a caption
right above it), so the tests check the table's box as the page pipeline uses
it: all of the table's text inside, none of the paragraphs or the caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pymupdf
import pytest

from mivaa_extractor.extraction.structure.model import Table
from mivaa_extractor.extraction.structure.pymupdf_backend import TEXT_FLAGS, PageSource
from mivaa_extractor.extraction.structure.tables import DetectedTable, detect_tables

SIZE = 9.0
LEADING = 11.0
PAD = 4.0
PROSE = (
    "Tables summarise what the surrounding text explains at length, and the text around a table "
    "must stay a paragraph of its own. This sentence runs on so that it fills the whole line."
)


# --- page generation ------------------------------------------------------------------


def _paragraph(page: pymupdf.Page, top: float, lines: int = 3, x: float = 72.0, width: float = 451.0) -> float:
    """Justified-looking prose lines from `top`; returns the y below the paragraph."""
    words = (PROSE + " ") * 6
    fontsize = 10.0
    y = top + fontsize
    position = 0
    for _ in range(lines):
        line = ""
        for word in words[position:].split(" "):
            candidate = f"{line} {word}".strip()
            if pymupdf.get_text_length(candidate, fontname="helv", fontsize=fontsize) > width:
                break
            line = candidate
        position += len(line) + 1
        page.insert_text((x, y), line, fontname="helv", fontsize=fontsize)
        y += 13.0
    return y


def _table(
    page: pymupdf.Page,
    top: float,
    xs: Sequence[float],
    rows: Sequence[Sequence[str | None]],
    *,
    rules: str,
    bold_rows: int = 1,
    spans: dict[tuple[int, int], tuple[int, int]] | None = None,
    pad: float = PAD,
) -> tuple[float, float]:
    """Draw a table: `xs` are the column edges, a cell's "\\n" wraps it, None is a slot covered by a span.

    rules: "grid" (every cell ruled), "booktabs" (top, mid, bottom) or "none".
    `pad` is the space above and below a cell's text (0 gives LaTeX-like rows:
    the next row starts one line below, like a wrapped line would).
    Returns (top, bottom) of the table.
    """
    spans = spans or {}
    heights = []
    for row in rows:
        lines = max((len(cell.split("\n")) for cell in row if cell), default=1)
        heights.append(lines * LEADING + 2 * pad)
    # A spanning cell's lines spread over the rows it spans.
    ys = [top]
    for height in heights:
        ys.append(ys[-1] + height)

    def region(r: int, c: int) -> tuple[int, int, int, int]:
        for (sr, sc), (rs, cs) in spans.items():
            if sr <= r < sr + rs and sc <= c < sc + cs:
                return sr, sc, rs, cs
        return r, c, 1, 1

    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            sr, sc, rs, cs = region(r, c)
            font = "hebo" if r < bold_rows else "helv"
            for index, text in enumerate(cell.split("\n")):
                page.insert_text(
                    (xs[sc] + PAD, ys[sr] + pad + SIZE + index * LEADING), text, fontname=font, fontsize=SIZE
                )

    if rules == "grid":
        for r in range(len(rows) + 1):
            for c in range(len(xs) - 1):
                if 0 < r < len(rows) and region(r - 1, c)[:2] == region(r, c)[:2]:
                    continue  # inside a cell spanning rows
                page.draw_line((xs[c], ys[r]), (xs[c + 1], ys[r]), width=0.6)
        for c in range(len(xs)):
            for r in range(len(rows)):
                if 0 < c < len(xs) - 1 and region(r, c - 1)[:2] == region(r, c)[:2]:
                    continue  # inside a cell spanning columns
                page.draw_line((xs[c], ys[r]), (xs[c], ys[r + 1]), width=0.6)
    elif rules == "booktabs":
        # The rules keep 3pt off the text, as booktabs' \aboverulesep does.
        page.draw_line((xs[0] - 4, ys[0] - 3), (xs[-1] + 4, ys[0] - 3), width=0.8)
        page.draw_line((xs[0] - 4, ys[1] + 1), (xs[-1] + 4, ys[1] + 1), width=0.5)
        page.draw_line((xs[0] - 4, ys[-1] + 3), (xs[-1] + 4, ys[-1] + 3), width=0.8)
    return ys[0], ys[-1]


def _page_with(builder) -> pymupdf.Page:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    builder(page)
    # Round-trip through bytes so the page is read back like any parsed PDF.
    reopened = pymupdf.open("pdf", doc.tobytes())
    return reopened[0]


def _line_boxes(page: pymupdf.Page, needle: str) -> list[pymupdf.Rect]:
    boxes = []
    for block in page.get_text("dict", flags=TEXT_FLAGS)["blocks"]:
        for line in block.get("lines", ()):
            text = "".join(span["text"] for span in line["spans"])
            if needle in text:
                boxes.append(pymupdf.Rect(line["bbox"]))
    assert boxes, f"{needle!r} not on the page"
    return boxes


def _assert_box(page: pymupdf.Page, found: DetectedTable, inside: Sequence[str], outside: Sequence[str]) -> None:
    box = pymupdf.Rect(found.bbox)
    for needle in inside:
        for line in _line_boxes(page, needle):
            assert box.contains(line), f"{needle!r} at {line} not inside the table box {box}"
    for needle in outside:
        for line in _line_boxes(page, needle):
            assert not box.intersects(line), f"{needle!r} at {line} overlaps the table box {box}"


def _spans(table: Table) -> dict[tuple[int, int], tuple[int, int]]:
    return {(cell.row, cell.column): (cell.row_span, cell.column_span) for cell in table.cells}


def _header_flags(table: Table) -> set[int]:
    return {cell.row for cell in table.cells if cell.header}


# --- generated tables -----------------------------------------------------------------


def test_ruled_grid_with_wrapped_cell() -> None:
    rows = [
        ["Item", "Quantity", "Price", "Notes"],
        ["Apples", "12", "3.50", "fresh"],
        ["Pears", "7", "2.10", "ripe in a\nweek or two"],
        ["Plums", "30", "8.00", "none"],
    ]

    def build(page: pymupdf.Page) -> None:
        y = _paragraph(page, 72)
        page.insert_text((72, y + 12), "Table 1: Fruit in stock", fontname="helv", fontsize=9)
        _, bottom = _table(page, y + 18, [72, 172, 262, 352, 472], rows, rules="grid")
        _paragraph(page, bottom + 16)

    page = _page_with(build)
    tables = detect_tables(PageSource(page))
    assert len(tables) == 1
    table = tables[0].table
    assert (table.row_count, table.column_count, table.header_rows) == (4, 4, 1)
    assert table.grid() == [
        ["Item", "Quantity", "Price", "Notes"],
        ["Apples", "12", "3.50", "fresh"],
        ["Pears", "7", "2.10", "ripe in a week or two"],
        ["Plums", "30", "8.00", "none"],
    ]
    assert _header_flags(table) == {0}
    assert all(span == (1, 1) for span in _spans(table).values())
    _assert_box(page, tables[0], inside=["Quantity", "Plums", "week or two"], outside=["Tables summarise", "Table 1:"])


def test_booktabs_rules_only_header_from_midrule() -> None:
    rows = [
        ["Country", "Population", "Area (km2)", "Capital"],
        ["Austria", "8.9", "83,879", "Vienna"],
        ["Belgium", "11.5", "30,689", "Brussels"],
        ["Czech Republic", "10.7", "78,866", "Prague"],
        ["Denmark", "5.8", "42,951", "Copenhagen"],
    ]

    def build(page: pymupdf.Page) -> None:
        y = _paragraph(page, 72)
        page.insert_text((160, y + 12), "Table 2: Countries", fontname="helv", fontsize=9)
        # No bold: the rule under the first row is what makes it the header.
        _, bottom = _table(page, y + 16, [100, 200, 280, 360, 460], rows, rules="booktabs", bold_rows=0)
        _paragraph(page, bottom + 14)

    page = _page_with(build)
    tables = detect_tables(PageSource(page))
    assert len(tables) == 1
    table = tables[0].table
    assert table.header_rows == 1
    assert table.grid() == [list(row) for row in rows]
    assert _header_flags(table) == {0}
    _assert_box(page, tables[0], inside=["Country", "Copenhagen"], outside=["Tables summarise", "Table 2:"])


def test_rule_less_aligned_table() -> None:
    rows = [
        ["Region", "Q1", "Q2", "Q3"],
        ["North", "1,204", "1,310", "1,298"],
        ["South", "987", "1,002", "1,150"],
        ["East", "2,511", "2,420", "2,644"],
        ["West", "640", "702", "733"],
    ]

    def build(page: pymupdf.Page) -> None:
        y = _paragraph(page, 72)
        _, bottom = _table(page, y + 10, [110, 230, 310, 390, 470], rows, rules="none", bold_rows=0)
        _paragraph(page, bottom + 14)

    page = _page_with(build)
    tables = detect_tables(PageSource(page))
    assert len(tables) == 1
    table = tables[0].table
    assert table.grid() == [list(row) for row in rows]
    # Not bold, no rule: the header is the non-numeric row above numeric columns.
    assert table.header_rows == 1
    _assert_box(page, tables[0], inside=["Region", "West"], outside=["Tables summarise"])


@pytest.mark.parametrize("pad", [PAD, 0.0], ids=["padded-rows", "latex-tight-rows"])
def test_booktabs_multi_line_cells_stay_one_row_and_join_hyphenation(pad: float) -> None:
    # With tight rows a wrapped line is exactly as far below as the next row would be:
    # only what the text says (a hyphen, a lowercase start, a full line above) tells them apart.
    rows = [
        ["Term", "Meaning", "Uses"],
        ["alpha", "the first letter, an exam-\nple of a wrapped cell", "12"],
        ["beta", "the second letter", "7"],
        ["gamma", "a cell whose text needs\ntwo lines as well", "31"],
        ["delta", "short", "2"],
    ]

    def build(page: pymupdf.Page) -> None:
        y = _paragraph(page, 72)
        _, bottom = _table(page, y + 14, [100, 180, 330, 400], rows, rules="booktabs", pad=pad)
        _paragraph(page, bottom + 14)

    page = _page_with(build)
    tables = detect_tables(PageSource(page))
    assert len(tables) == 1
    table = tables[0].table
    assert table.row_count == 5
    assert table.grid() == [
        ["Term", "Meaning", "Uses"],
        ["alpha", "the first letter, an example of a wrapped cell", "12"],
        ["beta", "the second letter", "7"],
        ["gamma", "a cell whose text needs two lines as well", "31"],
        ["delta", "short", "2"],
    ]
    assert table.header_rows == 1
    _assert_box(page, tables[0], inside=["Meaning", "two lines as well"], outside=["Tables summarise"])


def test_ruled_spanning_header_cells() -> None:
    rows = [
        ["Student", "Scores", None, "Passed"],
        [None, "Maths", "Art", None],
        ["Anna", "91", "78", "yes"],
        ["Ben", "64", "88", "yes"],
        ["Cleo", "45", "52", "no"],
    ]
    spans = {(0, 0): (2, 1), (0, 1): (1, 2), (0, 3): (2, 1)}

    def build(page: pymupdf.Page) -> None:
        y = _paragraph(page, 72)
        _, bottom = _table(page, y + 14, [90, 200, 290, 380, 470], rows, rules="grid", bold_rows=2, spans=spans)
        _paragraph(page, bottom + 14)

    page = _page_with(build)
    tables = detect_tables(PageSource(page))
    assert len(tables) == 1
    table = tables[0].table
    assert (table.row_count, table.column_count) == (5, 4)
    assert table.grid() == [
        ["Student", "Scores", "", "Passed"],
        ["", "Maths", "Art", ""],
        ["Anna", "91", "78", "yes"],
        ["Ben", "64", "88", "yes"],
        ["Cleo", "45", "52", "no"],
    ]
    got = _spans(table)
    assert got[(0, 0)] == (2, 1)
    assert got[(0, 1)] == (1, 2)
    assert got[(0, 3)] == (2, 1)
    assert (0, 2) not in got and (1, 0) not in got and (1, 3) not in got  # covered slots are not cells
    assert table.header_rows == 2
    assert _header_flags(table) == {0, 1}
    _assert_box(page, tables[0], inside=["Student", "Cleo"], outside=["Tables summarise"])


def test_shaded_rows_without_lines() -> None:
    # Brochure style: a coloured header bar and alternating row shading, not one stroked line.
    rows = [
        ["Plan", "Monthly fee", "Data (GB)", "Minutes"],
        ["Basic", "9.99", "5", "100"],
        ["Plus", "19.99", "20", "500"],
        ["Max", "29.99", "100", "2,000"],
    ]
    xs = [90, 190, 290, 390, 490]

    def build(page: pymupdf.Page) -> None:
        y = _paragraph(page, 72)
        top = y + 14
        height = LEADING + 2 * PAD
        colours = [(0.1, 0.3, 0.6), (0.92, 0.92, 0.92), (1.0, 1.0, 0.85), (0.92, 0.92, 0.92)]
        for index, colour in enumerate(colours):
            band = pymupdf.Rect(xs[0], top + index * height, xs[-1], top + (index + 1) * height)
            page.draw_rect(band, fill=colour, color=None)
        _table(page, top, xs, rows, rules="none")
        _paragraph(page, top + len(rows) * height + 14)

    page = _page_with(build)
    tables = detect_tables(PageSource(page))
    assert len(tables) == 1
    assert tables[0].table.grid() == [list(row) for row in rows]
    assert tables[0].table.header_rows == 1
    _assert_box(page, tables[0], inside=["Monthly fee", "2,000"], outside=["Tables summarise"])


def test_text_dict_and_drawings_can_be_passed_in() -> None:
    rows = [["Key", "Value", "Unit"], ["speed", "12", "m/s"], ["mass", "3", "kg"], ["time", "9", "s"]]
    page = _page_with(lambda page: _table(page, 100, [72, 172, 272, 372], rows, rules="grid"))
    text_dict = page.get_text("dict", flags=TEXT_FLAGS)
    passed = detect_tables(PageSource(page, text_dict, drawings=page.get_cdrawings()))
    computed = detect_tables(PageSource(page))
    assert passed == computed
    assert passed[0].table.grid() == rows


# --- generated pages without tables ---------------------------------------------------


def test_two_column_prose_is_not_a_table() -> None:
    text = (PROSE + " ") * 12

    def build(page: pymupdf.Page) -> None:
        page.insert_textbox(pymupdf.Rect(72, 72, 290, 760), text, fontname="helv", fontsize=10)
        page.insert_textbox(pymupdf.Rect(305, 72, 523, 760), text[40:], fontname="helv", fontsize=10)

    assert detect_tables(PageSource(_page_with(build))) == []


def test_box_around_two_columns_of_bullets_is_not_a_table() -> None:
    # Two columns on one baseline grid inside a rounded box: every row has two pieces
    # and the gutter lines up, like a two-column table, but the text flows on.
    left = [
        "• Several tests are used to find",
        "   out what is wrong with you.",
        "• Your doctor will examine you",
        "   and ask about your history.",
        "• You may have a scan, which is",
        "   painless and quick to do.",
        "• A sample of tissue may be taken",
        "   and sent to the laboratory.",
    ]
    right = [
        "Knowing the results helps your",
        "doctors plan the treatment.",
        "• Staging tells how far it has",
        "   spread and how fast it grows.",
        "• A team of health professionals",
        "   will work together to care for",
        "   you; it may include a surgeon",
        "   and a specialist nurse.",
    ]

    def build(page: pymupdf.Page) -> None:
        page.draw_rect(pymupdf.Rect(60, 80, 535, 300), color=(0.1, 0.5, 0.8), width=1.2, radius=0.05)
        page.insert_text((80, 110), "Key points", fontname="hebo", fontsize=12)
        for index, (a, b) in enumerate(zip(left, right)):
            page.insert_text((80, 135 + index * 14), a, fontname="helv", fontsize=10)
            page.insert_text((310, 135 + index * 14), b, fontname="helv", fontsize=10)

    assert detect_tables(PageSource(_page_with(build))) == []


def test_bulleted_list_is_not_a_table() -> None:
    items = [
        "Preheat the oven to 180 degrees",
        "Mix 250 g flour with 2 eggs",
        "Add 100 ml milk and stir well",
        "Bake for 35 minutes",
        "Let it cool for 10 minutes",
        "Serve with 3 spoons of cream",
    ]

    def build(page: pymupdf.Page) -> None:
        y = _paragraph(page, 72)
        for index, item in enumerate(items):
            page.insert_text((80, y + 16 + index * 14), "•", fontname="helv", fontsize=10)
            page.insert_text((100, y + 16 + index * 14), item, fontname="helv", fontsize=10)
        for index, item in enumerate(items):
            page.insert_text((80, y + 120 + index * 14), f"{index + 1}.", fontname="helv", fontsize=10)
            page.insert_text((100, y + 120 + index * 14), item, fontname="helv", fontsize=10)

    assert detect_tables(PageSource(_page_with(build))) == []


def test_table_of_contents_with_dot_leaders_is_not_a_table() -> None:
    entries = [
        ("1", "Introduction", 1),
        ("1.1", "Motivation", 2),
        ("1.2", "Related work", 5),
        ("2", "Method", 9),
        ("2.1", "Data collection", 10),
        ("2.2", "Model", 14),
        ("3", "Results", 21),
        ("4", "Conclusion", 30),
    ]

    def build(page: pymupdf.Page) -> None:
        page.insert_text((72, 90), "Contents", fontname="hebo", fontsize=16)
        for index, (number, title, page_number) in enumerate(entries):
            y = 120 + index * 16
            page.insert_text((72, y), number, fontname="helv", fontsize=10)
            page.insert_text((110, y), title, fontname="helv", fontsize=10)
            start = 110 + pymupdf.get_text_length(title, fontname="helv", fontsize=10) + 8
            dots = " ." * int((480 - start) / pymupdf.get_text_length(" .", fontname="helv", fontsize=10))
            page.insert_text((start, y), dots, fontname="helv", fontsize=10)
            label = str(page_number)
            page.insert_text((520 - pymupdf.get_text_length(label, fontsize=10), y), label, fontsize=10)

    assert detect_tables(PageSource(_page_with(build))) == []


# --- corpus -----------------------------------------------------------------------------


def _open(path: Path) -> pymupdf.Document:
    if not path.exists():
        pytest.skip(f"{path} is not in the corpus")
    return pymupdf.open(path)


def _tables_per_page(doc: pymupdf.Document) -> dict[int, list[DetectedTable]]:
    found: dict[int, list[DetectedTable]] = {}
    for page in doc:
        tables = detect_tables(PageSource(page))
        if tables:
            found[page.number] = tables
    return found


@pytest.mark.corpus
def test_corpus_multicolumn_booktabs_table_every_cell(corpus: Path) -> None:
    doc = _open(corpus / "multicolumn.pdf")
    found = _tables_per_page(doc)
    # Pages 1 and 2 are two-column lorem ipsum; the table is alone on page 3.
    assert list(found) == [2]
    assert len(found[2]) == 1
    detected = found[2][0]
    table = detected.table
    grid = table.grid()
    # The superscript 2 of km² comes out as "²" (raised digits are kept raised); "km2" is accepted too.
    assert grid[0][2] in ("Area (km²)", "Area (km2)")
    grid[0][2] = "Area (km2)"
    assert grid == [
        ["Country", "Population (millions)", "Area (km2)", "Capital", "Official Language"],
        ["Austria", "8.9", "83,879", "Vienna", "German"],
        ["Belgium", "11.5", "30,689", "Brussels", "Dutch, French, German"],
        ["Czech Republic", "10.7", "78,866", "Prague", "Czech"],
        ["Denmark", "5.8", "42,951", "Copenhagen", "Danish"],
        ["Finland", "5.5", "338,424", "Helsinki", "Finnish, Swedish"],
    ]
    assert table.header_rows == 1
    assert _header_flags(table) == {0}
    _assert_box(doc[2], detected, inside=["Country", "Finland", "Swedish"], outside=["EU Countries Information"])


@pytest.mark.corpus
def test_corpus_geotopo_has_no_tables(corpus: Path) -> None:
    # A maths lecture script: equations, matrices, aligned formulas, figures with axis labels,
    # a dot-leader table of contents, a symbol glossary and a three-column index. No tables.
    doc = _open(corpus / "GeoTopo-komprimiert.pdf")
    assert _tables_per_page(doc) == {}


@pytest.mark.corpus
def test_corpus_dpr_paper_finds_its_tables_and_nothing_else(corpus: Path) -> None:
    # Two-column paper (unstructured/multi-column.pdf): booktabs tables on pages 4-6, 8 and 12
    # (0-based 3, 4, 5, 7, 11), a ruled table of passages on page 13; prose everywhere else.
    doc = _open(corpus / "unstructured" / "multi-column.pdf")
    found = _tables_per_page(doc)
    assert {page: len(tables) for page, tables in found.items()} == {3: 1, 4: 1, 5: 1, 7: 1, 11: 2, 12: 1}
    table1 = found[3][0].table
    assert table1.grid() == [
        ["Dataset", "Train", "", "Dev", "Test"],
        ["Natural Questions", "79,168", "58,880", "8,757", "3,610"],
        ["TriviaQA", "78,785", "60,413", "8,837", "11,313"],
        ["WebQuestions", "3,417", "2,474", "361", "2,032"],
        ["CuratedTREC", "1,353", "1,125", "133", "694"],
        ["SQuAD", "78,713", "70,096", "8,886", "10,570"],
    ]
    assert _spans(table1)[(0, 1)] == (1, 2)  # "Train" heads two columns
    # Table 6: vertical rules, a header spanning four columns, labels centred beside two rows.
    table6 = found[11][1].table
    assert table6.header_rows == 2
    assert table6.grid()[0] == ["Sim", "Loss", "Retrieval Accuracy", "", "", ""]
    assert table6.grid()[2] == ["DP", "NLL", "44.9", "66.8", "78.1", "85.0"]
    assert _spans(table6)[(0, 2)] == (1, 4)
    assert _spans(table6)[(2, 0)] == (2, 1)
    # Table 7: whole paragraphs in ruled cells stay one cell each.
    table7 = found[12][0].table
    assert (table7.row_count, table7.column_count) == (3, 3)
    assert table7.grid()[1][0] == "What is the body of water between England and Ireland?"


@pytest.mark.corpus
def test_corpus_korean_tables_side_by_side(corpus: Path) -> None:
    doc = _open(corpus / "unstructured" / "korean-text-with-tables.pdf")
    tables = detect_tables(PageSource(doc[0]))
    assert len(tables) == 2
    left, right = sorted(tables, key=lambda found: found.bbox[0])
    assert left.table.grid() == [
        ["업종", "적립 대상"],
        ["할인점", "이마트, 이마트 트레이더스, 롯데마트, 홈플러스"],
        ["주유", "모든 주유소"],
        ["온라인쇼핑몰", "삼성카드 쇼핑, G마켓, 옥션, 11번가, 인터파크, 쿠팡, 티몬, 위메프"],
    ]
    assert right.table.grid()[1] == [
        "커피전문점",
        "스타벅스, 투썸플레이스, 카페베네, 탐앤탐스, 커피빈, 엔제리너스, 할리스커피, 파스쿠찌, 아티제, 폴 바셋",
    ]
    assert left.table.header_rows == right.table.header_rows == 1
    # The blue title banner above and the grey notes box below are not part of the tables.
    _assert_box(doc[0], left, inside=["이마트, 이마트", "쿠팡"], outside=["적립한도 없이 할인점", "주유는 LPG"])


@pytest.mark.corpus
def test_corpus_embedded_images_tables(corpus: Path) -> None:
    doc = _open(corpus / "unstructured" / "embedded-images-tables.pdf")
    tables = detect_tables(PageSource(doc[0]))
    assert len(tables) == 1
    table = tables[0].table
    assert (table.row_count, table.column_count, table.header_rows) == (7, 7, 1)
    grid = table.grid()
    assert grid[0][0] == "Inhibitor concentration (g)"  # a header cell on two lines
    assert grid[0][5] == "Polarization resistance (Ω)"
    assert grid[1] == ["0", "0.0335", "0.0409", "0.9393", "0.0003", "24.0910", "2.8163"]
    assert [row[0] for row in grid[1:]] == ["0", "2", "4", "6", "8", "10"]
    _assert_box(doc[0], tables[0], inside=["Inhibitor", "246.080"], outside=["Potentiodynamic", "The plot of"])


@pytest.mark.corpus
def test_corpus_chevron_infographic_is_not_a_table(corpus: Path) -> None:
    # Three big figures with captions side by side over a photograph: a layout, not a table.
    doc = _open(corpus / "unstructured" / "chevron-page.pdf")
    assert detect_tables(PageSource(doc[0])) == []
