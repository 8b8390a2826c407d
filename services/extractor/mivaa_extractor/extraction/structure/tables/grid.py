"""The grid of a table: text rows grouped into table rows between the rules, cells and their spans."""

from __future__ import annotations

from dataclasses import dataclass, field

from mivaa_extractor.extraction.structure.lexicon import is_numeric
from mivaa_extractor.extraction.structure.tables.columns import Columns
from mivaa_extractor.extraction.structure.tables.lines import Line, Row, Segment, cell_text, cluster_rows
from mivaa_extractor.extraction.structure.tables.rules import SNAP, Rule
from mivaa_extractor.extraction.structure.tables.spans import key_spans, two_level_header


@dataclass(slots=True)
class Boundary:
    """A horizontal border above a grid row: rules (`full` when one runs the table's width) or just a text gap."""

    pos: float
    rules: list[Rule]
    full: bool = False


@dataclass(slots=True)
class Grid:
    """Cells of a table before they become a `Table`: rectangles over row/column indices and their lines."""

    row_count: int
    column_count: int
    cells: list[tuple[int, int, int, int, list[Line]]]  # row, column, row_span, column_span, lines
    borders: list[Boundary]  # the border above each row, and the one below the last
    _texts: dict[tuple[int, int], str] = field(default_factory=dict)

    def texts(self) -> dict[tuple[int, int], str]:
        """Each cell's normalised text by its (row, column), read once."""
        if not self._texts and self.cells:
            self._texts = {(row, column): cell_text(cell_lines) for row, column, _, _, cell_lines in self.cells}
        return self._texts


