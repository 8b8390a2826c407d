"""The result types of the ground truth: what a perfect extractor returns for one PDF."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

import pymupdf

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"
DEFAULT_GENERATED_DIR = REPO_ROOT / ".cache" / "bench" / "ground-truth"


@dataclass(frozen=True)
class Heading:
    text: str  # as written in the source, without its number
    level: int  # 1 = the most prominent heading kind this document uses, 2 the next, ...
    number: str = ""  # "1", "2.3" printed before the text; "" when unnumbered
    # A run-in heading starts its paragraph ("Boots Self-Locking Nut. The Boots nut is..."): the block
    # holds heading and text together; the structure metrics (MHS) split it back off.
    run_in: bool = False

    @property
    def display(self) -> str:
        """The heading as it is printed on the page."""
        return f"{self.number} {self.text}" if self.number else self.text


@dataclass(frozen=True)
class TableTruth:
    rows: tuple[tuple[str, ...], ...]  # row-major cell texts
    header_rows: int = 1
    caption: str = ""
    ruled: bool = True  # drawn with rules (lines) between cells
    # Merged cells: (row, column, rowspan, colspan) of each cell spanning more than one grid position;
    # its text sits at (row, column), the positions it covers hold "".
    spans: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def column_count(self) -> int:
        return max((len(row) for row in self.rows), default=0)

    def cells(self) -> list[tuple[int, int, str]]:
        """(row, column, text) of every non-empty cell."""
        return [(r, c, text) for r, row in enumerate(self.rows) for c, text in enumerate(row) if text.strip()]

    def as_text(self) -> str:
        """The table as body text: one line per row, cells separated by a space."""
        return "\n".join(" ".join(cell for cell in row if cell) for row in self.rows)


@dataclass(frozen=True)
class GroundTruth:
    name: str
    pdf: pathlib.Path
    origin: str  # "latex", "html", "generated", "office" or "chromium"
    blocks: tuple[str, ...]  # body in reading order, see the module docstring
    headings: tuple[Heading, ...] = ()
    tables: tuple[TableTruth, ...] = ()
    furniture: tuple[str, ...] = ()  # every header/footer/page-number string, once per page it appears on
    born_digital: bool = True
    # False where the PDF's own text layer cannot yield the true text (broken font maps):
    # reported, but not held to the text-similarity target.
    sound_text_layer: bool = True
    multi_column: bool = False
    hyphenated: tuple[str, ...] = ()  # words the PDF splits across a line break with a hyphen
    notes: str = ""
    family_name: str = ""  # the layout family for the per-family report; the origin when empty

    @property
    def family(self) -> str:
        return self.family_name or self.origin

    @property
    def body_text(self) -> str:
        return "\n\n".join(self.blocks)

    @property
    def page_count(self) -> int:
        with pymupdf.open(self.pdf) as doc:
            return doc.page_count


@dataclass
class TruthRecorder:
    """What a document builder records as it writes: body blocks in reading order, headings, tables."""

    blocks: list[str] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    tables: list[TableTruth] = field(default_factory=list)

    def truth(self, pdf: pathlib.Path, origin: str, family: str, **fields: Any) -> GroundTruth:
        return GroundTruth(
            name=pdf.name,
            pdf=pdf,
            origin=origin,
            family_name=family,
            blocks=tuple(self.blocks),
            headings=tuple(self.headings),
            tables=tuple(self.tables),
            **fields,
        )
