"""The PyMuPDF backend: a page's raw text lines and a document's metadata and outline.

Everything PyMuPDF-specific about reading text lives here, so the stages that
decide what a block is work on plain `TextLine`s. Lines are returned in the
page's unrotated space, where text runs left to right (a page displayed
rotated by 90 degrees still has upright text there); the page analysis maps
bounding boxes to the displayed page at the end.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import pymupdf

from mivaa_extractor.extraction.structure.bidi import has_right_to_left, reorder_right_to_left
from mivaa_extractor.extraction.structure.lexicon import UNPRINTABLE_CHARS, is_title_page_line
from mivaa_extractor.extraction.structure.model import BBox, DocumentInfo, FontProfile, OutlineEntry
from mivaa_extractor.extraction.structure.text_cleanup import hyphenated_words

# Ligatures expanded (no TEXT_PRESERVE_LIGATURES), nothing outside the media box, and glyphs
# without Unicode read as U+FFFD, not as their glyph ids (TEXT_CID_FOR_UNKNOWN_UNICODE): an id
# reads as a control character or a stray letter that cannot be told from text, while U+FFFD is
# cut out glyph by glyph and the rest of its span kept (see _read_line).
TEXT_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP

# Font names that say bold or monospaced where the font flags do not (embedded
# subsets often leave the flags unset): "Arial-BoldMT", "Helvetica,Bd", "CMBX10".
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|[-,]bd\b|cmbx|cmb\d|\.b\b|\bbd\b", re.IGNORECASE)
_MONO_FONT = re.compile(r"mono|courier|consol|cmtt|menlo|inconsolata|typewriter|lucidasans-typewriter", re.IGNORECASE)
# Raised digits and signs kept raised ("km²", "750¹") where digits would otherwise run into the value before them.
_SUPERSCRIPTABLE = re.compile(r"^\s*[0-9+\-−=()]+\s*$")
_SUPERSCRIPT = str.maketrans("0123456789+-−=()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾")


@dataclass(slots=True)
class TextLine:
    """One line of text as MuPDF groups it, with what its dominant font says about it."""

    bbox: BBox
    text: str
    size: float  # font size of the majority of the characters
    bold: bool
    italic: bool
    mono: bool
    block: int  # index of the MuPDF block it came from (MuPDF's own paragraph guess)
    horizontal: bool  # runs left to right; rotated labels (in figures, margins) are False
    superscript_start: bool = False  # starts with a superscript span (footnote marks)
    chars: int = 0  # visible characters (what the font statistics weigh a line by)
    # The spans the text was read from (MuPDF's span dicts; broken-font and doubled spans left
    # out): tables read fonts and word positions inside a line from them.
    spans: list[dict] = field(default_factory=list)
    # The text was rebuilt in logical order from the glyph positions (bidi.py): the spans are still in
    # the order the PDF draws them, so whoever reads text from this line must take `text`, not the spans.
    reordered: bool = False
    # A reordered line with gaps wider than a word space (MuPDF joins the cells of a right-to-left table
    # row into one line): its parts, each (x0, x1, logical text), for the table stage to read as cells.
    parts: list[tuple[float, float, str]] | None = None


class PageSource:
    """One page, read once: its text lines and, on first use, its vector drawings.

    Every page stage (tables, images, block typing, links) receives this
    object instead of the PyMuPDF page, so the page's text is extracted once
    (`get_text("dict")`) and its drawings at most once (`get_cdrawings()`,
    about as dear as the text: only the table stage asks, and only on a page
    whose text looks tabular); likewise its list of images. The image stage
    still runs `page` through a MuPDF device (that is how image placements are
    found); nothing re-reads its text. Coordinates are the unrotated page space.
    """

    __slots__ = ("page", "text_dict", "lines", "unmapped", "width", "height", "_drawings", "_images")

    def __init__(self, page: pymupdf.Page, text_dict: dict | None = None, drawings: list | None = None) -> None:
        textpage = None
        if text_dict is None:
            textpage = page.get_textpage(flags=TEXT_FLAGS)
            text_dict = textpage.extractDICT()
        self.page = page
        self.text_dict = text_dict
        # `unmapped`: glyphs whose font gives no Unicode, cut out of the lines (a page made of them needs OCR).
        self.lines, self.unmapped = read_page_lines(text_dict)
        if textpage is not None and has_right_to_left(self.lines):
            # Hebrew or Arabic: the glyph positions (only on such pages: dearer than the dict) give the reading order.
            reorder_right_to_left(self.lines, textpage.extractRAWDICT())
        # The text dict's size is the unrotated page's, the space of its boxes and of the drawings.
        self.width = float(text_dict.get("width") or page.rect.width)
        self.height = float(text_dict.get("height") or page.rect.height)
        self._drawings = drawings
        self._images: list | None = None

    @property
    def drawings(self) -> list:
        """The page's vector paths (`get_cdrawings()`), extracted on first use."""
        if self._drawings is None:
            self._drawings = self.page.get_cdrawings()
        return self._drawings

    @property
    def images(self) -> list:
        """The images the page's resources list (`get_images(full=True)`; empty for non-PDF documents), read once."""
        if self._images is None:
            self._images = list(self.page.get_images(full=True))
        return self._images