class _GridRows:
    """Groups the text rows of the bands between rules into table rows."""

    def __init__(self, columns: Columns, bands: list[list[Row]]) -> None:
        self.columns = columns
        self.full_need = max(2, columns.count - 1) if columns.count > 2 else 2
        self.extent = [[float("inf"), float("-inf")] for _ in range(columns.count)]
        self._covered: dict[int, tuple[int, int]] = {}
        self._filled: dict[int, set[int]] = {}
        # The tightest pitch (top to top) of two text rows: the line spacing inside a wrapped cell. Where rows
        # are padded apart (HTML cells), a pitch clearly wider than it starts a new row whatever the text says.
        # Rows overlapping in height (a cell's last line beside the next row's first) are not one under the other.
        pitches = [
            lower.y0 - upper.y0
            for band in bands
            for upper, lower in zip(band, band[1:])
            if lower.y0 - upper.y0 >= 0.75 * max(upper.h, lower.h)
        ]
        self.line_pitch = min(pitches) if pitches else float("inf")
        for band in bands:
            for row in band:
                for segment in row.segments:
                    first, last = self.covered(segment)
                    if first == last:
                        extent = self.extent[first]
                        extent[0] = min(extent[0], segment.x0)
                        extent[1] = max(extent[1], segment.x1)

    def covered(self, segment: Segment) -> tuple[int, int]:
        key = id(segment)
        result = self._covered.get(key)
        if result is None:
            result = self._covered[key] = self.columns.covered(segment)
        return result

    def filled(self, row: Row) -> set[int]:
        key = id(row)
        result = self._filled.get(key)
        if result is None:
            result = set()
            for segment in row.segments:
                first, last = self.covered(segment)
                result.update(range(first, last + 1))
            self._filled[key] = result
        return result

    def is_full(self, row: Row) -> bool:
        return len(self.filled(row)) >= self.full_need

    def continues(self, group: list[Row], row: Row, header_band: bool) -> bool:
        """Whether text row `row` only continues wrapped cells of the table row `group` (top-aligned cells)."""
        previous = group[-1]
        if row.y0 - previous.y1 > 0.8 * max(row.h, previous.h):
            return False  # a gap wider than the line spacing: a new row
        above: dict[tuple[int, int], Segment] = {}
        for text_row in group:
            for segment in text_row.segments:
                above[self.covered(segment)] = segment
        for segment in row.segments:
            key = self.covered(segment)
            if key not in above:
                # The last line of a cell merged across columns, aligned under its start ("... replace when" / "worn").
                wider = [upper for (first, last), upper in above.items() if first <= key[0] and key[1] <= last]
                if wider and abs(wider[0].x0 - segment.x0) <= 2.0:
                    above[key] = wider[0]
        # Each piece must sit under a piece of the same column range (a spanning header above is another level).
        if not all(self.covered(segment) in above for segment in row.segments):
            return False
        # Each piece's pitch from the text above it in its column: wider than a wrapped cell's line spacing (or
        # than any line spacing), the cells are padded apart and this is a new row, whatever the text says.
        height = max(row.h, previous.h)
        pitch = min(segment.y0 - above[self.covered(segment)].y0 for segment in row.segments)
        if pitch > min(self.line_pitch + 0.25 * height, 1.45 * height):
            return False
        if header_band:
            return True  # header cells wrap; the header band above the first inner rule is one row
        evidence, total, numeric = self.wrap_evidence(above, row)
        if numeric:
            return False  # numbers do not wrap: a new row with empty cells
        if self.is_full(row):
            # Every cell of a full line goes on a sentence of the line above, and most visibly so (lower
            # case, a phrase broken off): a row of labels under another ("Cup anemometer", "2 percent") is a row.
            return evidence == total and self.visible_wraps(above, row) * 2 > total
        return evidence > 0

    def visible_wraps(self, above: dict[tuple[int, int], Segment], row: Row) -> int:
        """Pieces of `row` that start in lower case or go on with a phrase the piece above broke off."""
        found = 0
        for segment in row.segments:
            upper = above.get(self.covered(segment))
            upper_text = upper.text if upper is not None else ""
            if segment.text[:1].islower() or upper_text.endswith(("-", ",", "/", "&", "+", "(", ";")):
                found += 1
        return found

    def wrap_evidence(self, above: dict[tuple[int, int], Segment], row: Row) -> tuple[int, int, bool]:
        """(pieces of `row` that continue the text above them, pieces, whether any piece is a number)."""
        evidence = 0
        numeric = False
        for segment in row.segments:
            text = segment.text
            key = self.covered(segment)
            upper = above.get(key)
            upper_text = upper.text if upper is not None else ""
            broken_off = upper_text.endswith(("-", ",", "/", "&", "+", "(", ";"))
            if upper_text and (broken_off or upper_text.count("(") > upper_text.count(")")):
                evidence += 1  # the line above breaks off mid-phrase ("... (Form" / "5227)")
                continue
            if is_numeric(text):
                numeric = True
                continue
            if upper is None:
                continue
            if text[:1].islower():
                evidence += 1
                continue
            first, last = key
            if first == last and " " in upper_text and not is_numeric(upper_text):
                extent = self.extent[first]
                if extent[1] > extent[0] and upper.x1 - upper.x0 >= 0.7 * (extent[1] - extent[0]):
                    evidence += 1  # the line above filled its column: the text wrapped
        return evidence, len(row.segments), numeric

    def band_wraps(self, band: list[Row]) -> bool:
        """Most lines after the first continue the text above them: the band holds paragraphs, not rows."""
        evidence = total = 0
        above: dict[tuple[int, int], Segment] = {}
        for index, row in enumerate(band):
            if index:
                found, count, numeric = self.wrap_evidence(above, row)
                if numeric:
                    return False
                evidence += found
                total += count
            for segment in row.segments:
                above[self.covered(segment)] = segment
        return total > 0 and evidence * 2 >= total


