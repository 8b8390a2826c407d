"""Table detection for one PyMuPDF page: where the tables are and what their cells say.

The stage has to be cheap on the many pages that have no table (the whole page
pipeline runs at hundreds of pages a second), so it works in three steps, each
more expensive than the one before and each run only when the previous one
found something:

1. Text pre-filter (always, from the text dict the caller already has, line
   boxes only). MuPDF already cuts a visual line into separate "lines" where
   there is a wide horizontal gap, so table cells arrive as separate lines.
   Lines are clustered into rows by their vertical centre; a row with two or
   more pieces separated by a gap wider than ~0.6 em is a *multi-cell row*.
   A *run* is a sequence of multi-cell rows close to each other whose gaps
   line up (they share a vertical whitespace "gutter"). A page without a run
   of at least two such rows has no table, and nothing else is computed.
   Runs that are made of mathematics, dot-leader table-of-contents lines or
   list bullets do not count.

2. Vector rules (only for suspected pages): `page.get_cdrawings()` costs
   about as much as the text extraction itself, so it is never called for a
   page the text pre-filter cleared. Stroked lines, thin filled rectangles
   and the edges of stroked rectangles become horizontal and vertical rules;
   white (invisible) strokes and large filled areas (backgrounds, banners)
   are ignored. Horizontal rules of similar extent are chained into a
   *frame* while the band between two consecutive rules holds table-like text
   (not prose): booktabs (top/mid/bottom rule) tables, tables with a rule
   between every row and fully ruled grids all become frames.

3. Grid analysis (only inside a frame, or for a rule-less run):
   - columns come from inner vertical rules when there are any (a ruled
     grid), otherwise from the whitespace gutters of the text rows;
   - rows come from the horizontal rules (the bands between them) and, inside
     a band, from the text lines, where a line that only continues cells of
     the line above (a wrapped cell) is merged into that row;
   - spans: in a ruled grid, a missing rule segment between two grid cells
     merges them (row or column span); without vertical rules a text piece
     that crosses a column gutter spans those columns;
   - the header is the first row(s) when they are bold, separated from the
     body by a rule the body does not repeat (booktabs \\midrule), set in a
     different font than the body, or non-numeric above a numeric body.

   A candidate is rejected when it is not a table after all: fewer than two
   columns or rows, mostly empty, mostly mathematics, a table of contents
   (dot leaders, a column of page numbers), or a list (bullets/enumerators
   in a two-column layout). Rule-less candidates must be stronger still: at
   least three columns and three rows, most rows filled, and a numeric column
   (aligned prose, glossaries and indexes have none).

PyMuPDF's own `page.find_tables()` is not used: it takes 70-400 ms a page on
the corpus (it rebuilds the whole page's character map), and its "text"
strategy mangles numbers ("8.9" came out as "89\\n.").

Coordinates are those of the text dict and the drawings: PyMuPDF's unrotated
page space, the same space the rest of the structure stage works in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pymupdf

from mivaa_extractor.structure.model import BBox, Table, TableCell

__all__ = ["DetectedTable", "TEXT_FLAGS", "detect_tables"]

TEXT_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP | pymupdf.TEXT_CID_FOR_UNKNOWN_UNICODE

# Two pieces of text on one visual line further apart than this (in em of the
# larger font) are separate cells; closer pieces (a superscript, a math
# fragment MuPDF cut into its own line) belong together. Table columns are at
# least ~1 em apart (LaTeX: 2 * \tabcolsep = 12pt at 10pt).
_CELL_GAP_EM = 0.6
# Consecutive rows of one table are at most this many row heights apart.
_ROW_GAP_FACTOR = 3.0
# A rule shorter than this is a tick mark, an underline of a symbol, a bullet.
_MIN_RULE_LENGTH = 8.0
# Thicker than this, a filled rectangle is an area (background, banner), not a rule.
_MAX_RULE_THICKNESS = 3.0
# Positions closer than this are the same rule / grid line.
_SNAP = 2.0

_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|[-,]bd\b|cmbx|cmb\d|\.b\b|\bbd\b", re.IGNORECASE)
_MATH_FONT = re.compile(
    r"cmmi|cmsy|cmex|msbm|msam|eufm|eusm|rsfs|stmary|wasy|lasy|mathematicalpi|math|symbol|cambria\s*math|"
    r"stix.*(?:math|integrals|sizes)|txsy|txex|pxsy|pxex|ntxsy|ntxmi|mtmi|mtsy|rmtmi",
    re.IGNORECASE,
)
_MATH_CHARS = frozenset("=<>≤≥≠≈≡∼≃≅∝∈∉∋⊂⊃⊆⊇⊊∪∩∖∀∃∄∑∏∫∮∂∇√∞→←↔⇒⇐⇔↦∘⊕⊗⊥∥∧∨¬±∓×÷·′″⟨⟩|^_{}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LEADER = re.compile(r"(?:\.\s?){4,}|…{2,}|_{4,}|·{4,}")
_ENUMERATOR = re.compile(
    r"^(?:[•◦▪▫●○■□–—\-*·∙‣⁃►▶✓✔➢➤]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)]|\(?[ivxlcIVXLC]{1,5}[.)]|\(\d{1,3}\)|\([a-zA-Z]\)|\[\d{1,4}\])$"
)
_NUMERIC = re.compile(
    r"^[(\[]?[+\-−–±~≈<>$€£¥]?\s?[(]?\d[\d\s.,'’]*(?:[eE][+\-−–]?\d+)?\s?(?:%|‰|[kKMBx×])?[)\]]?[*†‡]*$"
)
_SUBCAPTION = re.compile(r"^\(?[a-z]\)\s")
_SECTION_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.?|Chapter\s+\d+|Kapitel\s+\d+)$", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"^(?:\d{1,4}|[ivxlc]{1,6})$", re.IGNORECASE)


@dataclass(frozen=True)
class DetectedTable:
    """A table found on a page: where it is (covering header and all cells, not the caption) and its grid."""

    bbox: BBox  # x0, y0, x1, y1 in PyMuPDF page coordinates (the text dict's space)
    table: Table


def detect_tables(
    page: pymupdf.Page,
    text_dict: dict | None = None,
    *,
    drawings: list | None = None,
) -> list[DetectedTable]:
    """The tables on `page`, top to bottom.

    `text_dict` is `page.get_text("dict", flags=TEXT_FLAGS)` when the caller has
    it already; `drawings` is `page.get_cdrawings()` likewise. Drawings are only
    extracted here when the text suggests a table, which keeps table-less pages
    at a fraction of a millisecond.
    """
    if text_dict is None:
        text_dict = page.get_text("dict", flags=TEXT_FLAGS)
    lines = _read_lines(text_dict)
    if len(lines) < 4:  # two rows of two cells at the very least
        return []
    rows = _cluster_rows(lines)
    runs = [run for run in _find_runs(rows) if _run_is_tabular(run)]
    if not runs:
        return []

    if drawings is None:
        drawings = page.get_cdrawings()
    horizontals, verticals = _extract_rules(drawings)

    found: list[_Candidate] = []
    for frame in _find_frames(horizontals, lines):
        candidate = _analyse_frame(frame, verticals, lines)
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


# --- text: lines, rows, segments ----------------------------------------------------


class _Line:
    """One MuPDF line (horizontal, not blank): its box and its spans, read lazily."""

    __slots__ = ("x0", "y0", "x1", "y1", "cy", "h", "size", "spans", "_text")

    def __init__(self, bbox: Sequence[float], size: float, spans: list[dict]) -> None:
        self.x0, self.y0, self.x1, self.y1 = bbox
        self.cy = (self.y0 + self.y1) * 0.5
        self.h = max(self.y1 - self.y0, 1.0)
        self.size = size
        self.spans = spans
        self._text: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = _spans_text(self.spans)
        return self._text


def _read_lines(text_dict: dict) -> list[_Line]:
    """Horizontal, non-blank lines; only boxes and the first span's size are touched (this runs on every page)."""
    lines: list[_Line] = []
    for block in text_dict.get("blocks", ()):
        if block.get("type") != 0:
            continue
        for line in block.get("lines", ()):
            direction = line.get("dir", (1.0, 0.0))
            if direction[0] < 0.99:  # rotated labels (figure axes, margins) are never table cells here
                continue
            spans = line.get("spans")
            if not spans or not any(span["text"].strip() for span in spans):
                continue
            bbox = line["bbox"]
            if bbox[2] - bbox[0] < 0.5:
                continue
            lines.append(_Line(bbox, max(spans[0]["size"], 1.0), spans))
    return lines


