"""A table that crosses a page break: the rows on the next page are chunked under the first part's header.

Searched for, a row on the second page must come with the column names it belongs to, not with its
own first row posing as a header (what the continuation looks like on its own), and a repeated
header row is not a row. Real extraction of generated ruled tables; the Markdown export joins the
parts into one table by the same rule (Table.continued_by).
"""

from __future__ import annotations

import pymupdf
import pytest

from mivaa_extractor.extraction.chunking import Chunker
from mivaa_extractor.extraction.structure.markdown import document_markdown
from mivaa_extractor.extraction.structure.model import Block, BlockKind, PageLayout, Table, TableCell
from mivaa_extractor.extraction.text_extraction import extract_page_range

HEADER = ["Station", "Range km", "Height m"]
ROWS = [
    [f"Station {i:02d} {side}", str(10 + i), str(100 + 3 * i)]
    for i, side in zip(range(60), ["north", "south", "east", "west"] * 15)
]


def _ruled_table(page: pymupdf.Page, rows: list[list[str]], top: float, bold_first: bool, widths=(150, 120, 120)):
    left, height = 72.0, 20.0
    xs = [left]
    for width in widths:
        xs.append(xs[-1] + width)
    for r in range(len(rows) + 1):
        page.draw_line((left, top + r * height), (xs[-1], top + r * height), width=0.8)
    for x in xs:
        page.draw_line((x, top), (x, top + len(rows) * height), width=0.8)
    for r, row in enumerate(rows):
        font = "hebo" if bold_first and r == 0 else "helv"
        for c, text in enumerate(row):
            page.insert_text((xs[c] + 4, top + r * height + 14), text[: len(rows[0]) * 40], fontsize=9, fontname=font)


def _two_page_table(tmp_path, *, repeat_header: bool, second_columns: int = 3) -> str:
    document = pymupdf.open()
    first = document.new_page(width=595, height=842)
    first.insert_text((72, 72), "Field stations", fontsize=16, fontname="hebo")
    first.insert_text((72, 100), "Table 1: Stations surveyed in the spring campaign.", fontsize=10, fontname="helv")
    _ruled_table(first, [HEADER, *ROWS[:32]], 120, bold_first=True)
    second = document.new_page(width=595, height=842)
    rest = [row[:second_columns] for row in ROWS[32:]]
    header = [HEADER[:second_columns]] if repeat_header else []
    widths = (150, 120, 120)[:second_columns]
    _ruled_table(second, header + rest, 72, bold_first=repeat_header, widths=widths)
    bottom = 72 + 20 * (len(rest) + len(header)) + 30
    second.insert_text(
        (72, bottom), "After the table the text goes on with other matters.", fontsize=10, fontname="helv"
    )
    path = tmp_path / f"table-{repeat_header}-{second_columns}.pdf"
    document.save(path)
    document.close()
    return str(path)


def _chunks(path: str) -> list:
    chunker = Chunker(max_tokens=128, overlap_tokens=16)
    chunks = []
    for page in extract_page_range(path, None, 0, 2):
        chunks.extend(chunker.feed(page))
    return chunks + chunker.finish()


@pytest.mark.parametrize("repeat_header", [True, False])
def test_rows_on_the_next_page_keep_the_tables_header_and_caption(tmp_path, repeat_header):
    chunks = _chunks(_two_page_table(tmp_path, repeat_header=repeat_header))
    tables = [chunk for chunk in chunks if BlockKind.TABLE in chunk.block_kinds]
    second = [chunk for chunk in tables if chunk.page_start == 2]
    assert second, "the continuation was chunked as a table"
    assert any("After the table the text goes on" in chunk.text for chunk in chunks), "no text lost"
    for chunk in tables:
        lines = chunk.text.splitlines()
        assert lines[:3] == [
            "Table 1: Stations surveyed in the spring campaign.",
            "| Station | Range km | Height m |",
            "|---|---|---|",
        ]
        assert chunk.page_start == chunk.page_end  # a row is cited on the page it is printed on
    # Every row once, on its own page; the repeated header is not a row.
    body = [line for chunk in tables for line in chunk.text.splitlines()[3:]]
    assert body == [f"| {name} | {km} | {m} |" for name, km, m in ROWS]
    assert all(chunk.page_start == 2 for chunk in tables if "Station 32 north" in chunk.text)


