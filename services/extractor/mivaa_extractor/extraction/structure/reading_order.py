"""Reading order of a page's blocks: recursive XY-cut that respects columns.

A region is first split into columns at vertical gutters (whitespace that no
block crosses, over the region's whole height), read left to right (right to
left on right-to-left pages). A region that has no such gutter, because a
full-width element (a title, a wide figure) crosses it, is cut into
horizontal bands at horizontal whitespace; neighbouring bands that share a
gutter are merged again before recursing, so two columns whose paragraph gaps
happen to line up are still read column by column, not row by row.

Blocks side by side at the same heights (a form, or a table nobody detected)
are rows, not columns: such a split is refused and the region is read top to
bottom, left to right.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from mivaa_extractor.extraction.structure.lexicon import RIGHT_TO_LEFT_CHARS
from mivaa_extractor.extraction.structure.model import BBox

# Narrower whitespace than this (points) is a word or cell gap, not a gutter.
MIN_GUTTER = 7.0
# Vertical whitespace below this (points) does not separate bands.
MIN_BAND_GAP = 0.5
# Vertical whitespace this tall (points, about three blank lines) ends a region, columns or not.
WIDE_GAP = 36.0
# A block no taller than this (points) is a single line of body text, whose bottom depends on its font.
ONE_LINE = 16.0


def reading_order(boxes: Sequence[BBox], *, right_to_left: bool = False) -> list[int]:
    """Indices of `boxes` in reading order."""
    return _order(list(range(len(boxes))), boxes, right_to_left, depth=0)


def mostly_right_to_left(texts: Iterable[str]) -> bool:
    """Whether the text (a page's first lines) is mostly in a right-to-left script: read such a page's columns right first."""
    sample = "".join(texts)
    if not RIGHT_TO_LEFT_CHARS.search(sample):
        return False  # the common case, decided without looking at every character
    rtl = ltr = 0
    for ch in sample:
        direction = unicodedata.bidirectional(ch)
        if direction in ("R", "AL"):
            rtl += 1
        elif direction == "L":
            ltr += 1
    return rtl > ltr


def _order(indices: list[int], boxes: Sequence[BBox], rtl: bool, depth: int) -> list[int]:
    if len(indices) <= 1 or depth > 40:
        return _top_down(indices, boxes, rtl)
    # Wide horizontal whitespace separates regions before any column does: a
    # line under two columns that ended above it is read after both of them.
    sections = _bands(indices, boxes, WIDE_GAP)
    if len(sections) > 1:
        return [i for section in sections for i in _order(section, boxes, rtl, depth + 1)]
    columns = _columns(indices, boxes)
    if columns is not None:
        if rtl:
            columns.reverse()
        return [i for column in columns for i in _order(column, boxes, rtl, depth + 1)]
    bands = _merge_bands_sharing_gutters(_bands(indices, boxes), boxes)
    if len(bands) > 1:
        return [i for band in bands for i in _order(band, boxes, rtl, depth + 1)]
    return _top_down(indices, boxes, rtl)


def _top_down(indices: list[int], boxes: Sequence[BBox], rtl: bool) -> list[int]:
    # Lines whose tops are within 2 pt are on the same row: read those left to right (right to left on such pages).
    if rtl:
        return sorted(indices, key=lambda i: (round(boxes[i][1] / 2.0), -boxes[i][2]))
    return sorted(indices, key=lambda i: (round(boxes[i][1] / 2.0), boxes[i][0]))


def _gutters(indices: Sequence[int], boxes: Sequence[BBox]) -> list[tuple[float, float]]:
    """Vertical strips of whitespace between the blocks' x-extents, at least MIN_GUTTER wide."""
    spans = sorted((boxes[i][0], boxes[i][2]) for i in indices)
    gutters: list[tuple[float, float]] = []
    reach = spans[0][1]
    for x0, x1 in spans[1:]:
        if x0 - reach >= MIN_GUTTER:
            gutters.append((reach, x0))
        reach = max(reach, x1)
    return gutters


def _columns(indices: list[int], boxes: Sequence[BBox]) -> list[list[int]] | None:
    gutters = _gutters(indices, boxes)
    if not gutters:
        return None
    edges = [(g0 + g1) / 2 for g0, g1 in gutters]
    columns: list[list[int]] = [[] for _ in range(len(edges) + 1)]
    for i in indices:
        center = (boxes[i][0] + boxes[i][2]) / 2
        columns[sum(1 for edge in edges if center > edge)].append(i)
    columns = [column for column in columns if column]
    if len(columns) < 2 or _side_by_side_rows(columns, boxes):
        return None
    return columns


def _side_by_side_rows(columns: list[list[int]], boxes: Sequence[BBox]) -> bool:
    """Whether the 'columns' are really rows of a form or table: most blocks have a partner at the same height."""
    if all(len(column) < 3 for column in columns):
        return False
    first, rest = columns[0], columns[1:]
    matched = sum(1 for i in first if all(any(_same_row(boxes[i], boxes[j]) for j in column) for column in rest))
    return matched >= 3 and matched >= 0.6 * len(first)


def _same_row(a: BBox, b: BBox) -> bool:
    """Whether two blocks side by side are cells of one row: the same top, and the same bottom unless both are one line.

    Two text columns often start level, and a heading in each can land at the same height by chance,
    but their paragraphs then end at different heights; the cells of a form's row end together.
    """
    if abs(a[1] - b[1]) > 2:
        return False
    return abs(a[3] - b[3]) <= 2 or max(a[3] - a[1], b[3] - b[1]) <= ONE_LINE


def _bands(indices: list[int], boxes: Sequence[BBox], min_gap: float = MIN_BAND_GAP) -> list[list[int]]:
    """Horizontal bands split at whitespace at least `min_gap` tall that no block crosses, top to bottom."""
    ordered = sorted(indices, key=lambda i: boxes[i][1])
    bands: list[list[int]] = [[ordered[0]]]
    reach = boxes[ordered[0]][3]
    for i in ordered[1:]:
        if boxes[i][1] - reach >= min_gap:
            bands.append([i])
        else:
            bands[-1].append(i)
        reach = max(reach, boxes[i][3])
    return bands


def _merge_bands_sharing_gutters(bands: list[list[int]], boxes: Sequence[BBox]) -> list[list[int]]:
    """Joins consecutive bands that are parts of the same multi-column region."""
    merged: list[list[int]] = []
    region_gutters: list[tuple[float, float]] = []
    for band in bands:
        if merged and region_gutters:
            shared = _shared_gutters(region_gutters, band, boxes)
            if shared:
                merged[-1].extend(band)
                region_gutters = shared
                continue
        merged.append(list(band))
        region_gutters = _gutters(band, boxes) if len(band) > 1 else []
    return merged


def _shared_gutters(
    gutters: list[tuple[float, float]], band: list[int], boxes: Sequence[BBox]
) -> list[tuple[float, float]]:
    """The gutters of the region above that no block of `band` crosses (narrowed to what stays free)."""
    shared: list[tuple[float, float]] = []
    for g0, g1 in gutters:
        left, right = g0, g1
        for i in band:
            x0, _, x1, _ = boxes[i]
            if x1 <= left or x0 >= right:
                continue
            if x0 - left >= MIN_GUTTER:  # the block starts inside the gutter: keep the free part
                right = min(right, x0)
            elif right - x1 >= MIN_GUTTER:
                left = max(left, x1)
            else:
                left = right
                break
        if right - left >= MIN_GUTTER:
            shared.append((left, right))
    return shared