def _spans_text(spans: Iterable[dict]) -> str:
    """The text of a line's spans; separate words where spans do not touch (MuPDF drops that space)."""
    pieces: list[str] = []
    previous_x1: float | None = None
    for span in spans:
        text = span["text"]
        if _CONTROL.search(text):
            # A glyph without Unicode (kept as its CID) or a broken font map: not text.
            text = _CONTROL.sub("", text)
        if not text.strip():
            if text and pieces and not pieces[-1].endswith(" "):
                pieces.append(" ")
            continue
        x0 = span["bbox"][0]
        if previous_x1 is not None and pieces and not pieces[-1].endswith(" ") and not text.startswith(" "):
            if x0 - previous_x1 > 0.15 * span["size"]:
                pieces.append(" ")
        pieces.append(text)
        previous_x1 = span["bbox"][2]
    return "".join(pieces)


class _Segment:
    """One cell-candidate: the lines of one row that touch each other (gap below ~0.6 em)."""

    __slots__ = ("x0", "y0", "x1", "y1", "size", "lines")

    def __init__(self, line: _Line) -> None:
        self.x0, self.y0, self.x1, self.y1 = line.x0, line.y0, line.x1, line.y1
        self.size = line.size
        self.lines = [line]

    def add(self, line: _Line) -> None:
        self.x0 = min(self.x0, line.x0)
        self.y0 = min(self.y0, line.y0)
        self.x1 = max(self.x1, line.x1)
        self.y1 = max(self.y1, line.y1)
        self.size = max(self.size, line.size)
        self.lines.append(line)

    @property
    def text(self) -> str:
        parts: list[str] = []
        previous: _Line | None = None
        for line in sorted(self.lines, key=lambda item: item.x0):
            text = line.text.strip()
            if not text:
                continue
            if parts and previous is not None and line.x0 - previous.x1 > 0.15 * line.size:
                parts.append(" ")
            parts.append(text)
            previous = line
        return _collapse("".join(parts))


class _Row:
    """Lines sharing a vertical centre, as segments left to right."""

    __slots__ = ("y0", "y1", "cy", "h", "segments")

    def __init__(self, segments: list[_Segment]) -> None:
        self.segments = segments
        self.y0 = min(segment.y0 for segment in segments)
        self.y1 = max(segment.y1 for segment in segments)
        self.cy = (self.y0 + self.y1) * 0.5
        self.h = max(self.y1 - self.y0, 1.0)

    @property
    def multi(self) -> bool:
        return len(self.segments) >= 2

    def gutters(self) -> list[tuple[float, float]]:
        segments = self.segments
        return [(segments[i].x1, segments[i + 1].x0) for i in range(len(segments) - 1)]


def _cluster_rows(lines: Iterable[_Line]) -> list[_Row]:
    """Rows top to bottom: a line joins the row whose first line's centre is within ~0.45 line heights of its own."""
    ordered = sorted(lines, key=lambda line: line.cy)
    groups: list[list[_Line]] = []
    anchor_cy = anchor_h = 0.0
    for line in ordered:
        if groups and line.cy - anchor_cy <= 0.45 * min(anchor_h, line.h):
            groups[-1].append(line)
        else:
            groups.append([line])
            anchor_cy, anchor_h = line.cy, line.h
    return [_Row(_segments(group)) for group in groups]


