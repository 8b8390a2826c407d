"""Structure metrics as opendataloader-bench defines them: reading order NID, table TEDS, heading MHS.

- NID (normalised indel distance similarity) of the body text: 1 - indel(a, b) / (len(a) + len(b)),
  where indel counts insertions and deletions only (a substitution costs 2), on the normalised text
  (bench/quality_text.normalize_text). It is rapidfuzz's `fuzz.ratio` / 100, which opendataloader-bench
  uses for reading order: text in the wrong order scores low even when every word is there.
- TEDS (tree edit distance similarity, Zhong et al. 2020) of a table: both tables as trees
  table > tr > td (a td carries its rowspan/colspan; merged positions have no td of their own);
  1 - APTED(a, b) / max(|a|, |b|) nodes, where renaming a node costs 1 when tag or spans differ and,
  between two cells, the normalised Levenshtein distance of their texts. TEDS-S is the same with
  cell texts ignored (structure only). A document's TEDS is the mean over its true tables, each
  against the output table that scores best for it (0 when the output has no table).
- MHS (Markdown heading similarity): the document as a flat tree, root > heading > content (the text
  up to the next heading; text before the first heading hangs off the root). Heading levels are
  not compared (opendataloader-bench treats # and ## alike); 1 - APTED / max nodes, rename costs as
  for TEDS (1 between a heading and content). MHS is None when the truth has no heading and 0 when
  the output has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from apted import APTED, Config

from bench.ground_truth import GroundTruth, TableTruth
from bench.quality_text import levenshtein, normalize_text

try:
    from rapidfuzz.distance import Indel as _rapidfuzz_indel  # noqa: N813 - a module, named like one
except ImportError:  # pragma: no cover - depends on the environment
    _rapidfuzz_indel = None


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison-Dix / Hyyrö) on Python integers."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    masks: dict[str, int] = {}
    for index, char in enumerate(a):
        masks[char] = masks.get(char, 0) | (1 << index)
    full = (1 << len(a)) - 1
    row = full
    for char in b:
        matches = row & masks.get(char, 0)
        row = ((row + matches) | (row - matches)) & full
    return len(a) - bin(row).count("1")


def indel_distance(a: str, b: str) -> int:
    if _rapidfuzz_indel is not None:
        return _rapidfuzz_indel.distance(a, b)
    return len(a) + len(b) - 2 * lcs_length(a, b)


def nid(expected: str, output: str) -> float:
    """Normalised indel similarity of the normalised texts; 1.0 for two empty texts."""
    a, b = normalize_text(expected), normalize_text(output)
    if not a and not b:
        return 1.0
    return 1.0 - indel_distance(a, b) / (len(a) + len(b))


def _text_distance(a: str, b: str) -> float:
    if not a and not b:
        return 0.0
    return levenshtein(a, b) / max(len(a), len(b))


@dataclass
class Node:
    tag: str
    text: str = ""
    rowspan: int = 1
    colspan: int = 1
    children: list[Node] = field(default_factory=list)

    def size(self) -> int:
        return 1 + sum(child.size() for child in self.children)


class _Costs(Config):  # type: ignore[misc]  # apted ships no type hints
    valuecls = float  # fractional rename costs (apted's default sums ints)

    def __init__(self, compare_text: bool) -> None:
        self.compare_text = compare_text

    def rename(self, a: Node, b: Node) -> float:
        if a.tag != b.tag or a.rowspan != b.rowspan or a.colspan != b.colspan:
            return 1.0
        return _text_distance(a.text, b.text) if self.compare_text else 0.0

    def children(self, node: Node) -> list[Node]:
        return node.children


def tree_similarity(a: Node, b: Node, compare_text: bool = True) -> float:
    distance = APTED(a, b, _Costs(compare_text)).compute_edit_distance()
    return max(0.0, 1.0 - distance / max(a.size(), b.size()))


# ---------------------------------------------------------------------------------------------
# TEDS
# ---------------------------------------------------------------------------------------------


def table_tree(grid: Sequence[Sequence[str]], spans: Sequence[tuple[int, int, int, int]] = ()) -> Node:
    """table > tr > td; a spanning cell is one td at its top-left position, the positions it covers none."""
    span_at = {(r, c): (rowspan, colspan) for r, c, rowspan, colspan in spans}
    covered = {
        (r + dr, c + dc)
        for r, c, rowspan, colspan in spans
        for dr in range(rowspan)
        for dc in range(colspan)
        if (dr, dc) != (0, 0)
    }
    table = Node("table")
    for r, row in enumerate(grid):
        tr = Node("tr")
        for c, text in enumerate(row):
            if (r, c) in covered:
                continue
            rowspan, colspan = span_at.get((r, c), (1, 1))
            tr.children.append(Node("td", normalize_text(text), rowspan, colspan))
        table.children.append(tr)
    return table


def truth_table_tree(table: TableTruth) -> Node:
    return table_tree(table.rows, table.spans)


def teds(
    truth: TableTruth,
    grids: Sequence[Sequence[Sequence[str]]],
    spans: Sequence[Sequence[tuple[int, int, int, int]]] | None = None,
    compare_text: bool = True,
) -> float:
    """The best TEDS of `truth` against any of the output tables (0.0 when there is none)."""
    want = truth_table_tree(truth)
    best = 0.0
    for index, grid in enumerate(grids):
        got = table_tree(grid, spans[index] if spans else ())
        best = max(best, tree_similarity(want, got, compare_text))
    return best


# ---------------------------------------------------------------------------------------------
# MHS
# ---------------------------------------------------------------------------------------------

Segment = tuple[bool, str]  # (is a heading, text) in reading order


def truth_segments(truth: GroundTruth) -> list[Segment]:
    """The truth's blocks as segments: headings (a run-in heading split off its paragraph) and content."""
    pending = list(truth.headings)
    segments: list[Segment] = []
    for block in truth.blocks:
        if pending and block == pending[0].display:
            segments.append((True, pending.pop(0).display))
        elif pending and pending[0].run_in and block.startswith(pending[0].display + " "):
            heading = pending.pop(0).display
            segments += [(True, heading), (False, block[len(heading) :].strip())]
        else:
            segments.append((False, block))
    return segments


def heading_tree(segments: Sequence[Segment]) -> Node:
    root = Node("document")
    parent = root
    content: list[str] = []

    def flush() -> None:
        text = normalize_text(" ".join(content))
        if text:
            parent.children.append(Node("content", text))
        content.clear()

    for is_heading, text in segments:
        if is_heading:
            flush()
            parent = Node("heading", normalize_text(text))
            root.children.append(parent)
        else:
            content.append(text)
    flush()
    return root


def mhs(truth: GroundTruth, segments: Sequence[Segment], compare_text: bool = True) -> float | None:
    if not truth.headings:
        return None
    if not any(is_heading for is_heading, _ in segments):
        return 0.0
    return tree_similarity(heading_tree(truth_segments(truth)), heading_tree(segments), compare_text)
