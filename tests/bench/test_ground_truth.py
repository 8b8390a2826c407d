"""The benchmark's ground truth is itself checked: against the PDFs (as a bag of words) and the sources.

A benchmark is only as good as its truth. These tests prove that the truth
bench/ground_truth/ derives from LaTeX/HTML sources and from the generated
PDFs holds exactly the words PyMuPDF's plain get_text() finds on the pages
(page furniture included, hyphenation undone), that the LaTeX parser reads
the structure the sources declare, and that the reading-order score of
bench/quality_scores.py tells column-by-column from across-the-columns.
"""

from __future__ import annotations

import collections
import random
import re
import unicodedata

import pymupdf
import pytest

from bench import quality_scores, quality_text
from bench.ground_truth import (
    BLINDTEXT,
    LIPSUM,
    GroundTruth,
    corpus_truths,
    generated_truths,
    parse_html,
    parse_latex,
)


def bag(text: str) -> collections.Counter[str]:
    """Case-folded words, a word hyphenated across a line break joined again ("exam-\\nple")."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(\w)[-\u00ad]\n(?=[a-z])", r"\1", text)
    return collections.Counter(re.findall(r"\w+", text.casefold()))


def pdf_text(truth: GroundTruth) -> str:
    with pymupdf.open(truth.pdf) as doc:
        return "".join(page.get_text() for page in doc)


def assert_same_words(truth: GroundTruth) -> None:
    """The PDF's words, each furniture string taken out as a line of its own, are exactly the truth's body."""
    pending = collections.Counter(truth.furniture)
    kept = []
    for line in pdf_text(truth).splitlines():
        if pending[line.strip()] > 0:
            pending[line.strip()] -= 1  # out before the hyphen joining: a footer can sit inside a split word
            continue
        kept.append(line)
    assert not +pending, f"{truth.name}: furniture not found as lines on the pages: {dict(+pending)}"
    expected, found = bag(truth.body_text), bag("\n".join(kept))
    missing, extra = expected - found, found - expected
    assert not missing, f"{truth.name}: truth has words the PDF lacks: {dict(missing.most_common(10))}"
    assert not extra, f"{truth.name}: PDF has words the truth lacks: {dict(extra.most_common(10))}"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, GroundTruth]:
    return {truth.name: truth for truth in generated_truths(tmp_path_factory.mktemp("ground-truth"))}


@pytest.fixture(scope="module")
def corpus_truth(corpus_dir) -> dict[str, GroundTruth]:
    truths = {truth.name: truth for truth in corpus_truths(corpus_dir)}
    if not truths:
        pytest.skip(f"no sources in {corpus_dir / 'sources'}")
    return truths


# -- generated documents ----------------------------------------------------------------------------


def test_generated_truth_has_exactly_the_words_on_the_pages(generated):
    assert set(generated) == {"generated-single-column.pdf", "generated-two-column.pdf", "generated-tables.pdf"}
    for truth in generated.values():
        assert_same_words(truth)


def test_generated_single_column_structure(generated):
    truth = generated["generated-single-column.pdf"]
    assert {h.level for h in truth.headings} == {1, 2, 3}
    assert truth.headings[0].text == "Coastal Weather Field Guide" and truth.headings[0].level == 1
    assert len(truth.hyphenated) >= 3, "paragraphs must break words across lines with a hyphen"
    with pymupdf.open(truth.pdf) as doc:
        pages = doc.page_count
        text = doc[0].get_text()
    assert pages >= 2, "a running header needs at least two pages to run on"
    assert truth.furniture.count("Mivaa Bench Handbook Series") == pages
    footers = [f for f in truth.furniture if f.startswith("Page ")]
    assert footers == [f"Page {n} of {pages}" for n in range(1, pages + 1)]
    assert "\u2022" in text, "the list items carry real bullet glyphs"
    for word in truth.hyphenated:  # the PDF really splits these words, the truth has them whole
        assert word in truth.body_text
    assert any(line.endswith("-") for line in text.splitlines())


def test_generated_two_column_flows_down_the_columns(generated):
    truth = generated["generated-two-column.pdf"]
    assert truth.multi_column
    with pymupdf.open(truth.pdf) as doc:
        page = doc[0]
        middle = page.rect.width / 2
        lines = [line for block in page.get_text("dict")["blocks"] for line in block.get("lines", ())]
    left = [ln for ln in lines if ln["bbox"][2] < middle]
    right = [ln for ln in lines if ln["bbox"][0] > middle]
    full = [ln for ln in lines if ln["bbox"][0] < middle < ln["bbox"][2]]
    assert len(left) > 20 and len(right) > 20
    assert "Tides, Fog and the Northern Harbour" in " ".join(s["text"] for ln in full for s in ln["spans"])

    # The truth's order: everything of column 1 comes before everything of column 2.
    def inner(line: dict) -> str:  # a line without its first and last word (they may be hyphenated fragments)
        return " ".join("".join(span["text"] for span in line["spans"]).split()[1:-1])

    first_right = inner(min(right, key=lambda ln: ln["bbox"][1]))
    last_left = inner(max(left, key=lambda ln: ln["bbox"][1]))
    body = " ".join(truth.body_text.split())
    assert 0 <= body.find(last_left) < body.find(first_right)


def test_generated_tables(generated):
    truth = generated["generated-tables.pdf"]
    ruled, plain = truth.tables
    assert ruled.ruled and not plain.ruled
    assert (ruled.row_count, ruled.column_count, plain.row_count, plain.column_count) == (6, 5, 6, 4)
    assert ruled.rows[0] == ("Station", "January (mm)", "February (mm)", "March (mm)", "Observer")
    assert plain.rows[1] == ("Aneroid barometer", "870 to 1085 hPa", "0.3 hPa", "every month")
    assert ruled.caption == "Table 1: Monthly rainfall by station"
    with pymupdf.open(truth.pdf) as doc:
        assert doc.page_count == 2
        drawn = [item for path in doc[0].get_drawings() for item in path["items"] if item[0] == "l"]
    assert len(drawn) >= ruled.row_count + 1 + ruled.column_count + 1, "the ruled table is drawn with rules"


# -- the LaTeX and HTML parsers, on inline sources -------------------------------------------------


def test_latex_parser_numbering_levels_inline_markup_and_tables():
    source = r"""