def _overlaps_most(x0: float, x1: float, other: tuple[float, float]) -> bool:
    return min(x1, other[1]) - max(x0, other[0]) > 0.5 * (x1 - x0)


def read_lines(text_dict: dict) -> list[TextLine]:
    """The text lines of a page from `page.get_text("dict", flags=TEXT_FLAGS)`, in content-stream order."""
    return read_page_lines(text_dict)[0]


def read_page_lines(text_dict: dict) -> tuple[list[TextLine], int]:
    """The page's text lines and how many glyphs without Unicode were cut out of them."""
    lines: list[TextLine] = []
    unmapped = 0
    for block_index, block in enumerate(text_dict.get("blocks", ())):
        if block.get("type") != 0:
            continue
        for line in block.get("lines", ()):
            text_line, cut = _read_line(line, block_index)
            unmapped += cut
            if text_line is not None:
                lines.append(text_line)
    return lines, unmapped


def _font_style(font: str) -> tuple[bool, bool]:
    """(bold, monospaced) as the font's name says; cached, a document uses few fonts."""
    style = _FONT_STYLES.get(font)
    if style is None:
        style = _FONT_STYLES[font] = (bool(_BOLD_FONT.search(font)), bool(_MONO_FONT.search(font)))
    return style


_FONT_STYLES: dict[str, tuple[bool, bool]] = {}
_BOLD_FLAG = pymupdf.TEXT_FONT_BOLD
_ITALIC_FLAG = pymupdf.TEXT_FONT_ITALIC
_MONO_FLAG = pymupdf.TEXT_FONT_MONOSPACED
_SUPERSCRIPT_FLAG = pymupdf.TEXT_FONT_SUPERSCRIPT


def span_is_bold(span: dict) -> bool:
    """Bold by the font flags or by the font's name: the one rule for every stage."""
    return bool(span["flags"] & _BOLD_FLAG) or _font_style(span["font"])[0]


def join_spans(spans: Iterable[dict], *, raise_superscripts: bool = False) -> str:
    """The text of a line's spans: separate words where spans do not touch (MuPDF drops that space).

    With `raise_superscripts`, a raised "2" in "km2" or a footnote mark after a
    number is kept raised ("km²", "273,879,750¹") instead of running into the
    digits before it (table cells need that; body text keeps the plain digit).
    """
    pieces: list[str] = []
    previous_x1: float | None = None
    for span in spans:
        text = span["text"]
        if not text.strip():
            if text and pieces and pieces[-1][-1:] != " ":
                pieces.append(" ")
            continue
        if raise_superscripts and span["flags"] & _SUPERSCRIPT_FLAG and _SUPERSCRIPTABLE.match(text):
            text = text.translate(_SUPERSCRIPT)
        x0, _, x1, _ = span["bbox"]
        if (
            previous_x1 is not None
            and pieces[-1][-1:] != " "
            and text[0] != " "
            and x0 - previous_x1 > 0.15 * span["size"]
        ):
            pieces.append(" ")
        pieces.append(text)
        previous_x1 = x1
    return "".join(pieces)


# One or two unprintable characters inside a word (a ligature without Unicode) are cut;
# anywhere else, or more of them, they stood for glyphs between words (a symbol, leader
# dots, a space): a space, so "Contents.....12" does not become "Contents12".
_UNPRINTABLE_IN_WORD = re.compile(rf"(?<=\w){UNPRINTABLE_CHARS.pattern}{{1,2}}(?=\w)")
_UNPRINTABLE_BESIDE_SPACE = re.compile(rf"(?<=\s){UNPRINTABLE_CHARS.pattern}+|{UNPRINTABLE_CHARS.pattern}+(?=\s)")
_UNPRINTABLE_RUN = re.compile(rf"{UNPRINTABLE_CHARS.pattern}+")


def _without_unprintables(text: str) -> str:
    text = _UNPRINTABLE_BESIDE_SPACE.sub("", _UNPRINTABLE_IN_WORD.sub("", text))
    return _UNPRINTABLE_RUN.sub(" ", text)


