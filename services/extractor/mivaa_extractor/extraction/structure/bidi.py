"""Right-to-left lines from the order they are drawn in to the order they are read (logical order).

MuPDF hands a line's characters in the order the PDF draws them. For a
right-to-left line that is often the visual order (a printer lays glyph runs
out left to right), sometimes the logical one, often a mix (Chromium: each
word's letters in logical order, the words left to right). The positions of
the glyphs are the one thing every producer agrees on, so a line with Hebrew
or Arabic letters is rebuilt from them: its characters sorted left to right
into the visual line, then read back by the inverse of the Unicode
bidirectional algorithm for a line laid out left to right. In a right-to-left
paragraph the line is read from its right end, with runs of Latin words and
numbers kept in their own left-to-right order; in a left-to-right paragraph
only the runs of right-to-left letters (with numbers inside them) are turned
around. Explicit embeddings and the finer neutral rules are not undone: a
line of a PDF rarely needs them, and words are never lost either way (only
their order changes).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from mivaa_extractor.extraction.structure.lexicon import RIGHT_TO_LEFT_CHARS, UNPRINTABLE_CHARS

if TYPE_CHECKING:
    from mivaa_extractor.extraction.structure.pymupdf_backend import TextLine

# Glyph clusters narrower than this share of the font size are marks or the
# rest of a multi-character glyph (a lam-alef, an accent): they stay with the
# cluster drawn before them.
_ZERO_WIDTH = 0.01
# A gap between glyphs wider than this share of the font size is a word space (as join_spans decides).
_WORD_GAP = 0.15
# A gap between glyphs wider than this share of the font size is no word space: the line's parts are
# separate (the cells of a table row, which MuPDF joins into one right-to-left line).
_CELL_GAP = 1.0
# Right edges this close (points) are one paragraph's; a gap under this share of the font size is line spacing.
_SAME_EDGE = 2.0
_LINE_GAP = 0.2
# The letters a lam-alef ligature ends with.
_ALEFS = frozenset("اأإآ")
# The most characters one glyph stands for in a ligature ("ffi", a lam-alef with its mark).
_MAX_GLYPH_CHARS = 3
_STRONG_RTL = frozenset(("R", "AL"))
_NUMBER = frozenset(("EN", "AN"))
# Separators inside a number ("1,250.5", "12:30", "3/4") and signs that stick to one ("40%", "$5").
_NUMBER_SEPARATOR = frozenset(("CS", "ES"))
_NUMBER_TERMINATOR = frozenset(("ET",))
# Paired punctuation a right-to-left run draws with the mirrored glyph (whose Unicode is the partner).
_MIRRORED = str.maketrans("()[]{}<>«»‹›", ")(][}{><»«›‹")


def has_right_to_left(lines: Iterable[TextLine]) -> bool:
    """Whether any of the lines has a Hebrew or Arabic letter (the common case, no, is one regex a line)."""
    return any(RIGHT_TO_LEFT_CHARS.search(line.text) for line in lines)


def reorder_right_to_left(lines: Sequence[TextLine], raw_dict: dict) -> None:
    """Rewrites the text of the horizontal lines with right-to-left letters in logical order.

    `raw_dict` is the page's `extractRAWDICT()` with the flags the lines were
    read with: its lines (found by block and box) give the glyph positions.
    A paragraph's direction is its MuPDF block's: right to left when most of
    its strong letters are, so a Hebrew line that ends in a Latin word and an
    English line that ends in a Hebrew phrase are each read their own way.
    """
    raw_lines: dict[tuple[int, tuple[float, ...]], dict] = {}
    for block_index, block in enumerate(raw_dict.get("blocks", ())):
        for raw_line in block.get("lines", ()):
            raw_lines[block_index, _box_key(raw_line["bbox"])] = raw_line
    strong: dict[int, list[int]] = {}
    for line in lines:
        counts = strong.setdefault(line.block, [0, 0])
        rtl, ltr = strong_counts(line.text)
        counts[0] += rtl
        counts[1] += ltr
    for line in lines:
        if not line.horizontal or not RIGHT_TO_LEFT_CHARS.search(line.text):
            continue
        raw_line = raw_lines.get((line.block, _box_key(line.bbox)))
        if raw_line is None:
            continue
        # The spans the line kept (doubled and broken-font spans were left out).
        kept = {_box_key(span["bbox"]) for span in line.spans}
        spans = [span for span in raw_line["spans"] if _box_key(span["bbox"]) in kept]
        placed = placed_clusters(spans, line.size)
        if placed is None:
            continue  # positions that say nothing about the order: MuPDF's is kept
        right_to_left = strong[line.block][0] > strong[line.block][1]
        text = logical_text(_with_word_spaces(placed, line.size), right_to_left)
        if text:
            line.text = text
            line.reordered = True
            parts = _split_at_wide_gaps(placed, line.size)
            if len(parts) > 1:
                line.parts = [
                    (part[0][0], part[-1][1], logical_text(_with_word_spaces(part, line.size), right_to_left))
                    for part in parts
                ]
    _join_right_aligned_blocks(lines, {block for block, (rtl, ltr) in strong.items() if rtl > ltr})


def _join_right_aligned_blocks(lines: Sequence[TextLine], rtl_blocks: set[int]) -> None:
    """Puts back together right-to-left paragraphs MuPDF cut into blocks.

    MuPDF starts a block where a line's left edge moves; a right-to-left
    paragraph's lines share their right edge and end ragged on the left, so
    each line can become a block. A block whose first line follows the last
    line of a right-to-left block with the same right edge, font and size, at
    line spacing (no paragraph gap), continues that paragraph.
    """
    moved: dict[int, int] = {}
    previous: TextLine | None = None
    for line in lines:
        block = line.block
        if block in moved:
            line.block = moved[block]
        elif (
            previous is not None
            and block != previous.block
            and block in rtl_blocks
            and previous.block in rtl_blocks | set(moved.values())
            and line.horizontal
            and previous.horizontal
            and abs(line.bbox[2] - previous.bbox[2]) < _SAME_EDGE
            and abs(line.size - previous.size) < 0.5
            and line.bold == previous.bold
            and line.bbox[1] - previous.bbox[3] < _LINE_GAP * line.size
        ):
            moved[block] = line.block = previous.block
        previous = line


def _box_key(bbox: Sequence[float]) -> tuple[float, ...]:
    return tuple(round(value, 1) for value in bbox)


def bidi_class(text: str) -> str:
    """'R' (Hebrew, Arabic), 'L' (Latin and other left-to-right letters), 'N' (digits) or '' (neutral) of a cluster."""
    for ch in text:
        direction = unicodedata.bidirectional(ch)
        if direction in _STRONG_RTL:
            return "R"
        if direction == "L":
            return "L"
        if direction in _NUMBER:
            return "N"
        if direction in ("NSM", "BN"):
            continue
        return direction if direction in _NUMBER_SEPARATOR or direction in _NUMBER_TERMINATOR else ""
    return ""


def strong_counts(text: str) -> tuple[int, int]:
    """(right-to-left, left-to-right) strong letters of `text`."""
    rtl = ltr = 0
    for ch in text:
        direction = unicodedata.bidirectional(ch)
        if direction in _STRONG_RTL:
            rtl += 1
        elif direction == "L":
            ltr += 1
    return rtl, ltr


def visual_clusters(spans: Iterable[dict], size: float) -> list[str] | None:
    """The glyph clusters of a line's spans (rawdict spans, with "chars"), left to right, with word spaces.

    None when a glyph stands for more characters than a ligature does (a
    font whose one glyph maps to a whole word): its position cannot order them.
    """
    placed = placed_clusters(spans, size)
    return None if placed is None else _with_word_spaces(placed, size)


def placed_clusters(spans: Iterable[dict], size: float) -> list[list] | None:
    """The glyph clusters of a line's spans as [x0, x1, text, characters], left to right (see visual_clusters)."""
    clusters: list[list] = []  # [x0, x1, text, characters other than marks]
    rests: list[tuple[str, int]] = []  # zero-width characters: (character, clusters before it)
    for span in spans:
        for char in span.get("chars", ()):
            ch = char["c"]
            if UNPRINTABLE_CHARS.match(ch):
                continue
            x0, _, x1, _ = char["bbox"]
            if clusters and unicodedata.combining(ch):
                clusters[-1][2] += ch  # a mark follows its letter
            elif clusters and x1 - x0 < _ZERO_WIDTH * size:
                rests.append((ch, len(clusters)))
            else:
                clusters.append([x0, x1, ch, 1])
    # The rest of a ligature belongs to the glyph before it, except the alef of a lam-alef, which
    # MuPDF may hand before its lam ("ا" then "ل"): looked for once every glyph is known.
    for ch, before in rests:
        cluster = _ligature_glyph(clusters, ch, before)
        cluster[2] += ch
        cluster[3] += 1
        if cluster[3] > _MAX_GLYPH_CHARS:
            return None
    clusters.sort(key=lambda cluster: cluster[0] + cluster[1])
    return clusters


