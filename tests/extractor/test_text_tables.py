"""Tables of text only (no numeric column, no rules between cells), found by their header row.

The pages are made here: the same rows of labels, with the header row set in
bold, then with a rule under it, then with nothing that sets it apart (aligned
text, not a table: its words stay in the body).
"""

from __future__ import annotations

import pathlib

import pymupdf
import pytest

from bench.quality_words import word_recall
from mivaa_extractor.extraction.structure.document import extract_document
from mivaa_extractor.extraction.structure.model import BlockKind

ROWS = (
    ("Fastener", "Material", "Typical use"),
    ("Boots nut", "Steel alloy", "Engine mounts"),
    ("Elastic stop nut", "Fiber collar", "Control cables"),
    ("Castle nut", "Cadmium steel", "Wheel axles"),
    ("Wing nut", "Brass", "Battery clamps"),
)
COLUMNS = (72.0, 220.0, 360.0)
INTRO = "Common aircraft nuts and where they are used are listed in the table below."
OUTRO = "The table shows that each nut has its own place on the aircraft and its own material."


def _rows(page: pymupdf.Page, y: float, rows: tuple[tuple[str, ...], ...], *, bold_rows: int = 0) -> float:
    for index, row in enumerate(rows):
        for x, cell in zip(COLUMNS, row, strict=True):
            page.insert_text((x, y), cell, fontsize=10, fontname="hebo" if index < bold_rows else "helv")
        y += 16
    return y


def _table_pdf(path: pathlib.Path, header: str) -> pathlib.Path:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), INTRO, fontsize=10, fontname="helv")
    # Far enough from the text around it not to take it for a caption.
    y = _rows(page, 150.0, ROWS, bold_rows=1 if header == "bold" else 0)
    if header == "rule":
        page.draw_line((70, 154), (480, 154), width=0.8)
    page.insert_text((72, y + 50), OUTRO, fontsize=10, fontname="helv")
    doc.save(path)
    return path


@pytest.mark.parametrize("header", ["bold", "rule"])
def test_text_only_table_with_a_header_row_is_a_table(tmp_path: pathlib.Path, header: str):
    path = _table_pdf(tmp_path / f"{header}.pdf", header)
    blocks = extract_document(path).pages[0].blocks
    tables = [b.table for b in blocks if b.kind is BlockKind.TABLE]
    assert len(tables) == 1 and tables[0] is not None
    assert tables[0].grid() == [list(row) for row in ROWS]
    assert tables[0].header_rows == 1
    paragraphs = [b.text for b in blocks if b.kind is BlockKind.PARAGRAPH]
    assert paragraphs == [INTRO, OUTRO]
    assert not word_recall(path).lost


def test_aligned_text_without_a_header_row_stays_text(tmp_path: pathlib.Path):
    path = _table_pdf(tmp_path / "plain.pdf", "none")
    blocks = extract_document(path).pages[0].blocks
    assert not [b for b in blocks if b.kind is BlockKind.TABLE]
    assert not word_recall(path).lost


def test_merged_header_cell_over_two_columns_spans_them(tmp_path: pathlib.Path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), INTRO, fontsize=10, fontname="helv")
    # Row 0: "Fastener", then one bold cell centred over the last two columns.
    page.insert_text((COLUMNS[0], 150), "Fastener", fontsize=10, fontname="hebo")
    page.insert_text((265, 150), "Where and how it is used", fontsize=10, fontname="hebo")
    y = _rows(page, 166.0, (("Name", "Material", "Typical use"), *ROWS[1:]), bold_rows=1)
    page.insert_text((72, y + 50), OUTRO, fontsize=10, fontname="helv")
    path = tmp_path / "merged.pdf"
    doc.save(path)
    tables = [b.table for b in extract_document(path).pages[0].blocks if b.kind is BlockKind.TABLE]
    assert len(tables) == 1 and tables[0] is not None
    table = tables[0]
    assert table.header_rows == 2
    assert [(c.row, c.column, c.column_span, c.text) for c in table.cells if c.row == 0] == [
        (0, 0, 1, "Fastener"),
        (0, 1, 2, "Where and how it is used"),
    ]
    assert table.grid()[1:] == [["Name", "Material", "Typical use"], *(list(row) for row in ROWS[1:])]
    assert not word_recall(path).lost
