"""Columns of a table: vertical rules, the text's own gutters, and lines cut where they cross a column edge."""

from __future__ import annotations

from dataclasses import dataclass

from mivaa_extractor.extraction.structure.tables.lines import Line, Row, Segment, cluster_rows, split_line


@dataclass(slots=True)
class Columns:
    """Column edges left to right; `ruled[i]` tells whether the edge between column i and i + 1 is a vertical rule."""

    edges: list[float]
    ruled: list[bool]

    @property
    def count(self) -> int:
        return len(self.edges) - 1

    def of(self, x: float) -> int:
        for index in range(self.count - 1):
            if x < self.edges[index + 1]:
                return index
        return self.count - 1

    def covered(self, segment: Segment) -> tuple[int, int]:
        """The columns a piece of text fills: it may span text gutters, never a vertical rule."""
        centre = self.of((segment.x0 + segment.x1) / 2)
        lo = centre
        while lo > 0 and not self.ruled[lo - 1]:
            lo -= 1
        hi = centre
        while hi < self.count - 1 and not self.ruled[hi]:
            hi += 1
        first = min(centre, max(lo, self.of(segment.x0 + 0.5)))
        last = max(centre, min(hi, self.of(segment.x1 - 0.5)))
        return first, last


def split_at_rules(lines: list[Line], xs: list[float]) -> list[Line]:
    """Lines that run across a vertical rule cut in two there (MuPDF joins text close to a thin rule)."""
    result: list[Line] = []
    for line in lines:
        cuts = [x for x in xs if line.x0 + 1.0 < x < line.x1 - 1.0]
        pieces = split_line(line, cuts, force=True) if cuts else None
        result.extend(pieces or [line])
    return result


def split_at_gutters(lines: list[Line], columns: Columns) -> list[Line]:
    """Lines that cross text column edges cut at the spaces there, when every piece then fits one column.

    A header spanning columns ("Retrieval Accuracy") does not split into
    pieces that each fit a column, so it stays one spanning cell.
    """
    result: list[Line] = []
    for line in lines:
        cuts = [
            columns.edges[index + 1]
            for index in range(columns.count - 1)
            if not columns.ruled[index] and line.x0 + 1.0 < columns.edges[index + 1] < line.x1 - 1.0
        ]
        pieces = split_line(line, cuts, force=False) if cuts else None
        if (
            pieces
            and len(pieces) == len(cuts) + 1
            and all(columns.of(piece.x0 + 0.5) == columns.of(piece.x1 - 0.5) for piece in pieces)
        ):
            result.extend(pieces)
        else:
            result.append(line)
    return result


def frame_columns(lines: list[Line], x0: float, x1: float, rule_xs: list[float]) -> Columns | None:
    """Columns between the vertical rules, each region split further at its text gutters."""
    if not rule_xs:
        edges = text_columns(cluster_rows(lines), x0, x1, tolerance=True)
        return None if edges is None else Columns(edges, [False] * (len(edges) - 2))
    bounds = [x0, *rule_xs, x1]
    edges = [x0]
    ruled: list[bool] = []
    for index in range(len(bounds) - 1):
        a, b = bounds[index], bounds[index + 1]
        region = [line for line in lines if a <= (line.x0 + line.x1) / 2 < b]
        sub = text_columns(cluster_rows(region), a, b, tolerance=True) if region else None
        if sub is not None:
            for edge in sub[1:-1]:
                edges.append(edge)
                ruled.append(False)
        edges.append(b)
        if index < len(bounds) - 2:
            ruled.append(True)
    return Columns(edges, ruled) if len(edges) >= 3 else None


