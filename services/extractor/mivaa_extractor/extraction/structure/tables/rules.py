"""Step 2 of table detection: horizontal and vertical rules from the page's vector drawings.

Runs only on pages the text pre-filter suspects (`runs.py`): the drawings are
as dear to extract as the text, and the page source extracts them on first
use. Stroked lines, thin filled rectangles and the sides of stroked
rectangles become rules, collinear pieces merged; white rules count (they
separate shaded cells); filled areas count only where they are stacked like
shaded cells.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# A rule shorter than this is a tick mark, an underline of a symbol, a bullet.
_MIN_RULE_LENGTH = 8.0
# Thicker than this, a filled rectangle is an area (background, banner), not a rule.
_MAX_RULE_THICKNESS = 3.0
# Positions closer than this are the same rule / grid line.
SNAP = 2.0


@dataclass(slots=True)
class Rule:
    """An axis-parallel rule: `pos` is its y (horizontal) or x (vertical), `lo`..`hi` its extent."""

    pos: float
    lo: float
    hi: float

    @property
    def length(self) -> float:
        return self.hi - self.lo


def extract_rules(drawings: list, page_width: float, page_height: float) -> tuple[list[Rule], list[Rule]]:
    """Horizontal and vertical rules, collinear pieces merged (a rule interrupted by a crossing rule is one rule).

    Pieces of any length are collected first: LaTeX draws a vertical rule as
    one short piece per row, only the merged rule has to be long. White rules
    count: on shaded cells they are the visible separators, on white paper
    they still separate what the author laid out as cells. Filled areas count
    where they are stacked like the cells of a shaded table (see `_area_edges`).
    """
    horizontals: list[Rule] = []
    verticals: list[Rule] = []
    areas: list[tuple[float, float, float, float]] = []

    def add_box(x0: float, y0: float, x1: float, y1: float, edges: bool, area: bool) -> None:
        w, h = x1 - x0, y1 - y0
        if h <= _MAX_RULE_THICKNESS and w >= 1.0:
            horizontals.append(Rule((y0 + y1) / 2, x0, x1))
        elif w <= _MAX_RULE_THICKNESS and h >= 1.0:
            verticals.append(Rule((x0 + x1) / 2, y0, y1))
        elif edges:  # a stroked box: its four sides are rules
            horizontals.append(Rule(y0, x0, x1))
            horizontals.append(Rule(y1, x0, x1))
            verticals.append(Rule(x0, y0, y1))
            verticals.append(Rule(x1, y0, y1))
        elif area and not (w >= 0.9 * page_width and h >= 0.5 * page_height):
            areas.append((x0, y0, x1, y1))

    for path in drawings:
        kind = path.get("type") or ""
        stroked = "s" in kind
        rect = path.get("rect")
        if rect is not None:
            x0, y0, x1, y1 = rect
            thin_across = y1 - y0 <= _MAX_RULE_THICKNESS and x1 - x0 >= 1.0
            thin_down = x1 - x0 <= _MAX_RULE_THICKNESS and y1 - y0 >= 1.0
            if thin_across or thin_down:
                # The whole path is one thin shape: a rule drawn as a polygon or a thin rectangle.
                add_box(x0, y0, x1, y1, False, False)
                continue
        for item in path.get("items", ()):
            op = item[0]
            if op == "l":
                if not stroked:
                    continue
                (ax, ay), (bx, by) = item[1], item[2]
                if abs(ay - by) <= 1.0 and abs(ax - bx) >= 1.0:
                    horizontals.append(Rule((ay + by) / 2, min(ax, bx), max(ax, bx)))
                elif abs(ax - bx) <= 1.0 and abs(ay - by) >= 1.0:
                    verticals.append(Rule((ax + bx) / 2, min(ay, by), max(ay, by)))
            elif op == "re":
                x0, y0, x1, y1 = item[1]
                add_box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), stroked, kind == "f")
            elif op == "qu":
                quad = item[1]
                xs = [point[0] for point in quad]
                ys = [point[1] for point in quad]
                add_box(min(xs), min(ys), max(xs), max(ys), stroked, kind == "f")
    if areas and len(areas) <= 400:
        _area_edges(areas, horizontals, verticals)
    # What lies off the page (the other half of a spread) is not part of this page's tables.
    horizontals = [
        Rule(rule.pos, max(rule.lo, 0.0), min(rule.hi, page_width))
        for rule in horizontals
        if 0.0 <= rule.pos <= page_height and rule.hi > 0.0 and rule.lo < page_width
    ]
    verticals = [
        Rule(rule.pos, max(rule.lo, 0.0), min(rule.hi, page_height))
        for rule in verticals
        if 0.0 <= rule.pos <= page_width and rule.hi > 0.0 and rule.lo < page_height
    ]
    return _merge_rules(horizontals), _merge_rules(verticals)


def _area_edges(areas: list[tuple[float, float, float, float]], horizontals: list[Rule], verticals: list[Rule]) -> None:
    """Edges of filled areas stacked like shaded cells: an area whose top or bottom meets another area or a rule.

    Such an area adds its top and bottom as horizontal rules, and its sides
    where they meet the side of a neighbouring area. A lone filled area (a
    banner above a table, a tinted box with a gap around it) adds nothing, so
    it cannot pull unrelated text into a table.
    """
    strong = [(rule.pos, rule.lo, rule.hi) for rule in horizontals if rule.length >= _MIN_RULE_LENGTH]

    def meets_horizontally(index: int, y: float, x0: float, x1: float) -> bool:
        for other_index, (ox0, oy0, ox1, oy1) in enumerate(areas):
            near = other_index != index and (abs(y - oy0) <= 1.0 or abs(y - oy1) <= 1.0)
            if near and min(x1, ox1) - max(x0, ox0) >= 0.5 * min(x1 - x0, ox1 - ox0):
                return True
        return any(abs(y - pos) <= 1.0 and min(x1, hi) - max(x0, lo) >= 0.5 * (x1 - x0) for pos, lo, hi in strong)

    for index, (x0, y0, x1, y1) in enumerate(areas):
        if not (meets_horizontally(index, y0, x0, x1) or meets_horizontally(index, y1, x0, x1)):
            continue
        horizontals.append(Rule(y0, x0, x1))
        horizontals.append(Rule(y1, x0, x1))
        for x in (x0, x1):
            for other_index, (ox0, oy0, ox1, oy1) in enumerate(areas):
                near = other_index != index and (abs(x - ox0) <= 3.0 or abs(x - ox1) <= 3.0)
                if near and min(y1, oy1) - max(y0, oy0) >= 0.5 * min(y1 - y0, oy1 - oy0):
                    verticals.append(Rule(x, y0, y1))
                    break


def _merge_rules(rules: list[Rule]) -> list[Rule]:
    """Collinear pieces joined across gaps up to 6pt (a rule broken where another crosses); short ones dropped."""
    merged: list[Rule] = []
    for rule in sorted(rules, key=lambda rule: (rule.pos, rule.lo)):
        for other in reversed(merged[-8:]):
            if abs(other.pos - rule.pos) <= 1.0 and rule.lo <= other.hi + 6.0 and rule.hi >= other.lo - 6.0:
                other.lo = min(other.lo, rule.lo)
                other.hi = max(other.hi, rule.hi)
                break
        else:
            merged.append(Rule(rule.pos, rule.lo, rule.hi))
    return [rule for rule in merged if rule.length >= _MIN_RULE_LENGTH]


def cluster_positions(values: Iterable[float]) -> list[float]:
    """Positions closer than `SNAP` averaged into one (the pieces of one vertical rule)."""
    clustered: list[list[float]] = []
    for value in sorted(values):
        if clustered and value - clustered[-1][-1] <= SNAP:
            clustered[-1].append(value)
        else:
            clustered.append([value])
    return [sum(group) / len(group) for group in clustered]
