"""Table detection for one PyMuPDF page: where the tables are and what their cells say.

The stage must cost next to nothing on the many pages without a table (the page
pipeline runs at hundreds of pages a second per core), so it works in three
steps, each dearer than the one before and each run only when the previous one
found something:

1. Text pre-filter (every page; line boxes of the text dict the caller already
   has). MuPDF cuts a visual line into separate "lines" at wide horizontal gaps,
   so table cells arrive as separate lines. Lines are clustered into rows by
   their vertical centre; pieces closer than ~0.6 em are merged, so a row with
   two or more pieces left is a *multi-cell row*. A *run* is a sequence of such
   rows, close together, whose gaps line up: they share a whitespace gutter with
   overlapping text on both sides of it in every row (left-, right- and
   centre-aligned columns all satisfy that; a page header's wide gap does not).
   Scattered figure labels, sub-figure captions, aligned mathematics, dot-leader
   tables of contents and bullet lists do not make runs. No run: no table, and
   nothing else is computed (0.3 ms a page on a maths thesis full of equations).

2. Rules (suspected pages only): `page.get_cdrawings()` costs about as much as
   the text extraction, so a page the pre-filter cleared never pays for it.
   Stroked lines, thin filled rectangles and the sides of stroked rectangles
   become horizontal and vertical rules, collinear pieces merged; white rules
   count (they separate shaded cells). Filled areas count only where they are
   stacked like shaded cells; a lone banner or tinted box adds nothing.
   Horizontal rules of about the same extent are chained, top to bottom, into a
   *frame* for as long as the band between two rules holds table-like text
   rather than prose: booktabs top/mid/bottom rules, a rule under every row and
   full grids all become frames. Rules under a running header and above a
   footer, which frame the whole page, do not.

3. Grid analysis (inside a frame, or for a run without rules):
   - columns: inner vertical rules, and inside each ruled column the text's
     own gutters (so "Top-20" over five numbers is five columns under one
     spanning header); without vertical rules, the gutters of the rows with
     the most cells, which a spanning header may cross. Lines MuPDF joined
     across a gutter ("Top-1 Top-5 Top-20") are cut at the space there.
   - rows: the bands between horizontal rules, split into the text rows they
     hold, where a text row that only continues wrapped cells of the row above
     (a lowercase start, a hyphen, a line above that filled its column) joins
     that row. A band holding paragraphs in ruled cells is one row; so is every
     band of a table with a rule under each row. A label centred beside two
     rows ("Single" beside "DPR" and "BM25+DPR") spans both.
   - spans: in a ruled grid, a missing rule segment merges two grid cells; a
     text piece crossing a gutter spans those columns; a header cell alone
     between two vertical rules spans them; a header cell with nothing below it
     in the next header row spans both header rows.
   - header: the rows above a full-width rule the body does not repeat
     (booktabs \\midrule), else leading bold rows over a body that is not all
     bold, else a non-numeric first row over numeric columns, else a first row
     in a font of its own.

   A candidate is dropped when it is not a table after all: fewer than two
   rows or columns with text, mostly empty (a drawing's grid), mostly
   mathematics, a table of contents, a two-column list. Without rules between
   rows or columns (a run, or a frame of just a top and a bottom rule, which is
   as often a box around two columns of prose), a table needs three columns,
   three rows, most rows filled and a numeric column.

Cell text: whitespace collapsed, a word hyphenated at a cell's line end joined
("exam-" + "ple"), raised digits kept raised ("km²", "750¹") rather than run
into the number before them, glyphs without Unicode (kept by MuPDF as control
characters) dropped, as the text backend drops them.

PyMuPDF's `page.find_tables()` is not used: it took 70-400 ms a page on the
corpus, and its text strategy mangled numbers ("8.9" came out as "89\\n.").

Coordinates are those of the text dict and the drawings: PyMuPDF's unrotated
page space, the space the rest of the structure stage works in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

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
_ROW_GAP_FACTOR = 4.0
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
# Relations and operators outside math fonts; inside one, digits and signs (a number set in math mode) do not count.
_MATH_CHAR = re.compile(r"[=<>≤≥≠≈≡∼≃≅∝∈∉∋⊂⊃⊆⊇⊊∪∩∖∀∃∄∑∏∫∮∂∇√∞→←↔⇒⇐⇔↦∘⊕⊗⊥∥∧∨¬∓÷′″⟨⟩|^_{}]")
_NOT_MATH_IN_MATH_FONT = re.compile(r"[\d−\-±.,()%]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LEADER = re.compile(r"(?:\.\s?){5,}|…{3,}|_{5,}|·{5,}")
# A list marker: a bullet, "1.", "a)", "(iv)", "[12]".
_ENUMERATOR = re.compile(
    r"^(?:[•◦▪▫●○■□–—\-*·∙‣⁃►▶✓✔➢➤]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)]|\(?[ivxlcIVXLC]{1,5}[.)]"
    r"|\(\d{1,3}\)|\([a-zA-Z]\)|\[\d{1,4}\])$"
)
# A number: sign or currency, digits with thousands separators or a decimal part, an exponent,
# a percent or unit suffix, footnote marks. Not a section number ("2.3.59.1"), not a date.
_NUMERIC = re.compile(
    r"^[(\[]?[+\-−–±~≈<>$€£¥]?\s?(?:\d{1,3}(?:[,.'’ ]\d{3})+|\d+)(?:[.,]\d+)?(?:[eE][+\-−–]?\d+)?"
    r"\s?(?:%|‰|[kKMBx×])?[)\]]?[*†‡⁰¹²³⁴⁵⁶⁷⁸⁹]*$"
)
_SUPERSCRIPTABLE = re.compile(r"^\s*[0-9+\-−=()]+\s*$")
_SUPERSCRIPT = str.maketrans("0123456789+-−=()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾")
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
    it already; `drawings` is `page.get_cdrawings()` (or `get_drawings()`)
    likewise. Drawings are only extracted here when the text suggests a table,
    which keeps table-less pages at a fraction of a millisecond.

    Each bbox covers the whole table, header and rules included, and touches no
    line of text that is not the table's (caption, paragraphs above and below):
    the caller can replace the lines inside it by the table.
    """
    if text_dict is None:
        text_dict = page.get_text("dict", flags=TEXT_FLAGS)
    lines = _read_lines(text_dict)
    if len(lines) < 4:  # two rows of two cells at the very least
        return []
    rows = _cluster_rows(lines)
    runs = [run for run in _find_runs(rows) if _drop_page_gutters(run, rows) and _run_is_tabular(run)]
    if not runs:
        return []

    if drawings is None:
        drawings = page.get_cdrawings()
    # The text dict's size is the unrotated page's, the space of its boxes and of the drawings.
    width = text_dict.get("width") or page.rect.width
    height = text_dict.get("height") or page.rect.height
    horizontals, verticals = _extract_rules(drawings, width, height)

    found: list[_Candidate] = []
    # Smallest first: a table inside a box around half the page is read as the table, not the box.
    frames = sorted(_find_frames(horizontals, lines), key=lambda frame: (frame.x1 - frame.x0) * (frame.y1 - frame.y0))
    for frame in frames:
        if len(frame.rules) <= 3 and not frame.partial and frame.y0 < 0.12 * height and frame.y1 > 0.85 * height:
            continue  # rules under a running header and above a footer frame the page, not a table
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
        if not text.isprintable() and _CONTROL.search(text):
            # A glyph without Unicode (kept as its CID) or a broken font map: not text.
            text = _CONTROL.sub("", text)
        if not text.strip():
            if text and pieces and not pieces[-1].endswith(" "):
                pieces.append(" ")
            continue
        if span["flags"] & pymupdf.TEXT_FONT_SUPERSCRIPT and _SUPERSCRIPTABLE.match(text):
            # A raised "2" in "km2" or a footnote mark after a number: keep it raised ("km²",
            # "273,879,750¹"), or the digits would run into the value before them.
            text = text.translate(_SUPERSCRIPT)
        x0 = span["bbox"][0]
        if previous_x1 is not None and pieces and not pieces[-1].endswith(" ") and not text.startswith(" "):
            if x0 - previous_x1 > 0.15 * span["size"]:
                pieces.append(" ")
        pieces.append(text)
        previous_x1 = span["bbox"][2]
    return "".join(pieces)


