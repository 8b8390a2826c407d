"""The structured form of a document: pages of typed blocks, tables, images, metadata.

Plain, picklable dataclasses: extraction worker processes build them, the
pipeline streams them, the gRPC adapters translate them to protobuf. Nothing
here knows about PyMuPDF or gRPC.

Coordinates are PDF points with the origin at the top-left of the page as it
is displayed (rotation applied), `x` to the right and `y` downwards, the same
space PyMuPDF's text extraction reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

BBox = tuple[float, float, float, float]  # x0, y0, x1, y1


class BlockKind(StrEnum):
    HEADING = "heading"  # `level` 1 (document title or top section) .. 6
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"  # `level` is the nesting depth, 1-based
    TABLE = "table"  # `table` is set; `text` is its markdown
    FIGURE = "figure"  # `image` is set; `text` is the caption when there is one
    CAPTION = "caption"  # "Figure 3: ...", "Table 2: ..." beside a figure or table
    FOOTNOTE = "footnote"
    CODE = "code"  # monospaced lines, kept verbatim
    PAGE_HEADER = "page_header"  # repeated at the top of pages; kept out of body text and chunks
    PAGE_FOOTER = "page_footer"  # repeated at the bottom of pages; likewise
    PAGE_NUMBER = "page_number"  # a page's printed number; likewise


# Blocks that are page furniture, not content: never in body text, markdown body or chunks.
FURNITURE = frozenset({BlockKind.PAGE_HEADER, BlockKind.PAGE_FOOTER, BlockKind.PAGE_NUMBER})


@dataclass(frozen=True, slots=True)
class Link:
    """A link whose clickable area overlaps a block: to a URI or to a page of the same document."""

    text: str  # the linked words, as read inside the link's area
    uri: str = ""
    page: int = 0  # 1-based target page for internal links, 0 for URIs


@dataclass(frozen=True, slots=True)
class TableCell:
    row: int  # 0-based
    column: int  # 0-based
    text: str
    row_span: int = 1
    column_span: int = 1
    header: bool = False  # part of the table's header rows


@dataclass(frozen=True, slots=True)
class Table:
    """A table as a grid. A spanning cell is listed once, at its top-left position."""

    row_count: int
    column_count: int
    cells: tuple[TableCell, ...]
    header_rows: int = 0  # the first `header_rows` rows are headers

    def grid(self) -> list[list[str]]:
        """Row-major text grid; a spanning cell's text fills its top-left slot, the slots it covers stay ""."""
        grid = [["" for _ in range(self.column_count)] for _ in range(self.row_count)]
        for cell in self.cells:
            if 0 <= cell.row < self.row_count and 0 <= cell.column < self.column_count:
                grid[cell.row][cell.column] = cell.text
        return grid

    def rows_markdown(self) -> list[str]:
        """One markdown line per row; with the separator line after the header (or after row 0)."""
        grid = self.grid()
        if not grid:
            return []

        def line(values: list[str]) -> str:
            return "| " + " | ".join(_markdown_cell(value) for value in values) + " |"

        header_rows = max(1, self.header_rows)
        lines = [line(row) for row in grid[:header_rows]]
        lines.append("|" + "|".join("---" for _ in range(self.column_count)) + "|")
        lines.extend(line(row) for row in grid[header_rows:])
        return lines

    def to_markdown(self) -> str:
        return "\n".join(self.rows_markdown())

    def continued_by(self, following: Table) -> list[str] | None:
        """The markdown rows `following` (a table at the top of the next page, this one ending the page
        before) adds to this table when it goes on with it, as many columns wide; its header row is
        left out when it repeats this table's, else its first row is a body row too. None when
        `following` is a table of its own."""
        if following.column_count != self.column_count:
            return None
        rows = following.rows_markdown()
        header = max(1, following.header_rows)
        if rows[:header] == self.rows_markdown()[:header]:
            return rows[header + 1 :]
        return rows[:header] + rows[header + 1 :]  # all but the separator line


def _markdown_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


@dataclass(frozen=True, slots=True)
class ImagePlacement:
    """Where an extracted image is shown: the image is identified by the sha256 of its stored bytes."""

    sha256: str
    page: int  # 1-based
    bbox: BBox
    caption: str = ""


@dataclass(frozen=True, slots=True)
class ExtractedImage:
    """One unique image, encoded so any viewer shows it (PNG or JPEG, RGB or grayscale)."""

    sha256: str  # of `data`
    mime_type: str  # "image/png" or "image/jpeg"
    width: int  # pixels
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Block:
    kind: BlockKind
    bbox: BBox
    text: str
    level: int = 0  # heading level or list depth; 0 otherwise
    links: tuple[Link, ...] = ()
    table: Table | None = None
    image: ImagePlacement | None = None
    font_size: float = 0.0
    bold: bool = False


