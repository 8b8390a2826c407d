"""Lays text out on A4 pages with MuPDF's embedded fonts, recording the exact truth as it goes."""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from typing import Any

import pymupdf

from bench.ground_truth.prose import Prose
from bench.ground_truth.types import GroundTruth, Heading, TableTruth

PAGE_WIDTH, PAGE_HEIGHT = 595.0, 842.0  # A4 in points

_FONTS = {"regular": "helv", "bold": "hebo", "italic": "heit"}  # MuPDF's built-in Nimbus Sans family


class Composer:
    """Lays text out line by line on A4 pages with embedded fonts, recording the truth as it goes.

    Text flows through `columns` equal columns per page (down column 1, then
    column 2, then the next page). Every call records what a perfect reader
    returns: `blocks` in reading order, `headings`, `tables`, and the words
    split across lines with a hyphen.
    """

    LEADING = 13.0  # body line pitch, points
    BODY_SIZE = 10.0
    HEADING_SIZES = {1: 20.0, 2: 15.0, 3: 12.0}

    def __init__(
        self, columns: int = 1, margin: float = 64.0, gutter: float = 22.0, top: float = 78.0, bottom: float = 770.0
    ):
        self.doc = pymupdf.open()
        self.columns, self.margin, self.gutter, self.top, self.bottom = columns, margin, gutter, top, bottom
        self.column_width = (PAGE_WIDTH - 2 * margin - (columns - 1) * gutter) / columns
        self.fonts = {style: pymupdf.Font(name) for style, name in _FONTS.items()}
        self.blocks: list[str] = []
        self.headings: list[Heading] = []
        self.tables: list[TableTruth] = []
        self.hyphenated: list[str] = []
        self.page: pymupdf.Page | None = None
        self.column = 0
        self.y = top
        self.first_top = top  # where the columns start on the current page
        self._new_page()

    # -- pages and columns ----------------------------------------------------------------------

    def _new_page(self) -> None:
        self.page = self.doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
        for style in _FONTS:
            # Embedded (not Base-14 by name) so bullets, dashes and quotes map to Unicode.
            self.page.insert_font(fontname=f"F{style}", fontbuffer=self.fonts[style].buffer)
        self.column, self.y, self.first_top = 0, self.top, self.top

    @property
    def x(self) -> float:
        return self.margin + self.column * (self.column_width + self.gutter)

    def _ensure(self, height: float) -> None:
        """Moves to the next column (or page) unless `height` more points fit in this one."""
        if self.y + height <= self.bottom:
            return
        if self.column + 1 < self.columns:
            self.column += 1
            self.y = self.first_top
        else:
            self._new_page()

    def full_width_title(self, text: str, subtitle: str = "") -> None:
        """A level-1 heading across all columns at the top of the page; columns start below it."""
        size = self.HEADING_SIZES[1] + 2
        width = self.fonts["bold"].text_length(text, fontsize=size)
        self._text((PAGE_WIDTH - width) / 2, self.y + size, text, "bold", size)
        self.y += size * 1.6
        self.headings.append(Heading(text, 1))
        self.blocks.append(text)
        if subtitle:
            width = self.fonts["italic"].text_length(subtitle, fontsize=11)
            self._text((PAGE_WIDTH - width) / 2, self.y + 11, subtitle, "italic", 11)
            self.y += 11 * 2.4
            self.blocks.append(subtitle)
        self.page.draw_line((self.margin, self.y - 8), (PAGE_WIDTH - self.margin, self.y - 8), width=0.5)
        self.first_top = self.y + 6
        self.y = self.first_top

    # -- drawing --------------------------------------------------------------------------------

    def _text(
        self,
        x: float,
        baseline: float,
        text: str,
        style: str = "regular",
        size: float = BODY_SIZE,
        color: tuple[float, float, float] = (0, 0, 0),
    ) -> None:
        self.page.insert_text((x, baseline), text, fontname=f"F{style}", fontsize=size, color=color)

    def _width(self, text: str, style: str = "regular", size: float = BODY_SIZE) -> float:
        return self.fonts[style].text_length(text, fontsize=size)

    def _wrap(
        self, text: str, width: float, first_indent: float = 0.0, style: str = "regular", size: float = BODY_SIZE
    ) -> list[str]:
        """Greedy line breaking; a long word that would leave a gap is hyphenated when a 3+3 split fits."""
        lines: list[str] = []
        line = ""
        for word in text.split():
            available = width - (first_indent if not lines else 0.0)
            candidate = f"{line} {word}" if line else word
            if self._width(candidate, style, size) <= available:
                line = candidate
                continue
            split = self._hyphenate(line, word, available, style, size)
            if split:
                head, tail = split
                lines.append(f"{line} {head}-" if line else f"{head}-")
                self.hyphenated.append(word.rstrip(".,;:!?"))
                line = tail
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
        return lines

    def _hyphenate(self, line: str, word: str, available: float, style: str, size: float) -> tuple[str, str] | None:
        core = word.rstrip(".,;:!?")
        if len(core) < 8 or not core.isalpha() or not core.islower() or not line:
            return None
        for cut in range(len(core) - 3, 2, -1):  # the longest head that fits, both parts >= 3 letters
            if self._width(f"{line} {word[:cut]}-", style, size) <= available:
                return word[:cut], word[cut:]
        return None

    # -- content --------------------------------------------------------------------------------

    def heading(self, text: str, level: int) -> None:
        size = self.HEADING_SIZES[level]
        assert self._width(text, "bold", size) <= self.column_width, f"heading too wide: {text}"
        space_before = size * 0.9 if self.y > self.first_top else 0.0
        self._ensure(space_before + size * 1.4 + 2 * self.LEADING)  # keep the heading with two body lines
        self.y += space_before if self.y > self.first_top else 0.0
        self._text(self.x, self.y + size, text, "bold", size)
        self.y += size * 1.55
        self.headings.append(Heading(text, level))
        self.blocks.append(text)

    def section(self, title: str, level: int, prose: Prose, sentences: Sequence[int], **paragraph: Any) -> None:
        """A heading, then one paragraph of `prose` per entry of `sentences` (that many sentences each)."""
        self.heading(title, level)
        for count in sentences:
            self.paragraph(prose.paragraph(count), **paragraph)

    def paragraph(
        self,
        text: str,
        first_indent: float = 0.0,
        style: str = "regular",
        size: float = BODY_SIZE,
        space_after: float = 5.0,
    ) -> None:
        for index, line in enumerate(self._wrap(text, self.column_width, first_indent, style, size)):
            self._ensure(self.LEADING)
            self._text(self.x + (first_indent if index == 0 else 0.0), self.y + size, line, style, size)
            self.y += self.LEADING * size / self.BODY_SIZE
        self.y += space_after
        self.blocks.append(text)

    def bullet_list(self, items: Sequence[str]) -> None:
        indent = 16.0
        for item in items:
            for index, line in enumerate(self._wrap(item, self.column_width - indent)):
                self._ensure(self.LEADING)
                if index == 0:
                    self._text(self.x + 4, self.y + self.BODY_SIZE, "\u2022")
                self._text(self.x + indent, self.y + self.BODY_SIZE, line)
                self.y += self.LEADING
            self.y += 2.5
            self.blocks.append(item)
        self.y += 4.0

    def table(self, rows: Sequence[Sequence[str]], *, ruled: bool, caption: str, header_rows: int = 1) -> None:
        """A table that fits one column: header rows bold; `ruled` boxes every cell, else alignment only."""
        size, pad, row_height = 9.0, 5.0, 16.0
        columns = len(rows[0])
        widths = [
            max(self._width(row[c], "bold" if r < header_rows else "regular", size) for r, row in enumerate(rows))
            + 2 * pad
            + (0 if ruled else 10)
            for c in range(columns)
        ]
        assert sum(widths) <= self.column_width, "table too wide"
        self._ensure(self.LEADING + row_height * len(rows) + 10)
        self.paragraph(caption, style="italic", size=9.0, space_after=3.0)
        left, top = self.x, self.y
        for r, row in enumerate(rows):
            x = left
            for c, text in enumerate(row):
                self._text(x + pad, top + r * row_height + 11.5, text, "bold" if r < header_rows else "regular", size)
                x += widths[c]
        if ruled:
            right, bottom = left + sum(widths), top + row_height * len(rows)
            for r in range(len(rows) + 1):
                self.page.draw_line((left, top + r * row_height), (right, top + r * row_height), width=0.6)
            x = left
            for c in range(columns + 1):
                self.page.draw_line((x, top), (x, bottom), width=0.6)
                x += widths[c] if c < columns else 0
        else:  # a thin rule-free look: nothing but whitespace between columns
            pass
        self.y = top + row_height * len(rows) + 12
        truth = TableTruth(
            rows=tuple(tuple(row) for row in rows), header_rows=header_rows, caption=caption, ruled=ruled
        )
        self.tables.append(truth)
        self.blocks.append(truth.as_text())

    def furniture(self, header: str | None, footer: str) -> list[str]:
        """Stamps a running header (left, grey, ruled) and a centred footer on every page; returns the strings.

        `footer` is a format string with {page} and {pages}.
        """
        strings = []
        pages = self.doc.page_count
        for page in self.doc:
            self.page = page
            if header:
                self._text(self.margin, 44, header, "regular", 8.5, color=(0.35, 0.35, 0.35))
                page.draw_line((self.margin, 50), (PAGE_WIDTH - self.margin, 50), width=0.4, color=(0.5, 0.5, 0.5))
                strings.append(header)
            text = footer.format(page=page.number + 1, pages=pages)
            self._text((PAGE_WIDTH - self._width(text, size=8.5)) / 2, 812, text, "regular", 8.5)
            strings.append(text)
        return strings

    def save(
        self, path: pathlib.Path, furniture: Sequence[str], notes: str, *, multi_column: bool = False
    ) -> GroundTruth:
        """Writes the PDF to `path` and returns the truth recorded while composing it."""
        truth = GroundTruth(
            name=path.name,
            pdf=path,
            origin="generated",
            family_name=f"pymupdf-{path.stem.removeprefix('generated-')}",
            blocks=tuple(self.blocks),
            headings=tuple(self.headings),
            tables=tuple(self.tables),
            furniture=tuple(furniture),
            multi_column=multi_column,
            hyphenated=tuple(self.hyphenated),
            notes=notes,
        )
        self.doc.subset_fonts()  # realistic file sizes: only the glyphs used
        self.doc.save(path, garbage=3, deflate=True)
        self.doc.close()
        return truth
