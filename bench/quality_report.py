"""The extraction quality report: one row per tool and file, per family and overall, then our targets."""

from __future__ import annotations

from collections.abc import Sequence

from bench.ground_truth import GroundTruth
from bench.quality_scores import Scores

# Targets for our extractor (issue 14's, checked on the pooled figures over every document).
TEXT_TARGET = 0.98  # body-text similarity on every born-digital file with a sound text layer
ORDER_TARGET = 0.95  # "read column by column" on the multi-column documents
CELL_TARGET = 1.0  # every cell of multicolumn.pdf's table
HEADING_F1_TARGET = 0.95
NID_TARGET = 0.95
TEDS_TARGET = 0.90
CELL_ACCURACY_TARGET = 0.95

LEGEND = (
    "text = edit similarity; nid = reading-order NID; head P/R = heading precision/recall, lvl = level "
    "agreement; mhs = heading-structure MHS; order = anchor order; cells = table cells right; teds = table "
    "TEDS; furnit. = furniture leaked/expected; n/a = the tool reports no headings/tables"
)
HEADER = (
    f"  {'tool':<12} {'text':>6} {'nid':>6}  {'head P/R':>9}  {'lvl':>4} {'mhs':>5}  {'order':>5}  "
    f"{'cells':>16} {'teds':>5}  {'furnit.':>7}  {'seconds':>7}"
)


def _ratio(numerator: int, denominator: int, digits: int = 2) -> str:
    return f"{numerator / denominator:.{digits}f}" if denominator else "-"


def _value(value: float | None, reported: bool = True, digits: int = 2) -> str:
    if not reported:
        return "n/a"
    return f"{value:.{digits}f}" if value is not None else "-"


def heading_f1(s: Scores) -> float | None:
    if not s.heading_reported or not (s.heading_found + s.heading_expected):
        return None
    return 2 * s.heading_matched / (s.heading_found + s.heading_expected)


def format_row(tool: str, s: Scores) -> str:
    if s.heading_reported:
        headings = f"{_ratio(s.heading_matched, s.heading_found):>4}/{_ratio(s.heading_matched, s.heading_expected):<4}"
        levels = _ratio(s.heading_level_agree, s.heading_matched)
    else:
        headings, levels = "n/a", "n/a"
    order = f"{s.order:.2f}" if s.order is not None else "n/a"
    if not s.cells_expected:
        cells = "-"
    elif not s.tables_reported:
        cells = "n/a"
    else:
        cells = f"{100 * s.cells_matched / s.cells_expected:.1f}%"
        shifted = [o for o in s.cell_offsets if o != (0, 0)]
        if shifted:
            cells += f" (shift {shifted[0][0]:+d},{shifted[0][1]:+d})"
    furniture = f"{s.furniture_leaked}/{s.furniture_expected}" if s.furniture_expected else "-"
    mhs = _value(s.mhs, s.heading_reported or not s.heading_expected)
    teds = _value(s.teds, s.tables_reported or not s.cells_expected)
    row = (
        f"  {tool:<12} {s.text_similarity:>6.3f} {_value(s.nid, digits=3):>6}  {headings:>9}  {levels:>4} {mhs:>5}  "
        f"{order:>5}  {cells:>16} {teds:>5}  {furniture:>7}  {s.seconds:>7.2f}"
    )
    if s.error:
        row += f"  ERROR {s.error}"
    return row


def print_families(
    truths: Sequence[GroundTruth], per_file: dict[str, dict[str, Scores]], tools: Sequence[str]
) -> dict[str, dict[str, Scores]]:
    """Pooled scores per layout family (text char-weighted, NID/MHS per document, TEDS per table)."""
    families: dict[str, dict[str, Scores]] = {}
    for truth in truths:
        pooled = families.setdefault(truth.family, {tool: Scores() for tool in tools})
        for tool in tools:
            pooled[tool].add(per_file[truth.name][tool])
    print("\nPer family")
    for family, pooled in families.items():
        count = sum(1 for t in truths if t.family == family)
        print(f"\n{family} ({count} documents)")
        print(HEADER)
        for tool in tools:
            print(format_row(tool, pooled[tool]))
    return families