def _segments(lines: list[_Line]) -> list[_Segment]:
    lines = sorted(lines, key=lambda line: line.x0)
    segments: list[_Segment] = []
    for line in lines:
        if segments:
            last = segments[-1]
            if line.x0 - last.x1 < _CELL_GAP_EM * max(last.size, line.size):
                last.add(line)
                continue
        segments.append(_Segment(line))
    return segments


# --- step 1: the text pre-filter ----------------------------------------------------


@dataclass(slots=True)
class _Run:
    """Consecutive rows whose cells line up: multi-cell rows sharing a gutter, with the single-piece rows between them."""

    rows: list[_Row]
    gutters: list[tuple[float, float]]

    @property
    def multi_rows(self) -> list[_Row]:
        return [row for row in self.rows if row.multi]


def _shared_gutters(upper: _Row, lower: _Row, active: list[tuple[float, float]]) -> list[tuple[float, float]]:
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


def _is_cell_row(row: _Row) -> bool:
    """A multi-piece row with some substance: not scattered figure labels ("0 | y | -3"), not sub-figure captions."""
    if not row.multi:
        return False
    texts = [segment.text for segment in row.segments]
    if sum(len(text) for text in texts) < 6 or max(len(text) for text in texts) < 3:
        return False
    return sum(1 for text in texts if _SUBCAPTION.match(text)) < 2


def _find_runs(rows: list[_Row]) -> list[_Run]:
    runs: list[_Run] = []
    current: list[_Row] = []
    pending: list[_Row] = []  # single-piece rows (wrapped cells, spanning labels) waiting for the next multi row
    active: list[tuple[float, float]] = []
    last_multi: _Row | None = None

    def close() -> None:
        if sum(1 for row in current if row.multi) >= 2:
            runs.append(_Run(list(current), list(active)))

    for row in rows:
        last = pending[-1] if pending else (current[-1] if current else None)
        near = last is not None and row.y0 - last.y1 <= _ROW_GAP_FACTOR * max(last.h, row.h)
        if row.multi and _is_cell_row(row):
            if current and near and last_multi is not None:
                shared = _shared_gutters(last_multi, row, active)
                if shared:
                    current.extend(pending)
                    current.append(row)
                    pending = []
                    active = shared
                    last_multi = row
                    continue
            close()
            current, pending, active, last_multi = [row], [], row.gutters(), row
        elif current and near and len(pending) < 3:
            pending.append(row)
        else:
            close()
            current, pending, active, last_multi = [], [], [], None
    close()
    return runs


def _run_is_tabular(run: _Run) -> bool:
    """False for runs that are aligned mathematics, a table of contents or a list (checked on the multi rows only)."""
    multi = run.multi_rows
    math = toc = enumerated = 0
    for row in multi:
        texts = [segment.text for segment in row.segments]
        if any(_LEADER.search(text) for text in texts):
            toc += 1
        if _ENUMERATOR.match(texts[0]) and len(row.segments) == 2:
            enumerated += 1
        if _is_math([line for segment in row.segments for line in segment.lines]):
            math += 1
    count = len(multi)
    return math * 5 < count * 2 and toc * 5 < count and enumerated * 5 < count * 3


def _is_math(lines: Iterable[_Line]) -> bool:
    """Mostly variables and relations: an equation, not a row of cells.

    Counted: letters in math-italic fonts and relation/operator symbols.
    Digits and signs are not (a numeric table set in math mode has "-", "±").
    """
    math = total = 0
    for line in lines:
        for span in line.spans:
            text = span["text"]
            count = len(text) - text.count(" ")
            if not count:
                continue
            total += count
            if _MATH_FONT.search(span["font"]):
                math += sum(1 for char in text if not char.isdigit() and char not in "−-±.,()%")
            else:
                math += sum(1 for char in text if char in _MATH_CHARS)
    return total > 0 and math * 4 >= total


# --- step 2: rules from the vector drawings -----------------------------------------


@dataclass(slots=True)
class _Rule:
    """An axis-parallel rule: `pos` is its y (horizontal) or x (vertical), `lo`..`hi` its extent."""

    pos: float
    lo: float
    hi: float
    width: float = 0.0

    @property
    def length(self) -> float:
        return self.hi - self.lo


def _is_white(color: Sequence[float] | None) -> bool:
    return color is not None and len(color) > 0 and min(color) > 0.95