class _Segment:
    """One cell-candidate: the lines of one row that touch each other (gap below ~0.6 em)."""

    __slots__ = ("x0", "y0", "x1", "y1", "size", "lines", "_text")

    def __init__(self, line: _Line) -> None:
        self.x0, self.y0, self.x1, self.y1 = line.x0, line.y0, line.x1, line.y1
        self.size = line.size
        self.lines = [line]
        self._text: str | None = None

    def add(self, line: _Line) -> None:
        self.x0 = min(self.x0, line.x0)
        self.y0 = min(self.y0, line.y0)
        self.x1 = max(self.x1, line.x1)
        self.y1 = max(self.y1, line.y1)
        self.size = max(self.size, line.size)
        self.lines.append(line)
        self._text = None

    @property
    def text(self) -> str:
        if self._text is not None:
            return self._text
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
        self._text = _collapse("".join(parts))
        return self._text


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
    """One row's lines left to right, merged where less than ~0.6 em apart (a superscript, a math fragment)."""
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
    """Consecutive rows whose cells line up: multi-cell rows sharing gutters, and the single-piece rows between."""

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


def _is_cell_row(row: _Row, text_width: float) -> bool:
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
    return sum(1 for text in texts if _SUBCAPTION.match(text)) < 2


def _find_runs(rows: list[_Row]) -> list[_Run]:
    """Runs of aligned multi-cell rows, with the single-piece rows inside them (see the module docstring)."""
    if not rows:
        return []
    text_width = max(segment.x1 for row in rows for segment in row.segments) - min(
        segment.x0 for row in rows for segment in row.segments
    )
    runs: list[_Run] = []
    current: list[_Row] = []
    pending: list[_Row] = []  # single-piece rows (wrapped cells, spanning labels) waiting for the next multi row
    active: list[tuple[float, float]] = []
    last_multi: _Row | None = None

    def close() -> None:
        if sum(1 for row in current if row.multi) >= 2:
            # Lines after the last multi-cell row that stay inside the columns end wrapped cells.
            tail = []
            for row in pending:
                if not _within_gutters(row, active):
                    break
                tail.append(row)
            runs.append(_Run(current + tail, list(active)))

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
            close()
            current, pending, active, last_multi = [row], [], row.gutters(), row
        elif current and near and (len(pending) < 3 or _within_gutters(row, active)):
            # A wrapped cell's further lines, a spanning label: kept while they stay inside the columns.
            pending.append(row)
        else:
            close()
            current, pending, active, last_multi = [], [], [], None
    close()
    return runs


