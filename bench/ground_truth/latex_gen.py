"""LaTeX articles made in code and typeset by pdflatex (Debian texlive); truth written as the source is.

- latex-article: one column, a \\maketitle title (its author and date lines are body text), numbered
  sections and subsections, a figure float with its caption, a text-only table, and footnotes.
  Every page is closed by \\newpage and holds well under a page of text, so the figure stays where it
  is written ([!h]) and each footnote prints at the foot of the page that cites it: the truth puts a
  page's footnotes ("1The footnote text.", mark and text touching as printed) after that page's body, and the footnote mark after its
  word ("sentence1"), as they print. The smoke test checks the page count.
- latex-twocolumn: \\documentclass[twocolumn]: the title across the page, then sections that flow
  down column 1 and on into column 2, page by page.
Page numbers (the plain page style) are the furniture. TeX hyphenates: the truth never does.
"""

from __future__ import annotations

import pathlib
import random

import pymupdf

from bench.ground_truth import converters
from bench.ground_truth.prose import Prose
from bench.ground_truth.types import GroundTruth, Heading, TableTruth, TruthRecorder
from bench.ground_truth.vocab import SECTION_TITLES, text_table

_SUBSECTIONS = ("Method", "Results", "Discussion", "Limitations")
_PEOPLE = ("A. Lindqvist", "M. Okafor", "J. Ferreira", "S. Nakamura", "R. Dubois")
_MONTHS = ("February", "April", "June", "August", "October", "December")


class LatexBuilder(TruthRecorder):
    def __init__(self, two_column: bool) -> None:
        super().__init__()
        self.lines = [f"\\documentclass[10pt{',twocolumn' if two_column else ''}]{{article}}", "\\begin{document}"]
        self.sections = self.subsections = self.figures = self.footnotes = 0
        self.page_notes: list[str] = []
        self.pages = 1

    def title(self, title: str, author: str, date: str) -> None:
        self.lines += [f"\\title{{{title}}}", f"\\author{{{author}}}", f"\\date{{{date}}}", "\\maketitle"]
        self.headings.append(Heading(title, 1))
        self.blocks += [title, author, date]  # the author and date lines are body text, not headings

    def section(self, title: str) -> None:
        self.sections, self.subsections = self.sections + 1, 0
        self.lines.append(f"\\section{{{title}}}")
        heading = Heading(title, 2, str(self.sections))
        self.headings.append(heading)
        self.blocks.append(heading.display)

    def subsection(self, title: str) -> None:
        self.subsections += 1
        self.lines.append(f"\\subsection{{{title}}}")
        heading = Heading(title, 3, f"{self.sections}.{self.subsections}")
        self.headings.append(heading)
        self.blocks.append(heading.display)

    def paragraph(self, text: str, footnote: str = "") -> None:
        if footnote:  # the mark after the paragraph's first sentence
            self.footnotes += 1
            first, rest = text.split(". ", 1)
            self.lines += ["", f"{first}.\\footnote{{{footnote}}} {rest}", ""]
            self.blocks.append(f"{first}.{self.footnotes} {rest}")
            self.page_notes.append(f"{self.footnotes}{footnote}")  # the mark touches the text, as printed
        else:
            self.lines += ["", text, ""]
            self.blocks.append(text)

    def figure(self, caption: str) -> None:
        self.figures += 1
        self.lines += ["\\begin{figure}[!h]\\centering\\rule{6cm}{2.2cm}", f"\\caption{{{caption}}}\\end{{figure}}"]
        self.blocks.append(f"Figure {self.figures}: {caption}")

    def table(self, rows: list[list[str]], caption: str) -> None:
        self.paragraph(caption)
        spec = "|" + "l|" * len(rows[0])
        body = ["\\hline " + " & ".join(f"\\textbf{{{cell}}}" for cell in rows[0]) + " \\\\ \\hline"]
        body += [" & ".join(row) + " \\\\ \\hline" for row in rows[1:]]
        self.lines += ["\\begin{center}", f"\\begin{{tabular}}{{{spec}}}", *body, "\\end{tabular}", "\\end{center}"]
        truth = TableTruth(rows=tuple(tuple(row) for row in rows), caption=caption)
        self.tables.append(truth)
        self.blocks.append(truth.as_text())

    def new_page(self) -> None:
        self.lines.append("\\newpage")
        self.blocks.extend(self.page_notes)
        self.page_notes = []
        self.pages += 1

    def source(self) -> str:
        self.blocks.extend(self.page_notes)
        self.page_notes = []
        return "\n".join([*self.lines, "\\end{document}", ""])


