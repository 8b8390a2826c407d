"""Text tables with merged cells (rowspan/colspan) as HTML and as their TableTruth grid."""

from __future__ import annotations

import html
import random

from bench.ground_truth.types import TableTruth
from bench.ground_truth.vocab import TABLE_HEADERS, TABLE_WORDS

Cell = tuple[str, int, int]  # text, rowspan, colspan


def grid_of(rows: list[list[Cell]]) -> tuple[list[list[str]], list[tuple[int, int, int, int]]]:
    """Lays HTML rows out on the grid as a browser does: each cell takes the next free position."""
    grid: dict[tuple[int, int], str] = {}
    spans = []
    for r, row in enumerate(rows):
        c = 0
        for text, rowspan, colspan in row:
            while (r, c) in grid:
                c += 1
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid[(r + dr, c + dc)] = ""
            grid[(r, c)] = text
            if rowspan > 1 or colspan > 1:
                spans.append((r, c, rowspan, colspan))
            c += colspan
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    return [[grid.get((r, c), "") for c in range(width)] for r in range(height)], spans


def table_html(rows: list[list[Cell]], header_rows: int, ruled: bool) -> str:
    out = [f'<table class="{"ruled" if ruled else "plain"}">']
    for r, row in enumerate(rows):
        tag = "th" if r < header_rows else "td"
        cells = []
        for text, rowspan, colspan in row:
            attributes = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (
                f' colspan="{colspan}"' if colspan > 1 else ""
            )
            cells.append(f"<{tag}{attributes}>{html.escape(text)}</{tag}>")
        out.append(f"<tr>{''.join(cells)}</tr>")
    out.append("</table>")
    return "".join(out)


def merged_table(rng: random.Random, caption: str, *, two_level_header: bool, ruled: bool) -> tuple[str, TableTruth]:
    """Five text columns; a body cell spanning two rows and a remark spanning two columns.

    With `two_level_header`, the header has two rows: "Component" spans both, "Properties" and
    "Checks" each span two columns above their sub-headers.
    """
    headers = list(TABLE_HEADERS)
    rows: list[list[Cell]] = []
    if two_level_header:
        rows.append([(headers[0], 2, 1), ("Properties", 1, 2), ("Checks", 1, 2)])
        rows.append([(h, 1, 1) for h in headers[1:]])
    else:
        rows.append([(h, 1, 1) for h in headers])
    header_rows = len(rows)
    body_rows = rng.randint(4, 6)
    tall = rng.randint(0, body_rows - 2)  # the body row whose component cell spans two rows
    wide = rng.choice([r for r in range(body_rows) if r not in (tall, tall + 1)] or [tall + 1])
    seen: set[tuple[str, ...]] = set()
    for r in range(body_rows):
        while True:
            words = tuple(rng.choice(TABLE_WORDS[h]) for h in headers)
            if words not in seen:
                seen.add(words)
                break
        row: list[Cell] = []
        if r != tall + 1:  # the row below `tall` has its first position covered
            row.append((words[0], 2 if r == tall else 1, 1))
        row.extend((word, 1, 1) for word in words[1:3])
        if r == wide and r != tall + 1:
            row.append((f"{words[3]} only, {words[4]}", 1, 2))
        else:
            row.extend((word, 1, 1) for word in words[3:])
        rows.append(row)
    grid, spans = grid_of(rows)
    truth = TableTruth(
        rows=tuple(tuple(row) for row in grid),
        header_rows=header_rows,
        caption=caption,
        ruled=ruled,
        spans=tuple(spans),
    )
    return table_html(rows, header_rows, ruled), truth
