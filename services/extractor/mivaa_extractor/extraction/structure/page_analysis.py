"""One page in, one `PageLayout` out: the page stages composed.

Order of the stages, and why:
1. the page read once by the backend (`PageSource`: one `get_text("dict")`
   call, the only full pass over the page's text; the drawings on first use,
   by the table stage alone); every stage below works on that one read;
2. tables first, so their lines do not also become paragraphs;
3. images, each placement a FIGURE block;
4. the remaining lines grouped into blocks (MuPDF's blocks, split where the
   style changes, a list item or a numbered heading starts, or a bold run-in
   heading opens a paragraph: headings.py) and typed: heading, list item,
   code, footnote, caption, page number, paragraph;
5. reading order over all blocks (text, tables, figures) with XY-cut;
6. numbered headings in the body font found by what follows them, captions
   attached to their figure or table, paragraphs split by layout joined
   (drafts.py), links attached (links.py), bounding boxes mapped to the
   displayed page.

Repeated page headers and footers need other pages to be recognised; that
happens afterwards, over the stream of pages (furniture.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace

import pymupdf

from mivaa_extractor.extraction.structure import drafts as drafts_stage
from mivaa_extractor.extraction.structure import headings
from mivaa_extractor.extraction.structure import tables as table_stage
from mivaa_extractor.extraction.structure.captions import find_caption
from mivaa_extractor.extraction.structure.content_limits import ContentLimits
from mivaa_extractor.extraction.structure.drafts import Draft
from mivaa_extractor.extraction.structure.images import ImageCollector, ImageSettings
from mivaa_extractor.extraction.structure.lexicon import (
    CAPTION_LABEL,
    LIST_ITEM_START,
    NUMBERED_HEADING,
    PAGE_NUMBER,
    TABLE_CAPTION_PREFIXES,
    is_title_page_line,
)
from mivaa_extractor.extraction.structure.links import intersects, page_links
from mivaa_extractor.extraction.structure.model import (
    BBox,
    Block,
    BlockKind,
    DocumentInfo,
    FontProfile,
    PageError,
    PageLayout,
)
from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource, TextLine
from mivaa_extractor.extraction.structure.reading_order import mostly_right_to_left, reading_order
from mivaa_extractor.extraction.structure.text_cleanup import clean_line, hyphenated_words, join_lines

# Fewer visible characters than this on a page that shows an image means "no text layer".
MIN_TEXT_LAYER_CHARS = 20
# More than this share of unmappable glyphs (U+FFFD, private use) means the text layer is garbage.
MAX_GARBLED_SHARE = 0.3


@dataclass(frozen=True)
class AnalysisSettings:
    images: ImageSettings = field(default_factory=ImageSettings)
    extract_images: bool = True
    # False for a task with images off: pictures are only located (their figures still steer reading
    # order and mark the captions beside them, which stay as text); none is decoded, encoded or
    # returned, and no FIGURE block is. The same blocks otherwise as with images on, minus the figures.
    emit_images: bool = True
    detect_tables: bool = True
    # Share of the page height at the top and bottom where running headers, footers and page numbers live.
    margin_share: float = 0.1
    # How much a page's content may inflate before MuPDF is let near it (decompression bombs).
    content: ContentLimits = field(default_factory=ContentLimits)


_FOOTNOTE_MARK = re.compile(r"^(?:\d{1,3}|[*\u2020\u2021\u00a7\u00b9\u00b2\u00b3\u2070-\u2079])")


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
        self._images = (
            ImageCollector(doc, self._settings.images, encode=self._settings.emit_images)
            if self._settings.extract_images
            else None
        )
        # Outline titles by page, normalised, with their levels: the most reliable heading signal there is.
        self._outline: dict[int, dict[str, int]] = {}
        for entry in info.outline if info else ():
            if entry.page > 0:
                level = entry.level + profile.outline_level_offset
                self._outline.setdefault(entry.page, {})[_normalise(entry.title)] = min(level, 6)

    def analyze(self, number: int) -> PageLayout:
        """The layout of 1-based page `number`; raises only for failures the caller reports as page errors."""
        page = self._doc.load_page(number - 1)
        source = PageSource(page)  # the page's one read: every stage below works on it
        lines = source.lines
        width, height = source.width, source.height
        layout = PageLayout(number=number, width=page.rect.width, height=page.rect.height, rotation=page.rotation)

        drafts: list[Draft] = []
        if self._settings.detect_tables and lines:
            for found in table_stage.detect_tables(source):
                inside = [line for line in lines if _center_inside(line.bbox, found.bbox)]
                if not inside:
                    continue
                lines = [line for line in lines if not _center_inside(line.bbox, found.bbox)]
                drafts.append(
                    Draft(lines=[], kind=BlockKind.TABLE, text=found.table.to_markdown(), bbox=found.bbox, table=found)
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
                drafts.append(Draft(lines=[], kind=BlockKind.FIGURE, bbox=placement.bbox, image_index=index))

        text_drafts = self._group(lines)
        # Compounds the page (or the document) writes with a hyphen ("hand-drawn"), when a line ends with one.
        hyphen_ends = any(line.text.endswith(("-", "\u2010")) for draft in text_drafts for line in draft.lines)
        compounds: frozenset[str] = frozenset()
        if hyphen_ends:
            compounds = hyphenated_words(line.text for line in source.lines) | self._profile.compounds
        for draft in text_drafts:
            self._classify(draft, number, width, height, compounds)
        drafts_stage.mark_edge_page_numbers(text_drafts)
        drafts.extend(text_drafts)

        rtl = mostly_right_to_left(line.text for line in lines[:200])
        order = reading_order([draft.bbox for draft in drafts], right_to_left=rtl)
        drafts = drafts_stage.run_in_before_paragraph([drafts[i] for i in order])
        self._numbered_headings(drafts)
        if number == 1:
            drafts_stage.demote_title_block(drafts, width)
        drafts_stage.set_list_levels(drafts)
        drafts = drafts_stage.join_split_paragraphs(drafts)
        self._attach_captions(drafts, placements)

        links = page_links(source) if page.first_link else []
        matrix = page.rotation_matrix if page.rotation else None
        for draft in drafts:
            bbox = _to_display(draft.bbox, matrix)
            if draft.kind is BlockKind.FIGURE:
                if not self._settings.emit_images:
                    continue  # located only: it has placed its caption, it shows nothing
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
                        links=tuple(link for rect, link in links if intersects(rect, draft.bbox)),
                        font_size=draft.size,
                        bold=draft.bold,
                    )
                )
        layout.ocr_reason = ocr_reason(source, layout.text, has_text=bool(lines))
        return layout

    # -- grouping lines into blocks --

    def _group(self, lines: list[TextLine]) -> list[Draft]:
        drafts: list[Draft] = []
        current: list[TextLine] = []
        drafts_with_run_in: list[tuple[Draft, int]] = []  # (heading, index its paragraph will have)

        def flush() -> None:
            if current:
                drafts.append(Draft(lines=list(current)))
                current.clear()

        previous: TextLine | None = None
        previous_opens = False
        for line in lines:
            opens = previous is None or line.block != previous.block or previous.text.endswith((".", "!", "?", ":"))
            split = headings.split_run_in(line, opens)
            # MuPDF cut the line at the gap after a bold phrase: the two halves pair up again.
            if (
                split is None
                and len(current) == 1
                and current[0] is previous
                and headings.run_in_pair(previous, line, previous_opens)
            ):
                split = (current.pop(), line)
            previous, previous_opens = line, opens
            if split is not None:
                flush()
                head = Draft(lines=[split[0]], is_run_in=True)
                drafts.append(head)
                current.append(split[1])
                drafts_with_run_in.append((head, len(drafts)))
                continue
            if current and self._starts_new_block(current, line):
                flush()
            current.append(line)
        flush()
        for head, body_index in drafts_with_run_in:
            if body_index < len(drafts):
                drafts[body_index].run_in = head
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
        if len(current) == 1 and headings.short_numbered_line(previous, line):
            return True
        if LIST_ITEM_START.match(line.text) and not line.bbox[1] < previous.bbox[1] - 1:
            return True
        # A wide vertical gap inside one MuPDF block is a paragraph break.
        return line.bbox[1] - previous.bbox[3] > 1.2 * max(previous.size, 1.0)

    # -- typing blocks --

    def _classify(self, draft: Draft, number: int, width: float, height: float, compounds: frozenset[str]) -> None:
        draft.finish_geometry()
        texts = [line.text for line in draft.lines]
        profile = self._profile
        size = draft.size
        first = draft.lines[0]
        joined = join_lines(texts, compounds)
        draft.text = joined
        x0, y0, x1, y1 = draft.bbox
        if draft.is_run_in:
            draft.kind = BlockKind.HEADING
            draft.level = headings.run_in_level(profile)
            draft.text = headings.heading_text(joined)
            return
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

    def _heading_level(self, draft: Draft, text: str, number: int) -> int:
        if len(draft.lines) > 3 or len(text) > 200 or len(text) < 2 or not draft.lines[0].horizontal:
            return 0
        key = _normalise(text)
        for page in (number, number - 1, number + 1):
            level = self._outline.get(page, {}).get(key)
            if level:
                return level
        if text.endswith((".", ",", ";")) and not NUMBERED_HEADING.match(text):
            return 0
        if not any(ch.isalpha() for ch in text):
            return 0
        profile = self._profile
        if level := headings.size_level(draft.size, text, profile):
            return level
        if (
            draft.bold
            and len(draft.lines) == 1
            and len(text) <= 120
            and draft.size >= profile.body_size - 0.5
            and sum(ch.isalpha() for ch in text) >= 3
            and not text[0].islower()
            and (NUMBERED_HEADING.match(text) or not text.endswith(":"))
            and not is_title_page_line(text)
        ):
            depth = headings.numbering_depth(text)
            return headings.level_for_numbering(depth, profile) if depth else headings.bold_body_level(profile)
        return 0

    def _numbered_headings(self, drafts: list[Draft]) -> None:
        """Short lines opened by a section number, in the body font, followed by text: headings, not list items."""
        profile = self._profile
        found: list[tuple[Draft, int]] = []
        for index, draft in enumerate(drafts):
            if draft.kind not in (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM) or len(draft.lines) != 1:
                continue
            depth = headings.standalone_numbered(draft.text, len(draft.lines))
            if not depth or draft.size < profile.body_size - 0.5 or is_title_page_line(draft.text):
                continue
            following = drafts[index + 1] if index + 1 < len(drafts) else None
            previous = drafts[index - 1] if index else None
            if following is None or following.kind is not BlockKind.PARAGRAPH:
                continue
            if len(following.text) < 2 * len(draft.text) or (previous and previous.kind is BlockKind.LIST_ITEM):
                continue
            found.append((draft, depth))
        # The same title under several numbers ("3 Drakonis", "13 Drakonis") is a dated list, not sections.
        titles = Counter(draft.text.split(maxsplit=1)[-1] for draft, _ in found)
        for draft, depth in found:
            if titles[draft.text.split(maxsplit=1)[-1]] == 1:
                draft.kind = BlockKind.HEADING
                draft.level = headings.level_for_numbering(depth, profile)

    def _attach_captions(self, drafts: list[Draft], placements: list) -> None:
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


def _is_heading_like(line: TextLine) -> bool:
    return line.bold and len(line.text) <= 120


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def _center_inside(box: BBox, area: BBox) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return area[0] - 1 <= cx <= area[2] + 1 and area[1] - 1 <= cy <= area[3] + 1


def _to_display(bbox: BBox, matrix: pymupdf.Matrix | None) -> BBox:
    if matrix is None:
        return tuple(round(v, 2) for v in bbox)  # type: ignore[return-value]
    rect = pymupdf.Rect(bbox) * matrix
    rect.normalize()
    return (round(rect.x0, 2), round(rect.y0, 2), round(rect.x1, 2), round(rect.y1, 2))


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