def _extract_rules(drawings: list) -> tuple[list[_Rule], list[_Rule]]:
    """Horizontal and vertical rules, collinear pieces merged (a rule interrupted by a crossing rule is one rule)."""
    horizontals: list[_Rule] = []
    verticals: list[_Rule] = []

    def add_box(x0: float, y0: float, x1: float, y1: float, edges: bool, width: float) -> None:
        w, h = x1 - x0, y1 - y0
        if h <= _MAX_RULE_THICKNESS and w >= _MIN_RULE_LENGTH:
            horizontals.append(_Rule((y0 + y1) / 2, x0, x1, max(h, width)))
        elif w <= _MAX_RULE_THICKNESS and h >= _MIN_RULE_LENGTH:
            verticals.append(_Rule((x0 + x1) / 2, y0, y1, max(w, width)))
        elif edges:  # a stroked box: its four sides are rules
            if w >= _MIN_RULE_LENGTH:
                horizontals.append(_Rule(y0, x0, x1, width))
                horizontals.append(_Rule(y1, x0, x1, width))
            if h >= _MIN_RULE_LENGTH:
                verticals.append(_Rule(x0, y0, y1, width))
                verticals.append(_Rule(x1, y0, y1, width))

    for path in drawings:
        kind = path.get("type") or ""
        stroked = "s" in kind and not _is_white(path.get("color"))
        filled = "f" in kind and not _is_white(path.get("fill"))
        if not stroked and not filled:
            continue  # invisible (white on white) separators draw nothing
        width = path.get("width") or 0.0
        rect = path.get("rect")
        if rect is not None:
            x0, y0, x1, y1 = rect
            if (y1 - y0 <= _MAX_RULE_THICKNESS and x1 - x0 >= _MIN_RULE_LENGTH) or (
                x1 - x0 <= _MAX_RULE_THICKNESS and y1 - y0 >= _MIN_RULE_LENGTH
            ):
                # The whole path is one thin shape (a rule drawn as a polygon or a thin rectangle).
                add_box(x0, y0, x1, y1, False, width)
                continue
        for item in path.get("items", ()):
            op = item[0]
            if op == "l":
                (ax, ay), (bx, by) = item[1], item[2]
                if not stroked:
                    continue
                if abs(ay - by) <= 1.0 and abs(ax - bx) >= _MIN_RULE_LENGTH:
                    horizontals.append(_Rule((ay + by) / 2, min(ax, bx), max(ax, bx), width))
                elif abs(ax - bx) <= 1.0 and abs(ay - by) >= _MIN_RULE_LENGTH:
                    verticals.append(_Rule((ax + bx) / 2, min(ay, by), max(ay, by), width))
            elif op == "re":
                x0, y0, x1, y1 = item[1]
                add_box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), stroked, width)
            elif op == "qu":
                quad = item[1]
                xs = [point[0] for point in quad]
                ys = [point[1] for point in quad]
                add_box(min(xs), min(ys), max(xs), max(ys), stroked, width)
    return _merge_rules(horizontals), _merge_rules(verticals)


def _merge_rules(rules: list[_Rule]) -> list[_Rule]:
    rules.sort(key=lambda rule: (round(rule.pos / _SNAP), rule.lo))
    merged: list[_Rule] = []
    for rule in sorted(rules, key=lambda rule: (rule.pos, rule.lo)):
        for other in reversed(merged[-8:]):
            if abs(other.pos - rule.pos) <= 1.0 and rule.lo <= other.hi + 3.0 and rule.hi >= other.lo - 3.0:
                other.lo = min(other.lo, rule.lo)
                other.hi = max(other.hi, rule.hi)
                other.width = max(other.width, rule.width)
                break
        else:
            merged.append(_Rule(rule.pos, rule.lo, rule.hi, rule.width))
    return merged


@dataclass(slots=True)
class _Frame:
    """Horizontal rules of similar extent chained top to bottom: a table's outline and its row separators."""

    x0: float
    x1: float
    rules: list[_Rule]  # the full-width rules, top to bottom
    partial: list[_Rule] = field(default_factory=list)  # shorter rules inside (cmidrule, spanned rows)

    @property
    def y0(self) -> float:
        return self.rules[0].pos

    @property
    def y1(self) -> float:
        return self.rules[-1].pos


def _lines_in(lines: Iterable[_Line], x0: float, y0: float, x1: float, y1: float) -> list[_Line]:
    """Lines whose centre lies inside the box."""
    return [
        line for line in lines if y0 < line.cy < y1 and x0 <= (line.x0 + line.x1) * 0.5 <= x1 and line.x0 >= x0 - 4.0
    ]


def _band_is_tabular(lines: list[_Line], x0: float, x1: float) -> bool:
    """Text between two rules that a table row could hold: not prose, not a block of one long line after another."""
    if not lines:
        return True
    rows = _cluster_rows(lines)
    width = x1 - x0
    wide = sum(1 for row in rows if not row.multi and row.segments[0].x1 - row.segments[0].x0 > 0.75 * width)
    if wide >= 2 or (wide and len(rows) <= 2 and not any(row.multi for row in rows)):
        return False
    return any(row.multi for row in rows) or len(rows) <= 2


def _find_frames(horizontals: list[_Rule], lines: list[_Line]) -> list[_Frame]:
    """Chains of rules with matching extent whose bands hold table-like text."""
    majors = sorted((rule for rule in horizontals if rule.length >= 30.0), key=lambda rule: -rule.length)
    groups: list[list[_Rule]] = []
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
        chain: list[_Rule] = [group[0]]
        for rule in group[1:]:
            previous = chain[-1]
            if rule.pos - previous.pos < 1.5:
                continue  # a double rule
            band = _lines_in(lines, x0, previous.pos, x1, rule.pos)
            if _band_is_tabular(band, x0, x1):
                chain.append(rule)
            else:
                if len(chain) >= 2:
                    frames.append(_Frame(x0, x1, chain))
                chain = [rule]
        if len(chain) >= 2:
            frames.append(_Frame(x0, x1, chain))

    full = {id(rule) for frame in frames for rule in frame.rules}
    for frame in frames:
        frame.partial = [
            rule
            for rule in horizontals
            if id(rule) not in full
            and frame.y0 + 1.0 < rule.pos < frame.y1 - 1.0
            and rule.lo >= frame.x0 - 3.0
            and rule.hi <= frame.x1 + 3.0
        ]
    return frames


# --- step 3: grid analysis ----------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    bbox: BBox
    table: Table
    lines: list[_Line]  # the lines the table's cells were read from


@dataclass(slots=True)
class _Boundary:
    """A horizontal line between two rows of the grid: a rule (with its extent pieces) or just the gap between text rows."""

    pos: float
    rules: list[_Rule]  # empty for a text boundary


