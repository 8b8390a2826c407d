"""Structured extraction quality against ground truth: ours beside pymupdf4llm, pdfminer.six and pypdf.

    .venv/bin/python bench/extract_quality.py [--corpus ../shared/corpus] [--only multicolumn] [--tools ours,pypdf]
                                              [--seeds 13]

For every document of bench/ground_truth/ (the corpus PDFs that come with
their LaTeX/HTML sources, skipped with a message when ../shared/corpus is
absent; PDFs generated with exact truth by PyMuPDF; and --seeds documents per
family made in code and converted by LibreOffice and Chromium, a family skipped
with a message when its converter is missing) each tool runs in this process,
in the same run, and is scored per file, per layout family and overall on:

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
  the body text: occurrences beyond those the true body itself contains;
- pymupdf-raw is PyMuPDF's raw page.get_text(), no structure: the floor our
  text similarity must never fall below on any file (a target line);
- nid, teds, mhs: reading order, table structure and heading structure as
  opendataloader-bench defines them (bench/quality_structure.py): NID is the
  normalised indel similarity of the body text; TEDS the tree edit distance
  similarity of each true table with the best output table (ours with its
  merged cells; pymupdf4llm's Markdown tables have none); MHS the tree edit
  similarity of the heading/content tree (levels ignored). n/a for tools that
  report no tables (teds) or headings (mhs).

Scanned variants (bench/ground_truth/scanned.py: a few documents rasterised
at 200 dpi, turned a little and noised, image only, with the original's truth)
are the family "scanned": ours reads them as the pipeline does, every page
without a text layer OCR'd by Tesseract in this process before furniture is
decided (bench/quality_ocr.py); skipped with a message when Tesseract is
missing. They are reported, not held to the targets, and left out of the
overall line (which is over the born-digital documents).

pymupdf4llm runs with header=False, footer=False (its own furniture removal,
the fair setting for "body text") and use_ocr=False (its OCR needs Tesseract
through its own path; on the scans it reads nothing, as pdfminer, pypdf and
PyMuPDF's raw text do). The report ends with our targets; a missed one prints
"TARGET MISSED" (the exit status is 0 regardless: this is a report).

Levenshtein: rapidfuzz when installed (C++, bit-parallel), else an exact
bit-parallel implementation on Python integers (Myers/Hyyrö, O(n*m/64)).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import pathlib
import sys
import time
from collections.abc import Callable

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.ground_truth import (  # noqa: E402
    DEFAULT_CORPUS_DIR,
    DEFAULT_GENERATED_DIR,
    HTML_SOURCES,
    LATEX_SOURCES,
    SEEDS_PER_FAMILY,
    GroundTruth,
    converted_truths,
    corpus_truths,
    generated_truths,
)
from bench.ground_truth.scanned import FAMILY as SCANNED_FAMILY  # noqa: E402
from bench.ground_truth.scanned import scanned_truths  # noqa: E402
from bench.quality_ocr import extract_with_ocr, ocr_missing  # noqa: E402
from bench.quality_report import HEADER, LEGEND, format_row, print_families, print_targets  # noqa: E402
from bench.quality_scores import Scores, ToolOutput, score  # noqa: E402
from bench.quality_structure import Segment  # noqa: E402
from bench.quality_text import (  # noqa: E402
    levenshtein_backend,
    markdown_headings,
    markdown_segments,
    markdown_tables,
    strip_markdown,
    strip_tables,
)

# ---------------------------------------------------------------------------------------------
# The tools
# ---------------------------------------------------------------------------------------------


def run_ours(path: pathlib.Path, ocr: bool = False) -> ToolOutput:
    """Our extraction; with `ocr`, pages without a text layer are OCR'd as the pipeline does (scans)."""
    # Imported here, not at the top: tests/bench uses this module's metrics without needing the extractor.
    from mivaa_extractor.extraction.structure.document import extract_document
    from mivaa_extractor.extraction.structure.model import FURNITURE, BlockKind

    doc = extract_with_ocr(path) if ocr else extract_document(path)
    headings: list[tuple[str, int]] = []
    tables: list[list[list[str]]] = []
    spans: list[list[tuple[int, int, int, int]]] = []
    segments: list[Segment] = []
    for page in doc.pages:
        for block in page.blocks:
            if block.kind in FURNITURE:
                continue
            segments.append((block.kind == BlockKind.HEADING, strip_tables(block.text)))
            if block.kind == BlockKind.HEADING:
                headings.append((block.text, block.level))
            elif block.kind == BlockKind.TABLE and block.table is not None:
                tables.append(block.table.grid())
                spans.append(
                    [
                        (c.row, c.column, c.row_span, c.column_span)
                        for c in block.table.cells
                        if c.row_span * c.column_span > 1
                    ]
                )
    # body_text() renders tables as Markdown (a TABLE block's text): only those are stripped, so any
    # other Markdown syntax in our plain text counts against us.
    body = strip_tables(doc.body_text())
    return ToolOutput(body=body, headings=headings, tables=tables, table_spans=spans, segments=segments)