def _with_word_spaces(clusters: list[list], size: float) -> list[str]:
    """The texts of placed clusters, a space where the gap between two is a word space."""
    out: list[str] = []
    previous_x1: float | None = None
    for x0, x1, text, _ in clusters:
        if (
            previous_x1 is not None
            and x0 - previous_x1 > _WORD_GAP * size
            and not text.isspace()
            and not out[-1].isspace()
        ):
            out.append(" ")
        out.append(text)
        previous_x1 = x1
    return out


def _split_at_wide_gaps(clusters: list[list], size: float) -> list[list[list]]:
    """Placed clusters cut where the gap is wider than a word space can be: cells of a table row MuPDF joined."""
    parts: list[list[list]] = []
    for cluster in clusters:
        if parts and cluster[0] - parts[-1][-1][1] <= _CELL_GAP * size:
            parts[-1].append(cluster)
        elif cluster[2].isspace():
            continue
        else:
            parts.append([cluster])
    return [part for part in parts if "".join(cluster[2] for cluster in part).strip()]


def _ligature_glyph(clusters: list[list], ch: str, before: int) -> list:
    """The cluster a zero-wide `ch` handed after the `before`-th cluster is part of."""
    previous = clusters[before - 1]
    if ch in _ALEFS and not previous[2].endswith("ل") and before < len(clusters) and clusters[before][2] == "ل":
        return clusters[before]
    return previous