def text_columns(rows: list[Row], x0: float, x1: float, *, tolerance: bool) -> list[float] | None:
    """Column edges from the whitespace gutters between the rows' pieces of text.

    Strictly, a gutter is an x range that no piece of a multi-cell row covers.
    With `tolerance` (inside a frame of rules), the gutters come from the rows
    with the most cells and may be crossed by a few pieces of other rows: a
    header cell spanning two columns, a line MuPDF joined across a narrow gap
    (both are dealt with later). A region without multi-cell rows (labels
    centred beside their rows) takes its gutters from all its short pieces.
    Rule-less tables get no leeway at all.
    """
    if not rows:
        return None
    multi = [row for row in rows if row.multi]
    pieces = [segment for row in rows for segment in row.segments]
    sizes = sorted(segment.size for segment in pieces)
    min_gap = 0.5 * sizes[len(sizes) // 2]
    if len(multi) >= 2 or (multi and not tolerance):
        gutters = free_intervals([segment for row in multi for segment in row.segments])
        if tolerance and len(multi) >= 3:
            most = max(len(row.segments) for row in multi)
            model = [row for row in multi if len(row.segments) == most]
            model_gutters = free_intervals([segment for row in model for segment in row.segments])
            if len(model) >= 2 and _agreeing_rows(multi, model_gutters) * 10 >= len(multi) * 3:
                refined: list[tuple[float, float]] = []
                for gutter in model_gutters:
                    refined.extend(_refine_gutter(gutter, multi, min_gap, max_crossing=len(multi) // 4))
                if len(refined) > len(gutters):
                    gutters = refined
        used = [segment for row in multi for segment in row.segments]
    elif tolerance and len(rows) >= 3:
        width = max(segment.x1 for segment in pieces) - min(segment.x0 for segment in pieces)
        short = [segment for segment in pieces if segment.x1 - segment.x0 < 0.5 * width]
        if len(short) < 4:
            return None
        gutters = []
        for gutter in free_intervals(short):
            gutters.extend(_refine_gutter(gutter, rows, min_gap, max_crossing=len(rows) // 4))
        # Text on both sides in several rows, or it is just a hole.
        gutters = [
            (g0, g1)
            for g0, g1 in gutters
            if sum(1 for segment in short if segment.x1 <= g0 + 0.5) >= 2
            and sum(1 for segment in short if segment.x0 >= g1 - 0.5) >= 2
        ]
        used = pieces
    else:
        return None
    start = min(segment.x0 for segment in used)
    end = max(segment.x1 for segment in used)
    edges = [min(x0, start)]
    edges.extend((g0 + g1) / 2 for g0, g1 in gutters if g1 - g0 >= min_gap)
    edges.append(max(x1, end))
    edges = _merge_header_only_columns(rows, edges)
    if len(edges) < 3:
        return None
    return edges


def _agreeing_rows(rows: list[Row], gutters: list[tuple[float, float]]) -> int:
    """Rows none of whose pieces ends inside one of `gutters` (a piece over a whole gutter is a merged cell).

    The fullest rows draw the gutters, and enough rows must agree with them. Counting only the fullest
    rows themselves asked too much of a table whose cells wrap: each wrapped line is a multi-cell row of
    its own with fewer pieces ("primed and" | "torque" over "painted" | "check"), and such rows, which
    sit under the fullest rows' columns, are as much evidence for the gutters as a full row is.
    """
    return sum(
        1
        for row in rows
        if not any(
            segment.x0 < hi and segment.x1 > lo and not (segment.x0 <= lo and segment.x1 >= hi)
            for segment in row.segments
            for lo, hi in gutters
        )
    )


def _merge_header_only_columns(rows: list[Row], edges: list[float]) -> list[float]:
    """A column holding nothing but the first row's text, beside a column without header text, is one column.

    Header cells are often left-aligned above centred or right-aligned values
    ("LINE" above "7"), so their pieces do not overlap and a gutter opens
    between them.
    """
    count = len(edges) - 1
    if count < 3 or len(rows) < 3:
        return edges
    first = next((index for index, row in enumerate(rows) if row.multi), None)
    if first is None:
        return edges

    def column(x: float) -> int:
        for index in range(count - 1):
            if x < edges[index + 1]:
                return index
        return count - 1

    header: set[int] = set()
    body: set[int] = set()
    for index, row in enumerate(rows):
        for segment in row.segments:
            (header if index == first else body).add(column((segment.x0 + segment.x1) / 2))
    drop: set[int] = set()  # inner edge indices (edge i separates column i - 1 and i)
    for index in range(count - 1):
        left_only_header = index in header and index not in body
        right_only_header = index + 1 in header and index + 1 not in body
        if (left_only_header and index + 1 not in header) or (right_only_header and index not in header):
            drop.add(index + 1)
    return [edge for position, edge in enumerate(edges) if position not in drop]


def free_intervals(segments: list[Segment]) -> list[tuple[float, float]]:
    """The x ranges between the leftmost and rightmost text that none of `segments` covers."""
    intervals = sorted((segment.x0, segment.x1) for segment in segments)
    free: list[tuple[float, float]] = []
    reach = intervals[0][1]
    for lo, hi in intervals[1:]:
        if lo > reach:
            free.append((reach, lo))
        reach = max(reach, hi)
    return free


def _refine_gutter(
    gutter: tuple[float, float], rows: list[Row], min_gap: float, max_crossing: int
) -> list[tuple[float, float]]:
    """Narrow a gutter of the fullest rows by the other rows' text; pieces crossing it entirely span it."""
    pieces = [gutter]
    crossing = 0
    for row in rows:
        for segment in row.segments:
            updated: list[tuple[float, float]] = []
            for lo, hi in pieces:
                if segment.x1 <= lo or segment.x0 >= hi:
                    updated.append((lo, hi))
                elif segment.x0 <= lo and segment.x1 >= hi:
                    crossing += 1
                    updated.append((lo, hi))
                else:
                    if segment.x0 > lo:
                        updated.append((lo, segment.x0))
                    if segment.x1 < hi:
                        updated.append((segment.x1, hi))
            pieces = [(lo, hi) for lo, hi in updated if hi - lo >= min_gap]
    if crossing > max_crossing:
        return []
    return pieces