def _drop_page_gutters(run: _Run, rows: list[_Row]) -> bool:
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


def _within_gutters(row: _Row, gutters: list[tuple[float, float]]) -> bool:
    """A row none of whose pieces crosses one of the run's gutters: text inside the columns."""
    return not any(segment.x0 < g0 and segment.x1 > g1 for segment in row.segments for g0, g1 in gutters)


def _run_is_tabular(run: _Run) -> bool:
    """False for runs that are aligned mathematics, a table of contents or a list (checked on the multi rows only)."""
    multi = run.multi_rows
    if len(multi) > 12:  # a sample decides as well as all of them
        step = len(multi) / 12
        multi = [multi[int(index * step)] for index in range(12)]
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


@lru_cache(maxsize=512)
def _is_math_font(font: str) -> bool:
    return bool(_MATH_FONT.search(font))


@lru_cache(maxsize=512)
def _is_bold_font(font: str) -> bool:
    return bool(_BOLD_FONT.search(font))


def _is_math(lines: Iterable[_Line]) -> bool:
    """Mostly variables and relations: an equation, not a row of cells.

    Counted: what math fonts draw apart from digits and signs, and relation
    and operator symbols in other fonts; a fifth of the characters makes an
    equation. Digits, signs, "±" and "×" do not count: a numeric table set in
    math mode ("−0.93", "85.3 ± 0.2", "3 × 4") is still a table.
    """
    math = total = 0
    for line in lines:
        for span in line.spans:
            text = span["text"]
            count = len(text) - text.count(" ")
            if not count:
                continue
            total += count
            if _is_math_font(span["font"]):
                math += count - len(_NOT_MATH_IN_MATH_FONT.findall(text))
            else:
                math += len(_MATH_CHAR.findall(text))
    return total > 0 and math * 5 >= total


# --- step 2: rules from the vector drawings -----------------------------------------


@dataclass(slots=True)
class _Rule:
    """An axis-parallel rule: `pos` is its y (horizontal) or x (vertical), `lo`..`hi` its extent."""

    pos: float
    lo: float
    hi: float

    @property
    def length(self) -> float:
        return self.hi - self.lo


def _extract_rules(drawings: list, page_width: float, page_height: float) -> tuple[list[_Rule], list[_Rule]]:
    """Horizontal and vertical rules, collinear pieces merged (a rule interrupted by a crossing rule is one rule).

    Pieces of any length are collected first: LaTeX draws a vertical rule as
    one short piece per row, only the merged rule has to be long. White rules
    count: on shaded cells they are the visible separators, on white paper
    they still separate what the author laid out as cells. Filled areas count
    where they are stacked like the cells of a shaded table (see `_area_edges`).
    """
    horizontals: list[_Rule] = []
    verticals: list[_Rule] = []
    areas: list[tuple[float, float, float, float]] = []

    def add_box(x0: float, y0: float, x1: float, y1: float, edges: bool, area: bool) -> None:
        w, h = x1 - x0, y1 - y0
        if h <= _MAX_RULE_THICKNESS and w >= 1.0:
            horizontals.append(_Rule((y0 + y1) / 2, x0, x1))
        elif w <= _MAX_RULE_THICKNESS and h >= 1.0:
            verticals.append(_Rule((x0 + x1) / 2, y0, y1))
        elif edges:  # a stroked box: its four sides are rules
            horizontals.append(_Rule(y0, x0, x1))
            horizontals.append(_Rule(y1, x0, x1))
            verticals.append(_Rule(x0, y0, y1))
            verticals.append(_Rule(x1, y0, y1))
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
                    horizontals.append(_Rule((ay + by) / 2, min(ax, bx), max(ax, bx)))
                elif abs(ax - bx) <= 1.0 and abs(ay - by) >= 1.0:
                    verticals.append(_Rule((ax + bx) / 2, min(ay, by), max(ay, by)))
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
        _Rule(rule.pos, max(rule.lo, 0.0), min(rule.hi, page_width))
        for rule in horizontals
        if 0.0 <= rule.pos <= page_height and rule.hi > 0.0 and rule.lo < page_width
    ]
    verticals = [
        _Rule(rule.pos, max(rule.lo, 0.0), min(rule.hi, page_height))
        for rule in verticals
        if 0.0 <= rule.pos <= page_width and rule.hi > 0.0 and rule.lo < page_height
    ]
    return _merge_rules(horizontals), _merge_rules(verticals)


