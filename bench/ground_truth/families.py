"""The converted families: office documents (LibreOffice), HTML pages (Chromium) and LaTeX articles (pdflatex),
built per seed and cached.

    truths, skipped = converted_truths(out_dir)          # SEEDS_PER_FAMILY documents per family
    truths, skipped = converted_truths(out_dir, seeds=range(2), families=["html-rtl"])

A family whose converter is missing is skipped, with the reason in `skipped` (the bench prints it);
tools/install_bench_docs.sh installs the converters.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterable

from bench.ground_truth.converters import ConverterMissing, missing_converter
from bench.ground_truth.html_pages import FAMILIES as HTML_FAMILIES
from bench.ground_truth.html_pages import html_truths
from bench.ground_truth.latex_gen import FAMILIES as LATEX_FAMILIES
from bench.ground_truth.latex_gen import latex_truths
from bench.ground_truth.office import FAMILY as OFFICE_FAMILY
from bench.ground_truth.office import office_truths
from bench.ground_truth.types import DEFAULT_GENERATED_DIR, GroundTruth

SEEDS_PER_FAMILY = 13

Builder = Callable[[pathlib.Path, range], list[GroundTruth]]


def _family(name: str, make: Callable[[str, pathlib.Path, range], list[GroundTruth]]) -> Builder:
    def build(out_dir: pathlib.Path, seeds: range) -> list[GroundTruth]:
        return make(name, out_dir, seeds)

    return build


# family -> (the converter it needs, builder(out_dir, seeds))
CONVERTED_FAMILIES: dict[str, tuple[str, Builder]] = {
    OFFICE_FAMILY: ("soffice", office_truths),
    **{name: ("chromium", _family(name, html_truths)) for name in HTML_FAMILIES},
    **{name: ("pdflatex", _family(name, latex_truths)) for name in LATEX_FAMILIES},
}


def converted_truths(
    out_dir: pathlib.Path = DEFAULT_GENERATED_DIR,
    seeds: range = range(SEEDS_PER_FAMILY),
    families: Iterable[str] | None = None,
) -> tuple[list[GroundTruth], list[str]]:
    """(truths, skipped families with the reason) for the office and HTML families."""
    truths: list[GroundTruth] = []
    skipped: list[str] = []
    for family in families if families is not None else CONVERTED_FAMILIES:
        tool, build = CONVERTED_FAMILIES[family]
        reason = missing_converter(tool)
        if reason:
            skipped.append(f"{family}: {reason}")
            continue
        try:
            truths.extend(build(out_dir / family, seeds))
        except ConverterMissing as exc:
            skipped.append(f"{family}: {exc}")
    return truths, skipped
