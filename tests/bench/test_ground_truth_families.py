"""The office (LibreOffice) and HTML (Chromium) families: their truth holds the words the PDFs print.

A few seeds per family are built into a temporary folder (about 20 s). A family whose converter is
missing is skipped with the reason; tools/install_bench_docs.sh (run by `make test`) installs both.
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


def bag(text: str) -> collections.Counter[str]:
    """Case-folded words. Neither LibreOffice nor Chromium hyphenates here, so a hyphen at a line end is
    a real one ("hand-|drawn"). Arabic lam-alef is one glyph whose text the PDF gives as alef-lam:
    both orders count as one."""
    text = unicodedata.normalize("NFKC", text).replace("-\n", "-").replace("\u0627\u0644", "\u0644\u0627")
    return collections.Counter(re.findall(r"\w+", text.casefold()))


def test_the_full_set_has_sixty_documents_in_six_families():
    documents = len(CONVERTED_FAMILIES) * SEEDS_PER_FAMILY + len(GENERATORS) + len(LATEX_SOURCES) + len(HTML_SOURCES)
    families = len(CONVERTED_FAMILIES) + len(GENERATORS) + 2  # LaTeX and HTML corpus documents
    assert documents >= 60 and families >= 6


@pytest.mark.parametrize("name", list(CONVERTED_FAMILIES))
def test_truth_has_exactly_the_words_on_the_pages(built, name):
    for truth in family(built, name):
        with pymupdf.open(truth.pdf) as doc:
            lines = "".join(page.get_text() for page in doc).splitlines()
        pending = collections.Counter(truth.furniture)
        kept = []
        for line in lines:
            if pending[line.strip()] > 0:
                pending[line.strip()] -= 1
            else:
                kept.append(line)
        assert not +pending, f"{truth.name}: furniture not printed as lines: {dict(+pending)}"
        expected, found = bag(truth.body_text), bag("\n".join(kept))
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
    again, _ = converted_truths(office.pdf.parent.parent, range(1), ["office-docx"])
    assert again[0].blocks == office.blocks and again[0].headings == office.headings
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
