"""The office (LibreOffice), HTML (Chromium) and LaTeX (pdflatex) families: their truth holds the words the
PDFs print.

A few seeds per family are built into a temporary folder (about 20 s). A family whose converter is
missing is skipped with the reason; tools/install_bench_docs.sh (run by `make test`) installs them.
"""

from __future__ import annotations

import collections
import re
import unicodedata

import pymupdf
import pytest

from bench.ground_truth import (
    CONVERTED_FAMILIES,
    GENERATORS,
    HTML_SOURCES,
    LATEX_SOURCES,
    SEEDS_PER_FAMILY,
    GroundTruth,
    converted_truths,
)
from bench.ground_truth.converters import missing_converter
from bench.quality_structure import truth_segments

SMOKE_SEEDS = range(3)  # html-rtl needs three: a Hebrew, an Arabic and a mixed-direction page


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, list[GroundTruth]]:
    out = tmp_path_factory.mktemp("converted")
    truths, skipped = converted_truths(out, SMOKE_SEEDS)
    by_family: dict[str, list[GroundTruth]] = collections.defaultdict(list)
    for truth in truths:
        by_family[truth.family].append(truth)
    by_family["_skipped"] = skipped  # type: ignore[assignment]
    return by_family


def family(built: dict[str, list[GroundTruth]], name: str) -> list[GroundTruth]:
    reason = missing_converter(CONVERTED_FAMILIES[name][0])
    if reason:
        pytest.skip(f"{name}: {reason}")
    assert built[name], f"{name} built nothing: {built['_skipped']}"
    return built[name]


def bag(text: str, truth_text: str) -> collections.Counter[str]:
    """Case-folded words. A word split at a line end with a hyphen is joined again ("along-|side"), unless
    the truth writes it with its hyphen ("hand-|drawn": a line may break after a real hyphen). Arabic
    lam-alef is one glyph whose text the PDF gives as alef-lam: both orders count as one."""
    text, truth_text = unicodedata.normalize("NFKC", text), unicodedata.normalize("NFKC", truth_text)
    hyphenated = set(re.findall(r"\w+-\w+", truth_text))

    def join(match: re.Match[str]) -> str:
        word = f"{match[1]}-{match[2]}"
        return word if word in hyphenated else match[1] + match[2]

    text = re.sub(r"(\w+)-\n(\w+)", join, text).replace("\u0627\u0644", "\u0644\u0627")
    return collections.Counter(re.findall(r"\w+", text.casefold()))


def test_the_full_set_has_sixty_documents_in_six_families():
    documents = len(CONVERTED_FAMILIES) * SEEDS_PER_FAMILY + len(GENERATORS) + len(LATEX_SOURCES) + len(HTML_SOURCES)
    families = len(CONVERTED_FAMILIES) + len(GENERATORS) + 2  # LaTeX and HTML corpus documents
    assert documents >= 60 and families >= 6


@pytest.mark.parametrize("name", list(CONVERTED_FAMILIES))
def test_truth_has_exactly_the_words_on_the_pages(built, name):
    for truth in family(built, name):
        pending = collections.Counter(truth.furniture)
        kept = []
        with pymupdf.open(truth.pdf) as doc:
            for page in doc:
                # From the foot of the page up: a page number "1" is the last "1" line, not section 1's number.
                page_lines = page.get_text().splitlines()
                for index in reversed(range(len(page_lines))):
                    if pending[page_lines[index].strip()] > 0:
                        pending[page_lines.pop(index).strip()] -= 1
                kept += page_lines
        assert not +pending, f"{truth.name}: furniture not printed as lines: {dict(+pending)}"
        expected, found = bag(truth.body_text, truth.body_text), bag("\n".join(kept), truth.body_text)
        assert not expected - found, f"{truth.name}: truth words the PDF lacks: {dict(expected - found)}"
        assert not found - expected, f"{truth.name}: PDF words the truth lacks: {dict(found - expected)}"


@pytest.mark.parametrize("name", list(CONVERTED_FAMILIES))
def test_truth_is_consistent(built, name):
    for truth in family(built, name):
        segments = truth_segments(truth)
        assert [text for is_heading, text in segments if is_heading] == [h.display for h in truth.headings]
        for table in truth.tables:
            assert table.as_text() in truth.blocks
            covered = {
                (r + dr, c + dc)
                for r, c, rows, columns in table.spans
                for dr in range(rows)
                for dc in range(columns)
                if (dr, dc) != (0, 0)
            }
            assert all(not table.rows[r][c] for r, c in covered), truth.name
            assert all(table.rows[r][c] for r, c, _, _ in table.spans), truth.name


def test_builds_are_deterministic_and_cached(built, tmp_path):
    office = family(built, "office-docx")[0]
    made = office.pdf.stat().st_mtime_ns
    again, _ = converted_truths(office.pdf.parent.parent, range(1), ["office-docx"])
    assert again[0].blocks == office.blocks and again[0].headings == office.headings
    assert office.pdf.stat().st_mtime_ns == made  # reused from the cache, not converted again
    fresh, _ = converted_truths(tmp_path, range(1), ["office-docx"])
    assert fresh[0].blocks == office.blocks and fresh[0].furniture == office.furniture


def test_office_layout(built):
    truths = family(built, "office-docx")
    headings = [h for t in truths for h in t.headings]
    assert {h.number.count(".") for h in headings if h.number} == {0, 1, 2}  # 1, 1.1 and 1.1.1
    assert any(h.run_in for h in headings)
    for truth in truths:
        title, authors = truth.headings[0], truth.blocks[1:4]
        assert title.level == 1 and truth.blocks[0] == title.text
        assert not {h.display for h in truth.headings} & set(authors)  # author lines are not headings
        assert len(truth.furniture) == 2 * truth.page_count
        # Run-in headings rank one below the deepest other heading the document prints: no hole in the levels.
        deepest = max(h.level for h in truth.headings if not h.run_in)
        assert {h.level for h in truth.headings if h.run_in} == {deepest + 1}, truth.name
    assert {h.level for h in headings if h.run_in} == {4, 5}  # without and with a 1.1.1 heading
    cells = [cell for t in truths for table in t.tables for _, _, cell in table.cells()]
    assert cells and not any(re.fullmatch(r"[\d.,\s]+", cell) for cell in cells)  # text-only tables


def test_html_layouts(built):
    columns = family(built, "html-columns")
    assert all(t.multi_column for t in columns)
    rtl_text = " ".join(t.body_text for t in family(built, "html-rtl"))
    assert re.search(r"[\u0590-\u05ff]", rtl_text) and re.search(r"[\u0600-\u06ff]", rtl_text)
    assert re.search(r"[A-Za-z]+ [\u0590-\u06ff]", rtl_text)  # a mixed-direction paragraph
    spans = [span for t in family(built, "html-tables") for table in t.tables for span in table.spans]
    assert any(rows > 1 for _, _, rows, _ in spans) and any(columns > 1 for _, _, _, columns in spans)


def test_latex_layouts(built):
    for truth in family(built, "latex-article"):
        # One page per \newpage, so figures stayed in place and footnotes sit under their page's text.
        assert truth.page_count == 4, truth.name
        assert any(re.match(r"\d[A-Z]", block) for block in truth.blocks)  # a footnote, mark touching text
        assert any(block.startswith("Figure 1: ") for block in truth.blocks)
    assert all(t.multi_column and t.page_count >= 2 for t in family(built, "latex-twocolumn"))