def _area_edges(
    areas: list[tuple[float, float, float, float]], horizontals: list[_Rule], verticals: list[_Rule]
) -> None:
    """Edges of filled areas stacked like shaded cells: an area whose top or bottom meets another area or a rule.

    Such an area adds its top and bottom as horizontal rules, and its sides
    where they meet the side of a neighbouring area. A lone filled area (a
    banner above a table, a tinted box with a gap around it) adds nothing, so
    it cannot pull unrelated text into a table.
    """
    strong = [(rule.pos, rule.lo, rule.hi) for rule in horizontals if rule.length >= _MIN_RULE_LENGTH]

    def meets_horizontally(index: int, y: float, x0: float, x1: float) -> bool:
        for other_index, (ox0, oy0, ox1, oy1) in enumerate(areas):
            if other_index != index and (abs(y - oy0) <= 1.0 or abs(y - oy1) <= 1.0):
                if min(x1, ox1) - max(x0, ox0) >= 0.5 * min(x1 - x0, ox1 - ox0):
                    return True
        return any(abs(y - pos) <= 1.0 and min(x1, hi) - max(x0, lo) >= 0.5 * (x1 - x0) for pos, lo, hi in strong)

    for index, (x0, y0, x1, y1) in enumerate(areas):
        if not (meets_horizontally(index, y0, x0, x1) or meets_horizontally(index, y1, x0, x1)):
            continue
        horizontals.append(_Rule(y0, x0, x1))
        horizontals.append(_Rule(y1, x0, x1))
        for x in (x0, x1):
            for other_index, (ox0, oy0, ox1, oy1) in enumerate(areas):
                if other_index != index and (abs(x - ox0) <= 3.0 or abs(x - ox1) <= 3.0):
                    if min(y1, oy1) - max(y0, oy0) >= 0.5 * min(y1 - y0, oy1 - oy0):
                        verticals.append(_Rule(x, y0, y1))
                        break


def _merge_rules(rules: list[_Rule]) -> list[_Rule]:
    """Collinear pieces joined across gaps up to 6pt (a rule broken where another crosses); short ones dropped."""
    merged: list[_Rule] = []
    for rule in sorted(rules, key=lambda rule: (rule.pos, rule.lo)):
        for other in reversed(merged[-8:]):
            if abs(other.pos - rule.pos) <= 1.0 and rule.lo <= other.hi + 6.0 and rule.hi >= other.lo - 6.0:
                other.lo = min(other.lo, rule.lo)
                other.hi = max(other.hi, rule.hi)
                break
        else:
            merged.append(_Rule(rule.pos, rule.lo, rule.hi))
    return [rule for rule in merged if rule.length >= _MIN_RULE_LENGTH]


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
    """Lines whose centre lies inside the box (and that do not stick out far to the left)."""
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
    if any(row.multi for row in rows) or len(rows) <= 2:
        return True
    # A label centred beside wrapped text shares no row with it, but a gutter runs through the band.
    segments = [segment for row in rows for segment in row.segments]
    size = max(segment.size for segment in segments)
    return any(g1 - g0 >= 0.6 * size for g0, g1 in _free_intervals(segments))


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


def _close_chain(chain: list[_Rule], empty: list[bool], x0: float, x1: float, frames: list[_Frame]) -> None:
    """A chain of at least two rules becomes a frame, without empty bands at its ends (a box's border below it)."""
    while empty and empty[-1]:
        empty.pop()
        chain.pop()
    while empty and empty[0]:
        empty.pop(0)
        chain.pop(0)
    if len(chain) >= 2:
        frames.append(_Frame(x0, x1, list(chain)))


# --- step 3: grid analysis ----------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    """A table read from a frame or a run, before its box is trimmed against the text around it."""

    bbox: BBox
    table: Table
    lines: list[_Line]  # the lines the table's cells were read from


@dataclass(slots=True)
class _Boundary:
    """A horizontal border above a grid row: rules (`full` when one runs the table's width) or just a text gap."""

    pos: float
    rules: list[_Rule]
    full: bool = False


@dataclass(slots=True)
class _Columns:
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

    def covered(self, segment: _Segment) -> tuple[int, int]:
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


def _analyse_frame(frame: _Frame, verticals: list[_Rule], lines: list[_Line]) -> _Candidate | None:
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
    rule_xs = _cluster_positions(rule.pos for rule in inner)
    if rule_xs:
        inside = _split_at_rules(inside, rule_xs)
    columns = _frame_columns(inside, frame.x0, frame.x1, rule_xs)
    if columns is None:
        return None
    inside = _split_at_gutters(inside, columns)

    # Row borders: every full rule, and partial rules (they bound spanned cells).
    width = frame.x1 - frame.x0
    boundaries: list[_Boundary] = []
    for rule in sorted(frame.rules + frame.partial, key=lambda rule: rule.pos):
        if boundaries and rule.pos - boundaries[-1].pos <= _SNAP:
            boundaries[-1].rules.append(rule)
        else:
            boundaries.append(_Boundary(rule.pos, [rule]))
        if rule.length >= 0.9 * width:
            boundaries[-1].full = True

    grid = _build_grid(inside, boundaries, columns, inner, header_band=len(frame.rules) >= 3)
    if grid is None:
        return None
    if len(frame.rules) == 2 and not frame.partial and not inner and not _looks_tabular(grid):
        # Only a top and a bottom rule: as likely a box around two columns of prose as a table.
        return None
    table = _to_table(grid)
    if table is None:
        return None
    x0 = min(frame.x0, min(line.x0 for line in inside))
    x1 = max(frame.x1, max(line.x1 for line in inside))
    return _Candidate((x0, frame.y0, x1, frame.y1), table, inside)