def _read_line(line: dict, block_index: int) -> tuple[TextLine | None, int]:
    """The line, and how many glyphs without Unicode it had."""
    # The hot loop of extraction (every span of every page): plain locals, no
    # per-span regexes beyond the unprintable-character check.
    kept: list[dict] = []
    unmapped = 0
    sizes: dict[float, int] = {}
    bold = italic = mono = total = 0
    last_box: tuple[float, float] | None = None
    last_text = ""
    superscript_start = False
    first = True
    for span in line["spans"]:
        text = span["text"]
        if UNPRINTABLE_CHARS.search(text):
            # Glyphs without Unicode (U+FFFD) and control characters stand for no printed
            # character: cut out, so the words beside them in the span stay (a Word "\x07"
            # before each Korean list item used to take the item with it).
            unmapped += text.count("\ufffd")
            text = span["text"] = _without_unprintables(text)
        stripped = text.strip()
        if not stripped:
            if text:
                kept.append(span)  # whitespace between words
                last_box = None
            continue
        x0, _, x1, _ = span["bbox"]
        # The same words drawn twice at the same place (fake bold, shadows, an
        # invisible text layer over visible glyphs) would read twice.
        if last_box is not None and _overlaps_most(x0, x1, last_box) and stripped in last_text:
            continue
        kept.append(span)
        last_box = (x0, x1)
        last_text = text
        count = len(stripped)
        total += count
        size = round(span["size"] * 2) / 2
        sizes[size] = sizes.get(size, 0) + count
        flags = span["flags"]
        font_bold, font_mono = _font_style(span["font"])
        if flags & _BOLD_FLAG or font_bold:
            bold += count
        if flags & _ITALIC_FLAG:
            italic += count
        if flags & _MONO_FLAG or font_mono:
            mono += count
        if first and flags & _SUPERSCRIPT_FLAG:
            superscript_start = True
        first = False
    if total == 0:
        return None, unmapped
    direction = line["dir"]
    text_line = TextLine(
        bbox=tuple(line["bbox"]),
        # One span (most lines): its text as is, which is what join_spans would make of it.
        text=(kept[0]["text"] if len(kept) == 1 else join_spans(kept)).strip(),
        size=max(sizes, key=sizes.__getitem__),
        bold=bold * 2 > total,
        italic=italic * 2 > total,
        mono=mono * 2 > total,
        block=block_index,
        horizontal=direction[0] > 0.99,
        superscript_start=superscript_start,
        chars=total,
        spans=kept,
    )
    return text_line, unmapped


# --- document level ----------------------------------------------------------------


def read_document_info(doc: pymupdf.Document, language: str = "") -> DocumentInfo:
    """Metadata and outline; never raises for broken metadata (fields stay empty)."""
    try:
        metadata = doc.metadata or {}
    except Exception:  # noqa: BLE001 - unreadable metadata is common and harmless
        metadata = {}
    try:
        toc = doc.get_toc(simple=True)
    except Exception:  # noqa: BLE001
        toc = []
    outline = tuple(
        OutlineEntry(level=max(1, int(level)), title=_clean(title), page=max(0, int(page)))
        for level, title, page, *_ in toc
        if _clean(title)
    )
    return DocumentInfo(
        page_count=doc.page_count,
        title=_clean(metadata.get("title", "")),
        authors=tuple(_split_list(metadata.get("author", ""), r"[;&]|\band\b|,(?=\s*\S+\s+\S+)")),
        subject=_clean(metadata.get("subject", "")),
        keywords=tuple(_split_list(metadata.get("keywords", ""), r"[;,]")),
        creator=_clean(metadata.get("creator", "")),
        producer=_clean(metadata.get("producer", "")),
        created=pdf_date_to_iso(metadata.get("creationDate", "")),
        modified=pdf_date_to_iso(metadata.get("modDate", "")),
        language=language,
        outline=outline,
    )


def _clean(value: object) -> str:
    return " ".join(str(value or "").replace("\x00", "").split())


def _split_list(value: str, separator: str) -> Iterable[str]:
    for part in re.split(separator, _clean(value)):
        part = part.strip(" ,;")
        if part:
            yield part


_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?\s*(Z|[+-]\d{2}'?\d{2}'?|[+-]\d{2})?")


def pdf_date_to_iso(value: str) -> str:
    """'D:20230102150405+01'00'' -> '2023-01-02T15:04:05+01:00'; '' when not a PDF date."""
    match = _PDF_DATE.match((value or "").strip())
    if not match:
        return ""
    year, month, day, hour, minute, second, zone = match.groups()
    month, day = month or "01", day or "01"
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return ""
    iso = f"{year}-{month}-{day}"
    if hour:
        iso += f"T{hour}:{minute or '00'}:{second or '00'}"
        if zone == "Z":
            iso += "Z"
        elif zone:
            digits = re.sub(r"\D", "", zone)
            iso += f"{zone[0]}{digits[:2]}:{digits[2:4] or '00'}"
    return iso