def _article(seed: int) -> LatexBuilder:
    rng, prose = random.Random(seed), Prose(seed=5000 + seed)
    b = LatexBuilder(two_column=False)
    people = rng.sample(_PEOPLE, k=2)
    b.title(f"Notes on Harbour Weather {seed}", f"{people[0]} and {people[1]}", f"{rng.choice(_MONTHS)} 2026")
    b.paragraph(prose.paragraph(4), footnote=prose.sentence())
    for s, title in enumerate(rng.sample(SECTION_TITLES, k=3)):
        b.new_page()
        b.section(title)
        b.paragraph(prose.paragraph(rng.randint(3, 4)), footnote=prose.sentence() if s != 1 else "")
        if s == 0:
            b.figure(f"The instrument mast seen from the {rng.choice(('north', 'south', 'east'))} pier")
        b.subsection(rng.choice(_SUBSECTIONS))
        b.paragraph(prose.paragraph(rng.randint(3, 4)))
        if s == 1:
            b.table(text_table(rng, rows=4, columns=4), f"Table {seed}: Hardware in use")
        b.paragraph(prose.paragraph(3), footnote=prose.sentence() if s == 2 else "")
    return b


def _two_column(seed: int) -> LatexBuilder:
    rng, prose = random.Random(seed), Prose(seed=6000 + seed)
    b = LatexBuilder(two_column=True)
    people = rng.sample(_PEOPLE, k=2)
    b.title(f"Two Column Harbour Report {seed}", f"{people[0]} and {people[1]}", f"{rng.choice(_MONTHS)} 2026")
    for title in rng.sample(SECTION_TITLES, k=5):
        b.section(title)
        for _ in range(rng.randint(2, 3)):
            b.paragraph(prose.paragraph(rng.randint(4, 6)))
        if rng.random() < 0.5:
            b.subsection(rng.choice(_SUBSECTIONS))
            b.paragraph(prose.paragraph(rng.randint(4, 6)))
    return b


FAMILIES = {"latex-article": _article, "latex-twocolumn": _two_column}


def latex_truths(family: str, out_dir: pathlib.Path, seeds: range) -> list[GroundTruth]:
    """Typesets (or reuses from `out_dir`) one PDF per seed; raises ConverterMissing without pdflatex."""
    out_dir.mkdir(parents=True, exist_ok=True)
    truths = []
    for seed in seeds:
        builder = FAMILIES[family](seed)
        source = builder.source()
        pdf = out_dir / f"{family}-{seed:03d}.pdf"
        key = converters.content_key(source, pathlib.Path(converters.__file__).read_bytes())
        if not converters.is_cached(pdf, key):
            tex = pdf.with_suffix(".tex")
            tex.write_text(source, encoding="utf-8")
            converters.pdflatex_to_pdf(tex)
            converters.mark_cached(pdf, key)
        with pymupdf.open(pdf) as document:
            pages = document.page_count
        furniture = tuple(str(page) for page in range(1, pages + 1))
        notes = f"pdflatex ({family}); {builder.pages} pages by construction" if family == "latex-article" else family
        truths.append(
            builder.truth(
                pdf, "latex", family, furniture=furniture, multi_column=family != "latex-article", notes=notes
            )
        )
    return truths
