"""A hyphen at a line end: a word broken by hyphenation is joined, a compound the page writes with a hyphen is not."""

from __future__ import annotations

import pathlib

import pymupdf

from mivaa_extractor.extraction.structure.document import extract_document
from mivaa_extractor.extraction.structure.model import BlockKind
from mivaa_extractor.extraction.structure.text_cleanup import hyphenated_words, join_lines

LINES = (
    "The observers drew hand-drawn synoptic charts every morning at the",
    "station, and the charts were checked against the radio reports of the",
    "ships. In winter the crew kept copying the hand-",
    "drawn charts by lamp light, and every obser-",
    "vation went into the log book of the station.",
)


def test_compound_written_with_a_hyphen_keeps_it_at_a_line_end(tmp_path: pathlib.Path) -> None:
    doc = pymupdf.open()
    page = doc.new_page()
    for index, line in enumerate(LINES):
        page.insert_text((72, 100 + 13 * index), line, fontsize=10, fontname="helv")
    path = tmp_path / "hyphen.pdf"
    doc.save(path)
    paragraphs = [b.text for b in extract_document(path).pages[0].blocks if b.kind is BlockKind.PARAGRAPH]
    assert len(paragraphs) == 1
    text = paragraphs[0]
    assert "copying the hand-drawn charts" in text  # the page writes "hand-drawn" on one line
    assert "every observation went" in text  # an ordinary word broken at the line end is joined


def test_join_lines_without_page_compounds_joins_as_before() -> None:
    assert join_lines(["the hand-", "drawn charts"]) == "the handdrawn charts"
    compounds = hyphenated_words(["a Hand-Drawn chart", "well-known", "no-1 x-"])
    assert compounds == frozenset({"hand-drawn", "well-known"})
    assert join_lines(["the hand-", "drawn charts"], compounds) == "the hand-drawn charts"
    assert join_lines(["Vitamin-", "C is kept"], compounds) == "Vitamin-C is kept"


def test_compound_written_whole_on_another_page_keeps_its_hyphen(tmp_path: pathlib.Path) -> None:
    # Page 1 only breaks "hand-drawn" across two lines; page 2 writes it whole: the document's word wins.
    doc = pymupdf.open()
    for lines in (LINES[2:], LINES[:2]):
        page = doc.new_page()
        for index, line in enumerate(lines):
            page.insert_text((72, 100 + 13 * index), line, fontsize=10, fontname="helv")
    path = tmp_path / "hyphen-pages.pdf"
    doc.save(path)
    first = [b.text for b in extract_document(path).pages[0].blocks if b.kind is BlockKind.PARAGRAPH]
    assert "copying the hand-drawn charts" in first[0]
    assert "every observation went" in first[0]