# How many pages to sample for the font profile: enough to see every heading
# size in a long document, cheap enough (~1 ms a page) to run before the pages.
PROFILE_SAMPLE_PAGES = 48


def learn_font_profile(
    doc: pymupdf.Document, sample_pages: int = PROFILE_SAMPLE_PAGES, skip: Collection[int] = ()
) -> FontProfile:
    """Body size and heading sizes from a sample of pages spread over the document, except the 0-based pages `skip`."""
    count = doc.page_count
    if count == 0:
        return FontProfile()
    # Every page of a short document; a quarter (at most `sample_pages`) of a long one.
    samples = min(count, max(12, min(sample_pages, count // 4)))
    step = count / samples
    numbers = sorted({min(count - 1, int(i * step)) for i in range(samples)})
    body: Counter[float] = Counter()
    standalone: list[tuple[float, str, bool]] = []  # (size, text, bold) of short lines that are a whole MuPDF block
    compounds: frozenset[str] = frozenset()
    for number in numbers:
        if number in skip:
            continue
        try:
            text_dict = doc.load_page(number).get_text("dict", flags=TEXT_FLAGS)
        except Exception:  # noqa: BLE001 - a bad page does not spoil the profile
            continue
        # The page's lines by the same rules as the page analysis (broken glyphs and doubled spans left out).
        block_lines = [len(block.get("lines", ())) for block in text_dict.get("blocks", ())]
        page_lines = read_lines(text_dict)
        compounds |= hyphenated_words(line.text for line in page_lines)
        for line in page_lines:
            body[line.size] += line.chars
            # Short lines that are (nearly) a whole MuPDF block stand alone, as headings do.
            if block_lines[line.block] <= 3 and line.chars <= 120:
                standalone.append((line.size, line.text, line.bold))
    if not body:
        return FontProfile()
    body_size = body.most_common(1)[0][0]
    total = sum(body.values())
    # Author lines, affiliations and dates on a title page stand alone too, but are not headings.
    depths = Counter(
        (size, _section_depth(text))
        for size, text, _ in standalone
        if size >= body_size + 1.0 and not is_title_page_line(text)
    )
    # A heading size is larger than the body, used by standalone short lines, and
    # rare: sizes that carry a big share of the text are body text of another kind.
    heading_sizes = sorted({size for size, _ in depths if body[size] <= 0.2 * total}, reverse=True)[:6]
    numbering = tuple(_common_depth(depths, size) for size in heading_sizes)
    bold_lines = sum(
        1 for size, text, bold in standalone if bold and abs(size - body_size) < 1.0 and not text.endswith(".")
    )
    return FontProfile(
        body_size=body_size,
        heading_sizes=tuple(heading_sizes),
        numbering_depths=numbering,
        bold_body_headings=bold_lines >= 2,
        compounds=compounds,
    )


# A section number opening a line ("2", "2.3.1", "A.1"): its depth is the count of its parts.
_SECTION_NUMBER_START = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,4}|[A-Z](?:\.\d{1,2}){1,3})\.?\s+[A-Z]")


def _section_depth(text: str) -> int:
    match = _SECTION_NUMBER_START.match(text)
    return match.group(0).split()[0].rstrip(".").count(".") + 1 if match else 0


def _common_depth(depths: Counter[tuple[float, int]], size: float) -> int:
    """The section-number depth most numbered lines of this size have, 0 when few of them are numbered."""
    numbered = Counter({depth: count for (at, depth), count in depths.items() if at == size and depth})
    if not numbered or numbered.total() * 3 < depths[size, 0]:
        return 0
    return numbered.most_common(1)[0][0]


def outline_level_offset(
    doc: pymupdf.Document, outline: Sequence[OutlineEntry], profile: FontProfile, skip: Collection[int] = ()
) -> int:
    """How many heading sizes are larger than the font of the outline's first top-level title (0 when not found).

    Word processors put the numbered sections in the outline but not the title above them: the
    sections' level 1 there is level 2 by the fonts. One page is read, the first top-level entry's.
    """
    entry = next((e for e in outline if e.level == 1 and e.page > 0), None)
    if entry is None or len(profile.heading_sizes) < 2 or entry.page > doc.page_count or entry.page - 1 in skip:
        return 0
    want = " ".join(entry.title.split())
    try:
        lines = read_lines(doc.load_page(entry.page - 1).get_text("dict", flags=TEXT_FLAGS))
    except Exception:  # noqa: BLE001 - a bad page leaves the outline's levels as they are
        return 0
    for line in lines:
        if " ".join(line.text.split()) == want:
            return max(0, profile.heading_level(line.size) - 1)
    return 0
