"""The table stage for one page: the three steps composed (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass

from mivaa_extractor.extraction.structure.model import BBox, Table
from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource
from mivaa_extractor.extraction.structure.tables.cells import Candidate, to_table
from mivaa_extractor.extraction.structure.tables.columns import Columns, text_columns
from mivaa_extractor.extraction.structure.tables.filters import looks_tabular
from mivaa_extractor.extraction.structure.tables.frames import analyse_frame, find_frames
from mivaa_extractor.extraction.structure.tables.grid import Boundary, build_grid
from mivaa_extractor.extraction.structure.tables.lines import Line, Row, cluster_rows, read_lines, row_lines
from mivaa_extractor.extraction.structure.tables.rules import Rule, extract_rules
from mivaa_extractor.extraction.structure.tables.runs import Run, bold_row, drop_page_gutters, find_runs, run_is_tabular


@dataclass(frozen=True)
class DetectedTable:
    """A table found on a page: where it is (covering header and all cells, not the caption) and its grid."""

    bbox: BBox  # x0, y0, x1, y1 in PyMuPDF page coordinates (the text dict's space)
    table: Table


def detect_tables(source: PageSource) -> list[DetectedTable]:
    """The tables on the page, top to bottom.

    Works on the page as the backend read it (its text lines); the page's
    drawings are only asked for when the text suggests a table, which keeps
    table-less pages at a fraction of a millisecond.

    Each bbox covers the whole table, header and rules included, and touches no
    line of text that is not the table's (caption, paragraphs above and below):
    the caller can replace the lines inside it by the table.
    """
    lines = read_lines(source.lines)
    if len(lines) < 4:  # two rows of two cells at the very least
        return []
    rows = cluster_rows(lines)
    runs = [run for run in find_runs(rows) if drop_page_gutters(run, rows) and run_is_tabular(run)]
    if not runs:
        return []

    height = source.height
    horizontals, verticals = extract_rules(source.drawings, source.width, height)

    found: list[Candidate] = []
    # Smallest first: a table inside a box around half the page is read as the table, not the box.
    frames = sorted(find_frames(horizontals, lines), key=lambda frame: (frame.x1 - frame.x0) * (frame.y1 - frame.y0))
    for frame in frames:
        if len(frame.rules) <= 3 and not frame.partial and frame.y0 < 0.12 * height and frame.y1 > 0.85 * height:
            continue  # rules under a running header and above a footer frame the page, not a table
        candidate = analyse_frame(frame, verticals, lines)
        if candidate is not None and not any(_overlaps(candidate.bbox, other.bbox) for other in found):
            found.append(candidate)
    for run in runs:
        run_box = _rows_bbox(run.rows)
        if any(_overlaps(run_box, other.bbox) for other in found):
            continue  # already read through its rules
        candidate = _analyse_run(run, horizontals, lines)
        if candidate is not None and not any(_overlaps(candidate.bbox, other.bbox) for other in found):
            found.append(candidate)

    found.sort(key=lambda candidate: (candidate.bbox[1], candidate.bbox[0]))
    return [DetectedTable(bbox=_trim_bbox(candidate, lines), table=candidate.table) for candidate in found]


def _analyse_run(run: Run, horizontals: list[Rule], lines: list[Line]) -> Candidate | None:
    """A table without a frame of rules: only accepted when its shape is unmistakably tabular."""
    rows = run.rows
    # Leading/trailing single-piece rows are captions or prose around the run.
    while rows and not rows[0].multi:
        rows = rows[1:]
    while rows and not rows[-1].multi and not _wraps_last_cell(rows):
        rows = rows[:-1]
    if len(rows) < 3:
        return None
    x0 = min(segment.x0 for row in rows for segment in row.segments)
    x1 = max(segment.x1 for row in rows for segment in row.segments)
    page_width = max(line.x1 for line in lines) - min(line.x0 for line in lines)
    # Aligned prose (two text columns) has wide pieces; table cells are short.
    widths = sorted(segment.x1 - segment.x0 for row in rows for segment in row.segments)
    if widths[len(widths) // 2] > 0.3 * page_width:
        return None
    edges = text_columns(rows, x0, x1, tolerance=False)
    if bold_row(rows[0]):
        # A bold header cell merged over several columns crosses their gutters: the rows under it draw them.
        below = text_columns(rows[1:], x0, x1, tolerance=False)
        if below is not None and len(below) > len(edges or ()):
            edges = below
    # A cell merged across two columns ("torque check only, log it") crosses a gutter every other row keeps.
    tolerant = text_columns(rows, x0, x1, tolerance=True)
    if tolerant is not None and len(tolerant) > len(edges or ()):
        edges = tolerant
    if edges is None or len(edges) < 4:
        return None  # rule-less tables need three columns or more
    columns = Columns(edges, [False] * (len(edges) - 2))
    y0 = rows[0].y0 - 0.5
    y1 = rows[-1].y1 + 0.5
    inside = [line for row in rows for line in row_lines(row)]
    # A rule inside the run (a table with a \midrule but no top or bottom rule) bounds rows.
    inner = [
        Boundary(rule.pos, [rule], True)
        for rule in horizontals
        if y0 < rule.pos < y1 and rule.lo <= x0 + 6.0 and rule.hi >= x1 - 6.0
    ]
    grid = build_grid(inside, inner, columns, [], header_band=bool(inner))
    if grid is None or not looks_tabular(grid):
        return None
    table = to_table(grid)
    if table is None:
        return None
    return Candidate((x0, y0, x1, y1), table, inside)


def _wraps_last_cell(rows: list[Row]) -> bool:
    """The last row is the last line of a cell wrapped onto it ("check safety" / "wire"): right under its column."""
    if len(rows) < 2:
        return False
    last, above = rows[-1], rows[-2]
    piece = last.segments[0]
    return last.y0 - above.y1 <= 0.45 * last.h and any(
        abs(segment.x0 - piece.x0) <= 1.0 and piece.x1 <= segment.x1 + 2.0 for segment in above.segments
    )


def _rows_bbox(rows: list[Row]) -> BBox:
    return (
        min(segment.x0 for row in rows for segment in row.segments),
        min(row.y0 for row in rows),
        max(segment.x1 for row in rows for segment in row.segments),
        max(row.y1 for row in rows),
    )


def _overlaps(a: BBox, b: BBox) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 1.0 and min(a[3], b[3]) - max(a[1], b[1]) > 1.0


def _trim_bbox(candidate: Candidate, lines: list[Line]) -> BBox:
    """The table's box around all its text and rules, pulled in where it would touch a line that is not the table's."""
    own = {(line.x0, line.y0) for line in candidate.lines}
    x0 = min([candidate.bbox[0], *(line.x0 for line in candidate.lines)])
    y0 = min([candidate.bbox[1], *(line.y0 for line in candidate.lines)])
    x1 = max([candidate.bbox[2], *(line.x1 for line in candidate.lines)])
    y1 = max([candidate.bbox[3], *(line.y1 for line in candidate.lines)])
    text_top = min(line.y0 for line in candidate.lines)
    text_bottom = max(line.y1 for line in candidate.lines)
    for line in lines:
        if line.x1 <= x0 or line.x0 >= x1 or line.y1 <= y0 or line.y0 >= y1 or (line.x0, line.y0) in own:
            continue
        if line.cy <= text_top:
            y0 = max(y0, min(line.y1, text_top))
        elif line.cy >= text_bottom:
            y1 = min(y1, max(line.y0, text_bottom))
    return (x0, y0, x1, y1)
