"""Ground truth for the extraction quality bench: what a perfect extractor returns for known PDFs.

    from bench.ground_truth import all_truths
    for truth in all_truths(corpus_dir, out_dir):   # corpus_dir may be None or absent
        truth.pdf, truth.body_text, truth.headings, truth.tables, truth.furniture

Two sources, both independent of any extractor's output:

1. The corpus PDFs that come with their sources (../shared/corpus/sources):
   five LaTeX files and one HTML file. A small parser for the subset of LaTeX
   they use (`parse_latex`) turns each into body blocks in reading order
   (the order of the source), headings with levels, and table cells.

   Text the source only names is filled in from fixed constants:
   - `\\lipsum[1-10]`: the ten first paragraphs of the lipsum package
     (`LIPSUM`). There is no internet here, so the text was reconstructed in
     two independent ways and the two agree word for word: (a) a manual,
     line-by-line extraction of multicolumn.pdf (PyMuPDF spans per column,
     every line-end hyphen inspected and joined by hand: "adip-|iscing",
     "rhon-|cus", "Cur-|abitur", "conva-|llis", "ullam-|corper", ...), and
     (b) the package's own lipsum.ltd.tex (LaTeX Project Public License) as
     found in a public repository in the code index (JCH97/tesis,
     lipsum.ltd.tex, paragraphs 1-10). tests/bench/test_ground_truth.py
     re-checks (a) against the PDF as a bag of words on every run. The
     reading order (paragraph 1..10, column 1 then column 2, page by page) is
     the order of the source, never the order of an extraction.
   - `\\blindtext`: the English text of the blindtext package (`BLINDTEXT`),
     read off pdflatex-4-pages.pdf and identical to the copies of that text in
     several public repositories. `\\blindtext[n]` is one paragraph with the
     text n times; `\\blindtext{7}` is the text once followed by the digit 7
     (the braces are an ordinary group, which is what the PDF shows).
   - Facts only the typeset PDF knows (`CORPUS_FACTS`): page counts, the date
     `\\today` printed when multicolumn.pdf was made, the page numbers in the
     table of contents of pdflatex-outline.pdf. Each was read off the rendered
     page images (PyMuPDF at 60 dpi, looked at by eye) and matches the PDF's
     own outline where it has one.
   Page numbers at the bottom of every page are the only page furniture.

2. PDFs generated here with PyMuPDF (`generated_truths`), laid out line by
   line by a small composer with the Nimbus fonts built into MuPDF (embedded,
   so every glyph maps to Unicode), so the truth is exact by construction:
   - generated-single-column: headings of three sizes (level 1 to 3), body
     paragraphs with words hyphenated across line breaks, two bulleted lists,
     a running header and a "Page N of M" footer on every page;
   - generated-two-column: a full-width title, then text that flows down
     column 1 and on into column 2, page by page, with headings inside the
     columns and a centred page number;
   - generated-tables: a ruled table (every cell boxed) and a table without
     any rules (columns by alignment alone), with captions, header and footer.

3. Documents built per seed from code and converted by other layout engines
   (`converted_truths`, bench/ground_truth/families.py), SEEDS_PER_FAMILY each,
   cached under .cache/bench/ground-truth/<family>/ (rebuilt when a generator changes):
   - office-docx: python-docx -> LibreOffice (title page with author lines,
     numbered headings 1 / 1.1 / 1.1.1, run-in bold headings, text-only tables
     with a bold header row, nested lists, running header and "Page N" footer);
   - html-columns, html-rtl, html-tables: HTML -> headless Chromium (two CSS
     columns with a figure inside a paragraph; Hebrew/Arabic pages and mixed
     direction paragraphs in logical order; tables with rowspan/colspan).
   - latex-article, latex-twocolumn: LaTeX -> pdflatex (title with author and
     date lines, numbered sections, a figure float and footnotes, one page per
     \\newpage so their places are known; two columns flowing page by page;
     a display and an inline equation in both).

4. Scanned variants (`scanned_truths`, bench/ground_truth/scanned.py): a few
   of the documents above rasterised at 200 dpi, turned a little and noised
   into image-only PDFs, with the original's truth and born_digital False
   (reported by the bench, not held to its targets).

Every truth's `blocks` are the body in reading order: headings as printed
(with their numbers: "1 Foo"), paragraphs re-flowed into one line with
hyphenation undone, list items without their bullets, tables as one line
per row with cells separated by a space. Page furniture is never in the body.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable

from bench.ground_truth.corpus import corpus_truths, parse_html
from bench.ground_truth.corpus_text import BLINDTEXT, CORPUS_FACTS, HTML_SOURCES, LATEX_SOURCES, LIPSUM
from bench.ground_truth.families import CONVERTED_FAMILIES, SEEDS_PER_FAMILY, converted_truths
from bench.ground_truth.generated import GENERATORS, generated_truths
from bench.ground_truth.latex import LatexTruth, parse_latex
from bench.ground_truth.scanned import FAMILY as SCANNED_FAMILY
from bench.ground_truth.scanned import scanned_truths
from bench.ground_truth.types import DEFAULT_CORPUS_DIR, DEFAULT_GENERATED_DIR, GroundTruth, Heading, TableTruth

__all__ = [
    "BLINDTEXT",
    "CONVERTED_FAMILIES",
    "SEEDS_PER_FAMILY",
    "converted_truths",
    "CORPUS_FACTS",
    "DEFAULT_CORPUS_DIR",
    "DEFAULT_GENERATED_DIR",
    "GENERATORS",
    "HTML_SOURCES",
    "LATEX_SOURCES",
    "LIPSUM",
    "GroundTruth",
    "Heading",
    "LatexTruth",
    "TableTruth",
    "all_truths",
    "corpus_truths",
    "describe",
    "generated_truths",
    "parse_html",
    "parse_latex",
    "scanned_truths",
]


def all_truths(
    corpus_dir: pathlib.Path | None = DEFAULT_CORPUS_DIR, out_dir: pathlib.Path = DEFAULT_GENERATED_DIR
) -> list[GroundTruth]:
    converted, _skipped = converted_truths(out_dir)
    truths = [*corpus_truths(corpus_dir), *generated_truths(out_dir), *converted]
    return [*truths, *scanned_truths(truths, out_dir / SCANNED_FAMILY)]


def describe(truths: Iterable[GroundTruth]) -> str:
    """One line per truth, for a quick look: `python -m bench.ground_truth`."""
    lines = []
    for t in truths:
        words = len(t.body_text.split())
        lines.append(
            f"{t.name:32} {t.family:24} {words:6} words  {len(t.headings):3} headings  "
            f"{sum(len(x.cells()) for x in t.tables):3} cells  {len(t.furniture):3} furniture  "
            f"{len(t.hyphenated):3} hyphenated"
        )
    return "\n".join(lines)