def _analyse_frame(frame: _Frame, verticals: list[_Rule], lines: list[_Line]) -> _Candidate | None:
    inside = _lines_in(lines, frame.x0 - 2.0, frame.y0, frame.x1 + 2.0, frame.y1)
    if len(inside) < 4:
        return None

    # Vertical rules of this frame: inside its extent, crossing at least one band.
    frame_verticals = [
        rule
        for rule in verticals
        if frame.x0 - 3.0 <= rule.pos <= frame.x1 + 3.0
        and rule.lo < frame.y1 - 1.0
        and rule.hi > frame.y0 + 1.0
        and min(rule.hi, frame.y1) - max(rule.lo, frame.y0) >= 4.0
    ]
    inner = [rule for rule in frame_verticals if frame.x0 + 3.0 < rule.pos < frame.x1 - 3.0]

    # Row boundaries: every full rule, and partial rules (they bound spanned cells).
    boundary_rules: dict[int, list[_Rule]] = {}
    for rule in frame.rules + frame.partial:
        key = _snap_key(boundary_rules, rule.pos)
        boundary_rules.setdefault(key, []).append(rule)
    ys = sorted(boundary_rules)
    rule_boundaries = [_Boundary(float(pos) / 100.0, boundary_rules[pos]) for pos in ys]

    if inner:
        xs = _cluster_positions([rule.pos for rule in inner])
        column_edges = [frame.x0, *[x for x in xs if frame.x0 + 3.0 < x < frame.x1 - 3.0], frame.x1]
        ruled_columns = True
    else:
        column_edges = _text_columns(_cluster_rows(inside), frame.x0, frame.x1, tolerance=True)
        if column_edges is None:
            return None
        ruled_columns = False

    grid = _build_grid(inside, rule_boundaries, column_edges, frame_verticals if ruled_columns else None)
    if grid is None:
        return None
    table = _to_table(grid, first_rule_is_header_rule=len(frame.rules) >= 3)
    if table is None:
        return None
    x0 = min(frame.x0, min(line.x0 for line in inside))
    x1 = max(frame.x1, max(line.x1 for line in inside))
    return _Candidate((x0, frame.y0, x1, frame.y1), table, inside)


def _snap_key(existing: dict[int, list[_Rule]], pos: float) -> int:
    for key in existing:
        if abs(key / 100.0 - pos) <= _SNAP:
            return key
    return round(pos * 100)


def _cluster_positions(values: Iterable[float]) -> list[float]:
    clustered: list[list[float]] = []
    for value in sorted(values):
        if clustered and value - clustered[-1][-1] <= _SNAP:
            clustered[-1].append(value)
        else:
            clustered.append([value])
    return [sum(group) / len(group) for group in clustered]


