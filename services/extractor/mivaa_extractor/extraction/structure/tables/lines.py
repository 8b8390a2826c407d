"""Table text: the page's lines as boxes, cell candidates (segments), rows and cell text.

Lines come from the text backend (`pymupdf_backend.TextLine`, the page read
once); this module only looks at their boxes and, for cell text, at their
spans, through the backend's own rules for word spacing and broken fonts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mivaa_extractor.extraction.structure.pymupdf_backend import TextLine, join_spans

# Two pieces of text on one visual line further apart than this (in em of the
# larger font) are separate cells; closer pieces (a superscript, a math
# fragment MuPDF cut into its own line) belong together. Table columns are at
# least ~1 em apart (LaTeX: 2 * \tabcolsep = 12pt at 10pt).
_CELL_GAP_EM = 0.6


class Line:
    """A horizontal line of the page (or a piece of one cut at a column edge): its box and its spans."""

    __slots__ = ("x0", "y0", "x1", "y1", "cy", "h", "size", "spans", "_text")

    def __init__(self, bbox: Sequence[float], size: float, spans: list[dict], text: str | None = None) -> None:
        self.x0, self.y0, self.x1, self.y1 = bbox
        self.cy = (self.y0 + self.y1) * 0.5
        self.h = max(self.y1 - self.y0, 1.0)
        self.size = size
        self.spans = spans
        # `text` is given for a right-to-left line the backend put in logical order (its spans keep the
        # order the PDF draws them in); a piece cut out of such a line reads its spans, as any other.
        self._text: str | None = text

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = join_spans(self.spans, raise_superscripts=True)
        return self._text


def read_lines(text_lines: Iterable[TextLine]) -> list[Line]:
    """The backend's horizontal lines with some width, as table lines (this runs on every page: boxes only)."""
    lines: list[Line] = []
    for line in text_lines:
        # Rotated labels (figure axes, margins) are never table cells here.
        if not line.horizontal or line.bbox[2] - line.bbox[0] < 0.5:
            continue
        size = max(line.spans[0]["size"], 1.0)
        if line.parts:
            lines.extend(_parts(line, size))
        else:
            lines.append(Line(line.bbox, size, line.spans, line.text if line.reordered else None))
    return lines


def _parts(line: TextLine, size: float) -> Iterable[Line]:
    """A right-to-left line MuPDF joined across wide gaps, as one line per part, each with its logical text.

    Its spans cannot be cut (their text is not in the order they are drawn): each part keeps the
    spans under it for its fonts, and its text from the glyph positions (bidi.py).
    """
    _, y0, _, y1 = line.bbox
    for x0, x1, text in line.parts or ():
        spans = [span for span in line.spans if span["bbox"][0] < x1 and span["bbox"][2] > x0] or line.spans
        yield Line((x0, y0, x1, y1), size, spans, text)


class Segment:
    """One cell-candidate: the lines of one row that touch each other (gap below ~0.6 em)."""

    __slots__ = ("x0", "y0", "x1", "y1", "size", "lines", "_text")

    def __init__(self, line: Line) -> None:
        self.x0, self.y0, self.x1, self.y1 = line.x0, line.y0, line.x1, line.y1
        self.size = line.size
        self.lines = [line]
        self._text: str | None = None

    def add(self, line: Line) -> None:
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
        previous: Line | None = None
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


class Row:
    """Lines sharing a vertical centre, as segments left to right."""

    __slots__ = ("y0", "y1", "cy", "h", "segments")

    def __init__(self, segments: list[Segment]) -> None:
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


def cluster_rows(lines: Iterable[Line]) -> list[Row]:
    """Rows top to bottom: a line joins the row whose first line's centre is within ~0.45 line heights of its own."""
    ordered = sorted(lines, key=lambda line: line.cy)
    groups: list[list[Line]] = []
    anchor_cy = anchor_h = 0.0
    for line in ordered:
        if groups and line.cy - anchor_cy <= 0.45 * min(anchor_h, line.h):
            groups[-1].append(line)
        else:
            groups.append([line])
            anchor_cy, anchor_h = line.cy, line.h
    return [Row(_segments(group)) for group in groups]


def _segments(lines: list[Line]) -> list[Segment]:
    """One row's lines left to right, merged where less than ~0.6 em apart (a superscript, a math fragment)."""
    lines = sorted(lines, key=lambda line: line.x0)
    segments: list[Segment] = []
    for line in lines:
        if segments:
            last = segments[-1]
            if line.x0 - last.x1 < _CELL_GAP_EM * max(last.size, line.size):
                last.add(line)
                continue
        segments.append(Segment(line))
    return segments


def split_line(line: Line, xs: list[float], *, force: bool) -> list[Line] | None:
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
    result: list[Line] = []
    for key in sorted(parts):
        pieces = parts[key]
        if not any(span["text"].strip() for span in pieces):
            continue
        solid = [span for span in pieces if span["text"].strip()]
        bbox = (min(span["bbox"][0] for span in solid), line.y0, max(span["bbox"][2] for span in solid), line.y1)
        result.append(Line(bbox, max(solid[0]["size"], 1.0), pieces))
    return result


def cell_text(lines: list[Line]) -> str:
    """Lines of one cell top to bottom, pieces of one visual line left to right, hyphenation at line ends undone."""
    if not lines:
        return ""
    visual: list[list[Line]] = []
    for line in sorted(lines, key=lambda item: item.cy):
        if visual and line.cy - visual[-1][0].cy <= 0.45 * min(visual[-1][0].h, line.h):
            visual[-1].append(line)
        else:
            visual.append([line])
    text = ""
    for group in visual:
        piece = Segment(group[0])
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


def row_lines(row: Row) -> Iterable[Line]:
    for segment in row.segments:
        yield from segment.lines