def print_targets(truths: Sequence[GroundTruth], per_file: dict[str, dict[str, Scores]], overall: Scores) -> None:
    print("\nTargets (ours)")
    names = {t.name for t in truths}
    targeted = [t for t in truths if t.born_digital and t.sound_text_layer]
    worst = min(((per_file[t.name]["ours"].text_similarity, t.name) for t in targeted), default=None)
    if worst:
        print(
            f"  text similarity >= {TEXT_TARGET} on every born-digital file ({len(targeted)}): "
            f"lowest {worst[0]:.3f} ({worst[1]})"
        )
    misses = [t.name for t in targeted if per_file[t.name]["ours"].text_similarity < TEXT_TARGET]
    if misses:
        shown = ", ".join(misses[:8]) + (f" and {len(misses) - 8} more" if len(misses) > 8 else "")
        print(f"  TARGET MISSED: text similarity < {TEXT_TARGET} on {len(misses)} files: {shown}")
    print_raw_text_floor(targeted, per_file)
    columns = [(per_file[t.name]["ours"].order, t.name) for t in truths if t.multi_column]
    scored = sorted((order, name) for order, name in columns if order is not None)
    if scored:
        met = sum(order >= ORDER_TARGET for order, _ in scored)
        verdict = "met" if met == len(scored) else "TARGET MISSED"
        print(
            f"  multi-column files read column by column (order >= {ORDER_TARGET}): {met}/{len(scored)}, "
            f"lowest {scored[0][0]:.2f} ({scored[0][1]})  {verdict}"
        )
    if "multicolumn.pdf" in names:
        s = per_file["multicolumn.pdf"]["ours"]
        share = s.cells_matched / s.cells_expected if s.cells_expected else 0.0
        verdict = "met" if share >= CELL_TARGET else "TARGET MISSED"
        print(f"  multicolumn.pdf table, 100% of cells right: {s.cells_matched}/{s.cells_expected}  {verdict}")
    else:
        print("  multicolumn.pdf targets not checked: the corpus is absent")
    cells = overall.cells_matched / overall.cells_expected if overall.cells_expected else None
    for label, value, target in (
        ("heading F1", heading_f1(overall), HEADING_F1_TARGET),
        ("reading order NID", overall.nid, NID_TARGET),
        ("table TEDS", overall.teds, TEDS_TARGET),
        ("cell accuracy", cells, CELL_ACCURACY_TARGET),
    ):
        shown = f"{value:.3f}" if value is not None else "n/a"
        verdict = "met" if value is not None and value >= target else "TARGET MISSED"
        print(f"  {label} >= {target} over all documents: {shown}  {verdict}")


def print_raw_text_floor(targeted: Sequence[GroundTruth], per_file: dict[str, dict[str, Scores]]) -> None:
    """Our text similarity never below PyMuPDF's raw page.get_text() on any file (scored in the same run)."""
    label = "text similarity never below PyMuPDF's raw text (page.get_text()) on any file"
    if not targeted or "pymupdf-raw" not in per_file[targeted[0].name]:
        print(f"  {label}: not checked (run with --tools including pymupdf-raw)")
        return
    below = [
        (per_file[t.name]["ours"].text_similarity, per_file[t.name]["pymupdf-raw"].text_similarity, t.name)
        for t in targeted
        if per_file[t.name]["ours"].text_similarity < per_file[t.name]["pymupdf-raw"].text_similarity
    ]
    verdict = "met" if not below else "TARGET MISSED"
    print(f"  {label}: {len(targeted) - len(below)}/{len(targeted)}  {verdict}")
    for ours, raw, name in sorted(below, key=lambda b: b[0] - b[1]):
        print(f"    {name}: ours {ours:.3f} < raw {raw:.3f}")