def _text_columns(rows: list[_Row], x0: float, x1: float, *, tolerance: bool) -> list[float] | None:
    """Column edges from the whitespace gutters of the multi-cell rows.

    Strictly, a gutter is an x range no piece of text covers. With
    `tolerance`, the gutters come from the rows with the most cells and may be
    crossed by a few pieces of other rows: a header cell spanning two columns
    (those pieces become spanning cells); rule-less tables get no such leeway.
    """
    multi = [row for row in rows if row.multi]
    if not multi:
        return None
    sizes = sorted(segment.size for row in multi for segment in row.segments)
    min_gap = 0.5 * sizes[len(sizes) // 2]
    gutters = _free_intervals(multi)
    if tolerance and len(multi) >= 3:
        most = max(len(row.segments) for row in multi)
        model = [row for row in multi if len(row.segments) == most]
        if len(model) >= 2 and len(model) * 10 >= len(multi) * 3:
            refined: list[tuple[float, float]] = []
            for gutter in _free_intervals(model):
                refined.extend(_refine_gutter(gutter, multi, min_gap, max_crossing=len(multi) // 4))
            if len(refined) > len(gutters):
                gutters = refined
    start = min(segment.x0 for row in multi for segment in row.segments)
    end = max(segment.x1 for row in multi for segment in row.segments)
    edges = [min(x0, start)]
    edges.extend((g0 + g1) / 2 for g0, g1 in gutters if g1 - g0 >= min_gap)
    edges.append(max(x1, end))
    if len(edges) < 3:
        return None
    return edges


def _free_intervals(rows: list[_Row]) -> list[tuple[float, float]]:
    """The x ranges between the leftmost and rightmost text that no segment of `rows` covers."""
    intervals = sorted((segment.x0, segment.x1) for row in rows for segment in row.segments)
    free: list[tuple[float, float]] = []
    reach = intervals[0][1]
    for lo, hi in intervals[1:]:
        if lo > reach:
            free.append((reach, lo))
        reach = max(reach, hi)
    return free


def _refine_gutter(
    gutter: tuple[float, float], rows: list[_Row], min_gap: float, max_crossing: int
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


@dataclass(slots=True)
class _Grid:
    """Cells of a table before they become a `Table`: rectangles over row/column indices and their lines."""

    row_count: int
    column_count: int
    cells: list[tuple[int, int, int, int, list[_Line]]]  # row, column, row_span, column_span, lines
    boundaries: list[_Boundary]  # the boundary above each row, plus the one below the last
    row_is_text_split: list[bool] = field(default_factory=list)


def _build_grid(
    lines: list[_Line],
    rule_boundaries: list[_Boundary],
    column_edges: list[float],
    verticals: list[_Rule] | None,
) -> _Grid | None:
    """Rows (rule bands split into text rows where needed), cells, spans."""
    columns = len(column_edges) - 1
    if columns < 2:
        return None

    def column_of(x: float) -> int:
        for index in range(columns):
            if x < column_edges[index + 1]:
                return index
        return columns - 1

    def columns_covered(segment: _Segment) -> tuple[int, int]:
        if verticals is not None:  # ruled: the text sits in the cell its centre is in
            column = column_of((segment.x0 + segment.x1) / 2)
            return column, column
        first = column_of(segment.x0 + 0.5)
        last = column_of(segment.x1 - 0.5)
        return first, max(first, last)

    # Bands between rule boundaries, each with its text rows.
    if rule_boundaries:
        band_edges = [boundary.pos for boundary in rule_boundaries]
    else:
        band_edges = []
    top = min([line.y0 for line in lines] + band_edges[:1])
    bottom = max([line.y1 for line in lines] + band_edges[-1:])
    if not band_edges or band_edges[0] > top + 0.5:
        rule_boundaries = [_Boundary(top - 0.01, []), *rule_boundaries]
    if rule_boundaries[-1].pos < bottom - 0.5:
        rule_boundaries = [*rule_boundaries, _Boundary(bottom + 0.01, [])]

    bands: list[list[_Row]] = []
    for upper, lower in zip(rule_boundaries, rule_boundaries[1:]):
        band_lines = [line for line in lines if upper.pos < line.cy < lower.pos]
        bands.append(_cluster_rows(band_lines) if band_lines else [])

    # Per text row: which columns it fills (first/last covered per segment).
    def filled(row: _Row) -> set[int]:
        result: set[int] = set()
        for segment in row.segments:
            first, last = columns_covered(segment)
            result.update(range(first, last + 1))
        return result

    column_extent = [[float("inf"), float("-inf")] for _ in range(columns)]
    for band in bands:
        for row in band:
            for segment in row.segments:
                first, last = columns_covered(segment)
                if first == last:
                    column_extent[first][0] = min(column_extent[first][0], segment.x0)
                    column_extent[first][1] = max(column_extent[first][1], segment.x1)

    non_empty_bands = [band for band in bands if band]
    single_full = sum(1 for band in non_empty_bands if _full_rows(band, filled, columns) <= 1)
    # Rules between (nearly) every row: a band is one row whatever its lines (wrapped cells, centred cells).
    row_ruled = len(non_empty_bands) >= 3 and single_full * 4 >= len(non_empty_bands) * 3

    # Group text rows into table rows.
    table_rows: list[list[_Row]] = []
    boundaries: list[_Boundary] = []
    for band_index, band in enumerate(bands):
        upper = rule_boundaries[band_index]
        if not band:
            continue
        groups: list[list[_Row]] = []
        for row in band:
            if not groups or (not row_ruled and not _continues(groups[-1], row, filled, columns, column_extent, columns_covered)):
                groups.append([row])
            else:
                groups[-1].append(row)
        for group_index, group in enumerate(groups):
            boundaries.append(upper if group_index == 0 else _Boundary(group[0].y0, []))
            table_rows.append(group)
    if len(table_rows) < 2:
        return None
    boundaries.append(rule_boundaries[-1])

    row_count = len(table_rows)
    # Elementary cells and their content.
    content: dict[tuple[int, int], list[tuple[_Segment, int]]] = {}
    crossing: set[tuple[int, int]] = set()  # (row, column): text crosses the boundary right of this column
    for row_index, group in enumerate(table_rows):
        for text_row in group:
            for segment in text_row.segments:
                first, last = columns_covered(segment)
                content.setdefault((row_index, first), []).append((segment, last))
                for column in range(first, last):
                    crossing.add((row_index, column))

    row_tops = [boundary.pos for boundary in boundaries]

    def vertical_open(row_index: int, column: int) -> bool:
        """No border between (row, column) and (row, column + 1)."""
        if verticals is None:
            return (row_index, column) in crossing
        x = column_edges[column + 1]
        lo, hi = row_tops[row_index], row_tops[row_index + 1]
        span = max(hi - lo, 1.0)
        covered = sum(
            max(0.0, min(rule.hi, hi) - max(rule.lo, lo)) for rule in verticals if abs(rule.pos - x) <= _SNAP
        )
        return covered < 0.5 * span

    def horizontal_open(row_index: int, column: int) -> bool:
        """No border between (row, column) and (row + 1, column): only where rules bound rows."""
        boundary = boundaries[row_index + 1]
        if not boundary.rules or verticals is None:
            return False
        lo, hi = column_edges[column], column_edges[column + 1]
        covered = sum(max(0.0, min(rule.hi, hi) - max(rule.lo, lo)) for rule in boundary.rules)
        return covered < 0.5 * (hi - lo)

    parent = list(range(row_count * columns))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for row_index in range(row_count):
        for column in range(columns):
            if column + 1 < columns and vertical_open(row_index, column):
                union(row_index * columns + column, row_index * columns + column + 1)
            if row_index + 1 < row_count and horizontal_open(row_index, column):
                union(row_index * columns + column, (row_index + 1) * columns + column)

    regions: dict[int, list[int]] = {}
    for index in range(row_count * columns):
        regions.setdefault(find(index), []).append(index)
    cells: list[tuple[int, int, int, int, list[_Line]]] = []
    for members in regions.values():
        rows_in = [index // columns for index in members]
        cols_in = [index % columns for index in members]
        r0, r1, c0, c1 = min(rows_in), max(rows_in), min(cols_in), max(cols_in)
        cell_lines: list[_Line] = []
        for index in members:
            for segment, _ in content.get((index // columns, index % columns), ()):
                cell_lines.extend(segment.lines)
        cells.append((r0, c0, r1 - r0 + 1, c1 - c0 + 1, cell_lines))
    cells.sort(key=lambda cell: (cell[0], cell[1]))
    # Spans must not overlap: a region that is not a rectangle (odd ruling) keeps only its top-left extent.
    return _Grid(row_count, columns, _dedupe_cells(cells, row_count, columns), boundaries)


def _row_lines(row: _Row) -> Iterable[_Line]:
    for segment in row.segments:
        yield from segment.lines


def _dedupe_cells(
    cells: list[tuple[int, int, int, int, list[_Line]]], row_count: int, columns: int
) -> list[tuple[int, int, int, int, list[_Line]]]:
    taken = [[False] * columns for _ in range(row_count)]
    result: list[tuple[int, int, int, int, list[_Line]]] = []
    for row, column, row_span, column_span, cell_lines in cells:
        if taken[row][column]:
            continue
        for r in range(row, row + row_span):
            for c in range(column, column + column_span):
                taken[r][c] = True
        result.append((row, column, row_span, column_span, cell_lines))
    return result


def _full_rows(band: list[_Row], filled, columns: int) -> int:
    """Text rows of a band that fill (nearly) every column: separate table rows, not wrapped continuations."""
    need = max(2, columns - 1) if columns > 2 else 2
    return sum(1 for row in band if len(filled(row)) >= need)


def _continues(group: list[_Row], row: _Row, filled, columns: int, column_extent, columns_covered) -> bool:
    """Whether text row `row` only continues wrapped cells of the table row `group` (top-aligned cells)."""
    previous = group[-1]
    mine = filled(row)
    theirs = set().union(*(filled(item) for item in group))
    if not mine or len(mine) >= columns or not mine <= theirs:
        return False
    if len(mine) >= len(filled(group[0])) and len(group[0].segments) > 1 and len(mine) > 1:
        return False
    if row.y0 - previous.y1 > 0.8 * max(row.h, previous.h):
        return False  # a gap wider than line spacing: a new row
    for segment in row.segments:
        text = segment.text
        if text[:1].islower():
            return True  # a sentence going on
        first, _ = columns_covered(segment)
        above = [item for item in previous.segments if columns_covered(item)[0] == first]
        if not above:
            continue
        above_text = above[-1].text
        if above_text.endswith(("-", ",", "/", "&", "+", "(")):
            return True
        extent = column_extent[first]
        width = extent[1] - extent[0]
        if width > 0 and above[-1].x1 - above[-1].x0 >= 0.7 * width:
            return True  # the line above filled its column: the text wrapped
    return False


def _to_table(grid: _Grid, *, first_rule_is_header_rule: bool) -> Table | None:
    texts: dict[tuple[int, int], str] = {}
    styles: dict[tuple[int, int], tuple[bool, str, float]] = {}
    for row, column, _, _, cell_lines in grid.cells:
        texts[(row, column)] = _cell_text(cell_lines)
        styles[(row, column)] = _style(cell_lines)

    non_empty = [key for key, text in texts.items() if text]
    slots = grid.row_count * grid.column_count
    covered = sum(row_span * column_span for row, column, row_span, column_span, _ in grid.cells if texts[(row, column)])
    if covered * 2 < slots:
        return None  # mostly empty: a drawing's grid with a few labels, not a table
    rows_with_two = Counter(row for row, _ in non_empty)
    if sum(1 for count in rows_with_two.values() if count >= 2) < 2:
        return None
    all_lines = [line for *_, cell_lines in grid.cells for line in cell_lines]
    if _is_math(all_lines):
        return None
    if _is_toc(grid, texts) or _is_list(grid, texts):
        return None

    header_rows = _header_rows(grid, texts, styles, first_rule_is_header_rule)
    cells = tuple(
        TableCell(
            row=row,
            column=column,
            text=texts[(row, column)],
            row_span=row_span,
            column_span=column_span,
            header=row < header_rows,
        )
        for row, column, row_span, column_span, _ in grid.cells
    )
    return Table(row_count=grid.row_count, column_count=grid.column_count, cells=cells, header_rows=header_rows)


def _cell_text(lines: list[_Line]) -> str:
    """Lines of one cell top to bottom, pieces of one visual line left to right, hyphenation at line ends undone."""
    if not lines:
        return ""
    visual: list[list[_Line]] = []
    for line in sorted(lines, key=lambda item: item.cy):
        if visual and line.cy - visual[-1][0].cy <= 0.45 * min(visual[-1][0].h, line.h):
            visual[-1].append(line)
        else:
            visual.append([line])
    text = ""
    for group in visual:
        piece = _Segment(group[0])
        for line in group[1:]:
            piece.add(line)
        part = piece.text
        if not part:
            continue
        if not text:
            text = part
        elif len(text) >= 2 and text.endswith("-") and text[-2].isalpha() and part[:1].islower():
            text = text[:-1] + part  # "exam-" + "ple"
        else:
            text = text + " " + part
    return _collapse(text)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _style(lines: list[_Line]) -> tuple[bool, str, float]:
    """(bold, dominant font, dominant size) of a cell's characters."""
    if not lines:
        return (False, "", 0.0)
    fonts: Counter[tuple[str, float]] = Counter()
    bold = total = 0
    for line in lines:
        for span in line.spans:
            count = len(span["text"].strip())
            if not count:
                continue
            total += count
            font = span["font"]
            fonts[(font, round(span["size"], 1))] += count
            if span["flags"] & pymupdf.TEXT_FONT_BOLD or _BOLD_FONT.search(font):
                bold += count
    if not total:
        return (False, "", 0.0)
    (font, size), _ = fonts.most_common(1)[0]
    return (bold * 2 > total, font, size)


def _is_numeric(text: str) -> bool:
    return bool(text) and bool(_NUMERIC.match(text))


def _header_rows(grid: _Grid, texts, styles, first_rule_is_header_rule: bool) -> int:
    """How many leading rows are header rows (0 when nothing sets the first row apart)."""
    rows: list[list[tuple[int, int]]] = [[] for _ in range(grid.row_count)]
    for row, column, *_ in grid.cells:
        if texts[(row, column)]:
            rows[row].append((row, column))
    if not rows[0] or grid.row_count < 2:
        return 0

    def all_bold(index: int) -> bool:
        return bool(rows[index]) and all(styles[key][0] for key in rows[index])

    body_start = 1
    # booktabs: the first rule below the top one closes the header; the body is not ruled row by row.
    rule_rows = [index for index in range(1, grid.row_count) if grid.boundaries[index].rules]
    if first_rule_is_header_rule and rule_rows and rule_rows[0] <= 3 and len(rule_rows) < grid.row_count - 1:
        return rule_rows[0]
    body = [key for index in range(body_start, grid.row_count) for key in rows[index]]
    if not body:
        return 0
    # Bold leading rows above a body that is not all bold.
    bold_rows = 0
    while bold_rows < min(3, grid.row_count - 1) and all_bold(bold_rows):
        bold_rows += 1
    if bold_rows and not all(styles[key][0] for index in range(bold_rows, grid.row_count) for key in rows[index]):
        return bold_rows
    # Non-numeric first row above numeric columns.
    if not any(_is_numeric(texts[key]) for key in rows[0]):
        numeric_columns = 0
        for column in range(grid.column_count):
            values = [texts[(index, column)] for index in range(1, grid.row_count) if texts.get((index, column))]
            if values and sum(1 for value in values if _is_numeric(value)) * 2 > len(values):
                numeric_columns += 1
        if numeric_columns:
            return 1
    # A first row in its own font (family or size) while the body shares another.
    head_styles = {styles[key][1:] for key in rows[0]}
    body_styles = Counter(styles[key][1:] for key in body)
    if len(head_styles) == 1 and body_styles:
        body_style, count = body_styles.most_common(1)[0]
        if next(iter(head_styles)) != body_style and count * 10 >= len(body) * 8 and next(iter(head_styles)) not in body_styles:
            return 1
    return 0


def _is_toc(grid: _Grid, texts) -> bool:
    """A table of contents: dot leaders, or section numbers in front and page numbers at the end."""
    leaders = sum(1 for text in texts.values() if _LEADER.search(text))
    if leaders >= 2:
        return True
    last_column = [texts.get((row, grid.column_count - 1), "") for row in range(grid.row_count)]
    first_column = [texts.get((row, 0), "") for row in range(grid.row_count)]
    pages = [text for text in last_column if text]
    if grid.column_count <= 3 and pages and all(_PAGE_NUMBER.match(text) for text in pages):
        sections = [text for text in first_column if text]
        numbers = [int(text) for text in pages if text.isdigit()]
        if numbers == sorted(numbers) and sum(1 for text in sections if _SECTION_NUMBER.match(text)) * 2 >= len(sections):
            return True
    return False


def _is_list(grid: _Grid, texts) -> bool:
    """A list laid out in two columns: bullets or enumerators on the left."""
    if grid.column_count > 2:
        return False
    first = [texts.get((row, 0), "") for row in range(grid.row_count)]
    marked = sum(1 for text in first if text and _ENUMERATOR.match(text))
    return marked * 5 >= len([text for text in first if text]) * 3


# --- rule-less tables ---------------------------------------------------------------


def _analyse_run(run: _Run, horizontals: list[_Rule], lines: list[_Line]) -> _Candidate | None:
    """A table without a frame of rules: only accepted when its shape is unmistakably tabular."""
    rows = run.rows
    # Trim leading/trailing single-piece rows: captions and prose around the run.
    while rows and not rows[0].multi:
        rows = rows[1:]
    while rows and not rows[-1].multi:
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
    column_edges = _text_columns(rows, x0, x1, tolerance=False)
    if column_edges is None or len(column_edges) < 4:
        return None  # rule-less tables need three columns or more
    y0 = rows[0].y0 - 0.5
    y1 = rows[-1].y1 + 0.5
    inside = [line for row in rows for line in _row_lines(row)]
    # Rules right inside the run (a \midrule of a table missing its top or bottom rule) bound rows.
    inner = [
        _Boundary(rule.pos, [rule])
        for rule in horizontals
        if y0 < rule.pos < y1 and rule.lo <= x0 + 6.0 and rule.hi >= x1 - 6.0
    ]
    grid = _build_grid(inside, inner, column_edges, None)
    if grid is None or grid.row_count < 3:
        return None
    texts = {(row, column): _cell_text(cell_lines) for row, column, _, _, cell_lines in grid.cells}
    filled_rows = sum(
        1
        for index in range(grid.row_count)
        if sum(1 for (row, _), text in texts.items() if row == index and text) >= grid.column_count - 1
    )
    if filled_rows * 10 < grid.row_count * 7:
        return None
    numeric_column = False
    for column in range(grid.column_count):
        values = [texts.get((index, column), "") for index in range(1, grid.row_count)]
        values = [value for value in values if value]
        if len(values) >= 2 and sum(1 for value in values if _is_numeric(value)) * 10 >= len(values) * 6:
            numeric_column = True
            break
    if not numeric_column:
        return None
    table = _to_table(grid, first_rule_is_header_rule=bool(inner))
    if table is None:
        return None
    return _Candidate((x0, y0, x1, y1), table, inside)


# --- boxes --------------------------------------------------------------------------


def _rows_bbox(rows: list[_Row]) -> BBox:
    return (
        min(segment.x0 for row in rows for segment in row.segments),
        min(row.y0 for row in rows),
        max(segment.x1 for row in rows for segment in row.segments),
        max(row.y1 for row in rows),
    )


def _overlaps(a: BBox, b: BBox) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 1.0 and min(a[3], b[3]) - max(a[1], b[1]) > 1.0


def _trim_bbox(candidate: _Candidate, lines: list[_Line]) -> BBox:
    """The table's box around all its text and rules, pulled in where it would touch a line that is not the table's."""
    own = {id(line) for line in candidate.lines}
    x0 = min([candidate.bbox[0], *(line.x0 for line in candidate.lines)])
    y0 = min([candidate.bbox[1], *(line.y0 for line in candidate.lines)])
    x1 = max([candidate.bbox[2], *(line.x1 for line in candidate.lines)])
    y1 = max([candidate.bbox[3], *(line.y1 for line in candidate.lines)])
    text_top = min(line.y0 for line in candidate.lines)
    text_bottom = max(line.y1 for line in candidate.lines)
    for line in lines:
        if id(line) in own or line.x1 <= x0 or line.x0 >= x1 or line.y1 <= y0 or line.y0 >= y1:
            continue
        if line.cy <= text_top:
            y0 = max(y0, min(line.y1, text_top))
        elif line.cy >= text_bottom:
            y1 = min(y1, max(line.y0, text_bottom))
    return (x0, y0, x1, y1)
