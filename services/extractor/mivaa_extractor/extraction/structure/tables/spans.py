"""Spans of tables without rules, read from where their text sits: two-level headers and key cells over two rows."""

from __future__ import annotations

from mivaa_extractor.extraction.structure.pymupdf_backend import span_is_bold
from mivaa_extractor.extraction.structure.tables.lines import Row


def two_level_header(
    table_rows: list[list[Row]], occupied: dict[int, list[tuple[int, int]]], count: int
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Spans of a rule-less two-level header: two bold rows over a body that is not bold.

    A top cell followed by empty slots, over cells of the second row, heads them
    ("Properties" over "Material" and "Finish"; left-aligned, it does not reach
    across their gutter); a top cell with nothing under it heads both rows
    ("Component"). Returns the (row, column) pairs open to the right and downwards.
    """
    if len(table_rows) < 4 or not all(_bold(table_rows[index]) for index in (0, 1)) or _bold(table_rows[2]):
        return set(), set()
    top = sorted(occupied[0])
    below = {column for first, last in occupied[1] for column in range(first, last + 1)}
    across: set[tuple[int, int]] = set()
    down: set[tuple[int, int]] = set()
    for index, (first, last) in enumerate(top):
        end = top[index + 1][0] - 1 if index + 1 < len(top) else count - 1
        if end > last and all(column in below for column in range(last + 1, end + 1)):
            across.update((0, column) for column in range(first, end))
        elif first == last and first not in below:
            down.add((0, first))
    return across, down


def key_spans(occupied: dict[int, list[tuple[int, int]]], header: int) -> set[tuple[int, int]]:
    """In a table without rules, a body row with an empty first cell and others filled is under the key above it.

    The key cell spans both rows ("fuel cap" over two rows of materials). Returns
    the (row, 0) pairs open downwards.
    """
    down: set[tuple[int, int]] = set()
    for row_index in range(header + 1, len(occupied)):
        cells = occupied[row_index]
        if (
            len(cells) >= 2
            and all(first > 0 for first, _ in cells)
            and ((row_index - 2, 0) in down or any(first == 0 for first, _ in occupied[row_index - 1]))
        ):
            down.add((row_index - 1, 0))
    return down


def _bold(group: list[Row]) -> bool:
    spans = [
        span
        for row in group
        for segment in row.segments
        for line in segment.lines
        for span in line.spans
        if span["text"].strip()
    ]
    return bool(spans) and all(span_is_bold(span) for span in spans)