def run_pymupdf4llm(path: pathlib.Path) -> ToolOutput:
    import pymupdf4llm

    markdown = pymupdf4llm.to_markdown(str(path), header=False, footer=False, use_ocr=False, show_progress=False)
    return ToolOutput(
        body=strip_markdown(markdown),
        headings=markdown_headings(markdown),
        tables=markdown_tables(markdown),
        segments=markdown_segments(markdown),
    )


def run_pdfminer(path: pathlib.Path) -> ToolOutput:
    from pdfminer.high_level import extract_text

    return ToolOutput(body=extract_text(str(path)))


def run_pymupdf_raw(path: pathlib.Path) -> ToolOutput:
    """PyMuPDF's raw text (page.get_text()), the floor issue 14 holds our text similarity to."""
    import pymupdf

    with pymupdf.open(path) as doc:
        return ToolOutput(body="\n".join(page.get_text() for page in doc))


def run_pypdf(path: pathlib.Path) -> ToolOutput:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return ToolOutput(body="\n".join(page.extract_text() or "" for page in reader.pages))


TOOLS: dict[str, Callable[[pathlib.Path], ToolOutput]] = {
    "ours": run_ours,
    "pymupdf4llm": run_pymupdf4llm,
    "pdfminer": run_pdfminer,
    "pypdf": run_pypdf,
    "pymupdf-raw": run_pymupdf_raw,
}


def run_tool(name: str, path: pathlib.Path, scanned: bool = False) -> ToolOutput:
    started = time.perf_counter()
    try:
        # Some tools print progress or parser messages on stdout: keep the report readable.
        with contextlib.redirect_stdout(io.StringIO()):
            output = run_ours(path, ocr=True) if name == "ours" and scanned else TOOLS[name](path)
    except Exception as exc:  # noqa: BLE001 - one tool failing on one file is a result, not a crash
        output = ToolOutput(error=f"{type(exc).__name__}: {exc}"[:200])
    output.seconds = time.perf_counter() - started
    return output


def load_truths(corpus: pathlib.Path, out: pathlib.Path, seeds: int, only: str = "") -> list[GroundTruth]:
    """Every ground-truth document (corpus, generated, converted), saying on stdout what was skipped."""
    truths: list[GroundTruth] = []
    if (corpus / "sources").is_dir():
        found = corpus_truths(corpus)
        missing = sorted({f"{n}.pdf" for n in (*LATEX_SOURCES, *HTML_SOURCES)} - {t.name for t in found})
        if missing:
            print(f"corpus documents skipped (PDF or source missing): {', '.join(missing)}")
        truths.extend(found)
    else:
        print(f"corpus not found at {corpus}: skipping the corpus documents (generated documents still run)")
    truths.extend(generated_truths(out))
    converted, skipped = converted_truths(out, range(seeds))
    for reason in skipped:
        print(f"family skipped: {reason}")
    truths.extend(converted)
    missing = ocr_missing()
    if missing:
        print(f"family skipped: {SCANNED_FAMILY}: {missing}")
    else:
        truths.extend(scanned_truths(truths, out / SCANNED_FAMILY))
    return [t for t in truths if only in t.name]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS_DIR)
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_GENERATED_DIR, help="where generated PDFs go")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--only", default="", help="only documents whose name contains this")
    parser.add_argument("--seeds", type=int, default=SEEDS_PER_FAMILY, help="documents per converted family")
    args = parser.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # pdfminer warns about every odd font
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    truths = load_truths(args.corpus, args.out, args.seeds, args.only)
    print(f"{len(truths)} documents, tools: {', '.join(tools)}; Levenshtein: {levenshtein_backend()}")
    if "pymupdf4llm" in tools:
        import pymupdf4llm  # imported now (it loads its layout model on import) to say which mode it runs in

        layout = getattr(pymupdf4llm, "_use_layout", False)
        print(f"pymupdf4llm {pymupdf4llm.__version__}: {'layout mode (pymupdf_layout)' if layout else 'legacy mode'}")
    families = sorted({t.family for t in truths})
    print(f"{len(families)} layout families: {', '.join(families)}")
    print(LEGEND)

    totals = {tool: Scores() for tool in tools}  # born-digital documents: the overall line and the targets
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
            scores = score(truth, run_tool(tool, truth.pdf, scanned=not truth.born_digital))
            per_file[truth.name][tool] = scores
            if truth.born_digital:
                totals[tool].add(scores)
            print(format_row(tool, scores))

    print_families(truths, per_file, tools)
    print(
        "\nOverall, born-digital documents (text: character-weighted; nid, mhs: mean per document; teds: mean "
        "per table; order: files with an order score; others: pooled counts)"
    )
    print(HEADER)
    for tool in tools:
        print(format_row(tool, totals[tool]))

    if "ours" in tools:
        print_targets([t for t in truths if t.born_digital], per_file, totals["ours"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