@dataclass(frozen=True, slots=True)
class PageError:
    """Why a page, or part of one, could not be extracted; `reason` is UPPER_SNAKE_CASE."""

    reason: str  # PAGE_EXTRACTION_FAILED, PAGE_TIMEOUT, PAGE_MEMORY_LIMIT, PAGE_WORKER_CRASHED, ...
    message: str  # safe to show a user


@dataclass(slots=True)
class PageLayout:
    """One page, its blocks in reading order.

    `images` holds the bytes of the images first seen on this page (each unique
    image travels once per document); `blocks` reference images by sha256.
    `error` is set when the page could not be extracted (its blocks are then
    empty); `ocr_reason` when its text layer is unusable (NO_TEXT_LAYER,
    GARBLED_TEXT_LAYER) so OCR should supply the text.
    """

    number: int  # 1-based
    width: float = 0.0
    height: float = 0.0
    rotation: int = 0
    blocks: list[Block] = field(default_factory=list)
    images: list[ExtractedImage] = field(default_factory=list)
    error: PageError | None = None
    ocr_reason: str | None = None
    warnings: tuple[str, ...] = ()
    # Image placements dropped as decorative (below the size threshold), counted for diagnostics.
    skipped_images: int = 0

    @classmethod
    def from_text(cls, number: int, text: str, *, error: PageError | None = None, **fields) -> PageLayout:
        """A page known only as plain text (OCR output): one paragraph block per blank-line-separated paragraph."""
        paragraphs = [" ".join(part.split()) for part in text.split("\n\n")]
        blocks = [Block(kind=BlockKind.PARAGRAPH, bbox=(0.0, 0.0, 0.0, 0.0), text=p) for p in paragraphs if p]
        return cls(number=number, blocks=blocks, error=error, **fields)

    def body_blocks(self) -> list[Block]:
        return [block for block in self.blocks if block.kind not in FURNITURE]

    @property
    def text(self) -> str:
        """The page's content as plain text: body blocks in reading order, a blank line between them."""
        # A figure's text is its caption, which is also a block of its own.
        return "\n\n".join(
            block.text for block in self.body_blocks() if block.text and block.kind is not BlockKind.FIGURE
        )


@dataclass(frozen=True, slots=True)
class OutlineEntry:
    """One entry of the PDF's outline (bookmarks / table of contents)."""

    level: int  # 1-based
    title: str
    page: int  # 1-based target page, 0 when it points nowhere


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """Document-level metadata, read once before the pages."""

    page_count: int
    title: str = ""
    authors: tuple[str, ...] = ()
    subject: str = ""
    keywords: tuple[str, ...] = ()
    creator: str = ""  # the authoring application
    producer: str = ""  # the PDF writer
    created: str = ""  # ISO 8601, "" when absent or unparseable
    modified: str = ""
    language: str = ""  # BCP 47 guess from the text ("en", "de", "ar"), "" when unsure
    outline: tuple[OutlineEntry, ...] = ()
    # Pages not to analyse, with why (content over a limit; see content_limits.py).
    # None: the pages' content was not measured, so each page is checked on its own.
    page_faults: tuple[tuple[int, PageError], ...] | None = None


@dataclass(frozen=True, slots=True)
class FontProfile:
    """What body text and headings look like in this document, learned from a sample of pages.

    `heading_sizes` are the font sizes (rounded to 0.5 pt) larger than the body
    size that are used by short standalone lines, largest first: index i is
    heading level i + 1.
    """

    body_size: float = 10.0
    heading_sizes: tuple[float, ...] = ()
    # Per heading size, how deep the section numbers of its headings go ("2.1 ..." is 2), 0 when unnumbered:
    # a numbered heading in the body font takes its level relative to these.
    numbering_depths: tuple[int, ...] = ()
    # Whether short bold lines in the body size stand alone as headings: run-in headings go one level below them.
    bold_body_headings: bool = False
    # How many heading sizes rank above the outline's top-level entries: an outline that leaves the title out
    # starts its levels one lower than the fonts do, so its levels are shifted by this.
    outline_level_offset: int = 0
    # Hyphenated compounds ("hand-drawn") the sampled pages write inside a line: a page that only breaks one
    # across lines still reads it with its hyphen.
    compounds: frozenset[str] = frozenset()

    def heading_level(self, size: float) -> int:
        """Level 1..6 for a font size among the heading sizes, 0 when it is not a heading size."""
        rounded = round(size * 2) / 2
        for index, heading_size in enumerate(self.heading_sizes[:6]):
            if abs(rounded - heading_size) < 0.26:
                return index + 1
        return 0
