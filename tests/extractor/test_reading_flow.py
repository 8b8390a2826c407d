"""Paragraphs that flow around a figure or into the next column are read once, whole, in order.

The page is made here: two columns of Helvetica, a figure with its caption
inside the left column that cuts a sentence in two, a paragraph that goes on
at the top of the right column, and a paragraph that ends before a figure
(which must stay apart from the one after it).
"""

from __future__ import annotations

import pathlib
import textwrap

import pymupdf

from bench.quality_words import word_recall
from mivaa_extractor.extraction.structure.document import extract_document
from mivaa_extractor.extraction.structure.model import BlockKind
from tests.support.structured_pdfs import figure_png

ABOVE = (
    "The survey of the northern stations began in early spring when the ice had left the bay and the boats "
    "could reach the landing stages again. Keepers reported that the lamps had burned through the winter "
    "without a single failure, which is remarkable given the storms that"
)
BELOW = (
    "battered the coast in January and February. The lenses were cleaned and the brass fittings polished "
    "before the inspectors arrived, and the logs were found in good order at every station that was"
)
RIGHT = (
    "visited by the boat. The inspectors then sailed south, where the work was harder because the cliffs "
    "are steep and the paths are narrow, and supplies had to be carried up by hand from the beach."
)
CLOSED = "The second figure shows the lantern room after the repairs were finished."
AFTER_CLOSED = "This paragraph starts after the second figure and is a paragraph of its own, whole."
CAPTION = "Figure 1: Beacon colours at dusk"
SECOND_CAPTION = "Figure 2: The lantern room"
LEFT, RIGHT_X, TOP = 60.0, 320.0, 100.0


def _column(page: pymupdf.Page, x: float, y: float, text: str) -> float:
    for line in textwrap.wrap(text, 46):
        page.insert_text((x, y), line, fontsize=10, fontname="helv")
        y += 12
    return y


def _flow_pdf(path: pathlib.Path) -> pathlib.Path:
    png = figure_png()
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((LEFT, 60), "Station Reports", fontsize=18, fontname="hebo")
    y = _column(page, LEFT, TOP, ABOVE)
    page.insert_image(pymupdf.Rect(LEFT, y, 280, y + 110), stream=png)
    y += 122
    page.insert_text((LEFT, y), CAPTION, fontsize=9, fontname="helv")
    _column(page, LEFT, y + 18, BELOW)
    y = _column(page, RIGHT_X, TOP, RIGHT) + 6
    y = _column(page, RIGHT_X, y, CLOSED)
    page.insert_image(pymupdf.Rect(RIGHT_X, y, 540, y + 110), stream=figure_png(200, 120))
    page.insert_text((RIGHT_X, y + 122), SECOND_CAPTION, fontsize=9, fontname="helv")
    _column(page, RIGHT_X, y + 140, AFTER_CLOSED)
    doc.save(path)
    return path


def test_paragraph_cut_by_a_figure_and_a_column_break_is_joined_once(tmp_path: pathlib.Path):
    path = _flow_pdf(tmp_path / "flow.pdf")
    blocks = extract_document(path).pages[0].blocks
    paragraphs = [b.text for b in blocks if b.kind is BlockKind.PARAGRAPH]
    # Above the figure, below it, then on at the top of the right column: one paragraph, once.
    assert paragraphs[0] == f"{ABOVE} {BELOW} {RIGHT}"
    # A paragraph that closed its sentence before a figure is not run into the next one.
    assert paragraphs[1:] == [CLOSED, AFTER_CLOSED]
    kinds = [b.kind for b in blocks]
    # The first figure and its caption come after the paragraph that flowed around them.
    assert kinds.index(BlockKind.FIGURE) > kinds.index(BlockKind.PARAGRAPH)
    assert [b.text for b in blocks if b.kind is BlockKind.CAPTION] == [CAPTION, SECOND_CAPTION]
    assert not word_recall(path).lost


