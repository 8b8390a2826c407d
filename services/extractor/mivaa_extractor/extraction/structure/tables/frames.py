"""Frames: horizontal rules of about the same extent chained top to bottom, and the table inside one.

A chain continues for as long as the band between two rules holds table-like
text rather than prose: booktabs top/mid/bottom rules, a rule under every row
and full grids all become frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mivaa_extractor.extraction.structure.tables.cells import Candidate, to_table
from mivaa_extractor.extraction.structure.tables.columns import (
    frame_columns,
    free_intervals,
    split_at_gutters,
    split_at_rules,
)
from mivaa_extractor.extraction.structure.tables.filters import looks_tabular
from mivaa_extractor.extraction.structure.tables.grid import Boundary, build_grid
from mivaa_extractor.extraction.structure.tables.lines import Line, cluster_rows
from mivaa_extractor.extraction.structure.tables.rules import SNAP, Rule, cluster_positions


@dataclass(slots=True)
class _Frame:
    """Horizontal rules of similar extent chained top to bottom: a table's outline and its row separators."""

    x0: float
    x1: float
    rules: list[Rule]  # the full-width rules, top to bottom
    partial: list[Rule] = field(default_factory=list)  # shorter rules inside (cmidrule, spanned rows)

    @property
    def y0(self) -> float:
        return self.rules[0].pos

    @property
    def y1(self) -> float:
        return self.rules[-1].pos


def _lines_in(lines: Iterable[Line], x0: float, y0: float, x1: float, y1: float) -> list[Line]:
    """Lines whose centre lies inside the box (and that do not stick out far to the left)."""
    return [
        line for line in lines if y0 < line.cy < y1 and x0 <= (line.x0 + line.x1) * 0.5 <= x1 and line.x0 >= x0 - 4.0
    ]


def _band_is_tabular(lines: list[Line], x0: float, x1: float) -> bool:
    """Text between two rules that a table row could hold: not prose, not a block of one long line after another."""
    if not lines:
        return True
    rows = cluster_rows(lines)
    width = x1 - x0
    wide = sum(1 for row in rows if not row.multi and row.segments[0].x1 - row.segments[0].x0 > 0.75 * width)
    if wide >= 2 or (wide and len(rows) <= 2 and not any(row.multi for row in rows)):
        return False
    if any(row.multi for row in rows) or len(rows) <= 2:
        return True
    # A label centred beside wrapped text shares no row with it, but a gutter runs through the band.
    segments = [segment for row in rows for segment in row.segments]
    size = max(segment.size for segment in segments)
    return any(g1 - g0 >= 0.6 * size for g0, g1 in free_intervals(segments))


def find_frames(horizontals: list[Rule], lines: list[Line]) -> list[_Frame]:
    """Chains of rules with matching extent whose bands hold table-like text."""
    majors = sorted((rule for rule in horizontals if rule.length >= 30.0), key=lambda rule: -rule.length)
    groups: list[list[Rule]] = []
    for rule in majors:
        for group in groups:
            head = group[0]
            overlap = min(head.hi, rule.hi) - max(head.lo, rule.lo)
            if overlap >= 0.85 * head.length and rule.length <= head.length * 1.18 + 2:
                group.append(rule)
                break
        else:
            groups.append([rule])

    frames: list[_Frame] = []
    for group in groups:
        group.sort(key=lambda rule: rule.pos)
        x0 = min(rule.lo for rule in group)
        x1 = max(rule.hi for rule in group)
        chain: list[Rule] = [group[0]]
        empty: list[bool] = []  # per band of the chain: no text in it
        for rule in group[1:]:
            previous = chain[-1]
            if rule.pos - previous.pos < 1.5:
                continue  # a double rule
            band = _lines_in(lines, x0, previous.pos, x1, rule.pos)
            if _band_is_tabular(band, x0, x1):
                chain.append(rule)
                empty.append(not band)
            else:
                _close_chain(chain, empty, x0, x1, frames)
                chain, empty = [rule], []
        _close_chain(chain, empty, x0, x1, frames)

    for frame in frames:
        # Rules of another frame count too: the rules under a spanning header and around a row-spanning cell
        # share their extent and chain into a frame of their own, inside this one.
        own = {id(rule) for rule in frame.rules}
        frame.partial = [
            rule
            for rule in horizontals
            if id(rule) not in own
            and frame.y0 + 1.0 < rule.pos < frame.y1 - 1.0
            and rule.lo >= frame.x0 - 3.0
            and rule.hi <= frame.x1 + 3.0
        ]
    return frames


def _close_chain(chain: list[Rule], empty: list[bool], x0: float, x1: float, frames: list[_Frame]) -> None:
    """A chain of at least two rules becomes a frame, without empty bands at its ends (a box's border below it)."""
    while empty and empty[-1]:
        empty.pop()
        chain.pop()
    while empty and empty[0]:
        empty.pop(0)
        chain.pop(0)
    if len(chain) >= 2:
        frames.append(_Frame(x0, x1, list(chain)))


def analyse_frame(frame: _Frame, verticals: list[Rule], lines: list[Line]) -> Candidate | None:
    """The table inside a frame of rules, or None when its text is not a table after all."""
    inside = _lines_in(lines, frame.x0 - 2.0, frame.y0, frame.x1 + 2.0, frame.y1)
    if len(inside) < 4:
        return None

    # Vertical rules of this frame: inside its extent, crossing a good part of its height.
    height = frame.y1 - frame.y0
    inner = [
        rule
        for rule in verticals
        if frame.x0 + 3.0 < rule.pos < frame.x1 - 3.0
        and min(rule.hi, frame.y1) - max(rule.lo, frame.y0) >= min(8.0, 0.3 * height)
    ]
    rule_xs = cluster_positions(rule.pos for rule in inner)
    if rule_xs:
        inside = split_at_rules(inside, rule_xs)
    columns = frame_columns(inside, frame.x0, frame.x1, rule_xs)
    if columns is None:
        return None
    inside = split_at_gutters(inside, columns)

    # Row borders: every full rule, and partial rules (they bound spanned cells).
    width = frame.x1 - frame.x0
    boundaries: list[Boundary] = []
    for rule in sorted(frame.rules + frame.partial, key=lambda rule: rule.pos):
        if boundaries and rule.pos - boundaries[-1].pos <= SNAP:
            boundaries[-1].rules.append(rule)
        else:
            boundaries.append(Boundary(rule.pos, [rule]))
        if rule.length >= 0.9 * width:
            boundaries[-1].full = True

    grid = build_grid(inside, boundaries, columns, inner, header_band=len(frame.rules) >= 3)
    if grid is None:
        return None
    if len(frame.rules) == 2 and not frame.partial and not inner and not looks_tabular(grid):
        # Only a top and a bottom rule: as likely a box around two columns of prose as a table.
        return None
    table = to_table(grid)
    if table is None:
        return None
    x0 = min(frame.x0, min(line.x0 for line in inside))
    x1 = max(frame.x1, max(line.x1 for line in inside))
    return Candidate((x0, frame.y0, x1, frame.y1), table, inside)
