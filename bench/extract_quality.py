"""Structured extraction quality against ground truth: ours beside pymupdf4llm, pdfminer.six and pypdf.

    .venv/bin/python bench/extract_quality.py [--corpus ../shared/corpus] [--only multicolumn] [--tools ours,pypdf]

For every document of bench/ground_truth.py (the corpus PDFs that come with
their LaTeX/HTML sources, skipped with a message when ../shared/corpus is
absent, and PDFs generated with exact truth) each tool runs in this process,
in the same run, and is scored on:

- text: normalised edit similarity of the body text, 1 - Levenshtein / max
  length, after NFKC (so ligatures and superscript digits compare as plain
  letters), soft hyphens and line-leading bullets dropped and whitespace
  collapsed; Markdown outputs have their syntax stripped first (our body
  text's tables are Markdown too, so only its pipe tables are stripped);
- headings: precision / recall of heading texts (case-folded, section numbers
  and Markdown emphasis dropped), matched in document order; "lvl" is the share
  of matched headings whose level agrees. Ours from HEADING blocks, pymupdf4llm
  from '#' lines; n/a for tools that report no headings;
- order: the truth's body is cut into 6-word anchors that occur once in the
  truth and once in the output; a pair of consecutive anchors is in order when
  the second follows the first in the output with at most a few extra words
  between them (3 + a quarter of the expected gap). Being merely "later" is not
  enough: reading two columns line by line across keeps each column's own
  order but puts a line of the other column between every pair, so it scores
  low, while reading column by column scores ~1.0. n/a under 5 anchor pairs
  (text that repeats itself, like blindtext, has too few unique anchors);
- cells: share of the truth's table cells found at the same (row, column) of
  the best-matching output table (a uniform shift, e.g. a caption taken in as
  row 0, is allowed and shown); whitespace and case are ignored. Ours from
  TABLE blocks, pymupdf4llm from Markdown pipe tables; n/a for the others;
- furniture: expected running headers, footers and page numbers that leak into
  the body text: occurrences beyond those the true body itself contains.

pymupdf4llm runs with header=False, footer=False (its own furniture removal,
the fair setting for "body text") and use_ocr=False (every document here has a
text layer; ours does not OCR in process either). The report ends with our
targets; a missed one prints "TARGET MISSED" (the exit status is 0 regardless:
this is a report).

Levenshtein: rapidfuzz when installed (C++, bit-parallel), else an exact
bit-parallel implementation on Python integers (Myers/Hyyrö, O(n*m/64)).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import logging
import pathlib
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.ground_truth import (  # noqa: E402
    DEFAULT_CORPUS_DIR,
    DEFAULT_GENERATED_DIR,
    HTML_SOURCES,
    LATEX_SOURCES,
    GroundTruth,
    TableTruth,
    corpus_truths,
    generated_truths,
)

# Targets for our extractor (see the report's last section).
TEXT_TARGET = 0.98  # body-text similarity on born-digital files with a sound text layer
ORDER_TARGET = 0.95  # "read column by column" on the multi-column documents
CELL_TARGET = 1.0  # every cell of multicolumn.pdf's table
ANCHOR_WORDS = 6
MIN_ORDER_PAIRS = 5


# ---------------------------------------------------------------------------------------------
# Levenshtein
# ---------------------------------------------------------------------------------------------

try:
    from rapidfuzz.distance import Levenshtein as _rapidfuzz_levenshtein  # noqa: N813 - a module, named like one
except ImportError:  # pragma: no cover - depends on the environment
    _rapidfuzz_levenshtein = None


def levenshtein_bitparallel(a: str, b: str) -> int:
    """Exact edit distance (unit costs) with the bit-vector algorithm of Myers as formulated by Hyyrö.

    One Python big integer holds a whole column of the DP matrix, so the loop
    runs once per character of the shorter string with a handful of
    big-integer operations of len(longer)/64 machine words each: 100k x 100k
    characters take seconds, not the hours of a Python DP.
    """
    if len(a) < len(b):
        a, b = b, a
    pattern, text = a, b  # the longer string lives in the bit vectors
    m = len(pattern)
    if m == 0:
        return len(text)
    peq: dict[str, int] = {}
    for index, char in enumerate(pattern):
        peq[char] = peq.get(char, 0) | (1 << index)
    mask = (1 << m) - 1
    high = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for char in text:
        eq = peq.get(char, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | 1) & mask  # | 1: row 0 of the matrix is 0, 1, 2, ... (global distance)
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


def levenshtein(a: str, b: str) -> int:
    if _rapidfuzz_levenshtein is not None:
        return _rapidfuzz_levenshtein.distance(a, b)
    return levenshtein_bitparallel(a, b)


# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

_BULLETS = "\u2022\u00b7\u25e6\u25aa\u25cf\u2023\u2043\u2219\u25a0\u25a1\u2013\u2014-*+\uf0b7\uf0a7"
_LINE_BULLET = re.compile(rf"^[ \t]*[{re.escape(_BULLETS)}][ \t]+", re.MULTILINE)


def normalize_text(text: str) -> str:
    """What the text similarity compares: NFKC, no soft hyphens or line-leading bullets, single spaces."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    text = _LINE_BULLET.sub("", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers, for anchors, furniture and bag-of-words comparisons."""
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _split_pipe_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [cell.replace("\\|", "|").strip() for cell in re.split(r"(?<!\\)\|", line)]


