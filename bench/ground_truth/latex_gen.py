"""LaTeX articles made in code and typeset by pdflatex (Debian texlive); truth written as the source is.

- latex-article: one column, a \\maketitle title (its author and date lines are body text), numbered
  sections and subsections, a figure float with its caption, a text-only table, and footnotes.
  Every page is closed by \\newpage and holds well under a page of text, so the figure stays where it
  is written ([!h]) and each footnote prints at the foot of the page that cites it: the truth puts a
  page's footnotes ("1The footnote text.", mark and text touching as printed) after that page's body, and the footnote mark after its
  word ("sentence1"), as they print. The smoke test checks the page count.
- latex-twocolumn: \\documentclass[twocolumn]: the title across the page, then sections that flow
  down column 1 and on into column 2, page by page.
Both families carry equations: a display equation (\\[ ... \\]) closing a paragraph, which the truth
holds as a block of its own, and an inline one ($...$) inside a sentence of another paragraph. They use
Latin letters, digits and + = / only, whose Computer Modern glyphs map to those characters. The truth
writes them as they print, spaced as PyMuPDF's text reads the glyph positions: a superscript as the
plain digit after its base ("mc2"), letters multiplied with no space between them, a space either side
of = (TeX's thick space around a relation reads as a word space), none around + and / (a binary
operator's medium space is narrower than a word space: "a2+b2 = c2", "v = d/t"). Equations with + are
display equations only: inline, the space around + stretches and shrinks with the line's justification
(and TeX may break the line after it), so how it reads depends on the line. Products whose italic
letters overhang into a visible gap ("V I") are left out: their spacing is the font's, not the text's.
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
# (LaTeX source, the text as printed): see the module docstring.
EQUATIONS = (
    ("E = m c^2", "E = mc2"),
    ("v = d / t", "v = d/t"),
    ("a^2 + b^2 = c^2", "a2+b2 = c2"),
    ("F = m a", "F = ma"),
    ("s = v t", "s = vt"),
    ("y = k x + b", "y = kx+b"),
)


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

    def display_equation(self, source: str, printed: str) -> None:
        """A display equation closing the paragraph before it (no blank line between them, as usually written)."""
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.lines += [f"\\[ {source} \\]", ""]
        self.blocks.append(printed)

    def inline_equation_paragraph(self, before: str, source: str, printed: str, after: str) -> None:
        """A paragraph with an inline equation inside a sentence."""
        self.lines += ["", f"{before} ${source}$ {after}", ""]
        self.blocks.append(f"{before} {printed} {after}")

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
        if s == 0:
            _equations(b, seed)
    return b


def _equations(b: LatexBuilder, seed: int) -> None:
    """A display equation closing the last paragraph, then a paragraph with an inline one (generators of
    their own, so the rest of the document reads as it did before equations were added)."""
    rng = random.Random(8000 + seed)
    display = rng.choice(EQUATIONS)
    inline = rng.choice([equation for equation in EQUATIONS if "+" not in equation[0] and equation != display])
    prose = Prose(seed=9000 + seed)
    b.display_equation(*display)
    b.inline_equation_paragraph(f"{prose.sentence()} The log gives", *inline, f"for each reading. {prose.sentence()}")


def _two_column(seed: int) -> LatexBuilder:
    rng, prose = random.Random(seed), Prose(seed=6000 + seed)
    b = LatexBuilder(two_column=True)
    people = rng.sample(_PEOPLE, k=2)
    b.title(f"Two Column Harbour Report {seed}", f"{people[0]} and {people[1]}", f"{rng.choice(_MONTHS)} 2026")
    for s, title in enumerate(rng.sample(SECTION_TITLES, k=5)):
        b.section(title)
        for _ in range(rng.randint(2, 3)):
            b.paragraph(prose.paragraph(rng.randint(4, 6)))
        if rng.random() < 0.5:
            b.subsection(rng.choice(_SUBSECTIONS))
            b.paragraph(prose.paragraph(rng.randint(4, 6)))
        if s == 0:
            _equations(b, seed)
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
