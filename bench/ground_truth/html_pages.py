"""HTML pages made in code and printed to PDF by headless Chromium; truth written as the HTML is built.

Three families, one document per seed:
- html-columns: a title across the page, then `column-count: 2` text with h2/h3 headings and a
  figure that interrupts a paragraph (inside a column on even seeds, `column-span: all` across
  both columns on odd ones); the paragraph is one block of the truth, joined across the figure;
- html-rtl: a Hebrew page (dir=rtl), an Arabic page (dir=rtl), or an English page with right-to-left
  paragraphs and right-to-left phrases inside English sentences; the truth is in logical order. Seeds
  3-5 and 9-11 add a ruled table: right to left on the Hebrew and Arabic pages (its first column the
  rightmost), left to right with a column of Hebrew or Arabic phrases on the English page;
- html-tables: text tables with rowspan/colspan (a two-level header on even seeds), ruled or not.
Heading levels follow h1..h3. Chromium prints no header or footer (--no-pdf-header-footer).
"""

from __future__ import annotations

import html
import pathlib
import random
from collections.abc import Callable

from bench.ground_truth import converters
from bench.ground_truth.html_tables import merged_table, table_html
from bench.ground_truth.prose import Prose
from bench.ground_truth.types import GroundTruth, Heading, TableTruth, TruthRecorder
from bench.ground_truth.vocab import RTL_TITLES, SECTION_TITLES, rtl_paragraph, rtl_phrase, rtl_table

_CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "DejaVu Serif", "Noto Sans Hebrew", "Noto Naskh Arabic", serif; font-size: 10.5pt;
       line-height: 1.35; }
