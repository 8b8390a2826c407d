"""Step 1 of table detection, on every page: runs of rows whose cells line up.

Decided on the text lines' boxes alone (a fraction of a millisecond a page):
no run, no table, and nothing else is computed.
"""

from __future__ import annotations

from dataclasses import dataclass

from mivaa_extractor.extraction.structure.lexicon import DOT_LEADER, LIST_MARKER, SUBCAPTION
from mivaa_extractor.extraction.structure.pymupdf_backend import span_is_bold
from mivaa_extractor.extraction.structure.tables.filters import is_math
from mivaa_extractor.extraction.structure.tables.lines import Row

# Consecutive rows of one table are at most this many row heights apart.
_ROW_GAP_FACTOR = 4.0
# A spanning header row sits at most this many row heights above the row of columns under it.
_HEADER_GAP_FACTOR = 1.0


@dataclass(slots=True)
class Run:
    """Consecutive rows whose cells line up: multi-cell rows sharing gutters, and the single-piece rows between."""

    rows: list[Row]
    gutters: list[tuple[float, float]]

    @property
    def multi_rows(self) -> list[Row]:
        return [row for row in self.rows if row.multi]


def _shared_gutters(upper: Row, lower: Row, active: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The gutters of `lower` that continue a gutter of the run, with the same columns on both sides.

    Overlapping whitespace is not enough (a page header's wide gap overlaps
    anything): the pieces left of both gutters must overlap horizontally, and
    so must the pieces right of them, which holds for left-, right- and
    centre-aligned columns alike.
    """
    shared: list[tuple[float, float]] = []
    upper_segments = upper.segments
    lower_segments = lower.segments
    for i in range(len(upper_segments) - 1):
        ul, ur = upper_segments[i], upper_segments[i + 1]
        for j in range(len(lower_segments) - 1):
            ll, lr = lower_segments[j], lower_segments[j + 1]
            lo, hi = max(ul.x1, ll.x1), min(ur.x0, lr.x0)
            if hi - lo < 1.0:
                continue
            if min(ul.x1, ll.x1) <= max(ul.x0, ll.x0) or min(ur.x1, lr.x1) <= max(ur.x0, lr.x0):
                continue
            for a0, a1 in active:
                if min(a1, hi) - max(a0, lo) >= 1.0:
                    shared.append((max(a0, lo), min(a1, hi)))
                    break
    return shared


def _is_cell_row(row: Row, text_width: float) -> bool:
    """A multi-piece row that could be table cells.

    Not two columns of prose (every piece a quarter of the text width or more:
    decided on the boxes alone, so two-column pages cost no text reading), not
    scattered figure labels ("0 | y | -3"), not sub-figure captions.
    """
    if not row.multi:
        return False
    if all(segment.x1 - segment.x0 >= 0.25 * text_width for segment in row.segments):
        return False
    texts = [segment.text for segment in row.segments]
    if sum(len(text) for text in texts) < 6 or max(len(text) for text in texts) < 3:
        return False
    return sum(1 for text in texts if SUBCAPTION.match(text)) < 2


def find_runs(rows: list[Row]) -> list[Run]:
    """Runs of aligned multi-cell rows, with the single-piece rows inside them (see the module docstring)."""
    if not rows:
        return []
    text_width = max(segment.x1 for row in rows for segment in row.segments) - min(
        segment.x0 for row in rows for segment in row.segments
    )
    runs: list[Run] = []
    current: list[Row] = []
    pending: list[Row] = []  # single-piece rows (wrapped cells, spanning labels) waiting for the next multi row
    active: list[tuple[float, float]] = []
    last_multi: Row | None = None

    def close() -> None:
        if sum(1 for row in current if row.multi) >= 2:
            # Lines after the last multi-cell row that stay inside the columns end wrapped cells.
            tail = []
            for row in pending:
                if not _within_gutters(row, active):
                    break
                tail.append(row)
            runs.append(Run(current + tail, list(active)))

    for row in rows:
        last = pending[-1] if pending else (current[-1] if current else None)
        near = last is not None and row.y0 - last.y1 <= _ROW_GAP_FACTOR * max(last.h, row.h)
        if row.multi and _is_cell_row(row, text_width):
            if current and near and last_multi is not None:
                shared = _shared_gutters(last_multi, row, active)
                if shared:
                    current.extend(pending)
                    current.append(row)
                    pending = []
                    active = shared
                    last_multi = row
                    continue
                if _under(row, last_multi):
                    pending.append(row)  # wrapped cells of a few columns: no gutter of their own to share
                    continue
            # A bold row right above, whose pieces span several of these columns, is the table's top header row.
            lead = [last_multi] if last_multi is not None and current == [last_multi] and near else []
            if lead and not (bold_row(lead[0]) and row.y0 - lead[0].y1 <= _HEADER_GAP_FACTOR * row.h):
                lead = []
            if not lead:
                close()
            current, pending, active, last_multi = [*lead, row], [], row.gutters(), row
        elif current and near and (len(pending) < 3 or _within_gutters(row, active)):
            # A wrapped cell's further lines, a spanning label: kept while they stay inside the columns.
            pending.append(row)
        else:
            close()
            current, pending, active, last_multi = [], [], [], None
    close()
    return runs


def drop_page_gutters(run: Run, rows: list[Row]) -> bool:
    """Forget the run's gutters that are the page's column gutter; False when none is left.

    On a two-column page rows have two pieces around the same gutter, so any
    two consecutive rows "line up". A gutter that rows outside the run have text
    on both sides of, and hardly ever across, is the page's, not a table's; a
    table's gutters are covered by the prose around the table.
    """
    # Rows next to the run may be more of the same table (cells the run did not take in): no votes.
    height = sorted(row.h for row in run.rows)[len(run.rows) // 2]
    top = run.rows[0].y0 - 3 * height
    bottom = run.rows[-1].y1 + 3 * height
    outside = [row for row in rows if row.y1 < top or row.y0 > bottom]
    if len(outside) < 8:
        return True
    width = max(segment.x1 for row in rows for segment in row.segments) - min(
        segment.x0 for row in rows for segment in row.segments
    )
    kept: list[tuple[float, float]] = []
    for g0, g1 in run.gutters:
        middle = (g0 + g1) / 2  # the run's gutter is the narrowest of its rows': compare with its middle
        both_sides = across = 0
        for row in outside:
            segments = row.segments
            if any(segment.x0 < middle < segment.x1 for segment in segments):
                across += 1
            elif (
                # Two lines of prose side by side; a running header's "page 42 | Title" does not vote.
                len(segments) == 2
                and segments[0].x1 <= middle <= segments[1].x0
                and min(segments[0].x1 - segments[0].x0, segments[1].x1 - segments[1].x0) >= 0.2 * width
            ):
                both_sides += 1
        # Columns of a page do not share every baseline, so a quarter of the rows with text on
        # both sides is plenty, as long as hardly any line runs across.
        if not (both_sides * 4 >= len(outside) and across * 5 <= len(outside)):
            kept.append((g0, g1))
    run.gutters = kept
    return bool(kept)


def bold_row(row: Row) -> bool:
    """Every character of the row bold: a header row."""
    spans = [span for segment in row.segments for line in segment.lines for span in line.spans if span["text"].strip()]
    return bool(spans) and all(span_is_bold(span) for span in spans)


def _under(row: Row, above: Row) -> bool:
    """Every piece of `row` under its own piece of `above`: wrapped cells of a few columns ("fitting" | "painted")."""
    if len(row.segments) >= len(above.segments):
        return False
    taken: set[int] = set()
    for segment in row.segments:
        matches = [
            index
            for index, upper in enumerate(above.segments)
            if min(upper.x1, segment.x1) - max(upper.x0, segment.x0)
            > 0.5 * min(upper.x1 - upper.x0, segment.x1 - segment.x0)
        ]
        if len(matches) != 1 or matches[0] in taken:
            return False
        taken.add(matches[0])
    return True


def _within_gutters(row: Row, gutters: list[tuple[float, float]]) -> bool:
    """A row none of whose pieces crosses one of the run's gutters: text inside the columns."""
    return not any(segment.x0 < g0 and segment.x1 > g1 for segment in row.segments for g0, g1 in gutters)


def run_is_tabular(run: Run) -> bool:
    """False for runs that are aligned mathematics, a table of contents or a list (checked on the multi rows only)."""
    multi = run.multi_rows
    if len(multi) > 12:  # a sample decides as well as all of them
        step = len(multi) / 12
        multi = [multi[int(index * step)] for index in range(12)]
    math = toc = enumerated = 0
    for row in multi:
        texts = [segment.text for segment in row.segments]
        if any(DOT_LEADER.search(text) for text in texts):
            toc += 1
        if LIST_MARKER.match(texts[0]) and len(row.segments) == 2:
            enumerated += 1
        if is_math([line for segment in row.segments for line in segment.lines]):
            math += 1
    count = len(multi)
    return math * 5 < count * 2 and toc * 5 < count and enumerated * 5 < count * 3