def logical_text(clusters: Sequence[str], right_to_left: bool) -> str:
    """The line drawn as `clusters` (left to right) in reading order; `right_to_left`: the paragraph's direction."""
    classes = [bidi_class(cluster) for cluster in clusters]
    if right_to_left:
        pieces = _rtl_run(list(clusters), classes)
    else:
        pieces = []
        index = 0
        for start, end in _rtl_runs_in_ltr(classes):
            pieces.extend(clusters[index:start])
            pieces.extend(_rtl_run(list(clusters[start:end]), classes[start:end]))
            index = end
        pieces.extend(clusters[index:])
    return " ".join("".join(pieces).split())


def _rtl_run(clusters: list[str], classes: list[str]) -> list[str]:
    """A right-to-left run read from its right end; its Latin and number runs keep their order."""
    segments: list[list[str]] = []
    index = 0
    while index < len(clusters):
        end = _ltr_segment_end(classes, index)
        if end > index:
            segments.append(clusters[index:end])
            index = end
        else:
            segments.append([clusters[index].translate(_MIRRORED)])
            index += 1
    segments.reverse()
    return [cluster for segment in segments for cluster in segment]


def _ltr_segment_end(classes: list[str], start: int) -> int:
    """The end of the left-to-right segment (Latin words, or a number) that starts at `start`; `start` when none."""
    kind = classes[start]
    if kind == "L":
        # From this letter to the last letter before the next right-to-left one.
        end = start + 1
        for index in range(start + 1, len(classes)):
            if classes[index] == "R":
                break
            if classes[index] == "L":
                end = index + 1
        return end
    if kind == "N" or (kind == "ET" and start + 1 < len(classes) and classes[start + 1] == "N"):
        end = start + 1
        while end < len(classes):
            if classes[end] in ("N", "ET"):
                end += 1
            elif classes[end] == "CS" or classes[end] == "ES":
                if end + 1 < len(classes) and classes[end + 1] == "N":
                    end += 2
                else:
                    break
            else:
                break
        return end
    return start


def _rtl_runs_in_ltr(classes: list[str]) -> list[tuple[int, int]]:
    """(start, end) of the runs from a right-to-left letter to the last one before a Latin letter."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    last_rtl = -1
    for index, kind in enumerate(classes):
        if kind == "R":
            if start is None:
                start = index
            last_rtl = index
        elif kind == "L" and start is not None:
            runs.append((start, last_rtl + 1))
            start = None
    if start is not None:
        runs.append((start, last_rtl + 1))
    return [(_numbers_before(classes, start), end) for start, end in runs]


def _numbers_before(classes: list[str], start: int) -> int:
    """Where a run starts with the numbers drawn left of it: a number after Hebrew ("מחיר 40") is drawn on its left."""
    index = start - 1
    while index >= 0 and classes[index] != "L" and classes[index] != "R":
        if classes[index] == "N":
            start = index
        index -= 1
    return start
