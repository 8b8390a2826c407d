"""Which lines are headings, and at what level.

Three kinds of signal, strongest first:
- the PDF's outline (bookmark titles on the page or a neighbour; the page
  analysis asks it before anything here);
- the font: a size the document uses for short standalone lines (its rank
  among those sizes is the level), or bold at body size;
- the numbering: "2.3 Results", "A.1 Proofs", "IV. Discussion", "Section 2"
  standing alone on a short line is a heading even in the body font; its
  depth sets the level, relative to the heading sizes whose headings are
  numbered too (so "1.1.1" at body size sits one level below "1.1").

Run-in headings ("Boots Self-Locking Nut. The Boots nut is...") are a bold
phrase that opens a paragraph: the line is cut in two, the bold phrase
becomes a heading one level below the bold body-size headings (or below the
heading sizes, in a document without those), the rest stays the paragraph's
first line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from mivaa_extractor.extraction.structure.lexicon import (
    CAPTION_LABEL,
    RIGHT_TO_LEFT_CHARS,
    RUN_IN_LABEL,
    is_title_page_line,
)
from mivaa_extractor.extraction.structure.model import FontProfile
from mivaa_extractor.extraction.structure.pymupdf_backend import TextLine, join_spans, span_is_bold

# A section number that opens a heading, and how deep it goes:
# "2", "2.3.1", "A.1", "A.", "IV.", "II", "Section 2.1", "Chapter 3", "Appendix B".
_SECTION_START = re.compile(
    r"^(?:(?i:section|chapter|part|appendix|kapitel|abschnitt|anhang)\s+(?P<word>[A-Z0-9]+(?:\.\d+)*)[.:]?"
    r"|(?P<number>\d{1,2}(?:\.\d{1,2}){0,4})\.?"
    r"|(?P<letter>[A-Z](?:\.\d{1,2}){0,3})\."
    r"|(?P<lettered>[A-Z](?:\.\d{1,2}){1,3})"
    r"|(?P<roman>[IVX]{2,5}\.?|[IVX]\.))"
    r"\s+(?P<title>\S.*)$"
)
# Initials ("O. B. d. A.", "J. R. Smith") are not a lettered section number and its title.
_INITIAL = re.compile(r"^[A-Za-z]\.(?:\s|$)")
# Plain section numbers above this at depth 1 are days, item or row numbers.
MAX_SECTION_NUMBER = 30
# Bold body-size headings sit one level below the heading sizes; run-in ones one further when there are such.
_BOLD_BODY_OFFSET = 1
_RUN_IN_OFFSET = 2
_RUN_IN_END = (".", ":", "\u2014", "\u2013")
MAX_RUN_IN_CHARS = 80
MIN_RUN_IN_REST = 20


def numbering_depth(text: str) -> int:
    """How deep the section number opening `text` goes (1 for "2 Intro", 3 for "2.3.1 ..."), 0 for none."""
    return _section(text)[0]


def _section(text: str) -> tuple[int, str]:
    """(depth of the opening section number, the title after it); (0, "") when there is none."""
    match = _SECTION_START.match(text)
    if match is None:
        return 0, ""
    title = match["title"]
    if not title[:1].isupper() or sum(ch.isalpha() for ch in title) < 3 or _INITIAL.match(title):
        return 0, ""
    if match["number"] and "." not in match["number"] and int(match["number"]) > MAX_SECTION_NUMBER:
        return 0, ""
    if match["roman"]:
        return 1, title
    number = match["word"] or match["number"] or match["letter"] or match["lettered"]
    return number.count(".") + 1, title


def level_for_numbering(depth: int, profile: FontProfile) -> int:
    """The level of a body-size heading numbered `depth` deep, relative to numbered heading sizes."""
    best = 0
    for index, size_depth in enumerate(profile.numbering_depths[: len(profile.heading_sizes)]):
        if 0 < size_depth < depth:
            best = max(best, index + 1 + depth - size_depth)
    if best:
        return min(6, best)
    return min(6, len(profile.heading_sizes) + depth)


def bold_body_level(profile: FontProfile) -> int:
    return min(6, len(profile.heading_sizes) + _BOLD_BODY_OFFSET)


def run_in_level(profile: FontProfile) -> int:
    offset = _RUN_IN_OFFSET if profile.bold_body_headings else _BOLD_BODY_OFFSET
    return min(6, len(profile.heading_sizes) + offset)


def standalone_numbered(text: str, lines: int) -> int:
    """Depth of a short one-line numbered heading in the body font; 0 when it reads as a list item or row."""
    if lines != 1 or len(text) > 90 or text.endswith((".", ",", ";", ":")):
        return 0
    depth, title = _section(text)
    if not depth:
        return 0
    # A table row that nobody detected, or a dated entry: numbers after the label.
    if len(text.split()) > 12 or any(ch.isdigit() for ch in title):
        return 0
    return depth


def short_numbered_line(line: TextLine, following: TextLine) -> bool:
    """A section number and a title on a line of its own, shorter than the text below it ("1.2 Methods")."""
    width = line.bbox[2] - line.bbox[0]
    return width < 0.6 * (following.bbox[2] - following.bbox[0]) and bool(standalone_numbered(line.text, 1))


def size_level(size: float, text: str, profile: FontProfile) -> int:
    """The level a larger font gives, 0 when the size is not a heading size or the text is not a heading."""
    if size < profile.body_size + 1.0:
        return 0
    level = profile.heading_level(size)
    return 0 if not level or is_title_page_line(text) else level


def split_run_in(line: TextLine, opens_paragraph: bool) -> tuple[TextLine, TextLine] | None:
    """A line opened by a bold run-in heading, cut into (heading, rest of the line); None for any other line."""
    spans = line.spans
    if not opens_paragraph or len(spans) < 2 or not line.horizontal or not span_is_bold(spans[0]):
        return None
    cut = 0
    while cut < len(spans) and (span_is_bold(spans[cut]) or not spans[cut]["text"].strip()):
        cut += 1
    while cut > 0 and not spans[cut - 1]["text"].strip():
        cut -= 1  # trailing spaces belong to neither side
    if cut == 0 or cut >= len(spans):
        return None
    head = join_spans(spans[:cut]).strip()
    rest = join_spans(spans[cut:]).strip()
    if not head or not rest or len(head) > MAX_RUN_IN_CHARS or sum(ch.isalpha() for ch in head) < 4:
        return None
    if not (head[0].isupper() or head[0].isdigit()) or CAPTION_LABEL.match(head) or RUN_IN_LABEL.match(head):
        return None
    # A form field ("Name: Ada Keeper") has a value, not a paragraph, after its label.
    if rest[0] in ",;)]" or len(rest) < MIN_RUN_IN_REST or len(rest.split()) < 3:
        return None
    if RIGHT_TO_LEFT_CHARS.search(line.text):
        return None  # spans of a right-to-left line come in visual order: its first span may end the sentence
    if not head.endswith(_RUN_IN_END):
        # No closing mark: a title-cased phrase followed by a new sentence.
        words = head.split()
        capitalised = sum(1 for word in words if word[:1].isupper() or not word[:1].isalpha())
        if not rest[0].isupper() or len(words) > 8 or capitalised < 0.7 * len(words):
            return None
    return _part(line, spans[:cut], head), _part(line, spans[cut:], rest)


def run_in_pair(head: TextLine, rest: TextLine, opens_paragraph: bool) -> bool:
    """A bold line and the regular line MuPDF split off to its right on the same baseline: a run-in heading."""
    if not head.bold or rest.bold or abs(head.bbox[3] - rest.bbox[3]) > 1.5 or rest.bbox[0] < head.bbox[2] - 1:
        return False
    joined = replace(head, text=f"{head.text} {rest.text}", spans=[*head.spans, *rest.spans])
    return split_run_in(joined, opens_paragraph) is not None


def heading_text(text: str) -> str:
    """A run-in heading without the mark that ran it into its paragraph."""
    return text.rstrip("".join(_RUN_IN_END) + " ") or text


def _part(line: TextLine, spans: Sequence[dict], text: str) -> TextLine:
    boxes = [span["bbox"] for span in spans if span["text"].strip()]
    bbox = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    bold = all(span_is_bold(span) for span in spans if span["text"].strip())
    chars = sum(len(span["text"].strip()) for span in spans)
    return replace(line, bbox=bbox, text=text, bold=bold, superscript_start=False, chars=chars, spans=list(spans))