h1, h2, h3 { font-family: "DejaVu Sans", "Noto Sans Hebrew", "Noto Sans Arabic", sans-serif; }
h1 { font-size: 20pt; } h2 { font-size: 14pt; } h3 { font-size: 11.5pt; }
p { margin: 0 0 7pt 0; }
p.split { margin-bottom: 0; } p.cont { margin-top: 0; }
.columns { column-count: 2; column-gap: 9mm; }
figure { margin: 6pt 0; break-inside: avoid; } figure.wide { column-span: all; }
table { border-collapse: collapse; margin: 8pt 0; } td, th { padding: 3pt 6pt; vertical-align: top; }
table.ruled td, table.ruled th { border: 0.8pt solid #333; }
th { text-align: left; }
"""


_TEAMS = ("North pier crew", "Harbour office", "Mast team", "Dock watch", "Survey boat", "Night shift")


class HtmlBuilder(TruthRecorder):
    """Collects HTML fragments and the truth (blocks, headings, tables) in reading order."""

    def __init__(self, lang: str = "en", direction: str = "ltr") -> None:
        super().__init__()
        self.lang, self.direction = lang, direction
        self.parts: list[str] = []

    def heading(self, text: str, level: int) -> None:
        self.parts.append(f"<h{level}>{html.escape(text)}</h{level}>")
        self.headings.append(Heading(text, level))
        self.blocks.append(text)

    def paragraph(self, text: str, direction: str = "") -> None:
        attribute = f' dir="{direction}"' if direction else ""
        self.parts.append(f"<p{attribute}>{html.escape(text)}</p>")
        self.blocks.append(text)

    def mixed_paragraph(self, before: str, phrase: str, after: str) -> None:
        """An LTR sentence with an RTL phrase inside it: the truth keeps the logical (typed) order."""
        self.parts.append(
            f'<p>{html.escape(before)} <span dir="rtl">{html.escape(phrase)}</span> {html.escape(after)}</p>'
        )
        self.blocks.append(f"{before} {phrase} {after}")

    def interrupted_paragraph(self, first: str, second: str, wide: bool) -> None:
        """One paragraph cut by a figure (a drawing without text); the truth joins the two halves."""
        shapes = "".join(
            f'<rect x="{12 + 40 * i}" y="{70 - 12 * i}" width="28" height="{12 * i + 10}" fill="#8aa"/>'
            for i in range(6)
        )
        css_class = ' class="wide"' if wide else ""
        self.parts.append(f'<p class="split">{html.escape(first)}</p>')
        self.parts.append(f'<figure{css_class}><svg width="260" height="90">{shapes}</svg></figure>')
        self.parts.append(f'<p class="cont">{html.escape(second)}</p>')
        self.blocks.append(f"{first} {second}")

    def table(self, table_html: str, truth: TableTruth) -> None:
        self.parts.append(table_html)
        self.tables.append(truth)
        self.blocks.append(truth.as_text())

    def page(self, title: str) -> str:
        return (
            f'<!doctype html><html lang="{self.lang}" dir="{self.direction}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(self.parts)
            + "\n</body></html>\n"
        )


def _columns(seed: int) -> tuple[HtmlBuilder, bool]:
    rng, prose = random.Random(seed), Prose(seed=2000 + seed)
    b = HtmlBuilder()
    b.heading(f"Harbour Almanac Number {seed}", 1)
    b.parts.append('<div class="columns">')
    figure_at = rng.randint(1, 3)
    for s, title in enumerate(rng.sample(SECTION_TITLES, k=4)):
        b.heading(title, 2)
        for p in range(rng.randint(2, 3)):
            if s == figure_at and p == 1:
                b.interrupted_paragraph(prose.paragraph(4), prose.paragraph(4), wide=seed % 2 == 1)
            else:
                b.paragraph(prose.paragraph(rng.randint(3, 6)))
        if s % 2:
            b.heading(f"Notes on {title}", 3)
            b.paragraph(prose.paragraph(rng.randint(3, 5)))
    b.parts.append("</div>")
    return b, True


def _rtl(seed: int) -> tuple[HtmlBuilder, bool]:
    rng = random.Random(seed)
    kind = seed % 3
    with_table = (seed // 3) % 2 == 1
    if kind < 2:  # a whole page in Hebrew or Arabic
        lang = "he" if kind == 0 else "ar"
        b = HtmlBuilder(lang=lang, direction="rtl")
        titles = RTL_TITLES[lang]
        b.heading(f"{titles[0]} {seed}", 1)
        for index, title in enumerate(titles[1:]):
            b.heading(title, 2)
            for _ in range(rng.randint(1, 3)):
                b.paragraph(rtl_paragraph(rng, lang, rng.randint(2, 4)))
            if with_table and index == 0:
                _plain_table(b, rtl_table(random.Random(7000 + seed), lang, rows=4))
        return b, False
    prose = Prose(seed=3000 + seed)
    b = HtmlBuilder()
    b.heading(f"Multilingual Station Log {seed}", 1)
    for index, title in enumerate(rng.sample(SECTION_TITLES, k=3)):
        b.heading(title, 2)
        b.paragraph(prose.paragraph(rng.randint(2, 4)))
        lang = rng.choice(("he", "ar"))
        b.paragraph(rtl_paragraph(rng, lang, rng.randint(2, 3)), direction="rtl")
        b.mixed_paragraph(
            f"{prose.sentence()} The log entry reads", rtl_phrase(rng, lang), f"for that morning. {prose.sentence()}"
        )
        if with_table and index == 0:
            # A left-to-right table whose middle column holds right-to-left phrases.
            table_rng = random.Random(7000 + seed)
            rows = [["Team", "Log entry", "Reading"]]
            for row in rtl_table(table_rng, lang, rows=4)[1:]:
                rows.append([table_rng.choice(_TEAMS), row[1], row[2]])
            _plain_table(b, rows)
    return b, False


def _plain_table(b: HtmlBuilder, rows: list[list[str]]) -> None:
    """A ruled table without merged cells, a header row of th cells; laid out in the page's direction."""
    cells = [[(text, 1, 1) for text in row] for row in rows]
    b.table(table_html(cells, header_rows=1, ruled=True), TableTruth(rows=tuple(tuple(row) for row in rows)))


def _tables(seed: int) -> tuple[HtmlBuilder, bool]:
    rng, prose = random.Random(seed), Prose(seed=4000 + seed)
    b = HtmlBuilder()
    b.heading(f"Hangar Inventory Sheet {seed}", 1)
    for t, title in enumerate(rng.sample(SECTION_TITLES, k=2 + seed % 2), start=1):
        b.heading(title, 2)
        b.paragraph(prose.paragraph(rng.randint(2, 4)))
        caption = f"Table {t}: {title}"
        b.paragraph(caption)
        table_html, truth = merged_table(rng, caption, two_level_header=(seed + t) % 2 == 0, ruled=t % 2 == 1)
        b.table(table_html, truth)
        b.paragraph(prose.paragraph(rng.randint(2, 3)))
    return b, False


FAMILIES: dict[str, Callable[[int], tuple[HtmlBuilder, bool]]] = {
    "html-columns": _columns,
    "html-rtl": _rtl,
    "html-tables": _tables,
}


def html_truths(family: str, out_dir: pathlib.Path, seeds: range) -> list[GroundTruth]:
    """Builds (or reuses from `out_dir`) one PDF per seed; raises ConverterMissing without Chromium."""
    out_dir.mkdir(parents=True, exist_ok=True)
    truths = []
    for seed in seeds:
        builder, multi_column = FAMILIES[family](seed)
        page = builder.page(f"{family} {seed}")
        stem = f"{family}-{seed:03d}"
        pdf = out_dir / f"{stem}.pdf"
        key = converters.content_key(page, pathlib.Path(converters.__file__).read_bytes())
        if not converters.is_cached(pdf, key):
            source = out_dir / f"{stem}.html"
            source.write_text(page, encoding="utf-8")
            converters.chromium_to_pdf(source, pdf)
            converters.mark_cached(pdf, key)
        notes = f"HTML printed by headless Chromium ({family})"
        truths.append(builder.truth(pdf, "chromium", family, multi_column=multi_column, notes=notes))
    return truths
