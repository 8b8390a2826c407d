"""NID, TEDS and MHS (bench/quality_structure.py) on hand-made cases with known values."""

from __future__ import annotations

import pathlib
import random

import pytest

from bench.ground_truth import GroundTruth, Heading, TableTruth
from bench.quality_structure import lcs_length, mhs, nid, teds, truth_segments

TWO_BY_TWO = TableTruth(rows=(("a", "b"), ("c", "d")))


def doc(blocks: tuple[str, ...], headings: tuple[Heading, ...]) -> GroundTruth:
    return GroundTruth(
        name="hand.pdf", pdf=pathlib.Path("hand.pdf"), origin="generated", blocks=blocks, headings=headings
    )


def test_nid():
    assert nid("The same text.", "The  same\ntext.") == 1.0  # whitespace is normalised
    assert nid("abcd", "abdc") == pytest.approx(1 - 2 / 8)  # one swap: a deletion and an insertion
    assert nid("abc", "") == 0.0
    assert nid("ab", "xy") == 0.0
    assert nid("abcd", "ab") == pytest.approx(1 - 2 / 6)


def test_lcs_fallback_matches_the_definition():
    rng = random.Random(5)
    for _ in range(200):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 12)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 12)))
        table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i, x in enumerate(a):
            for j, y in enumerate(b):
                table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
        assert lcs_length(a, b) == table[len(a)][len(b)], (a, b)


def test_teds_known_values():
    # table > 2 tr > 2 td each: 7 nodes.
    assert teds(TWO_BY_TWO, [[["a", "b"], ["c", "d"]]]) == 1.0
    assert teds(TWO_BY_TWO, [[["a", "b"], ["c", "x"]]]) == pytest.approx(1 - 1 / 7)  # one cell's text wrong
    assert teds(TWO_BY_TWO, [[["a", "b"]]]) == pytest.approx(1 - 3 / 7)  # a row (tr + 2 td) missing
    assert teds(TWO_BY_TWO, [[["a", "b"], ["c", "x"]]], compare_text=False) == 1.0  # TEDS-S: structure only
    assert teds(TWO_BY_TWO, []) == 0.0
    # The best of several output tables counts.
    assert teds(TWO_BY_TWO, [[["z"]], [["a", "b"], ["c", "d"]]]) == 1.0
    # Partial text: "abcd" -> "abce" costs 1/4.
    assert teds(TableTruth(rows=(("abcd", "b"), ("c", "d"))), [[["abce", "b"], ["c", "d"]]]) == pytest.approx(
        1 - 0.25 / 7
    )


def test_teds_merged_cells():
    merged = TableTruth(rows=(("ab", ""), ("c", "d")), spans=((0, 0, 1, 2),))  # "ab" spans two columns: 6 nodes
    assert teds(merged, [[["ab", ""], ["c", "d"]]], [[(0, 0, 1, 2)]]) == 1.0
    # Without the span: the td is renamed (span differs, 1) and an empty td inserted (1); 7 nodes.
    assert teds(merged, [[["ab", ""], ["c", "d"]]]) == pytest.approx(1 - 2 / 7)


def test_mhs_known_values():
    truth = doc(("Intro", "Welcome here."), (Heading("Intro", 1),))  # document > heading > content: 3 nodes
    assert mhs(truth, [(True, "Intro"), (False, "Welcome here.")]) == 1.0
    assert mhs(truth, [(False, "Intro"), (False, "Welcome here.")]) == 0.0  # no heading found at all
    assert mhs(truth, [(True, "Intra"), (False, "Welcome here.")]) == pytest.approx(1 - (1 / 5) / 3)
    # Content read as a heading: it moves from under "Intro" to the root (a deletion and an insertion).
    assert mhs(truth, [(True, "Intro"), (True, "Welcome here.")]) == pytest.approx(1 - 2 / 3)
    assert mhs(doc(("Just text.",), ()), [(True, "Just text.")]) is None  # the truth has no heading


def test_mhs_splits_run_in_headings_and_ignores_levels():
    run_in = Heading("Safety Wire.", 5, run_in=True)
    truth = doc(("1 Scope", "Safety Wire. The wire holds the nut."), (Heading("Scope", 2, "1"), run_in))
    assert truth_segments(truth) == [(True, "1 Scope"), (True, "Safety Wire."), (False, "The wire holds the nut.")]
    assert mhs(truth, [(True, "1 Scope"), (True, "Safety Wire."), (False, "The wire holds the nut.")]) == 1.0
    # Read as body text, the run-in heading costs: document > heading(1 Scope) > content (the whole paragraph).
    value = mhs(truth, [(True, "1 Scope"), (False, "Safety Wire. The wire holds the nut.")])
    assert value is not None and 0.0 < value < 1.0