def test_a_table_of_other_columns_at_the_top_of_the_next_page_is_a_table_of_its_own(tmp_path):
    chunks = _chunks(_two_page_table(tmp_path, repeat_header=True, second_columns=2))
    second = [chunk for chunk in chunks if BlockKind.TABLE in chunk.block_kinds and chunk.page_start == 2]
    assert second
    for chunk in second:  # its own header (a sentence next to it may read as its caption), not the first table's
        assert "| Station | Range km |\n|---|---|\n" in chunk.text and "Height m" not in chunk.text


def _table(rows: list[list[str]], header_rows: int) -> Table:
    cells = tuple(TableCell(r, c, text) for r, row in enumerate(rows) for c, text in enumerate(row))
    return Table(len(rows), len(rows[0]), cells, header_rows)


def _page(number: int, *blocks: Block) -> PageLayout:
    return PageLayout(number=number, width=595, height=842, blocks=list(blocks))


def test_text_between_the_parts_or_a_failed_page_ends_the_table():
    start = Block(BlockKind.TABLE, (72, 600, 460, 800), "", table=_table([HEADER, ROWS[0]], 1))
    more = Block(BlockKind.TABLE, (72, 72, 460, 120), "", table=_table([ROWS[1], ROWS[2]], 0))
    words = Block(BlockKind.PARAGRAPH, (72, 72, 460, 90), "Some words come first on this page.")
    for pages in (
        [_page(1, start), _page(2, words, more)],
        [_page(1, start, words), _page(2, more)],
        [_page(1, start), PageLayout.from_text(2, "", error=None), _page(3, more)],
    ):
        chunker = Chunker(max_tokens=128, overlap_tokens=16)
        chunks = [chunk for page in pages for chunk in chunker.feed(page)] + chunker.finish()
        [own] = [chunk for chunk in chunks if "Station 01" in chunk.text]
        assert own.text.startswith("| Station 01 south | 11 | 103 |\n|---|---|---|"), own.text


def test_the_markdown_export_joins_the_parts_into_one_table(tmp_path):
    pages = extract_page_range(_two_page_table(tmp_path, repeat_header=False), None, 0, 2)
    markdown = "\n\n".join(document_markdown(pages))
    table = markdown[markdown.index("| Station |") :].split("\n\n")[0].splitlines()
    assert table[:2] == ["| Station | Range km | Height m |", "|---|---|---|"]
    assert table[2:] == [f"| {name} | {km} | {m} |" for name, km, m in ROWS]


def _three_page_table(tmp_path) -> str:
    """Page 1: header and rows; page 2: rows only; page 3: the header repeated, then rows."""
    document = pymupdf.open()
    parts = [[HEADER, *ROWS[:20]], ROWS[20:40], [HEADER, *ROWS[40:]]]
    for number, rows in enumerate(parts):
        page = document.new_page(width=595, height=842)
        _ruled_table(page, rows, 72, bold_first=rows[0] == HEADER)
        if number == 2:
            page.insert_text((72, 72 + 20 * len(rows) + 60), "The list ends here.", fontsize=10, fontname="helv")
    path = tmp_path / "three.pdf"
    document.save(path)
    document.close()
    return str(path)


def test_a_table_over_three_pages_is_one_table_with_one_header(tmp_path):
    path = _three_page_table(tmp_path)
    pages = extract_page_range(path, None, 0, 3)
    chunker = Chunker(max_tokens=128, overlap_tokens=16)
    chunks = [chunk for page in pages for chunk in chunker.feed(page)] + chunker.finish()
    tables = [chunk for chunk in chunks if BlockKind.TABLE in chunk.block_kinds]
    assert {chunk.page_start for chunk in tables} == {1, 2, 3}
    body = []
    for chunk in tables:
        lines = chunk.text.splitlines()
        assert lines[:2] == ["| Station | Range km | Height m |", "|---|---|---|"], chunk.text
        body.extend(lines[2:])
    assert body == [f"| {name} | {km} | {m} |" for name, km, m in ROWS]
    markdown = "\n\n".join(document_markdown(pages))
    table = markdown[markdown.index("| Station |") :].split("\n\n")[0].splitlines()
    assert table == ["| Station | Range km | Height m |", "|---|---|---|", *body]
