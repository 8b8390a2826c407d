"""Scores of one tool's output against one document's ground truth (see bench/extract_quality.py's docstring)."""

from __future__ import annotations

import collections
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.ground_truth import GroundTruth, TableTruth
from bench.quality_structure import Segment, mhs, nid, teds
from bench.quality_text import levenshtein, normalize_text, strip_markdown, tokens

ANCHOR_WORDS = 6
MIN_ORDER_PAIRS = 5


@dataclass
class ToolOutput:
    body: str = ""  # plain body text (Markdown already stripped)
    headings: list[tuple[str, int]] | None = None  # None: the tool reports no headings
    tables: list[list[list[str]]] | None = None  # None: the tool reports no tables
    table_spans: list[list[tuple[int, int, int, int]]] | None = None  # per table: (row, col, rowspan, colspan)
    segments: list[Segment] | None = None  # (is heading, text) in order; None: the tool reports no headings
    seconds: float = 0.0
    error: str | None = None


@dataclass
class Scores:
    text_distance: int = 0
    text_length: int = 0  # max(len(expected), len(output)) after normalisation
    heading_matched: int = 0
    heading_expected: int = 0
    heading_found: int = 0
    heading_level_agree: int = 0
    heading_reported: bool = False
    order_good: int = 0
    order_pairs: int = 0
    cells_matched: int = 0
    cells_expected: int = 0
    cell_offsets: list[tuple[int, int]] = field(default_factory=list)
    tables_reported: bool = False
    furniture_leaked: int = 0
    furniture_expected: int = 0
    # opendataloader-bench metrics (bench/quality_structure.py): sums of per-document (TEDS: per-table)
    # values and how many there are, so files and families average them.
    nid_sum: float = 0.0
    nid_docs: int = 0
    teds_sum: float = 0.0
    teds_tables: int = 0
    mhs_sum: float = 0.0
    mhs_docs: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def nid(self) -> float | None:
        return self.nid_sum / self.nid_docs if self.nid_docs else None

    @property
    def teds(self) -> float | None:
        return self.teds_sum / self.teds_tables if self.teds_tables else None

    @property
    def mhs(self) -> float | None:
        return self.mhs_sum / self.mhs_docs if self.mhs_docs else None

    @property
    def text_similarity(self) -> float:
        return 1.0 - self.text_distance / self.text_length if self.text_length else 1.0

    @property
    def order(self) -> float | None:
        return self.order_good / self.order_pairs if self.order_pairs >= MIN_ORDER_PAIRS else None

    def add(self, other: Scores) -> None:
        for name in (
            "text_distance",
            "text_length",
            "heading_matched",
            "heading_expected",
            "heading_found",
            "heading_level_agree",
            "cells_matched",
            "cells_expected",
            "furniture_leaked",
            "furniture_expected",
            "nid_sum",
            "nid_docs",
            "teds_sum",
            "teds_tables",
            "mhs_sum",
            "mhs_docs",
            "seconds",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.order is not None:  # only files with a meaningful order score count
            self.order_good += other.order_good
            self.order_pairs += other.order_pairs
        self.heading_reported |= other.heading_reported
        self.tables_reported |= other.tables_reported


def text_scores(expected: str, output: str) -> tuple[int, int]:
    a, b = normalize_text(expected), normalize_text(output)
    return levenshtein(a, b), max(len(a), len(b))


# "1 ", "2.3. ", "Chapter 4 ", "IV. ", "b) ": numbering printed before a heading's text.
_NUMBERING = re.compile(
    r"^(?:(?:chapter|section|part)\s+)?(?:\d+(?:\.\d+)*\.?|[ivxlc]+[.)]|[a-z][.)])\s+", re.IGNORECASE
)


def heading_key(text: str) -> str:
    text = normalize_text(strip_markdown(text)).casefold()
    text = _NUMBERING.sub("", text) if _NUMBERING.match(text) and len(text.split()) > 1 else text
    return text.strip(" :.")


def heading_scores(truth: GroundTruth, found: Sequence[tuple[str, int]]) -> tuple[int, int]:
    """(matched, levels agreeing): each expected heading takes the next unused output heading with its text."""
    keys = [heading_key(text) for text, _ in found]
    used = [False] * len(found)
    matched = agree = cursor = 0
    for heading in truth.headings:
        want = heading_key(heading.text)
        order = [*range(cursor, len(found)), *range(0, cursor)]  # document order first, then anywhere
        for index in order:
            if not used[index] and keys[index] == want:
                used[index] = True
                matched += 1
                agree += found[index][1] == heading.level
                cursor = index + 1
                break
    return matched, agree


def order_scores(expected: str, output: str, k: int = ANCHOR_WORDS) -> tuple[int, int]:
    """(pairs in order, pairs): see the module docstring."""
    want, got = tokens(expected), tokens(output)
    expected_counts = collections.Counter(tuple(want[i : i + k]) for i in range(len(want) - k + 1))
    positions: dict[tuple[str, ...], list[int]] = collections.defaultdict(list)
    for i in range(len(got) - k + 1):
        positions[tuple(got[i : i + k])].append(i)
    anchors = []
    for i in range(0, len(want) - k + 1, k):
        window = tuple(want[i : i + k])
        if expected_counts[window] == 1 and len(positions.get(window, ())) == 1:
            anchors.append((i, positions[window][0]))
    good = 0
    for (expected_a, got_a), (expected_b, got_b) in zip(anchors, anchors[1:]):
        gap = expected_b - expected_a
        if 0 < got_b - got_a <= gap + 3 + gap // 4:
            good += 1
    return good, max(0, len(anchors) - 1)


def cell_key(text: str) -> str:
    return "".join(normalize_text(strip_markdown(text)).casefold().split())


def table_scores(table: TableTruth, grids: Sequence[Sequence[Sequence[str]]]) -> tuple[int, tuple[int, int]]:
    """(cells matched, (row, column) offset) against the best output grid and uniform shift."""
    best, best_offset = 0, (0, 0)
    cells = [(r, c, cell_key(text)) for r, c, text in table.cells()]
    for grid in grids:
        keyed = [[cell_key(text) for text in row] for row in grid]
        for dr in range(-2, 3):
            for dc in range(-2, 3):
                matched = sum(
                    1
                    for r, c, want in cells
                    if 0 <= r + dr < len(keyed) and 0 <= c + dc < len(keyed[r + dr]) and keyed[r + dr][c + dc] == want
                )
                if matched > best or (matched == best and (dr, dc) == (0, 0)):
                    best, best_offset = matched, (dr, dc)
    return best, best_offset


def _count_sequence(haystack: list[str], needle: list[str]) -> int:
    if not needle:
        return 0
    if len(needle) == 1:
        return haystack.count(needle[0])
    return f" {' '.join(haystack)} ".count(f" {' '.join(needle)} ")


def furniture_leaks(truth: GroundTruth, output: str) -> int:
    """Furniture occurrences in the output beyond those the true body itself contains."""
    got, want = tokens(output), tokens(truth.body_text)
    leaked = 0
    for text, count in collections.Counter(truth.furniture).items():
        needle = tokens(text)
        leaked += min(count, max(0, _count_sequence(got, needle) - _count_sequence(want, needle)))
    return leaked


def score(truth: GroundTruth, output: ToolOutput) -> Scores:
    result = Scores(seconds=output.seconds, error=output.error)
    result.heading_expected = len(truth.headings)
    result.furniture_expected = len(truth.furniture)
    result.cells_expected = sum(len(t.cells()) for t in truth.tables)
    result.text_distance, result.text_length = text_scores(truth.body_text, output.body)
    result.nid_sum, result.nid_docs = nid(truth.body_text, output.body), 1
    if output.error:  # nothing came back: everything counts as missed
        result.furniture_leaked = 0
        result.nid_sum = 0.0
        return result
    result.order_good, result.order_pairs = order_scores(truth.body_text, output.body)
    if output.headings is not None:
        result.heading_reported = True
        result.heading_found = len(output.headings)
        result.heading_matched, result.heading_level_agree = heading_scores(truth, output.headings)
    if output.tables is not None:
        result.tables_reported = True
        for table in truth.tables:
            matched, offset = table_scores(table, output.tables)
            result.cells_matched += matched
            result.cell_offsets.append(offset)
            result.teds_sum += teds(table, output.tables, output.table_spans)
            result.teds_tables += 1
    if output.segments is not None:
        value = mhs(truth, output.segments)
        if value is not None:
            result.mhs_sum, result.mhs_docs = value, 1
    result.furniture_leaked = furniture_leaks(truth, output.body)
    return result
