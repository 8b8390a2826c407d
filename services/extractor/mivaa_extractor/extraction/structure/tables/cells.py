"""From a grid to a `Table`: cell texts and styles, header rows, and the candidates a page's tables are chosen from."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mivaa_extractor.extraction.structure.bidi import strong_counts
from mivaa_extractor.extraction.structure.lexicon import RIGHT_TO_LEFT_CHARS, is_numeric
from mivaa_extractor.extraction.structure.model import BBox, Table, TableCell
from mivaa_extractor.extraction.structure.pymupdf_backend import span_is_bold
from mivaa_extractor.extraction.structure.tables.filters import is_list, is_math, is_toc
from mivaa_extractor.extraction.structure.tables.grid import Grid
from mivaa_extractor.extraction.structure.tables.lines import Line


@dataclass(slots=True)
class Candidate:
    """A table read from a frame or a run, before its box is trimmed against the text around it."""

    bbox: BBox
    table: Table
    lines: list[Line]  # the lines the table's cells were read from


def to_table(grid: Grid) -> Table | None:
    """The `Table` of a grid with its header rows, or None when the grid is not a table after all."""
    texts = grid.texts()
    styles = {(row, column): _style(cell_lines) for row, column, _, _, cell_lines in grid.cells}

    slots = grid.row_count * grid.column_count
    covered = sum(
        row_span * column_span for row, column, row_span, column_span, _ in grid.cells if texts[(row, column)]
    )
    if covered * 2 < slots:
        return None  # mostly empty: a drawing's grid with a few labels, not a table
    per_row = Counter(row for (row, _), text in texts.items() if text)
    if sum(1 for count in per_row.values() if count >= 2) < 2:
        return None
    all_lines = [line for *_, cell_lines in grid.cells for line in cell_lines]
    if is_math(all_lines) or is_toc(grid, texts) or is_list(grid, texts):
        return None

    header_rows = _header_rows(grid, texts, styles)
    mirrored = _right_to_left(texts)
    cells = tuple(
        TableCell(
            row=row,
            # A right-to-left table is read from its right edge: its first column is the rightmost one.
            column=grid.column_count - column - column_span if mirrored else column,
            text=texts[(row, column)],
            row_span=row_span,
            column_span=column_span,
            header=row < header_rows,
        )
        for row, column, row_span, column_span, _ in grid.cells
    )
    if mirrored:
        cells = tuple(sorted(cells, key=lambda cell: (cell.row, cell.column)))
    return Table(row_count=grid.row_count, column_count=grid.column_count, cells=cells, header_rows=header_rows)


def _right_to_left(texts: dict[tuple[int, int], str]) -> bool:
    """Whether most of the table's letters are Hebrew or Arabic: a table laid out right to left."""
    joined = " ".join(texts.values())
    if not RIGHT_TO_LEFT_CHARS.search(joined):
        return False  # the common case: one regex per table
    rtl, ltr = strong_counts(joined)
    return rtl > ltr


def _style(lines: list[Line]) -> tuple[bool, str, float]:
    """(bold, dominant font, dominant size) of a cell's characters."""
    fonts: Counter[tuple[str, float]] = Counter()
    bold = total = 0
    for line in lines:
        for span in line.spans:
            count = len(span["text"].strip())
            if not count:
                continue
            total += count
            fonts[(span["font"], round(span["size"], 1))] += count
            if span_is_bold(span):
                bold += count
    if not total:
        return (False, "", 0.0)
    (font, size), _ = fonts.most_common(1)[0]
    return (bold * 2 > total, font, size)


def _header_rows(grid: Grid, texts: dict[tuple[int, int], str], styles: dict) -> int:
    """How many leading rows are header rows (0 when nothing sets the first row apart)."""
    rows: list[list[tuple[int, int]]] = [[] for _ in range(grid.row_count)]
    for row, column, *_ in grid.cells:
        if texts[(row, column)]:
            rows[row].append((row, column))
    if not rows[0] or grid.row_count < 2:
        return 0
    # booktabs: a full-width rule closes the header, and the body is not ruled row by row.
    ruled = [index for index in range(1, grid.row_count) if grid.borders[index].rules]
    full = [index for index in ruled if grid.borders[index].full]
    if full and full[0] <= 3 and len(ruled) < grid.row_count - 1:
        return full[0]
    body = [key for index in range(1, grid.row_count) for key in rows[index]]
    if not body:
        return 0
    # Bold leading rows above a body that is not all bold.
    bold_rows = 0
    while bold_rows < min(3, grid.row_count - 1) and rows[bold_rows] and all(styles[key][0] for key in rows[bold_rows]):
        bold_rows += 1
    if bold_rows and not all(styles[key][0] for index in range(bold_rows, grid.row_count) for key in rows[index]):
        return bold_rows
    # A non-numeric first row above numeric columns.
    if not any(is_numeric(texts[key]) for key in rows[0]):
        for column in range(grid.column_count):
            values = [texts.get((index, column), "") for index in range(1, grid.row_count)]
            values = [value for value in values if value]
            if values and sum(1 for value in values if is_numeric(value)) * 2 > len(values):
                return 1
    # A first row in a font (family or size) of its own, the body sharing another.
    head = {styles[key][1:] for key in rows[0]}
    body_styles = Counter(styles[key][1:] for key in body)
    if len(head) == 1 and body_styles:
        head_style = next(iter(head))
        body_style, count = body_styles.most_common(1)[0]
        if head_style != body_style and head_style not in body_styles and count * 10 >= len(body) * 8:
            return 1
    return 0
