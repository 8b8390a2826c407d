"""bench/layout_models.py's region scoring and the raw-text floor target line, without any model."""

from __future__ import annotations

import pathlib

import pytest

from bench.ground_truth import GroundTruth, TableTruth
from bench.layout_models import grid_holds_table, holds_table
from bench.quality_report import print_raw_text_floor
from bench.quality_scores import Scores

TABLE = TableTruth(rows=(("Part", "Torque"), ("Nut", "12 Nm"), ("Bolt", "30 Nm")))


def test_a_region_holds_a_table_when_it_has_half_its_cells() -> None:
    assert holds_table("Part Torque\nNut 12 Nm", TABLE)
    assert not holds_table("Part\nsomething else entirely", TABLE)
    assert grid_holds_table([["Part", "Torque"], ["Nut", "12 Nm"]], TABLE)
    assert not grid_holds_table([["Torque", "Part"]], TABLE)


def _scores(distance: int) -> Scores:
    return Scores(text_distance=distance, text_length=100)


def test_the_raw_text_floor_lists_the_files_where_ours_is_below(
    capsys: pytest.CaptureFixture[str],
) -> None:
    truths = [GroundTruth(name=n, pdf=pathlib.Path(n), origin="generated", blocks=()) for n in ("a.pdf", "b.pdf")]
    per_file = {
        "a.pdf": {"ours": _scores(1), "pymupdf-raw": _scores(5)},
        "b.pdf": {"ours": _scores(4), "pymupdf-raw": _scores(0)},
    }
    print_raw_text_floor(truths, per_file)
    out = capsys.readouterr().out
    assert "1/2  TARGET MISSED" in out
    assert "b.pdf: ours 0.960 < raw 1.000" in out
    assert "a.pdf:" not in out