def _split_line(line: _Line, xs: list[float], *, force: bool) -> list[_Line] | None:
    """`line` cut at each x in `xs` (all inside it): between spans, or at a space inside a span.

    MuPDF joins words into one line across narrow column gaps ("Sim Loss",
    "Top-1 Top-5 Top-20"). A cut must fall on whitespace; where one does not,
    the line stays whole (None), unless `force` (a vertical rule separates the
    text whatever it says): then spans go to the side of their centre.
    """
    spans = list(line.spans)
    for x in sorted(xs, reverse=True):
        spans_at = next((index for index, span in enumerate(spans) if span["bbox"][0] < x < span["bbox"][2]), None)
        if spans_at is None:
            continue  # x falls between two spans: a clean cut
        span = spans[spans_at]
        text = span["text"]
        if not text.strip():
            continue  # inside a whitespace span: a clean cut
        x0, _, x1, _ = span["bbox"]
        step = (x1 - x0) / max(len(text), 1)
        best: int | None = None
        best_distance = span["size"]  # a space further than 1 em from the cut is not where the gap is
        for index, char in enumerate(text):
            if char.isspace():
                distance = abs(x0 + step * (index + 0.5) - x)
                if distance <= best_distance:
                    best, best_distance = index, distance
        if best is None:
            if force:
                continue
            return None
        left = dict(span, text=text[:best], bbox=(x0, span["bbox"][1], x0 + step * best, span["bbox"][3]))
        right = dict(span, text=text[best + 1 :], bbox=(x0 + step * (best + 1), span["bbox"][1], x1, span["bbox"][3]))
        spans[spans_at : spans_at + 1] = [piece for piece in (left, right) if piece["text"]]
    parts: dict[int, list[dict]] = {}
    for span in spans:
        centre = (span["bbox"][0] + span["bbox"][2]) / 2
        parts.setdefault(sum(1 for x in xs if centre > x), []).append(span)
    result: list[_Line] = []
    for key in sorted(parts):
        pieces = parts[key]
        if not any(span["text"].strip() for span in pieces):
            continue
        solid = [span for span in pieces if span["text"].strip()]
        bbox = (min(span["bbox"][0] for span in solid), line.y0, max(span["bbox"][2] for span in solid), line.y1)
        result.append(_Line(bbox, max(solid[0]["size"], 1.0), pieces))
    return result


def _split_at_rules(lines: list[_Line], xs: list[float]) -> list[_Line]:
    """Lines that run across a vertical rule cut in two there (MuPDF joins text close to a thin rule)."""
    result: list[_Line] = []
    for line in lines:
        cuts = [x for x in xs if line.x0 + 1.0 < x < line.x1 - 1.0]
        pieces = _split_line(line, cuts, force=True) if cuts else None
        result.extend(pieces or [line])
    return result


def _split_at_gutters(lines: list[_Line], columns: _Columns) -> list[_Line]:
    """Lines that cross text column edges cut at the spaces there, when every piece then fits one column.

    A header spanning columns ("Retrieval Accuracy") does not split into
    pieces that each fit a column, so it stays one spanning cell.
    """
    result: list[_Line] = []
    for line in lines:
        cuts = [
            columns.edges[index + 1]
            for index in range(columns.count - 1)
            if not columns.ruled[index] and line.x0 + 1.0 < columns.edges[index + 1] < line.x1 - 1.0
        ]
        pieces = _split_line(line, cuts, force=False) if cuts else None
        if pieces and len(pieces) == len(cuts) + 1 and all(
            columns.of(piece.x0 + 0.5) == columns.of(piece.x1 - 0.5) for piece in pieces
        ):
            result.extend(pieces)
        else:
            result.append(line)
    return result


def _frame_columns(lines: list[_Line], x0: float, x1: float, rule_xs: list[float]) -> _Columns | None:
    """Columns between the vertical rules, each region split further at its text gutters."""
    if not rule_xs:
        edges = _text_columns(_cluster_rows(lines), x0, x1, tolerance=True)
        return None if edges is None else _Columns(edges, [False] * (len(edges) - 2))
    bounds = [x0, *rule_xs, x1]
    edges = [x0]
    ruled: list[bool] = []
    for index in range(len(bounds) - 1):
        a, b = bounds[index], bounds[index + 1]
        region = [line for line in lines if a <= (line.x0 + line.x1) / 2 < b]
        sub = _text_columns(_cluster_rows(region), a, b, tolerance=True) if region else None
        if sub is not None:
            for edge in sub[1:-1]:
                edges.append(edge)
                ruled.append(False)
        edges.append(b)
        if index < len(bounds) - 2:
            ruled.append(True)
    return _Columns(edges, ruled) if len(edges) >= 3 else None


def _cluster_positions(values: Iterable[float]) -> list[float]:
    """Positions closer than `_SNAP` averaged into one (the pieces of one vertical rule)."""
    clustered: list[list[float]] = []
    for value in sorted(values):
        if clustered and value - clustered[-1][-1] <= _SNAP:
            clustered[-1].append(value)
        else:
            clustered.append([value])
    return [sum(group) / len(group) for group in clustered]


