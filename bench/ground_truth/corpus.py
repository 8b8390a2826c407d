"""Truth for the corpus PDFs that come with their LaTeX or HTML sources."""

from __future__ import annotations

import html.parser
import pathlib
import re

from bench.ground_truth.corpus_text import CORPUS_FACTS, HTML_SOURCES, LATEX_SOURCES
from bench.ground_truth.latex import parse_latex
from bench.ground_truth.types import DEFAULT_CORPUS_DIR, GroundTruth, Heading

# HTML (habibi.html): block elements become blocks, h1-h6 headings.
_HTML_BLOCKS = {
    "p",
    "div",
    "li",
    "tr",
    "table",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dt",
    "dd",
    "figcaption",
    "caption",
    "br",
}


class _HtmlTruth(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.ranked: list[tuple[str, int]] = []
        self._text: list[str] = []
        self._skip = 0  # inside <head>, <script>, <style>: not shown
        self._heading: int | None = None

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text = []
        if not text:
            return
        self.blocks.append(text)
        if self._heading is not None:
            self.ranked.append((text, self._heading))

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("head", "script", "style", "title"):
            self._skip += 1
        elif tag in _HTML_BLOCKS:
            self._flush()
            self._heading = int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else None

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "script", "style", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in _HTML_BLOCKS:
            self._flush()
            self._heading = None

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._text.append(data)


def parse_html(source: str) -> tuple[list[str], list[Heading]]:
    parser = _HtmlTruth()
    parser.feed(source)
    parser.close()
    parser._flush()  # noqa: SLF001 - the parser is ours; close() leaves the last block open
    ranks = sorted({rank for _, rank in parser.ranked})
    return parser.blocks, [Heading(text, ranks.index(rank) + 1) for text, rank in parser.ranked]


def corpus_truths(corpus_dir: pathlib.Path | None = DEFAULT_CORPUS_DIR) -> list[GroundTruth]:
    """Truth for the corpus PDFs that have sources; [] when the corpus is absent."""
    if corpus_dir is None or not (corpus_dir / "sources").is_dir():
        return []
    truths = []
    for name in LATEX_SOURCES:
        pdf, source = corpus_dir / f"{name}.pdf", corpus_dir / "sources" / f"{name}.tex"
        if not (pdf.exists() and source.exists()):
            continue
        facts = CORPUS_FACTS[name]
        parsed = parse_latex(source.read_text(encoding="utf-8"), facts)
        truths.append(
            GroundTruth(
                name=pdf.name,
                pdf=pdf,
                origin="latex",
                family_name="latex-corpus",
                blocks=tuple(parsed.blocks),
                headings=tuple(parsed.headings),
                tables=tuple(parsed.tables),
                # Every page of these classes' default page style prints its number at the bottom.
                furniture=tuple(str(n) for n in range(1, facts["pages"] + 1)),
                multi_column=facts.get("multi_column", "twocolumn" in parsed.class_options),
                notes=f"pdfTeX, \\documentclass{{{parsed.document_class}}}",
            )
        )
    for name in HTML_SOURCES:
        pdf, source = corpus_dir / f"{name}.pdf", corpus_dir / "sources" / f"{name}.html"
        if not (pdf.exists() and source.exists()):
            continue
        blocks, headings = parse_html(source.read_text(encoding="utf-8"))
        facts = CORPUS_FACTS[name]
        truths.append(
            GroundTruth(
                name=pdf.name,
                pdf=pdf,
                origin="html",
                family_name="html-corpus",
                blocks=tuple(blocks),
                headings=tuple(headings),
                sound_text_layer=facts.get("sound_text_layer", True),
                notes="WeasyPrint; Arabic + Latin in one line",
            )
        )
    return truths
