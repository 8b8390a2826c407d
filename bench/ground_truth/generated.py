"""The generated documents: single column, two columns, tables; their truth is exact by construction."""

from __future__ import annotations

import pathlib

from bench.ground_truth.composer import Composer
from bench.ground_truth.prose import Prose
from bench.ground_truth.types import DEFAULT_GENERATED_DIR, GroundTruth


def _single_column(path: pathlib.Path) -> GroundTruth:
    prose = Prose(seed=11)
    c = Composer(columns=1)
    c.section("Coastal Weather Field Guide", 1, prose, (5,))
    c.section("Reading the Sky", 2, prose, (6, 5))
    c.section("Cloud Families", 3, prose, (4,))
    c.bullet_list(
        [
            "Cumulus towers that grow before noon usually announce afternoon showers over the headland.",
            "Stratus sheets that hug the water are a sign of stable air and poor visibility.",
            "Cirrus streaks moving in from the west often precede a change within a day.",
            "Lenticular clouds above the ridge mark strong winds aloft even when the harbour is calm.",
        ]
    )
    c.paragraph(prose.paragraph(5))
    c.section("Pressure and Wind", 3, prose, (6, 5))
    c.section("Working at the Station", 2, prose, (5,))
    c.section("Instrument Care", 3, prose, (4,))
    c.bullet_list(
        [
            "Rinse the anemometer cups with fresh water after every storm.",
            "Check the barometer against the reference reading each Monday morning and note any drift in the log.",
            "Replace the wet bulb wick at the start of every month.",
        ]
    )
    c.paragraph(prose.paragraph(5))
    c.section("Reporting Schedule", 3, prose, (6, 6))
    c.section("Closing Remarks", 2, prose, (5, 4))
    return c.save(
        path,
        c.furniture("Mivaa Bench Handbook Series", "Page {page} of {pages}"),
        "3 heading levels, hyphenated line breaks, bulleted lists, running header/footer",
    )


def _two_column(path: pathlib.Path) -> GroundTruth:
    prose = Prose(seed=23)
    c = Composer(columns=2, margin=56.0, gutter=24.0, top=64.0)
    c.full_width_title("Tides, Fog and the Northern Harbour", "A two-column report generated for the Mivaa bench")
    # Enough text to fill both columns of two pages and run onto a third.
    sections = (
        "Morning Observations",
        "Afternoon Changes",
        "Evening Summary",
        "Night Watch",
        "Instruments Aboard",
        "Open Questions",
    )
    for section in sections:
        c.section(section, 2, prose, (6, 5, 7), first_indent=10.0, space_after=3.0)
    return c.save(
        path, c.furniture(None, "{page}"), "full-width title, text flows down column 1 then column 2", multi_column=True
    )


def _tables(path: pathlib.Path) -> GroundTruth:
    prose = Prose(seed=37)
    c = Composer(columns=1)
    c.section("Station Records", 1, prose, (4,))
    c.section("A Ruled Table", 2, prose, (3,))
    c.table(
        [
            ["Station", "January (mm)", "February (mm)", "March (mm)", "Observer"],
            ["Northpoint", "112.4", "98.0", "87.5", "A. Lindqvist"],
            ["Gull Island", "143.9", "120.2", "101.7", "M. Okafor"],
            ["Harbour Mole", "95.1", "88.8", "79.3", "J. Ferreira"],
            ["Cape Varden", "167.0", "151.6", "133.2", "S. Nakamura"],
            ["Eastern Pier", "101.3", "92.4", "85.0", "R. Dubois"],
        ],
        ruled=True,
        caption="Table 1: Monthly rainfall by station",
    )
    c.paragraph(prose.paragraph(4))
    c.section("A Table Without Rules", 2, prose, (3,))
    c.table(
        [
            ["Instrument", "Range", "Accuracy", "Serviced"],
            ["Aneroid barometer", "870 to 1085 hPa", "0.3 hPa", "every month"],
            ["Cup anemometer", "0.5 to 60 m/s", "2 percent", "after storms"],
            ["Wet bulb hygrometer", "5 to 100 percent", "3 percent", "weekly"],
            ["Rain gauge", "0 to 300 mm", "0.2 mm", "daily"],
            ["Sunshine recorder", "0 to 16 hours", "0.1 hours", "each season"],
        ],
        ruled=False,
        caption="Table 2: Instruments at the Northpoint station",
    )
    c.paragraph(prose.paragraph(5))
    # A second page, so the header and footer run (repeat) like real page furniture.
    c.section("Notes on the Records", 2, prose, (6, 5, 6, 5, 6))
    return c.save(
        path,
        c.furniture("Mivaa Bench Station Annex", "Page {page}"),
        "a ruled table and a table without rules, with captions; two pages",
    )


GENERATORS = {"single-column": _single_column, "two-column": _two_column, "tables": _tables}


def generated_truths(out_dir: pathlib.Path = DEFAULT_GENERATED_DIR) -> list[GroundTruth]:
    """Writes the generated PDFs into `out_dir` (fresh each call, deterministic) and returns their truth."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [make(out_dir / f"generated-{name}.pdf") for name, make in GENERATORS.items()]