CARRIED = (
    "Rows of the station table go on after the page break, under the same header row, and the "
    "paragraph above the table goes on too: the keepers wrote that the"
)
CARRIED_ON = "lamps were lit at dusk every evening of the season."
HEADER = ("Station", "Keeper", "Lamp")
ROWS_BEFORE = (("North Cape", "Ada Keeper", "Paraffin"), ("Gull Rock", "Ben Lamp", "Acetylene"))
ROWS_AFTER = (("South Spit", "Carl Dee", "Electric"), ("Mole Head", "Dora Wick", "Paraffin"))


def _rows(page: pymupdf.Page, y: float, rows: tuple[tuple[str, ...], ...]) -> float:
    for index, row in enumerate(rows):
        for x, cell in zip((LEFT, 220.0, 380.0), row, strict=True):
            page.insert_text((x, y), cell, fontsize=10, fontname="hebo" if index == 0 else "helv")
        y += 16
    return y


def test_paragraph_and_table_cut_by_a_page_break_are_joined_once(tmp_path: pathlib.Path):
    doc = pymupdf.open()
    page = doc.new_page()
    _column(page, LEFT, 100, "The first page opens with a paragraph of its own that ends as it should.")
    _rows(page, 200, (HEADER, *ROWS_BEFORE, ("Wolf Reef", "Eve Glass", "Acetylene")))
    for index, line in enumerate(textwrap.wrap(CARRIED, 90)):
        page.insert_text((LEFT, 700 + 12 * index), line, fontsize=10, fontname="helv")
    page = doc.new_page()
    page.insert_text((LEFT, 80), CARRIED_ON, fontsize=10, fontname="helv")
    page = doc.new_page()
    _rows(page, 720, (HEADER, *ROWS_BEFORE))
    page = doc.new_page()
    _rows(page, 80, (HEADER, *ROWS_AFTER))
    path = tmp_path / "breaks.pdf"
    doc.save(path)
    markdown = extract_document(path).markdown()
    assert f"{CARRIED} {CARRIED_ON}" in markdown
    # One table over pages 3 and 4, its header once.
    last = markdown[markdown.rindex("| Station") :]
    assert last.splitlines() == [
        "| Station | Keeper | Lamp |",
        "|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in ROWS_BEFORE + ROWS_AFTER),
    ]


LEFT_PARAGRAPHS = (
    "The keepers of the western light kept a careful record of every ship that passed the point during the "
    "long nights of the autumn gales, and they noted the wind, the sea and the state of the lamp each hour.",
    "Their logs were collected by the inspectors every spring and copied into the ledgers of the board, "
    "where they can still be read by anybody who asks at the archive in the harbour office.",
)
RIGHT_PARAGRAPHS = (
    "The eastern light was built later and stands on a low rock that the sea covers at high tide.",
    "Its keepers were relieved by boat every fortnight when the weather allowed a landing at all.",
    "In the worst winters the relief boat could not land for weeks and the keepers rationed their oil.",
)


def _level_columns_pdf(path: pathlib.Path) -> pathlib.Path:
    """Two columns that start level: a line carried over from the page before and a heading at the same height."""
    doc = pymupdf.open()
    page = doc.new_page()
    for x, tail, heading, paragraphs in (
        (LEFT, "lines carried over from the page before.", "Western Light", LEFT_PARAGRAPHS),
        (RIGHT_X, "more lines carried over from before.", "Eastern Light", RIGHT_PARAGRAPHS),
    ):
        page.insert_text((x, 60), tail, fontsize=10, fontname="helv")
        page.insert_text((x, 90), heading, fontsize=14, fontname="hebo")
        y = 115.0
        for paragraph in paragraphs:
            y = _column(page, x, y, paragraph) + 10
    doc.save(path)
    return path


def test_columns_that_start_level_are_read_column_by_column(tmp_path: pathlib.Path):
    # Tops that agree at the start of two columns (a carried-over line, a heading, a first paragraph) do not
    # make them rows of a form: their paragraphs end at different heights.
    blocks = extract_document(_level_columns_pdf(tmp_path / "level.pdf")).pages[0].blocks
    texts = [b.text for b in blocks]
    assert texts.index("Western Light") < texts.index(LEFT_PARAGRAPHS[1]) < texts.index("Eastern Light")
    assert texts[-len(RIGHT_PARAGRAPHS) :] == list(RIGHT_PARAGRAPHS)