\documentclass{article}
\title{A \textbf{Bold} Title}
\author{Ann}
\date{1 May 2024}
\begin{document}
\maketitle
% a comment that must vanish
\section{Intro}
Some ``quoted'' text -- with a dash~and \emph{emphasis}.

Second paragraph \blindtext{7}
\subsection{Detail}
\lipsum[2-3]
\section*{Unnumbered}
\begin{table}
\caption{Numbers}
\begin{tabular}{ll}
\toprule
\textbf{Key} & \textbf{Value (km\textsuperscript{2})} \\
\midrule
a & 1 \\
b & 2 \\
\bottomrule
\end{tabular}
\end{table}
\end{document}
"""
    parsed = parse_latex(source)
    assert [(h.display, h.level) for h in parsed.headings] == [
        ("A Bold Title", 1),
        ("1 Intro", 2),
        ("1.1 Detail", 3),
        ("Unnumbered", 2),
    ]
    assert parsed.blocks[:5] == [
        "A Bold Title",
        "Ann",
        "1 May 2024",
        "1 Intro",
        "Some \u201cquoted\u201d text \u2013 with a dash and emphasis.",
    ]
    assert parsed.blocks[5] == f"Second paragraph {BLINDTEXT} 7"
    assert parsed.blocks[7:9] == list(LIPSUM[1:3])
    assert parsed.blocks[-2] == "Table 1: Numbers"
    (table,) = parsed.tables
    assert table.rows == (("Key", "Value (km2)"), ("a", "1"), ("b", "2"))
    assert table.header_rows == 1
    assert parsed.blocks[-1] == "Key Value (km2)\na 1\nb 2"


def test_html_parser():
    blocks, headings = parse_html(
        "<html><head><title>t</title></head><body><h1>Top</h1><p>One <b>two</b></p>"
        "<h3>Low</h3><div>three</div></body></html>"
    )
    assert blocks == ["Top", "One two", "Low", "three"]
    assert [(h.text, h.level) for h in headings] == [("Top", 1), ("Low", 2)]


# -- the corpus sources ----------------------------------------------------------------------------


def test_corpus_truth_has_exactly_the_words_on_the_pages(corpus_truth):
    for truth in corpus_truth.values():
        if truth.sound_text_layer:  # habibi.pdf's Arabic glyphs map to garbage: see CORPUS_FACTS
            assert_same_words(truth)


def test_pdflatex_outline_sections(corpus_truth):
    truth = corpus_truth["pdflatex-outline.pdf"]
    assert [h.display for h in truth.headings] == ["Contents"] + [
        f"{n} {title}" for n, title in enumerate(["Foo", "Bar", "Baz"] * 3, start=1)
    ]
    assert {h.level for h in truth.headings} == {1}
    with pymupdf.open(truth.pdf) as doc:  # the PDF's own outline agrees
        assert [title for _, title, _ in doc.get_toc()] == [h.text for h in truth.headings[1:]]
    assert truth.blocks[1:4] == ("1 Foo 2", "2 Bar 2", "3 Baz 2")
    assert truth.blocks[13].endswith("match the language. 7")  # \blindtext{7}: the text, then "7"


def test_multicolumn_structure(corpus_truth):
    truth = corpus_truth["multicolumn.pdf"]
    assert truth.multi_column
    assert [(h.text, h.level) for h in truth.headings] == [("Two-Column Document with Lorem Ipsum", 1), ("Abstract", 2)]
    lipsum_at = truth.blocks.index(LIPSUM[0])
    assert truth.blocks[lipsum_at : lipsum_at + 10] == LIPSUM
    assert truth.blocks[2] == "January 3, 2024"
    (table,) = truth.tables
    assert (table.row_count, table.column_count, len(table.cells())) == (6, 5, 30)
    assert table.rows[0][2] == "Area (km2)"
    assert table.rows[2] == ("Belgium", "11.5", "30,689", "Brussels", "Dutch, French, German")
    assert truth.furniture == ("1", "2", "3")


def test_other_corpus_sources(corpus_truth):
    assert corpus_truth["pdflatex-4-pages.pdf"].blocks == (" ".join([BLINDTEXT] * 23),)
    image = corpus_truth["pdflatex-image.pdf"]
    assert [(h.display, h.level) for h in image.headings] == [("1 Your Chapter", 1)]
    assert len(image.blocks) == 3
    assert corpus_truth["minimal-document.pdf"].blocks[0].startswith("Lorem ipsum dolor sit amet, consetetur")
    habibi = corpus_truth["habibi.pdf"]
    assert habibi.blocks == ("\u062d\u064e\u0628\u064a\u0628\u064a habibi",) and not habibi.sound_text_layer


# -- the quality bench's metrics -------------------------------------------------------------------


def _column_lines(truth: GroundTruth) -> list[tuple[list[str], list[str]]]:
    """Per page: the text lines of the left and the right column, top to bottom."""
    pages = []
    with pymupdf.open(truth.pdf) as doc:
        for page in doc:
            middle = page.rect.width / 2
            left, right = [], []
            for block in page.get_text("dict")["blocks"]:
                for line in block.get("lines", ()):
                    text = "".join(span["text"] for span in line["spans"])
                    if line["bbox"][2] < middle:
                        left.append((line["bbox"][1], text))
                    elif line["bbox"][0] > middle:
                        right.append((line["bbox"][1], text))
            pages.append(([t for _, t in sorted(left)], [t for _, t in sorted(right)]))
    return pages


def test_reading_order_score_tells_columns_from_rows(generated):
    truth = generated["generated-two-column.pdf"]
    down, across = [], []
    for left, right in _column_lines(truth):
        down += left + right
        for index in range(max(len(left), len(right))):  # line i of column 1, then line i of column 2
            across += left[index : index + 1] + right[index : index + 1]
    good, pairs = quality_scores.order_scores(truth.body_text, "\n".join(down))
    assert pairs > 30 and good / pairs >= 0.95
    good, pairs = quality_scores.order_scores(truth.body_text, "\n".join(across))
    assert good / pairs < 0.5


def test_levenshtein_fallback_is_exact():
    def reference(a: str, b: str) -> int:
        row = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            previous, row[0] = row[0], i
            for j, y in enumerate(b, 1):
                previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
        return row[-1]

    rng = random.Random(7)
    for _ in range(400):
        a = "".join(rng.choice("abc ") for _ in range(rng.randint(0, 30)))
        b = "".join(rng.choice("abc ") for _ in range(rng.randint(0, 30)))
        assert quality_text.levenshtein_bitparallel(a, b) == reference(a, b)


def test_markdown_stripping_and_tables():
    markdown = (
        "# **1 Foo**\n\nText with _emphasis_ and a [link](http://x).\n\n|**A**|B<sup>2</sup>|\n|---|---|\n|1|2|\n"
    )
    assert (
        quality_text.normalize_text(quality_text.strip_markdown(markdown))
        == "1 Foo Text with emphasis and a link. A B2 1 2"
    )
    assert quality_text.markdown_headings(markdown) == [("1 Foo", 1)]
    assert quality_text.markdown_tables(markdown) == [[["A", "B2"], ["1", "2"]]]
    assert quality_scores.heading_key("## 2.3 **Results**") == "results"