def strip_tables(text: str) -> str:
    """Markdown pipe tables to plain rows (cells separated by a space); everything else untouched."""
    out = []
    for line in text.splitlines():
        if _TABLE_SEPARATOR.match(line) and "-" in line:
            continue
        if line.lstrip().startswith("|"):
            out.append(" ".join(cell for cell in _split_pipe_row(line) if cell))
        else:
            out.append(line)
    return "\n".join(out)


def strip_markdown(markdown: str) -> str:
    """Markdown to the plain text a reader sees: no heading marks, emphasis, HTML, links, list marks, tables."""
    text = strip_tables(markdown)
    text = re.sub(r"^\s*(```|~~~).*$", "", text, flags=re.MULTILINE)  # code fences
    text = re.sub(r"^.*==> picture .* <==.*$", "", text, flags=re.MULTILINE)  # pymupdf4llm image placeholders
    text = re.sub(r"^.*----- (Start|End) of picture text -----.*$", "", text, flags=re.MULTILINE)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"</?[A-Za-z][^>]*>", "", text)  # other HTML (<sup>, <u>, <sub>)
    text = re.sub(r"^[ \t]*#{1,6}[ \t]+", "", text, flags=re.MULTILINE)  # ATX headings
    text = re.sub(r"^[ \t]*>[ \t]?", "", text, flags=re.MULTILINE)  # block quotes
    text = re.sub(r"^[ \t]*[-*+][ \t]+", "", text, flags=re.MULTILINE)  # list marks
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", text)  # *emphasis*
    text = re.sub(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])", r"\1", text)  # _emphasis_
    text = re.sub(r"`([^`\n]*)`", r"\1", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", text)  # backslash escapes
    return text


def markdown_headings(markdown: str) -> list[tuple[str, int]]:
    return [
        (strip_markdown(match[2]).strip(), len(match[1]))
        for match in re.finditer(r"^[ \t]*(#{1,6})[ \t]+(.+?)[ \t#]*$", markdown, flags=re.MULTILINE)
    ]


def markdown_tables(markdown: str) -> list[list[list[str]]]:
    """Every pipe table of a Markdown text as a grid (the separator row dropped)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*markdown.splitlines(), ""]:
        if line.lstrip().startswith("|"):
            if not (_TABLE_SEPARATOR.match(line) and "-" in line):
                current.append([strip_markdown(cell).strip() for cell in _split_pipe_row(line)])
        elif current:
            tables.append(current)
            current = []
    return tables


# ---------------------------------------------------------------------------------------------
# The tools
# ---------------------------------------------------------------------------------------------


@dataclass
class ToolOutput:
    body: str = ""  # plain body text (Markdown already stripped)
    headings: list[tuple[str, int]] | None = None  # None: the tool reports no headings
    tables: list[list[list[str]]] | None = None  # None: the tool reports no tables
    seconds: float = 0.0
    error: str | None = None


def run_ours(path: pathlib.Path) -> ToolOutput:
    # Imported here, not at the top: tests/bench uses this module's metrics without needing the extractor.
    from mivaa_extractor.extraction.structure.document import extract_document
    from mivaa_extractor.extraction.structure.model import BlockKind

    doc = extract_document(path)
    headings: list[tuple[str, int]] = []
    tables: list[list[list[str]]] = []
    for page in doc.pages:
        for block in page.blocks:
            if block.kind == BlockKind.HEADING:
                headings.append((block.text, block.level))
            elif block.kind == BlockKind.TABLE and block.table is not None:
                tables.append(block.table.grid())
    # body_text() renders tables as Markdown (a TABLE block's text): only those are stripped, so any
    # other Markdown syntax in our plain text counts against us.
    return ToolOutput(body=strip_tables(doc.body_text()), headings=headings, tables=tables)


def run_pymupdf4llm(path: pathlib.Path) -> ToolOutput:
    import pymupdf4llm

    markdown = pymupdf4llm.to_markdown(str(path), header=False, footer=False, use_ocr=False, show_progress=False)
    return ToolOutput(
        body=strip_markdown(markdown), headings=markdown_headings(markdown), tables=markdown_tables(markdown)
    )


def run_pdfminer(path: pathlib.Path) -> ToolOutput:
    from pdfminer.high_level import extract_text

    return ToolOutput(body=extract_text(str(path)))


def run_pypdf(path: pathlib.Path) -> ToolOutput:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return ToolOutput(body="\n".join(page.extract_text() or "" for page in reader.pages))


TOOLS: dict[str, Callable[[pathlib.Path], ToolOutput]] = {
    "ours": run_ours,
    "pymupdf4llm": run_pymupdf4llm,
    "pdfminer": run_pdfminer,
    "pypdf": run_pypdf,
}


def run_tool(name: str, path: pathlib.Path) -> ToolOutput:
    started = time.perf_counter()
    try:
        # Some tools print progress or parser messages on stdout: keep the report readable.
        with contextlib.redirect_stdout(io.StringIO()):
            output = TOOLS[name](path)
    except Exception as exc:  # noqa: BLE001 - one tool failing on one file is a result, not a crash
        output = ToolOutput(error=f"{type(exc).__name__}: {exc}"[:200])
    output.seconds = time.perf_counter() - started
    return output


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------


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
    seconds: float = 0.0
    error: str | None = None

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
    if output.error:  # nothing came back: everything counts as missed
        result.furniture_leaked = 0
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
    result.furniture_leaked = furniture_leaks(truth, output.body)
    return result


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int, digits: int = 2) -> str:
    return f"{numerator / denominator:.{digits}f}" if denominator else "-"


def format_row(tool: str, s: Scores) -> str:
    if s.heading_reported:
        precision = _ratio(s.heading_matched, s.heading_found)
        recall = _ratio(s.heading_matched, s.heading_expected)
        headings = f"{precision:>4}/{recall:<4}"
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
    row = (
        f"  {tool:<12} {s.text_similarity:>6.3f}  {headings:>9}  {levels:>4}  {order:>5}  {cells:>16}  "
        f"{furniture:>7}  {s.seconds:>7.2f}"
    )
    if s.error:
        row += f"  ERROR {s.error}"
    return row


HEADER = (
    f"  {'tool':<12} {'text':>6}  {'head P/R':>9}  {'lvl':>4}  {'order':>5}  {'cells':>16}  "
    f"{'furnit.':>7}  {'seconds':>7}"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS_DIR)
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_GENERATED_DIR, help="where generated PDFs go")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--only", default="", help="only documents whose name contains this")
    args = parser.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # pdfminer warns about every odd font
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    truths: list[GroundTruth] = []
    if (args.corpus / "sources").is_dir():
        found = corpus_truths(args.corpus)
        missing = sorted({f"{n}.pdf" for n in (*LATEX_SOURCES, *HTML_SOURCES)} - {t.name for t in found})
        if missing:
            print(f"corpus documents skipped (PDF or source missing): {', '.join(missing)}")
        truths.extend(found)
    else:
        print(f"corpus not found at {args.corpus}: skipping the corpus documents (generated documents still run)")
    truths.extend(generated_truths(args.out))
    truths = [t for t in truths if args.only in t.name]
    print(
        f"{len(truths)} documents, tools: {', '.join(tools)}; Levenshtein: "
        f"{'rapidfuzz' if _rapidfuzz_levenshtein else 'bit-parallel Python fallback (pip install rapidfuzz)'}"
    )
    if "pymupdf4llm" in tools:
        import pymupdf4llm  # imported now (it loads its layout model on import) to say which mode it runs in

        layout = getattr(pymupdf4llm, "_use_layout", False)
        print(f"pymupdf4llm {pymupdf4llm.__version__}: {'layout mode (pymupdf_layout)' if layout else 'legacy mode'}")
    print(
        "text = edit similarity; head P/R = heading precision/recall, lvl = level agreement; order = reading "
        "order; cells = table cells right; furnit. = furniture leaked/expected"
    )

    totals = {tool: Scores() for tool in tools}
    per_file: dict[str, dict[str, Scores]] = {}
    for truth in truths:
        flags = [truth.origin, f"{truth.page_count} pages", f"{len(truth.body_text.split())} words"]
        if truth.multi_column:
            flags.append("multi-column")
        if not truth.sound_text_layer:
            flags.append("unsound text layer: no text target")
        print(f"\n{truth.name} ({', '.join(flags)})")
        print(HEADER)
        per_file[truth.name] = {}
        for tool in tools:
            scores = score(truth, run_tool(tool, truth.pdf))
            per_file[truth.name][tool] = scores
            totals[tool].add(scores)
            print(format_row(tool, scores))

    print("\nOverall (text: character-weighted; order: files with an order score; others: pooled counts)")
    print(HEADER)
    for tool in tools:
        print(format_row(tool, totals[tool]))

    if "ours" in tools:
        print_targets(truths, per_file)
    return 0


def print_targets(truths: list[GroundTruth], per_file: dict[str, dict[str, Scores]]) -> None:
    print("\nTargets (ours)")
    names = {t.name for t in truths}
    targeted = [t for t in truths if t.born_digital and t.sound_text_layer]
    misses = [
        (t.name, per_file[t.name]["ours"].text_similarity)
        for t in targeted
        if per_file[t.name]["ours"].text_similarity < TEXT_TARGET
    ]
    worst = min(((per_file[t.name]["ours"].text_similarity, t.name) for t in targeted), default=None)
    if worst:
        print(
            f"  text similarity >= {TEXT_TARGET} on every born-digital file ({len(targeted)}): "
            f"lowest {worst[0]:.3f} ({worst[1]})"
        )
    for name, value in misses:
        print(f"  TARGET MISSED: text similarity {value:.3f} < {TEXT_TARGET} on {name}")

    for truth in (t for t in truths if t.multi_column):
        order = per_file[truth.name]["ours"].order
        shown = f"{order:.2f}" if order is not None else "n/a"
        verdict = "met" if order is not None and order >= ORDER_TARGET else "TARGET MISSED"
        print(f"  {truth.name} read column by column (order >= {ORDER_TARGET}): {shown}  {verdict}")
    if "multicolumn.pdf" in names:
        s = per_file["multicolumn.pdf"]["ours"]
        share = s.cells_matched / s.cells_expected if s.cells_expected else 0.0
        verdict = "met" if share >= CELL_TARGET else "TARGET MISSED"
        print(f"  multicolumn.pdf table, 100% of cells right: {s.cells_matched}/{s.cells_expected}  {verdict}")
    else:
        print("  multicolumn.pdf targets not checked: the corpus is absent")


if __name__ == "__main__":
    sys.exit(main())
