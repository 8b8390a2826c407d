"""What is not a table after all: mathematics, tables of contents, lists, and rule-less grids without numbers."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from mivaa_extractor.extraction.structure.lexicon import (
    DOT_LEADER,
    LIST_MARKER,
    PAGE_REFERENCE,
    SECTION_NUMBER,
    is_numeric,
)
from mivaa_extractor.extraction.structure.pymupdf_backend import span_is_bold
from mivaa_extractor.extraction.structure.tables.grid import Grid
from mivaa_extractor.extraction.structure.tables.lines import Line

_MATH_FONT = re.compile(
    r"cmmi|cmsy|cmex|msbm|msam|eufm|eusm|rsfs|stmary|wasy|lasy|mathematicalpi|math|symbol|cambria\s*math|"
    r"stix.*(?:math|integrals|sizes)|txsy|txex|pxsy|pxex|ntxsy|ntxmi|mtmi|mtsy|rmtmi",
    re.IGNORECASE,
)
# Relations and operators outside math fonts; inside one, digits and signs (a number set in math mode) do not count.
_MATH_CHAR = re.compile(r"[=<>≤≥≠≈≡∼≃≅∝∈∉∋⊂⊃⊆⊇⊊∪∩∖∀∃∄∑∏∫∮∂∇√∞→←↔⇒⇐⇔↦∘⊕⊗⊥∥∧∨¬∓÷′″⟨⟩|^_{}]")
_NOT_MATH_IN_MATH_FONT = re.compile(r"[\d−\-±.,()%]")


@lru_cache(maxsize=512)
def _is_math_font(font: str) -> bool:
    return bool(_MATH_FONT.search(font))


def is_math(lines: Iterable[Line]) -> bool:
    """Mostly variables and relations: an equation, not a row of cells.

    Counted: what math fonts draw apart from digits and signs, and relation
    and operator symbols in other fonts; a fifth of the characters makes an
    equation. Digits, signs, "±" and "×" do not count: a numeric table set in
    math mode ("−0.93", "85.3 ± 0.2", "3 × 4") is still a table.
    """
    math = total = 0
    for line in lines:
        for span in line.spans:
            text = span["text"]
            count = len(text) - text.count(" ")
            if not count:
                continue
            total += count
            if _is_math_font(span["font"]):
                math += count - len(_NOT_MATH_IN_MATH_FONT.findall(text))
            else:
                math += len(_MATH_CHAR.findall(text))
    return total > 0 and math * 5 >= total


def is_toc(grid: Grid, texts: dict[tuple[int, int], str]) -> bool:
    """A table of contents: dot leaders, or section numbers in front and ascending page numbers at the end."""
    if sum(1 for text in texts.values() if DOT_LEADER.search(text)) >= 2:
        return True
    pages = [texts.get((row, grid.column_count - 1), "") for row in range(grid.row_count)]
    pages = [text for text in pages if text]
    if grid.column_count <= 3 and pages and all(PAGE_REFERENCE.match(text) for text in pages):
        numbers = [int(text) for text in pages if text.isdigit()]
        sections = [texts.get((row, 0), "") for row in range(grid.row_count)]
        sections = [text for text in sections if text]
        numbered = sum(1 for text in sections if SECTION_NUMBER.match(text))
        if numbers == sorted(numbers) and numbered * 2 >= len(sections):
            return True
    return False


def is_list(grid: Grid, texts: dict[tuple[int, int], str]) -> bool:
    """A list laid out in two columns: bullets or enumerators on the left."""
    if grid.column_count > 2:
        return False
    first = [texts.get((row, 0), "") for row in range(grid.row_count)]
    first = [text for text in first if text]
    return sum(1 for text in first if LIST_MARKER.match(text)) * 5 >= len(first) * 3


def looks_tabular(grid: Grid) -> bool:
    """The stricter test for tables without row or column rules: three columns and rows, filled, with numbers.

    Aligned prose, glossaries, indexes and boxed two-column text fail it. A
    text-only table passes when a header row is set apart (bold over a body
    that is not, or a rule under it) and its cells are short.
    """
    if grid.row_count < 3 or grid.column_count < 3:
        return False
    texts = grid.texts()
    filled: Counter[int] = Counter()
    first_filled: set[int] = set()
    for row, column, _, column_span, _ in grid.cells:
        if texts[(row, column)]:
            filled[row] += column_span
            if column == 0:
                first_filled.add(row)
    # Rows with text in one later column only are further lines of a cell (value lists under a
    # description); they neither count for nor against the table.
    counted = [index for index in range(grid.row_count) if filled[index] >= 2 or index in first_filled]
    filled_rows = sum(1 for index in counted if filled[index] >= grid.column_count - 1)
    if filled_rows < 3 or filled_rows * 10 < len(counted) * 6:
        return False
    for column in range(grid.column_count):
        values = [texts.get((index, column), "") for index in range(1, grid.row_count)]
        values = [value for value in values if value]
        # "(1)", "2." are list markers in a margin column, not data.
        numbers = sum(1 for value in values if is_numeric(value) and not LIST_MARKER.match(value))
        if len(values) >= 2 and numbers * 10 >= len(values) * 6:
            return True
    return _compact_text_grid(grid, texts) and _header_set_apart(grid)


# A text-only table's cells are labels and short phrases; aligned prose has lines of a sentence.
MAX_TEXT_CELL_MEDIAN = 32


def _compact_text_grid(grid: Grid, texts: dict[tuple[int, int], str]) -> bool:
    """Short cells, a header cell over every column and two cells or more in every row."""
    lengths = sorted(len(text) for (row, _), text in texts.items() if text and row > 0)
    if not lengths or lengths[len(lengths) // 2] > MAX_TEXT_CELL_MEDIAN:
        return False
    per_row = Counter(row for (row, _), text in texts.items() if text)
    # A merged header cell heads every column it spans.
    headed = sum(column_span for row, column, _, column_span, _ in grid.cells if row == 0 and texts[(row, column)])
    return headed == grid.column_count and all(per_row[row] >= 2 for row in range(1, grid.row_count))


def _header_set_apart(grid: Grid) -> bool:
    """Leading bold rows (a merged header cell over a row of column heads, say) over a body that is not bold,
    or a rule right under the first row and none under the rest."""
    if grid.row_count > 1 and grid.borders[1].rules and not any(border.rules for border in grid.borders[2:-1]):
        return True
    bold = [True] * grid.row_count
    cells = [0] * grid.row_count
    tops = [float("inf")] * grid.row_count
    bottoms = [float("-inf")] * grid.row_count
    for row, _, row_span, _, cell_lines in grid.cells:
        spans = [span for line in cell_lines for span in line.spans if span["text"].strip()]
        if spans:
            cells[row] += 1
            bold[row] = bold[row] and all(span_is_bold(span) for span in spans)
        if cell_lines and row_span == 1:
            tops[row] = min(tops[row], *(line.y0 for line in cell_lines))
            bottoms[row] = max(bottoms[row], *(line.y1 for line in cell_lines))
    header = 0
    while header < min(2, grid.row_count - 2) and bold[header]:
        header += 1
    if not header or sum(cells[:header]) < 2 or any(bold[header:]):
        return False
    # A bold line well above the rows (a running header, a title) does not head them.
    gaps = sorted(tops[index + 1] - bottoms[index] for index in range(header, grid.row_count - 1))
    return not gaps or tops[1] - bottoms[0] <= 2 * max(gaps[len(gaps) // 2], 2.0)
