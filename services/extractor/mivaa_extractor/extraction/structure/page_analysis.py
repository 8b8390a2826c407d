"""One page in, one `PageLayout` out: the page stages composed.

Order of the stages, and why:
1. the page read once by the backend (`PageSource`: one `get_text("dict")`
   call, the only full pass over the page's text; the drawings on first use,
   by the table stage alone); every stage below works on that one read;
2. tables first, so their lines do not also become paragraphs;
3. images, each placement a FIGURE block;
4. the remaining lines grouped into blocks (MuPDF's blocks, split where the
   style changes or a list item starts) and typed: heading, list item, code,
   footnote, caption, page number, paragraph;
5. reading order over all blocks (text, tables, figures) with XY-cut;
6. captions attached to their figure or table, paragraphs hyphenated across
   blocks joined, links attached, bounding boxes mapped to the displayed page.

Repeated page headers and footers need other pages to be recognised; that
happens afterwards, over the stream of pages (furniture.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import pymupdf

from mivaa_extractor.extraction.structure import tables as table_stage
from mivaa_extractor.extraction.structure.captions import find_caption
from mivaa_extractor.extraction.structure.content_limits import ContentLimits
from mivaa_extractor.extraction.structure.images import ImageCollector, ImageSettings
from mivaa_extractor.extraction.structure.lexicon import (
    CAPTION_LABEL,
    LIST_ITEM_START,
    NUMBERED_HEADING,
    PAGE_NUMBER,
    TABLE_CAPTION_PREFIXES,
)
from mivaa_extractor.extraction.structure.model import (
    BBox,
    Block,
    BlockKind,
    DocumentInfo,
    FontProfile,
    Link,
    PageError,
    PageLayout,
)
from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource, TextLine
from mivaa_extractor.extraction.structure.reading_order import reading_order
from mivaa_extractor.extraction.structure.text_cleanup import clean_line, join_hyphenated, join_lines

# Fewer visible characters than this on a page that shows an image means "no text layer".
MIN_TEXT_LAYER_CHARS = 20
# More than this share of unmappable glyphs (U+FFFD, private use) means the text layer is garbage.
MAX_GARBLED_SHARE = 0.3


@dataclass(frozen=True)
class AnalysisSettings:
    images: ImageSettings = field(default_factory=ImageSettings)
    extract_images: bool = True
    detect_tables: bool = True
    # Share of the page height at the top and bottom where running headers, footers and page numbers live.
    margin_share: float = 0.1
    # How much a page's content may inflate before MuPDF is let near it (decompression bombs).
    content: ContentLimits = field(default_factory=ContentLimits)


# Title-page lines set large that are not headings: dates, e-mail addresses, affiliations.
_NOT_A_HEADING = re.compile(
    r"\b(?:jan(?:uary|uar)?|feb(?:ruary|ruar)?|m(?:arch|ärz)|apr(?:il)?|may|mai|june?|juni|july?|juli|aug(?:ust)?"
    r"|sep(?:tember)?|oct(?:ober)?|okt(?:ober)?|nov(?:ember)?|dec(?:ember)?|dez(?:ember)?)\.?\s+\d{1,2},?\s+\d{4}\b"
    r"|\b\d{1,2}\.?\s+(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|januar|februar|märz|juni|juli|oktober|dezember)\s+\d{4}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|@|\buniversit|\binstitut",
    re.IGNORECASE,
)
_FOOTNOTE_MARK = re.compile(r"^(?:\d{1,3}|[*\u2020\u2021\u00a7\u00b9\u00b2\u00b3\u2070-\u2079])")


@dataclass
class _Draft:
    """A block being built: its lines, then what it turned out to be."""

    lines: list[TextLine]
    kind: BlockKind = BlockKind.PARAGRAPH
    level: int = 0
    text: str = ""
    bbox: BBox = (0.0, 0.0, 0.0, 0.0)
    table: table_stage.DetectedTable | None = None
    image_index: int = -1

    def finish_geometry(self) -> None:
        if self.lines:
            self.bbox = (
                min(line.bbox[0] for line in self.lines),
                min(line.bbox[1] for line in self.lines),
                max(line.bbox[2] for line in self.lines),
                max(line.bbox[3] for line in self.lines),
            )

    @property
    def size(self) -> float:
        return max((line.size for line in self.lines), default=0.0)

    @property
    def bold(self) -> bool:
        return bool(self.lines) and all(line.bold for line in self.lines)


class PageAnalyzer:
    """Analyses the pages of one open document (one instance per document and worker process)."""

    def __init__(
        self,
        doc: pymupdf.Document,
        profile: FontProfile,
        info: DocumentInfo | None = None,
        settings: AnalysisSettings | None = None,
    ):
        self._doc = doc
        self._profile = profile
        self._settings = settings or AnalysisSettings()
        self._images = ImageCollector(doc, self._settings.images) if self._settings.extract_images else None
        # Outline titles by page, normalised, with their levels: the most reliable heading signal there is.
        self._outline: dict[int, dict[str, int]] = {}
        for entry in info.outline if info else ():
            if entry.page > 0:
                self._outline.setdefault(entry.page, {})[_normalise(entry.title)] = min(entry.level, 6)

    def analyze(self, number: int) -> PageLayout:
        """The layout of 1-based page `number`; raises only for failures the caller reports as page errors."""
        page = self._doc.load_page(number - 1)
        source = PageSource(page)  # the page's one read: every stage below works on it
        lines = source.lines
        width, height = source.width, source.height
        layout = PageLayout(number=number, width=page.rect.width, height=page.rect.height, rotation=page.rotation)

        drafts: list[_Draft] = []
        if self._settings.detect_tables and lines:
            for found in table_stage.detect_tables(source):
                inside = [line for line in lines if _center_inside(line.bbox, found.bbox)]
                if not inside:
                    continue
                lines = [line for line in lines if not _center_inside(line.bbox, found.bbox)]
                drafts.append(
                    _Draft(lines=[], kind=BlockKind.TABLE, text=found.table.to_markdown(), bbox=found.bbox, table=found)
                )

        placements = []
        if self._images is not None:
            collected = self._images.collect(source)
            layout.images.extend(collected.new_images)
            layout.skipped_images = collected.skipped
            if collected.warnings:
                layout.warnings = tuple(layout.warnings) + tuple(collected.warnings)
            placements = list(collected.placements)
            for index, placement in enumerate(placements):
                drafts.append(_Draft(lines=[], kind=BlockKind.FIGURE, bbox=placement.bbox, image_index=index))

        text_drafts = self._group(lines)
        for draft in text_drafts:
            self._classify(draft, number, width, height)
        _mark_edge_page_numbers(text_drafts)
        drafts.extend(text_drafts)

        rtl = _mostly_right_to_left(lines)
        order = reading_order([draft.bbox for draft in drafts], right_to_left=rtl)
        drafts = [drafts[i] for i in order]
        _set_list_levels(drafts)
        drafts = _join_hyphenated_paragraphs(drafts)
        self._attach_captions(drafts, placements)

        links = _page_links(source) if page.first_link else []
        matrix = page.rotation_matrix if page.rotation else None
        for draft in drafts:
            bbox = _to_display(draft.bbox, matrix)
            if draft.kind is BlockKind.FIGURE:
                placement = placements[draft.image_index]
                layout.blocks.append(
                    Block(kind=BlockKind.FIGURE, bbox=bbox, text=placement.caption, image=replace(placement, bbox=bbox))
                )
            elif draft.kind is BlockKind.TABLE:
                assert draft.table is not None
                layout.blocks.append(Block(kind=BlockKind.TABLE, bbox=bbox, text=draft.text, table=draft.table.table))
            else:
                layout.blocks.append(
                    Block(
                        kind=draft.kind,
                        bbox=bbox,
                        text=draft.text,
                        level=draft.level,
                        links=tuple(link for rect, link in links if _intersects(rect, draft.bbox)),
                        font_size=draft.size,
                        bold=draft.bold,
                    )
                )
        layout.ocr_reason = ocr_reason(source, layout.text, has_text=bool(lines))
        return layout

    # -- grouping lines into blocks --

    def _group(self, lines: list[TextLine]) -> list[_Draft]:
        drafts: list[_Draft] = []
        current: list[TextLine] = []

        def flush() -> None:
            if current:
                drafts.append(_Draft(lines=list(current)))
                current.clear()

        for line in lines:
            if current and self._starts_new_block(current, line):
                flush()
            current.append(line)
        flush()
        return drafts

    def _starts_new_block(self, current: list[TextLine], line: TextLine) -> bool:
        previous = current[-1]
        if line.block != previous.block or line.horizontal != previous.horizontal:
            return True
        if abs(line.size - previous.size) >= 1.0:
            return True
        if (
            line.bold != previous.bold
            and (len(previous.text) < 100 or len(line.text) < 100)
            and (_is_heading_like(previous) or _is_heading_like(line))
        ):
            return True
        if line.mono != previous.mono:
            return True
        if LIST_ITEM_START.match(line.text) and not line.bbox[1] < previous.bbox[1] - 1:
            return True
        # A wide vertical gap inside one MuPDF block is a paragraph break.
        return line.bbox[1] - previous.bbox[3] > 1.2 * max(previous.size, 1.0)

    # -- typing blocks --

    def _classify(self, draft: _Draft, number: int, width: float, height: float) -> None:
        draft.finish_geometry()
        texts = [line.text for line in draft.lines]
        profile = self._profile
        size = draft.size
        first = draft.lines[0]
        joined = join_lines(texts)
        draft.text = joined
        x0, y0, x1, y1 = draft.bbox
        margin = self._settings.margin_share * height
        in_margin = y1 <= margin or y0 >= height - margin

        if in_margin and PAGE_NUMBER.match(joined):
            draft.kind = BlockKind.PAGE_NUMBER
            return
        if all(line.mono for line in draft.lines) and len(draft.lines) >= 1 and len(joined) > 1:
            draft.kind = BlockKind.CODE
            draft.text = "\n".join(clean_line(text) for text in texts)
            return
        level = self._heading_level(draft, joined, number)
        if level:
            draft.kind = BlockKind.HEADING
            draft.level = level
            return
        if CAPTION_LABEL.match(joined):
            draft.kind = BlockKind.CAPTION
            return
        if (
            size <= profile.body_size - 1.0
            and y0 >= 0.6 * height
            and (first.superscript_start or _FOOTNOTE_MARK.match(joined))
        ):
            draft.kind = BlockKind.FOOTNOTE
            return
        if LIST_ITEM_START.match(joined):
            draft.kind = BlockKind.LIST_ITEM
            draft.level = 1  # nesting is set per page below from indentation
            return

    def _heading_level(self, draft: _Draft, text: str, number: int) -> int:
        if len(draft.lines) > 3 or len(text) > 200 or len(text) < 2 or not draft.lines[0].horizontal:
            return 0
        key = _normalise(text)
        for page in (number, number - 1, number + 1):
            level = self._outline.get(page, {}).get(key)
            if level:
                return level
        if text.endswith((".", ",", ";")) and not NUMBERED_HEADING.match(text):
            return 0
        if not any(ch.isalpha() for ch in text) or _NOT_A_HEADING.search(text):
            return 0
        profile = self._profile
        if draft.size >= profile.body_size + 1.0 and (level := profile.heading_level(draft.size)):
            return level
        if (
            draft.bold
            and len(draft.lines) == 1
            and len(text) <= 120
            and draft.size >= profile.body_size - 0.5
            and sum(ch.isalpha() for ch in text) >= 3
            and not text[0].islower()
        ) and (NUMBERED_HEADING.match(text) or not text.endswith(":")):
            return min(6, len(profile.heading_sizes) + 1)
        return 0

    def _attach_captions(self, drafts: list[_Draft], placements: list) -> None:
        """Fills figure/table captions from the caption (or nearest short) block beside them."""
        text_blocks = [(i, d) for i, d in enumerate(drafts) if d.kind in (BlockKind.CAPTION, BlockKind.PARAGRAPH)]
        candidates = [(d.bbox, d.text) for _, d in text_blocks]
        if not candidates:
            return
        for draft in drafts:
            if draft.kind is BlockKind.FIGURE:
                found = find_caption(draft.bbox, candidates)
                if found is not None:
                    caption = text_blocks[found][1]
                    caption.kind = BlockKind.CAPTION
                    placements[draft.image_index] = replace(placements[draft.image_index], caption=caption.text)
            elif draft.kind is BlockKind.TABLE:
                found = find_caption(draft.bbox, candidates, prefixes=TABLE_CAPTION_PREFIXES)
                if found is not None:
                    text_blocks[found][1].kind = BlockKind.CAPTION


def _set_list_levels(drafts: list[_Draft]) -> None:
    indents = sorted({round(d.bbox[0]) for d in drafts if d.kind is BlockKind.LIST_ITEM})
    if not indents:
        return
    levels: list[int] = []
    for x in indents:
        levels.append(levels[-1] + (1 if x - indents[len(levels) - 1] >= 8 else 0) if levels else 1)
    by_indent = dict(zip(indents, levels, strict=True))
    for draft in drafts:
        if draft.kind is BlockKind.LIST_ITEM:
            draft.level = min(by_indent[round(draft.bbox[0])], 6)


def _mark_edge_page_numbers(drafts: list[_Draft]) -> None:
    """A lone number below (or above) everything else on the page is its page number, margin or not."""
    for draft in drafts:
        if draft.kind is not BlockKind.PARAGRAPH or not PAGE_NUMBER.match(draft.text):
            continue
        others = [other.bbox for other in drafts if other is not draft]
        if (
            not others
            or draft.bbox[1] >= max(b[3] for b in others) - 1
            or draft.bbox[3] <= min(b[1] for b in others) + 1
        ):
            draft.kind = BlockKind.PAGE_NUMBER


# A paragraph that stops without closing punctuation continues in the next block (a column or frame break).
_OPEN_END = re.compile(r"[^.!?:;\"\u201d\u2019)\]]$")


def _join_hyphenated_paragraphs(drafts: list[_Draft]) -> list[_Draft]:
    """Re-joins what layout split: words hyphenated across blocks, paragraphs across columns, multi-line titles."""
    joined: list[_Draft] = []
    for draft in drafts:
        previous = joined[-1] if joined else None
        if previous is not None and previous.kind is BlockKind.PARAGRAPH and draft.kind is BlockKind.PARAGRAPH:
            merged = join_hyphenated(previous.text, draft.text)
            # A paragraph carried on at the top of the next column (the next block starts higher up).
            column_break = draft.bbox[1] < previous.bbox[3] and draft.bbox[0] > previous.bbox[0] + 20
            if merged is None and column_break and draft.text[:1].islower() and _OPEN_END.search(previous.text):
                merged = previous.text + " " + draft.text
            if merged is not None:
                previous.text = merged
                previous.lines.extend(draft.lines)
                previous.finish_geometry()
                continue
        if (
            previous is not None
            and previous.kind is BlockKind.HEADING
            and draft.kind is BlockKind.HEADING
            and previous.level == draft.level
            and 0 <= draft.bbox[1] - previous.bbox[3] < 0.8 * max(previous.size, 1.0)
        ):
            previous.text = previous.text + " " + draft.text
            previous.lines.extend(draft.lines)
            previous.finish_geometry()
            continue
        joined.append(draft)
    return joined


def _is_heading_like(line: TextLine) -> bool:
    return line.bold and len(line.text) <= 120


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def _center_inside(box: BBox, area: BBox) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return area[0] - 1 <= cx <= area[2] + 1 and area[1] - 1 <= cy <= area[3] + 1


def _intersects(a: BBox, b: BBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _to_display(bbox: BBox, matrix: pymupdf.Matrix | None) -> BBox:
    if matrix is None:
        return tuple(round(v, 2) for v in bbox)  # type: ignore[return-value]
    rect = pymupdf.Rect(bbox) * matrix
    rect.normalize()
    return (round(rect.x0, 2), round(rect.y0, 2), round(rect.x1, 2), round(rect.y1, 2))


_RIGHT_TO_LEFT_CHARS = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def _mostly_right_to_left(lines: Sequence[TextLine]) -> bool:
    sample = "".join(line.text for line in lines[:200])
    if not _RIGHT_TO_LEFT_CHARS.search(sample):
        return False  # the common case, decided without looking at every character
    rtl = ltr = 0
    for ch in sample:
        direction = unicodedata.bidirectional(ch)
        if direction in ("R", "AL"):
            rtl += 1
        elif direction == "L":
            ltr += 1
    return rtl > ltr


def _page_links(source: PageSource) -> list[tuple[BBox, Link]]:
    """Links with the words inside their area; rectangles in the unrotated space the text lines use.

    The linked words are cut out of the spans the link covers, in proportion to
    the covered width, then widened to whole words: asking MuPDF for the text
    inside each link's rectangle costs more than the rest of the page.
    """
    page = source.page
    raw = list(_link_targets(page))
    if not raw:
        return []
    # Lines first, then their spans: a page of cross-references has hundreds of links.
    lines = [
        line
        for block in source.text_dict["blocks"]
        if block["type"] == 0
        for line in block["lines"]
        if line["dir"][0] > 0.99
    ]
    derotate = ~page.rotation_matrix if page.rotation else None
    found: list[tuple[BBox, Link]] = []
    for rect, uri, target in raw:
        if derotate is not None:
            rect = rect * derotate
            rect.normalize()
        area: BBox = (rect.x0, rect.y0, rect.x1, rect.y1)
        words = [
            _covered_words(span, rect)
            for line in lines
            if _intersects(line["bbox"], area)
            for span in line["spans"]
            if _intersects(span["bbox"], area)
        ]
        found.append((area, Link(text=" ".join(w for w in words if w), uri=uri, page=target)))
    return found


def _link_targets(page: pymupdf.Page) -> Iterator[tuple[pymupdf.Rect, str, int]]:
    """(area, URI, 1-based page) of the page's web links and links into the document.

    Walks MuPDF's link chain and resolves only internal targets: `page.get_links()`
    builds a full destination object for every link, which on a thesis with
    hundreds of cross-references costs more than reading the page's text.
    Links to other files (`file:`) are left out.
    """
    link = page.first_link
    while link:
        uri = link.uri or ""
        if uri.startswith("#"):
            target = page.parent.resolve_link(uri)[0] + 1
            if target > 0:
                yield pymupdf.Rect(link.rect), "", target
        elif link.is_external and not uri.startswith("file:"):
            yield pymupdf.Rect(link.rect), uri, 0
        link = link.next


def _covered_words(span: dict, rect: pymupdf.Rect) -> str:
    x0, y0, x1, y1 = span["bbox"]
    cy = (y0 + y1) / 2
    if not rect.y0 <= cy <= rect.y1 or x1 <= x0:
        return ""
    text = span["text"]
    start = int(len(text) * max(0.0, (rect.x0 - x0) / (x1 - x0)) + 0.5)
    end = int(len(text) * min(1.0, (rect.x1 - x0) / (x1 - x0)) + 0.5)
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return " ".join(text[start:end].split())


def ocr_reason(source: PageSource, text: str, *, has_text: bool = True) -> str | None:
    """Whether a page's text layer is unusable, and why; None when it is fine.

    A page with almost no text but an image on it is a scan; a page whose text
    is mostly unmappable glyphs has a broken font map. A blank page is neither.
    Glyphs without any Unicode are already cut out of the text (the backend
    counts them): more of them than of readable characters is a broken map too,
    while fewer are symbols and leader dots of a sound page.
    """
    visible = [c for c in text if not c.isspace()]
    if source.unmapped > len(visible):
        return "GARBLED_TEXT_LAYER"
    if visible:
        garbled = sum(1 for c in visible if c == "\ufffd" or "\ue000" <= c <= "\uf8ff")
        if garbled / len(visible) > MAX_GARBLED_SHARE:
            return "GARBLED_TEXT_LAYER"
    if len(visible) < MIN_TEXT_LAYER_CHARS and source.images:
        return "NO_TEXT_LAYER"
    return None


def failed_page(number: int, reason: str, message: str, warnings: tuple[str, ...] = ()) -> PageLayout:
    return PageLayout(number=number, error=PageError(reason=reason, message=message), warnings=warnings)
