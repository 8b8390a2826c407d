"""Captions: which text block belongs to a figure or a table."""

from __future__ import annotations

from mivaa_extractor.extraction.structure.captions import find_caption
from mivaa_extractor.extraction.structure.lexicon import FIGURE_CAPTION_PREFIXES, TABLE_CAPTION_PREFIXES, caption_label

FIGURE = (100.0, 100.0, 400.0, 300.0)


def test_caption_directly_below_with_a_label():
    blocks = [
        ((100, 60, 400, 90), "Some paragraph above the figure that is body text."),
        ((110, 306, 390, 318), "Figure 3: The distribution of things."),
        ((100, 340, 400, 400), "Body text continues here.\nMore body text.\nAnd more."),
    ]
    assert find_caption(FIGURE, blocks) == 1


def test_labelled_caption_wins_over_a_nearer_plain_block():
    blocks = [
        ((100, 304, 400, 316), "Source: own survey"),
        ((100, 322, 400, 334), "Abb. 2 – Verteilung der Dinge"),
    ]
    assert find_caption(FIGURE, blocks) == 1


def test_caption_above_when_nothing_below():
    blocks = [
        ((100, 80, 400, 94), "Fig. 7 Results"),
        ((100, 500, 400, 600), "Far away paragraph."),
    ]
    assert find_caption(FIGURE, blocks) == 0


def test_no_caption_for_far_or_unrelated_text():
    far = [((100, 400, 400, 412), "Figure 4: too far below to be this figure's caption")]
    assert find_caption(FIGURE, far) is None
    beside = [((420, 310, 560, 322), "Figure 4: caption of another column")]
    assert find_caption(FIGURE, beside) is None
    long_paragraph = " ".join(["Body text that is not a caption."] * 20)
    assert find_caption(FIGURE, [((100, 304, 400, 360), long_paragraph)]) is None
    assert find_caption(FIGURE, [((100, 304, 400, 316), "Image processing is a field of study.")]) == 0  # short
    # A five-line paragraph whose lines were joined into one string is body text, not a caption.
    joined = "word " * 50
    assert find_caption(FIGURE, [((100, 304, 400, 364), joined)]) is None
    assert find_caption(FIGURE, [((100, 304, 400, 364), "Figure 2: " + joined)]) == 0  # a long labelled one is
    assert find_caption(FIGURE, []) is None


def test_label_patterns():
    label = caption_label(FIGURE_CAPTION_PREFIXES)
    labels = ("Figure 3: x", "FIG. 2.1 x", "Abbildung 4", "Abb. 12a –", "Photo: Jane Doe", "Chart IV", "Diagram 1")
    for text in labels:
        assert label.match(text), text
    for text in ("Image processing is hard", "Figures are nice", "Photographs of", "The Figure 3", "Image civil"):
        assert not label.match(text), text


def test_table_captions_use_their_own_prefixes():
    table = (100.0, 100.0, 400.0, 300.0)
    blocks = [
        ((100, 304, 400, 316), "Note: values in EUR"),
        ((100, 80, 400, 94), "Tabelle 2: Umsätze"),
    ]
    assert find_caption(table, blocks, TABLE_CAPTION_PREFIXES) == 1
    assert find_caption(table, blocks) == 0  # with figure prefixes the short note below wins
    assert "Table" in TABLE_CAPTION_PREFIXES
