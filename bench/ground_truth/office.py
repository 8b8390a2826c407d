"""Office documents made in code (python-docx) and converted to PDF by LibreOffice; truth written as they are built.

Each seed gives one maintenance-handbook-like document: a title page whose author lines are body
text (not headings), numbered headings 1 / 1.1 / 1.1.1, run-in bold headings that start their
paragraph ("Castellated Nut. The castellated nut is ..."), text-only tables with a bold header row
(ruled on even seeds, borderless on odd ones), nested bulleted lists, and a running header and a
"Page N" footer on every page (furniture). Heading levels: the title 1, numbered 1 -> 2, 1.1 -> 3,
1.1.1 -> 4, run-in headings one below the deepest numbered level the document prints (4, or 5 on
the seeds with a 1.1.1 heading).
"""

from __future__ import annotations

import dataclasses
import pathlib
import random

import docx
import pymupdf
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from bench.ground_truth import converters
from bench.ground_truth.prose import Prose
from bench.ground_truth.types import GroundTruth, Heading, TableTruth, TruthRecorder
from bench.ground_truth.vocab import RUN_IN_TERMS, SECTION_TITLES, text_table

FAMILY = "office-docx"
_SUBSECTIONS = ("General", "Procedure", "Precautions", "Acceptance Criteria", "Common Defects", "Tools and Materials")
_PURPOSES = (
    "holds its preload where vibration would loosen a plain nut",
    "is secured with a pin through the bolt shank",
    "keeps two fasteners from turning against each other",
    "is checked at every scheduled inspection",
    "must be replaced after it has been removed once",
    "is installed by hand and finished with a calibrated tool",
)
_PEOPLE = ("A. Lindqvist", "M. Okafor", "J. Ferreira", "S. Nakamura", "R. Dubois", "T. Havel")
_GROUPS = ("Northpoint Maintenance Group", "Gull Island Hangar Crew", "Cape Varden Technical Office")
_MONTHS = ("January", "March", "May", "July", "September", "November")


class OfficeBuilder:
    """Writes a .docx with python-docx and records, element by element, what a perfect reader returns."""

    def __init__(self) -> None:
        self.doc = docx.Document()
        self.truth = TruthRecorder()
        normal = self.doc.styles["Normal"]
        normal.font.name, normal.font.size = "DejaVu Serif", Pt(10.5)
        for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
            self.doc.styles[name].font.name = "DejaVu Sans"

    def title_page(self, title: str, author_lines: list[str]) -> None:
        self.doc.add_paragraph(title, style="Title")
        self.truth.headings.append(Heading(title, 1))
        self.truth.blocks.append(title)
        for line in author_lines:  # author, group and date: body text under the title, never headings
            self.doc.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.CENTER
            self.truth.blocks.append(line)
        self.doc.add_page_break()

    def heading(self, number: str, text: str) -> None:
        depth = number.count(".") + 1
        self.doc.add_paragraph(f"{number} {text}", style=f"Heading {depth}")
        heading = Heading(text, depth + 1, number)
        self.truth.headings.append(heading)
        self.truth.blocks.append(heading.display)

    def paragraph(self, text: str) -> None:
        self.doc.add_paragraph(text)
        self.truth.blocks.append(text)

    def run_in(self, term: str, text: str) -> None:
        paragraph = self.doc.add_paragraph()
        paragraph.add_run(f"{term}.").bold = True
        paragraph.add_run(f" {text}")
        # Level 0 until the document is complete: see `settle_run_in_levels`.
        self.truth.headings.append(Heading(f"{term}.", 0, run_in=True))
        self.truth.blocks.append(f"{term}. {text}")

    def settle_run_in_levels(self) -> None:
        """Run-in headings one level below the deepest other heading this document prints.

        Levels rank the heading kinds a document uses (types.Heading: 1 the most prominent, 2 the
        next, ...), so a document without a 1.1.1 heading has no level 4 and its run-in headings are
        level 4, not 5: a fixed 5 left a hole in the ranks that no reader of the page could see.
        """
        deepest = max(heading.level for heading in self.truth.headings if not heading.run_in)
        self.truth.headings = [
            dataclasses.replace(heading, level=deepest + 1) if heading.run_in else heading
            for heading in self.truth.headings
        ]

    def bullets(self, items: list[tuple[int, str]]) -> None:
        for depth, text in items:
            self.doc.add_paragraph(text, style="List Bullet" if depth == 0 else "List Bullet 2")
            self.truth.blocks.append(text)

    def table(self, rows: list[list[str]], *, ruled: bool, caption: str) -> None:
        self.paragraph(caption)
        table = self.doc.add_table(rows=len(rows), cols=len(rows[0]))
        if ruled:
            table.style = self.doc.styles["Table Grid"]
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.cell(r, c).paragraphs[0].add_run(text).bold = r == 0
        truth = TableTruth(rows=tuple(tuple(row) for row in rows), caption=caption, ruled=ruled)
        self.truth.tables.append(truth)
        self.truth.blocks.append(truth.as_text())
        self.doc.add_paragraph()  # LibreOffice glues the next paragraph to the table otherwise

    def furniture(self, header: str) -> None:
        """A running header and a centred "Page N" footer (a PAGE field) on every page."""
        section = self.doc.sections[0]
        section.header.paragraphs[0].text = header
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        footer.add_run("Page ")
        field_ = OxmlElement("w:fldSimple")
        field_.set(qn("w:instr"), "PAGE")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field_.append(run)
        # python-docx has no API for fields: the paragraph's XML element takes the w:fldSimple directly.
        footer._p.append(field_)  # noqa: SLF001