def _text_columns(rows: list[_Row], x0: float, x1: float, *, tolerance: bool) -> list[float] | None:
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
        gutters = _free_intervals([segment for row in multi for segment in row.segments])
        if tolerance and len(multi) >= 3:
            most = max(len(row.segments) for row in multi)
            model = [row for row in multi if len(row.segments) == most]
            if len(model) >= 2 and len(model) * 10 >= len(multi) * 3:
                refined: list[tuple[float, float]] = []
                for gutter in _free_intervals([segment for row in model for segment in row.segments]):
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
        for gutter in _free_intervals(short):
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


def _merge_header_only_columns(rows: list[_Row], edges: list[float]) -> list[float]:
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


def _free_intervals(segments: list[_Segment]) -> list[tuple[float, float]]:
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
    borders: list[_Boundary]  # the border above each row, and the one below the last
    _texts: dict[tuple[int, int], str] = field(default_factory=dict)

    def texts(self) -> dict[tuple[int, int], str]:
        """Each cell's normalised text by its (row, column), read once."""
        if not self._texts and self.cells:
            self._texts = {(row, column): _cell_text(cell_lines) for row, column, _, _, cell_lines in self.cells}
        return self._texts


class _GridRows:
    """Groups the text rows of the bands between rules into table rows."""

    def __init__(self, columns: _Columns, bands: list[list[_Row]]) -> None:
        self.columns = columns
        self.full_need = max(2, columns.count - 1) if columns.count > 2 else 2
        self.extent = [[float("inf"), float("-inf")] for _ in range(columns.count)]
        self._covered: dict[int, tuple[int, int]] = {}
        self._filled: dict[int, set[int]] = {}
        for band in bands:
            for row in band:
                for segment in row.segments:
                    first, last = self.covered(segment)
                    if first == last:
                        extent = self.extent[first]
                        extent[0] = min(extent[0], segment.x0)
                        extent[1] = max(extent[1], segment.x1)

    def covered(self, segment: _Segment) -> tuple[int, int]:
        key = id(segment)
        result = self._covered.get(key)
        if result is None:
            result = self._covered[key] = self.columns.covered(segment)
        return result

    def filled(self, row: _Row) -> set[int]:
        key = id(row)
        result = self._filled.get(key)
        if result is None:
            result = set()
            for segment in row.segments:
                first, last = self.covered(segment)
                result.update(range(first, last + 1))
            self._filled[key] = result
        return result

    def is_full(self, row: _Row) -> bool:
        return len(self.filled(row)) >= self.full_need

    def continues(self, group: list[_Row], row: _Row, header_band: bool) -> bool:
        """Whether text row `row` only continues wrapped cells of the table row `group` (top-aligned cells)."""
        previous = group[-1]
        if row.y0 - previous.y1 > 0.8 * max(row.h, previous.h):
            return False  # a gap wider than the line spacing: a new row
        above: dict[tuple[int, int], _Segment] = {}
        for text_row in group:
            for segment in text_row.segments:
                above[self.covered(segment)] = segment
        # Each piece must sit under a piece of the same column range (a spanning header above is another level).
        if not all(self.covered(segment) in above for segment in row.segments):
            return False
        if header_band:
            return True  # header cells wrap; the header band above the first inner rule is one row
        evidence, total, numeric = self.wrap_evidence(above, row)
        if numeric:
            return False  # numbers do not wrap: a new row with empty cells
        if self.is_full(row):
            return evidence == total  # every cell of a full line goes on a sentence of the line above
        return evidence > 0

    def wrap_evidence(self, above: dict[tuple[int, int], _Segment], row: _Row) -> tuple[int, int, bool]:
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
            if _is_numeric(text):
                numeric = True
                continue
            if upper is None:
                continue
            if text[:1].islower():
                evidence += 1
                continue
            first, last = key
            if first == last and " " in upper_text and not _is_numeric(upper_text):
                extent = self.extent[first]
                if extent[1] > extent[0] and upper.x1 - upper.x0 >= 0.7 * (extent[1] - extent[0]):
                    evidence += 1  # the line above filled its column: the text wrapped
        return evidence, len(row.segments), numeric

    def band_wraps(self, band: list[_Row]) -> bool:
        """Most lines after the first continue the text above them: the band holds paragraphs, not rows."""
        evidence = total = 0
        above: dict[tuple[int, int], _Segment] = {}
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