def build_grid(
    lines: list[Line], rule_borders: list[Boundary], columns: Columns, verticals: list[Rule], *, header_band: bool
) -> Grid | None:
    """Rows (rule bands split into text rows where needed), cells and spans."""
    if columns.count < 2 or not lines:
        return None
    top = min(line.y0 for line in lines)
    bottom = max(line.y1 for line in lines)
    borders = list(rule_borders)
    if not borders or borders[0].pos > top + 0.5:
        borders.insert(0, Boundary(top - 0.01, []))
    if borders[-1].pos < bottom - 0.5:
        borders.append(Boundary(bottom + 0.01, []))

    bands: list[list[Row]] = []
    for upper, lower in zip(borders, borders[1:]):
        band_lines = [line for line in lines if upper.pos < line.cy < lower.pos]
        bands.append(cluster_rows(band_lines) if band_lines else [])
    helper = _GridRows(columns, bands)

    lattice = any(columns.ruled)
    non_empty = [band for band in bands if band]
    single = sum(1 for band in non_empty if sum(1 for row in band if helper.is_full(row)) <= 1)
    # Rules between (nearly) every row: each band is one row whatever its lines (wrapped or centred cells).
    row_ruled = len(non_empty) >= 3 and single * 4 >= len(non_empty) * 3
    first_inner_full = next((index for index, border in enumerate(borders) if index and border.full), None)

    table_rows: list[list[Row]] = []
    row_borders: list[Boundary] = []
    floating: list[tuple[int, set[int]]] = []  # (row, columns): a label centred on this row and the next
    header_rows: set[int] = set()  # rows of the band above the first inner full rule
    for band_index, band in enumerate(bands):
        if not band:
            continue
        full = sum(1 for row in band if helper.is_full(row))
        first_filled = helper.filled(band[0])
        hanging = all(helper.filled(row) <= first_filled for row in band[1:])
        in_header = header_band and first_inner_full is not None and band_index < first_inner_full
        if row_ruled or (lattice and ((hanging and len(band) - full > full) or helper.band_wraps(band))):
            # Paragraphs in ruled cells: the band is one row.
            groups = [list(band)]
        else:
            groups = []
            for row in band:
                if groups and helper.continues(groups[-1], row, in_header):
                    groups[-1].append(row)
                else:
                    groups.append([row])
            groups = _fold_floating_labels(groups, helper, floating, len(table_rows))
        for group_index, group in enumerate(groups):
            row_borders.append(borders[band_index] if group_index == 0 else Boundary(group[0].y0 - 0.01, []))
            if in_header:
                header_rows.add(len(table_rows))
            table_rows.append(group)
    if len(table_rows) < 2:
        return None
    row_borders.append(borders[-1])

    count = columns.count
    row_count = len(table_rows)
    content: dict[tuple[int, int], list[Line]] = {}
    crossing: set[tuple[int, int]] = set()  # (row, column): text runs across the edge right of the column
    for row_index, group in enumerate(table_rows):
        for text_row in group:
            for segment in text_row.segments:
                first, last = helper.covered(segment)
                content.setdefault((row_index, first), []).extend(segment.lines)
                crossing.update((row_index, column) for column in range(first, last))
    forced_down = {(row_index, column) for row_index, cols in floating for column in cols}
    forced_across: set[tuple[int, int]] = set()
    occupied: dict[int, list[tuple[int, int]]] = {}
    for row_index, group in enumerate(table_rows):
        occupied[row_index] = [helper.covered(segment) for text_row in group for segment in text_row.segments]
    for row_index in sorted(header_rows):
        # A header cell alone between two vertical rules heads that whole group of columns ("Top-20").
        region_start = 0
        for column in range(count):
            if column == count - 1 or columns.ruled[column]:
                inside = [span for span in occupied[row_index] if region_start <= span[0] and span[1] <= column]
                if column > region_start and len(inside) == 1:
                    forced_across.update((row_index, edge) for edge in range(region_start, column))
                region_start = column + 1
        # A header cell with nothing below it in the next header row heads both rows ("Training").
        if row_index + 1 in header_rows:
            below = {c for first, last in occupied[row_index + 1] for c in range(first, last + 1)}
            for first, last in occupied[row_index]:
                if first == last and first not in below:
                    forced_down.add((row_index, first))
    if not header_rows and not lattice:
        across, down = two_level_header(table_rows, occupied, count)
        forced_across |= across
        forced_down |= down
        if not any(border.rules for border in row_borders):
            forced_down |= key_spans(occupied, 2 if down else 1)

    def vertical_open(row_index: int, column: int) -> bool:
        """No border between (row, column) and (row, column + 1)."""
        if (row_index, column) in forced_across:
            return True
        if not columns.ruled[column]:
            return (row_index, column) in crossing
        x = columns.edges[column + 1]
        lo, hi = row_borders[row_index].pos, row_borders[row_index + 1].pos
        covered = sum(max(0.0, min(rule.hi, hi) - max(rule.lo, lo)) for rule in verticals if abs(rule.pos - x) <= SNAP)
        return covered < 0.5 * (hi - lo)

    def horizontal_open(row_index: int, column: int) -> bool:
        """No border between (row, column) and (row + 1, column)."""
        if (row_index, column) in forced_down:
            return True
        border = row_borders[row_index + 1]
        if not border.rules or not lattice:
            return False  # without a ruled grid, only a centred label spans rows
        lo, hi = columns.edges[column], columns.edges[column + 1]
        covered = sum(max(0.0, min(rule.hi, hi) - max(rule.lo, lo)) for rule in border.rules)
        return covered < 0.5 * (hi - lo)

    parent = list(range(row_count * count))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for row_index in range(row_count):
        for column in range(count):
            here = row_index * count + column
            if column + 1 < count and vertical_open(row_index, column):
                a, b = find(here), find(here + 1)
                parent[max(a, b)] = min(a, b)
            if row_index + 1 < row_count and horizontal_open(row_index, column):
                a, b = find(here), find(here + count)
                parent[max(a, b)] = min(a, b)

    regions: dict[int, list[int]] = {}
    for index in range(row_count * count):
        regions.setdefault(find(index), []).append(index)
    cells: list[tuple[int, int, int, int, list[Line]]] = []
    for members in regions.values():
        r0 = min(index // count for index in members)
        r1 = max(index // count for index in members)
        c0 = min(index % count for index in members)
        c1 = max(index % count for index in members)
        if len(members) != (r1 - r0 + 1) * (c1 - c0 + 1):
            # Odd ruling merged an L-shape: no span can say that, keep its slots as plain cells.
            for index in members:
                cells.append((index // count, index % count, 1, 1, content.get((index // count, index % count), [])))
            continue
        cell_lines = [line for index in members for line in content.get((index // count, index % count), ())]
        cells.append((r0, c0, r1 - r0 + 1, c1 - c0 + 1, cell_lines))
    cells.sort(key=lambda cell: (cell[0], cell[1]))
    return Grid(row_count, count, _dedupe_cells(cells, row_count, count), row_borders)


def _fold_floating_labels(
    groups: list[list[Row]], helper: _GridRows, floating: list[tuple[int, set[int]]], offset: int
) -> list[list[Row]]:
    """A label vertically centred between two rows ("Single" beside "DPR" / "BM25+DPR") spans both rows.

    It is its own text row, overlapping both neighbours vertically, in columns
    both neighbours leave empty. Its text joins the row above, and the
    (row, column) pairs are recorded so the grid merges them downwards.
    """
    result: list[list[Row]] = []
    index = 0
    while index < len(groups):
        group = groups[index]
        if result and index + 1 < len(groups) and len(group) == 1:
            label = group[0]
            above, below = result[-1], groups[index + 1]
            mine = helper.filled(label)
            if (
                len(mine) <= 2
                and not mine & set().union(*(helper.filled(row) for row in above))
                and not mine & set().union(*(helper.filled(row) for row in below))
                and label.y0 < above[-1].y1
                and label.y1 > below[0].y0
            ):
                above.append(label)
                floating.append((offset + len(result) - 1, mine))
                index += 1
                continue
        result.append(group)
        index += 1
    return result


def _dedupe_cells(
    cells: list[tuple[int, int, int, int, list[Line]]], row_count: int, columns: int
) -> list[tuple[int, int, int, int, list[Line]]]:
    """Cells must not overlap (a safety net: the regions of the grid are disjoint rectangles already)."""
    taken = [[False] * columns for _ in range(row_count)]
    result: list[tuple[int, int, int, int, list[Line]]] = []
    for row, column, row_span, column_span, cell_lines in cells:
        if taken[row][column]:
            continue
        for r in range(row, row + row_span):
            for c in range(column, column + column_span):
                taken[r][c] = True
        result.append((row, column, row_span, column_span, cell_lines))
    return result