def _document(builder: OfficeBuilder, seed: int) -> str:
    """Fills `builder` for one seed; returns the running header text."""
    rng, prose = random.Random(seed), Prose(seed=1000 + seed)
    terms = rng.sample(RUN_IN_TERMS, k=len(RUN_IN_TERMS))
    title = f"Fastener Handbook Volume {seed}"
    people = rng.sample(_PEOPLE, k=2)
    builder.title_page(
        title,
        [f"{people[0]} and {people[1]}", rng.choice(_GROUPS), f"Issue {seed % 7 + 1}, {rng.choice(_MONTHS)} 2026"],
    )
    sections = rng.sample(SECTION_TITLES, k=2 + seed % 2)
    table_number = 0
    for s, section in enumerate(sections, start=1):
        builder.heading(str(s), section)
        builder.paragraph(prose.paragraph(rng.randint(3, 5)))
        for sub, subsection in enumerate(rng.sample(_SUBSECTIONS, k=2), start=1):
            builder.heading(f"{s}.{sub}", subsection)
            builder.paragraph(prose.paragraph(rng.randint(2, 4)))
            for _ in range(rng.randint(1, 3)):
                term = terms.pop()
                builder.run_in(term, f"The {term.lower()} {rng.choice(_PURPOSES)}. {prose.paragraph(2)}")
            if (s + sub + seed) % 3 == 0:
                table_number += 1
                builder.table(
                    text_table(rng, rows=rng.randint(3, 5), columns=rng.randint(3, 5)),
                    ruled=seed % 2 == 0,
                    caption=f"Table {table_number}: Hardware of section {s}.{sub}",
                )
            if (s + sub + seed) % 3 == 1:
                items = []
                for _ in range(rng.randint(2, 3)):
                    items.append((0, prose.sentence()))
                    items.extend((1, prose.sentence()) for _ in range(rng.randint(0, 2)))
                builder.bullets(items)
            if sub == 1 and seed % 2:
                builder.heading(f"{s}.{sub}.1", "Worked Example")
                builder.paragraph(prose.paragraph(3))
    builder.settle_run_in_levels()
    return f"Mivaa Office Bench: {title}"


def office_truths(out_dir: pathlib.Path, seeds: range) -> list[GroundTruth]:
    """Builds (or reuses from `out_dir`) one PDF per seed; raises ConverterMissing without LibreOffice."""
    out_dir.mkdir(parents=True, exist_ok=True)
    source_key = converters.content_key(*(p.read_bytes() for p in _SOURCES))
    built: list[tuple[pathlib.Path, TruthRecorder, str]] = []
    to_convert = []
    for seed in seeds:
        builder = OfficeBuilder()
        header = _document(builder, seed)
        builder.furniture(header)
        pdf = out_dir / f"office-{seed:03d}.pdf"
        key = converters.content_key(source_key, str(seed))
        if not converters.is_cached(pdf, key):
            source = out_dir / f"office-{seed:03d}.docx"
            builder.doc.save(str(source))
            to_convert.append((source, pdf, key))
        built.append((pdf, builder.truth, header))
    converters.soffice_to_pdf([source for source, _, _ in to_convert], out_dir)
    for _, pdf, key in to_convert:
        converters.mark_cached(pdf, key)
    truths = []
    for pdf, truth, header in built:
        with pymupdf.open(pdf) as document:
            pages = document.page_count
        furniture = [text for page in range(1, pages + 1) for text in (header, f"Page {page}")]
        notes = "python-docx + LibreOffice: title page, numbered and run-in headings, text tables, lists"
        truths.append(truth.truth(pdf, "office", FAMILY, furniture=tuple(furniture), notes=notes))
    return truths


_HERE = pathlib.Path(__file__).parent
_SOURCES = (pathlib.Path(__file__), _HERE / "vocab.py", _HERE / "prose.py", _HERE / "converters.py")