def _build_grid(
    lines: list[_Line],
    rule_borders: list[_Boundary],
    columns: _Columns,
    verticals: list[_Rule],
    *,
    header_band: bool,
) -> _Grid | None:
    """Rows (rule bands split into text rows where needed), cells and spans."""
    if columns.count < 2 or not lines:
        return None
    top = min(line.y0 for line in lines)
    bottom = max(line.y1 for line in lines)
    borders = list(rule_borders)
    if not borders or borders[0].pos > top + 0.5:
        borders.insert(0, _Boundary(top - 0.01, []))
    if borders[-1].pos < bottom - 0.5:
        borders.append(_Boundary(bottom + 0.01, []))

    bands: list[list[_Row]] = []
    for upper, lower in zip(borders, borders[1:]):
        band_lines = [line for line in lines if upper.pos < line.cy < lower.pos]
        bands.append(_cluster_rows(band_lines) if band_lines else [])
    helper = _GridRows(columns, bands)

    lattice = any(columns.ruled)
    non_empty = [band for band in bands if band]
    single = sum(1 for band in non_empty if sum(1 for row in band if helper.is_full(row)) <= 1)
    # Rules between (nearly) every row: each band is one row whatever its lines (wrapped or centred cells).
    row_ruled = len(non_empty) >= 3 and single * 4 >= len(non_empty) * 3
    first_inner_full = next((index for index, border in enumerate(borders) if index and border.full), None)

    table_rows: list[list[_Row]] = []
    row_borders: list[_Boundary] = []
    floating: list[tuple[int, set[int]]] = []  # (row, columns): a label centred on this row and the next
    header_rows: set[int] = set()  # rows of the band above the first inner full rule
    for band_index, band in enumerate(bands):
        if not band:
            continue
        full = sum(1 for row in band if helper.is_full(row))
        first = helper.filled(band[0])
        hanging = all(helper.filled(row) <= first for row in band[1:])
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
            row_borders.append(borders[band_index] if group_index == 0 else _Boundary(group[0].y0 - 0.01, []))
            if in_header:
                header_rows.add(len(table_rows))
            table_rows.append(group)
    if len(table_rows) < 2:
        return None
    row_borders.append(borders[-1])

    count = columns.count
    row_count = len(table_rows)
    content: dict[tuple[int, int], list[_Line]] = {}
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

    def vertical_open(row_index: int, column: int) -> bool:
        """No border between (row, column) and (row, column + 1)."""
        if (row_index, column) in forced_across:
            return True
        if not columns.ruled[column]:
            return (row_index, column) in crossing
        x = columns.edges[column + 1]
        lo, hi = row_borders[row_index].pos, row_borders[row_index + 1].pos
        covered = sum(max(0.0, min(rule.hi, hi) - max(rule.lo, lo)) for rule in verticals if abs(rule.pos - x) <= _SNAP)
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
    cells: list[tuple[int, int, int, int, list[_Line]]] = []
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
    return _Grid(row_count, count, _dedupe_cells(cells, row_count, count), row_borders)


def _fold_floating_labels(
    groups: list[list[_Row]], helper: _GridRows, floating: list[tuple[int, set[int]]], offset: int
) -> list[list[_Row]]:
    """A label vertically centred between two rows ("Single" beside "DPR" / "BM25+DPR") spans both rows.

    It is its own text row, overlapping both neighbours vertically, in columns
    both neighbours leave empty. Its text joins the row above, and the
    (row, column) pairs are recorded so the grid merges them downwards.
    """
    result: list[list[_Row]] = []
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
    cells: list[tuple[int, int, int, int, list[_Line]]], row_count: int, columns: int
) -> list[tuple[int, int, int, int, list[_Line]]]:
    """Cells must not overlap (a safety net: the regions of the grid are disjoint rectangles already)."""
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


def _to_table(grid: _Grid) -> Table | None:
    """The `Table` of a grid with its header rows, or None when the grid is not a table after all."""
    texts = grid.texts()
    styles = {(row, column): _style(cell_lines) for row, column, _, _, cell_lines in grid.cells}

    slots = grid.row_count * grid.column_count
    covered = sum(
        row_span * column_span for row, column, row_span, column_span, _ in grid.cells if texts[(row, column)]
    )
    if covered * 2 < slots:
        return None  # mostly empty: a drawing's grid with a few labels, not a table
    per_row = Counter(row for (row, _), text in texts.items() if text)
    if sum(1 for count in per_row.values() if count >= 2) < 2:
        return None
    all_lines = [line for *_, cell_lines in grid.cells for line in cell_lines]
    if _is_math(all_lines) or _is_toc(grid, texts) or _is_list(grid, texts):
        return None

    header_rows = _header_rows(grid, texts, styles)
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
            text = text[:-1] + part  # "exam-" + "ple": a word hyphenated at the cell's edge
        else:
            text = text + " " + part
    return _collapse(text)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _style(lines: list[_Line]) -> tuple[bool, str, float]:
    """(bold, dominant font, dominant size) of a cell's characters."""
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
            if span["flags"] & pymupdf.TEXT_FONT_BOLD or _is_bold_font(font):
                bold += count
    if not total:
        return (False, "", 0.0)
    (font, size), _ = fonts.most_common(1)[0]
    return (bold * 2 > total, font, size)


def _is_numeric(text: str) -> bool:
    return bool(text) and bool(_NUMERIC.match(text))


