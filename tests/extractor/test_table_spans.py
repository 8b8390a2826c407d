"""Merged cells, two-level headers and wrapped cells, on pages laid out the way a browser prints an HTML table.

Cells are padded apart (3pt above and below the text, as `td { padding: 3pt }`
does), so a wrapped cell's second line sits closer to its first line than the
next row does; merged cells keep their text at their top-left corner.
"""

from __future__ import annotations

import pathlib

import pymupdf
import pytest

from bench.ground_truth.converters import chromium_to_pdf, missing_converter
from bench.ground_truth.html_tables import grid_of, table_html
from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource
from mivaa_extractor.extraction.structure.tables import detect_tables
from tests.extractor.test_tables import _page_with, _paragraph, _spans, _table

XS = [60.0, 160.0, 260.0, 350.0, 440.0, 540.0]
HTML_PAD = 3.0
# Header: "Component" over both header rows, "Properties" and "Checks" over two sub-headers each.
HEADER: list[list[str | None]] = [
    ["Component", "Properties", None, "Checks", None],
    [None, "Material", "Finish", "Inspection", "Remarks"],
]
HEADER_SPANS = {(0, 0): (2, 1), (0, 1): (1, 2), (0, 3): (1, 2)}
BODY: list[list[str | None]] = [
    ["wing spar\nfitting", "cadmium plated\nsteel", "bare", "tap test", "log it"],
    ["fuel cap", "titanium", "primed and\npainted", "visual only, keep it dry and clean", None],
    ["cowl latch", "bronze", "anodised", "borescope", "no reuse"],
    [None, "nylon", "polished", "torque check", "check safety\nwire"],
    ["flap track", "stainless steel", "passivated", "eddy current", "keep dry"],
]
# "visual only, keep it dry and clean" spans the last two columns; "cowl latch" heads two rows of materials.
BODY_SPANS = {(1, 3): (1, 2), (2, 0): (2, 1)}


def _expected(rows: list[list[str | None]]) -> list[list[str]]:
    return [[(cell or "").replace("\n", " ") for cell in row] for row in rows]


def _detect(rows: list[list[str | None]], spans: dict, *, rules: str, bold_rows: int) -> list:
    def build(page: pymupdf.Page) -> None:
        y = _paragraph(page, 72)
        page.insert_text((60, y + 14), "Table 1: Hardware identification", fontname="helv", fontsize=9)
        _, bottom = _table(page, y + 24, XS, rows, rules=rules, bold_rows=bold_rows, spans=spans, pad=HTML_PAD)
        _paragraph(page, bottom + 18)

    return detect_tables(PageSource(_page_with(build)))


def _assert_table(found: list, rows: list[list[str | None]], spans: dict, header_rows: int) -> None:
    assert len(found) == 1
    table = found[0].table
    assert table.grid() == _expected(rows)
    merged = {key: value for key, value in _spans(table).items() if value != (1, 1)}
    assert merged == spans
    assert table.header_rows == header_rows


def test_ruled_two_level_header_keeps_its_spans_and_row_spans_in_the_body() -> None:
    # The rules under the spanning header and inside the row-spanning cell share an extent: they must
    # bound rows of the big table, not make a frame of their own.
    rows = HEADER + BODY
    spans = HEADER_SPANS | {(row + 2, column): span for (row, column), span in BODY_SPANS.items()}
    _assert_table(_detect(rows, spans, rules="grid", bold_rows=2), rows, spans, header_rows=2)


def test_rule_less_two_level_header_spans_its_groups() -> None:
    rows = HEADER + BODY
    spans = HEADER_SPANS | {(row + 2, column): span for (row, column), span in BODY_SPANS.items()}
    _assert_table(_detect(rows, spans, rules="none", bold_rows=2), rows, spans, header_rows=2)


def test_rule_less_wrapped_cells_stay_in_their_row() -> None:
    # Wrapped lines in a few columns only ("fitting" | "steel"), a last line alone at the bottom ("wire"),
    # and a row whose first cell is empty under "cowl latch": padding, not the text, tells rows apart.
    rows = [["Component", "Material", "Finish", "Inspection", "Remarks"], *BODY]
    spans = {(row + 1, column): span for (row, column), span in BODY_SPANS.items()}
    _assert_table(_detect(rows, spans, rules="none", bold_rows=1), rows, spans, header_rows=1)


def test_chromium_ruled_table_with_merged_cells(tmp_path: pathlib.Path) -> None:
    """A ruled HTML table printed by Chromium: the rule under "Properties"/"Checks" and the one inside the
    row-spanning "cowl latch" share an extent and chain into a frame of their own; they still bound rows."""
    if missing_converter("chromium"):
        pytest.skip(missing_converter("chromium") or "")
    cells = [
        [("Component", 2, 1), ("Properties", 1, 2), ("Checks", 1, 2)],
        [("Material", 1, 1), ("Finish", 1, 1), ("Inspection", 1, 1), ("Remarks", 1, 1)],
        [("fuel cap", 1, 1), ("titanium", 1, 1), ("bare", 1, 1), ("tap test", 1, 1), ("log it", 1, 1)],
        [("cowl latch", 2, 1), ("bronze", 1, 1), ("anodised", 1, 1), ("borescope", 1, 1), ("no reuse", 1, 1)],
        [("nylon", 1, 1), ("polished", 1, 1), ("torque check", 1, 1), ("keep dry", 1, 1)],
        [("flap track", 1, 1), ("steel", 1, 1), ("passivated", 1, 1), ("visual only, keep it dry", 1, 2)],
    ]
    grid, spans = grid_of(cells)
    style = (
        "body { font-family: 'DejaVu Serif', serif; font-size: 10.5pt; } table { border-collapse: collapse; }"
        "td, th { padding: 3pt 6pt; vertical-align: top; text-align: left; border: 0.8pt solid #333; }"
    )
    html = f"<html><head><style>{style}</style></head><body><p>{'Hardware of the wing. ' * 12}</p>"
    html += table_html(cells, header_rows=2, ruled=True) + f"<p>{'The table lists the checks. ' * 12}</p></body></html>"
    source = tmp_path / "table.html"
    source.write_text(html, encoding="utf-8")
    pdf = tmp_path / "table.pdf"
    chromium_to_pdf(source, pdf)
    found = detect_tables(PageSource(pymupdf.open(pdf)[0]))
    assert len(found) == 1
    table = found[0].table
    assert table.grid() == grid
    assert {key: value for key, value in _spans(table).items() if value != (1, 1)} == {
        (row, column): (row_span, column_span) for row, column, row_span, column_span in spans
    }


def test_rule_less_table_whose_cells_wrap_in_most_rows_keeps_every_column() -> None:
    """Few rows fill every column when cells wrap (each wrapped line is a row of fewer pieces) and a merged
    cell crosses the last gutter: the fullest rows' gutters still hold, since the other rows agree with them
    (bench html-tables-004 lost "Remarks" and read "torque keep dry check")."""
    body: list[list[str | None]] = [
        ["aileron\nhinge", "cadmium plated\nsteel", "passivated", "visual only, no reuse after repair", None],
        ["flap track", "stainless steel", "passivated", "tap test", "log it"],
        [None, "bronze", "primed and\npainted", "torque\ncheck", "keep dry"],
        ["fuel cap", "titanium", "bare", "torque\ncheck", "lubricate lightly"],
    ]
    rows = HEADER + body
    spans = HEADER_SPANS | {(2, 3): (1, 2), (3, 0): (2, 1)}
    _assert_table(_detect(rows, spans, rules="none", bold_rows=2), rows, spans, header_rows=2)