def _header_rows(grid: _Grid, texts: dict[tuple[int, int], str], styles: dict) -> int:
    """How many leading rows are header rows (0 when nothing sets the first row apart)."""
    rows: list[list[tuple[int, int]]] = [[] for _ in range(grid.row_count)]
    for row, column, *_ in grid.cells:
        if texts[(row, column)]:
            rows[row].append((row, column))
    if not rows[0] or grid.row_count < 2:
        return 0
    # booktabs: a full-width rule closes the header, and the body is not ruled row by row.
    ruled = [index for index in range(1, grid.row_count) if grid.borders[index].rules]
    full = [index for index in ruled if grid.borders[index].full]
    if full and full[0] <= 3 and len(ruled) < grid.row_count - 1:
        return full[0]
    body = [key for index in range(1, grid.row_count) for key in rows[index]]
    if not body:
        return 0
    # Bold leading rows above a body that is not all bold.
    bold_rows = 0
    while bold_rows < min(3, grid.row_count - 1) and rows[bold_rows] and all(styles[key][0] for key in rows[bold_rows]):
        bold_rows += 1
    if bold_rows and not all(styles[key][0] for index in range(bold_rows, grid.row_count) for key in rows[index]):
        return bold_rows
    # A non-numeric first row above numeric columns.
    if not any(_is_numeric(texts[key]) for key in rows[0]):
        for column in range(grid.column_count):
            values = [texts.get((index, column), "") for index in range(1, grid.row_count)]
            values = [value for value in values if value]
            if values and sum(1 for value in values if _is_numeric(value)) * 2 > len(values):
                return 1
    # A first row in a font (family or size) of its own, the body sharing another.
    head = {styles[key][1:] for key in rows[0]}
    body_styles = Counter(styles[key][1:] for key in body)
    if len(head) == 1 and body_styles:
        head_style = next(iter(head))
        body_style, count = body_styles.most_common(1)[0]
        if head_style != body_style and head_style not in body_styles and count * 10 >= len(body) * 8:
            return 1
    return 0


def _is_toc(grid: _Grid, texts: dict[tuple[int, int], str]) -> bool:
    """A table of contents: dot leaders, or section numbers in front and ascending page numbers at the end."""
    if sum(1 for text in texts.values() if _LEADER.search(text)) >= 2:
        return True
    pages = [texts.get((row, grid.column_count - 1), "") for row in range(grid.row_count)]
    pages = [text for text in pages if text]
    if grid.column_count <= 3 and pages and all(_PAGE_NUMBER.match(text) for text in pages):
        numbers = [int(text) for text in pages if text.isdigit()]
        sections = [texts.get((row, 0), "") for row in range(grid.row_count)]
        sections = [text for text in sections if text]
        numbered = sum(1 for text in sections if _SECTION_NUMBER.match(text))
        if numbers == sorted(numbers) and numbered * 2 >= len(sections):
            return True
    return False


def _is_list(grid: _Grid, texts: dict[tuple[int, int], str]) -> bool:
    """A list laid out in two columns: bullets or enumerators on the left."""
    if grid.column_count > 2:
        return False
    first = [texts.get((row, 0), "") for row in range(grid.row_count)]
    first = [text for text in first if text]
    return sum(1 for text in first if _ENUMERATOR.match(text)) * 5 >= len(first) * 3


# --- rule-less tables ---------------------------------------------------------------


def _analyse_run(run: _Run, horizontals: list[_Rule], lines: list[_Line]) -> _Candidate | None:
    """A table without a frame of rules: only accepted when its shape is unmistakably tabular."""
    rows = run.rows
    # Leading/trailing single-piece rows are captions or prose around the run.
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
    edges = _text_columns(rows, x0, x1, tolerance=False)
    if edges is None or len(edges) < 4:
        return None  # rule-less tables need three columns or more
    columns = _Columns(edges, [False] * (len(edges) - 2))
    y0 = rows[0].y0 - 0.5
    y1 = rows[-1].y1 + 0.5
    inside = [line for row in rows for line in _row_lines(row)]
    # A rule inside the run (a table with a \midrule but no top or bottom rule) bounds rows.
    inner = [
        _Boundary(rule.pos, [rule], True)
        for rule in horizontals
        if y0 < rule.pos < y1 and rule.lo <= x0 + 6.0 and rule.hi >= x1 - 6.0
    ]
    grid = _build_grid(inside, inner, columns, [], header_band=bool(inner))
    if grid is None or not _looks_tabular(grid):
        return None
    table = _to_table(grid)
    if table is None:
        return None
    return _Candidate((x0, y0, x1, y1), table, inside)


def _looks_tabular(grid: _Grid) -> bool:
    """The stricter test for tables without row or column rules: three columns and rows, filled, with numbers.

    Aligned prose, glossaries, indexes and boxed two-column text fail it;
    a text-only table without rules is missed (the price of no false tables).
    """
    if grid.row_count < 3 or grid.column_count < 3:
        return False
    texts = grid.texts()
    filled: Counter[int] = Counter()
    first_filled: set[int] = set()
    for row, column, _, column_span, _ in grid.cells:
        if texts[(row, column)]:
            filled[row] += column_span
            if column == 0:
                first_filled.add(row)
    # Rows with text in one later column only are further lines of a cell (value lists under a
    # description); they neither count for nor against the table.
    counted = [index for index in range(grid.row_count) if filled[index] >= 2 or index in first_filled]
    filled_rows = sum(1 for index in counted if filled[index] >= grid.column_count - 1)
    if filled_rows < 3 or filled_rows * 10 < len(counted) * 6:
        return False
    for column in range(grid.column_count):
        values = [texts.get((index, column), "") for index in range(1, grid.row_count)]
        values = [value for value in values if value]
        # "(1)", "2." are list markers in a margin column, not data.
        numbers = sum(1 for value in values if _is_numeric(value) and not _ENUMERATOR.match(value))
        if len(values) >= 2 and numbers * 10 >= len(values) * 6:
            return True
    return False


def _row_lines(row: _Row) -> Iterable[_Line]:
    for segment in row.segments:
        yield from segment.lines


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
