"""Structured extraction speed and memory: ours beside pymupdf4llm and PyMuPDF's raw text (the ceiling).

    .venv/bin/python bench/extract_speed.py [--pdf GeoTopo.pdf] [--rounds 3] [--skip-memory] [--sequence 50]

Speed, on ../shared/corpus/GeoTopo-komprimiert.pdf (117 pages; a generated
117-page PDF when the corpus is absent), in this process, one core each:
PyMuPDF `page.get_text()` (the ceiling: no structure at all), ours
(`extract_document`: the full structured extraction) and
`pymupdf4llm.to_markdown` (run once, after a one-page warm-up that loads its
layout model; same settings as bench/extract_quality.py). Best of --rounds
for the fast ones. Targets: ours >= 200 pages/s per core, >= 20x pymupdf4llm.
The service's multi-process throughput (`PageExtractor`, all cores) is
measured too.

Memory, each scenario in a fresh child process so nothing measured earlier
(pymupdf4llm's ONNX model, say) inflates it: a thread samples the RSS of the
child and of all its descendants (the extraction workers, when the
multi-process path is used) every 50 ms from /proc, summed (shared pages count
once per process: an upper bound). Scenarios:
- ../shared/corpus/unstructured/DA-619p.pdf (619 pages) and a 1,000-page PDF
  generated here (text, a table and two images per page; cached in
  .cache/bench/): min / median / max RSS over the run and the least-squares
  slope, to show it stays flat;
- 50 documents in a row (corpus files and generated ones, cycled): the RSS
  after each document (after gc), first / last / max and the slope in MiB per
  document, to show it does not grow.
Target: peak < 1 GiB.

Which extractor the memory scenarios drive is decided in one place,
`make_extractor`: the service's multi-process `PageExtractor` unless
`--mode in-process` asks for `extract_document`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

if sys.argv[1:2] == ["--child"]:
    # A memory child holds what the service's processes hold: importing mivaa_extractor before pymupdf keeps
    # PyMuPDF's optional ONNX layout analyser (pymupdf.layout, ~55 MB) unloaded, as the service does.
    import mivaa_extractor  # noqa: F401

import pymupdf  # noqa: E402

from bench.documents import CACHE_DIR, MIB, large_pdf, pdf_or_generated  # noqa: E402
from bench.ground_truth import DEFAULT_CORPUS_DIR, DEFAULT_GENERATED_DIR, generated_truths  # noqa: E402
from bench.process_rss import SAMPLE_SECONDS, RssSampler, descendants, peak_rss, slope, tree_rss  # noqa: E402

PER_CORE_TARGET = 200.0  # pages/s
RATIO_TARGET = 20.0  # ours / pymupdf4llm
MEMORY_TARGET = 1 << 30  # bytes of RSS, process + workers

# Corpus files for the 50-document run (those present are used, cycled with the generated ones).
SEQUENCE_CORPUS = (
    "multicolumn.pdf",
    "pdflatex-4-pages.pdf",
    "pdflatex-outline.pdf",
    "pdflatex-image.pdf",
    "minimal-document.pdf",
    "google-doc-document.pdf",
    "crazyones-pdfa.pdf",
    "pdfkit.pdf",
    "imagemagick-images.pdf",
    "GeoTopo-komprimiert.pdf",
    "unstructured/fr_olap.pdf",
    "unstructured/korean-text-with-tables.pdf",
    "unstructured/embedded-images-tables.pdf",
    "unstructured/multi-column-2p.pdf",
    "unstructured/single_table.pdf",
    "unstructured/list-item-example.pdf",
)


# ---------------------------------------------------------------------------------------------
# The extractor under test: the one switch between in-process and multi-process
# ---------------------------------------------------------------------------------------------


class Extractor:
    """Extracts a whole document and returns its page count; `close()` releases what it holds."""

    label = ""

    def __call__(self, path: pathlib.Path) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


class InProcessExtractor(Extractor):
    label = "in-process extract_document (1 core)"

    def __init__(self) -> None:
        from mivaa_extractor.extraction.structure.document import extract_document

        self._extract = extract_document

    def __call__(self, path: pathlib.Path) -> int:
        return len(self._extract(path).pages)


class MultiProcessExtractor(Extractor):
    """PageExtractor.iter_pages through its worker processes, consumed as the service would."""

    def __init__(self, workers: int | None = None) -> None:
        from mivaa_extractor.extraction.text_extraction import PageExtractor

        self._extractor = PageExtractor(workers=workers)
        self.workers = self._extractor.workers
        self.label = f"multi-process PageExtractor ({self.workers} workers)"
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._extractor.warm_up())  # start the workers now, not inside the first timing

    async def _consume(self, path: pathlib.Path) -> int:
        with pymupdf.open(path) as doc:
            page_count = doc.page_count
        pages = 0
        async for batch in self._extractor.iter_pages(path, None, page_count):
            pages += len(batch)
        return pages

    def __call__(self, path: pathlib.Path) -> int:
        return self._loop.run_until_complete(self._consume(path))

    def close(self) -> None:
        self._extractor.close()
        self._loop.close()


def make_extractor(mode: str = "multi") -> Extractor:
    """THE switch: the service's multi-process PageExtractor, or extract_document in this process."""
    return InProcessExtractor() if mode == "in-process" else MultiProcessExtractor()


# ---------------------------------------------------------------------------------------------
# Speed
# ---------------------------------------------------------------------------------------------


def best_rate(run: Callable[[], int], rounds: int) -> float:
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        pages = run()
        best = max(best, pages / (time.perf_counter() - started))
    return best


def raw_text(path: pathlib.Path) -> int:
    with pymupdf.open(path) as doc:
        for page in doc:
            page.get_text()
        return doc.page_count


def pymupdf4llm_markdown(path: pathlib.Path) -> int:
    import pymupdf4llm

    with contextlib.redirect_stdout(io.StringIO()):
        pymupdf4llm.to_markdown(str(path), header=False, footer=False, use_ocr=False, show_progress=False)
    with pymupdf.open(path) as doc:
        return doc.page_count


def pymupdf4llm_mode() -> str:
    import pymupdf4llm

    return "layout mode, pymupdf_layout" if getattr(pymupdf4llm, "_use_layout", False) else "legacy mode"


def speed(pdf: pathlib.Path, rounds: int) -> None:
    with pymupdf.open(pdf) as doc:
        pages = doc.page_count
    print(f"Speed on {pdf.name} ({pages} pages), in this process, one core each ({os.cpu_count()} cores here)")
    ceiling = best_rate(lambda: raw_text(pdf), rounds)
    print(f"  PyMuPDF page.get_text() (ceiling)        {ceiling:8.1f} pages/s  best of {rounds}")

    ours = InProcessExtractor()
    rate = best_rate(lambda: ours(pdf), rounds)
    label = "ours, extract_document"
    verdict = "met" if rate >= PER_CORE_TARGET else "TARGET MISSED"
    print(
        f"  {label:<40} {rate:8.1f} pages/s  best of {rounds}  = {rate / ceiling:.3f} x ceiling; "
        f"per core target >= {PER_CORE_TARGET:.0f}: {verdict}"
    )

    tiny = DEFAULT_GENERATED_DIR / "generated-tables.pdf"
    if not tiny.exists():
        generated_truths()
    pymupdf4llm_markdown(tiny)  # loads the layout model outside the timing
    llm = best_rate(lambda: pymupdf4llm_markdown(pdf), 1)
    print(
        f"  {'pymupdf4llm.to_markdown':<40} {llm:8.1f} pages/s  1 run (after a warm-up on a small file; "
        f"{pymupdf4llm_mode()})"
    )
    ratio = rate / llm if llm else float("inf")
    verdict = "met" if ratio >= RATIO_TARGET else "TARGET MISSED"
    print(f"  ours / pymupdf4llm                       {ratio:8.1f} x        target >= {RATIO_TARGET:.0f}x: {verdict}")

    multi = MultiProcessExtractor()
    try:
        multi(pdf)  # warm: workers import their modules and open the file once
        throughput = best_rate(lambda: multi(pdf), rounds)
    finally:
        multi.close()
    print(
        f"  {multi.label:<40} {throughput:8.1f} pages/s  best of {rounds}  = "
        f"{throughput / multi.workers:.1f} pages/s per worker"
    )


# ---------------------------------------------------------------------------------------------
# Memory: each scenario in a child process (see the module docstring)
# ---------------------------------------------------------------------------------------------


def _tree_peaks() -> tuple[int, int]:
    """(VmHWM of this process, sum of the VmHWM of it and its descendants: an upper bound of the tree's peak)."""
    own = peak_rss(os.getpid())
    return own, own + sum(peak_rss(pid) for pid in descendants(os.getpid()))


def _child_file(path: pathlib.Path, mode: str) -> dict:
    extractor = make_extractor(mode)
    gc.collect()
    baseline = tree_rss()
    started = time.monotonic()
    pages = extractor(path)
    ended = time.monotonic()
    hwm_self, hwm_tree = _tree_peaks()  # before close(): the workers are still there to ask
    extractor.close()
    return {
        "label": extractor.label,
        "pages": pages,
        "baseline": baseline,
        "started": started,
        "ended": ended,
        "hwm_self": hwm_self,
        "hwm_tree": hwm_tree,
    }


def _child_sequence(paths: list[pathlib.Path], mode: str) -> dict:
    extractor = make_extractor(mode)
    after: list[int] = []
    pages = 0
    started = time.monotonic()
    for path in paths:
        pages += extractor(path)
        gc.collect()  # what is left after a document, not garbage awaiting collection
        after.append(tree_rss())
    ended = time.monotonic()
    hwm_self, hwm_tree = _tree_peaks()
    extractor.close()
    return {
        "label": extractor.label,
        "pages": pages,
        "after": after,
        "started": started,
        "ended": ended,
        "hwm_self": hwm_self,
        "hwm_tree": hwm_tree,
    }


def run_child(arguments: list[str], timeout: float = 900) -> dict:
    """Runs a scenario in a fresh child while a thread here samples the child's process tree."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    with RssSampler(child.pid) as sampler:
        try:
            stdout, stderr = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise
    if child.returncode != 0:
        raise RuntimeError(f"memory child failed ({child.returncode}): {stderr[-2000:]}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    # The samples while the child was extracting (monotonic clocks agree across processes on Linux).
    figures["samples"] = [(t, rss) for t, rss in sampler.samples if figures["started"] <= t <= figures["ended"]]
    figures["all_samples"] = sampler.samples
    figures["seconds"] = figures["ended"] - figures["started"]
    return figures


def _mib(value: float) -> str:
    return f"{value / MIB:.0f}"


def _verdict(peak: int) -> str:
    return "met" if peak < MEMORY_TARGET else "TARGET MISSED"


def _peak(figures: dict) -> int:
    return max([rss for _, rss in figures["all_samples"]] + [figures["hwm_tree"]])


def report_file(name: str, figures: dict) -> None:
    samples = figures["samples"] or figures["all_samples"][-1:]
    values = [rss for _, rss in samples]
    start = samples[0][0]
    per_second = slope((t - start, rss) for t, rss in samples) / MIB
    per_100_pages = per_second * figures["seconds"] / max(figures["pages"], 1) * 100
    print(
        f"  {name} ({figures['pages']} pages, {figures['seconds']:.1f} s = "
        f"{figures['pages'] / figures['seconds']:.0f} pages/s, {len(samples)} samples)"
    )
    print(
        f"    RSS before {_mib(figures['baseline'])} MiB; during: min {_mib(min(values))} / median "
        f"{_mib(statistics.median(values))} / max {_mib(max(values))} MiB; slope {per_second:+.2f} MiB/s "
        f"({per_100_pages:+.2f} MiB per 100 pages)"
    )
    peak = _peak(figures)
    print(
        f"    peak {_mib(peak)} MiB (sampled max over the whole child; kernel VmHWM: process "
        f"{_mib(figures['hwm_self'])} MiB, summed over the tree {_mib(figures['hwm_tree'])} MiB); "
        f"target < 1024 MiB: {_verdict(peak)}"
    )


def sequence_paths(corpus: pathlib.Path, count: int) -> list[pathlib.Path]:
    from tests.support.pdfs import make_pdf

    pool = [corpus / name for name in SEQUENCE_CORPUS if (corpus / name).exists()]
    pool += [truth.pdf for truth in generated_truths()]
    filler = CACHE_DIR / "generated-40p.pdf"
    if not filler.exists():
        filler.parent.mkdir(parents=True, exist_ok=True)
        filler.write_bytes(make_pdf("sequence", 40, filler_sentences=24))
    pool.append(filler)
    return [pool[i % len(pool)] for i in range(count)]


def memory(corpus: pathlib.Path, sequence: int, mode: str) -> None:
    print(
        f"\nMemory: RSS of a fresh process + its descendants, sampled every {SAMPLE_SECONDS * 1000:.0f} ms "
        f"(target: peak < 1 GiB)"
    )
    targets = []
    da = corpus / "unstructured" / "DA-619p.pdf"
    if da.exists():
        targets.append(da)
    else:
        print(f"  {da} not found: skipped")
    targets.append(large_pdf())
    label_shown = False
    for path in targets:
        figures = run_child(["file", mode, str(path)])
        if not label_shown:
            print(f"  driving: {figures['label']}")
            if figures["label"].startswith("in-process"):
                print(
                    "  (extract_document returns every page of the document, image bytes included, so RSS grows "
                    "with the result; the service streams pages from PageExtractor)"
                )
            label_shown = True
        report_file(path.name, figures)

    paths = sequence_paths(corpus, sequence)
    figures = run_child(["sequence", mode, *map(str, paths)])
    after = figures["after"]
    peak = _peak(figures)
    half = len(after) // 2
    print(
        f"  {len(paths)} documents in a row ({len({p.name for p in paths})} distinct, {figures['pages']} pages, "
        f"{figures['seconds']:.1f} s): RSS after each document: first {_mib(after[0])}, last {_mib(after[-1])}, "
        f"max {_mib(max(after))} MiB"
    )
    print(
        f"    slope {slope(enumerate(after)) / MIB:+.3f} MiB per document (all), "
        f"{slope(list(enumerate(after))[half:]) / MIB:+.3f} (second half); peak {_mib(peak)} MiB "
        f"(VmHWM process {_mib(figures['hwm_self'])}, tree {_mib(figures['hwm_tree'])}): {_verdict(peak)}"
    )


# ---------------------------------------------------------------------------------------------


def child_main(arguments: list[str]) -> int:
    scenario, mode, *paths = arguments
    # Only the figures go to stdout (the last line), so the parent can parse them.
    with contextlib.redirect_stdout(io.StringIO()):
        if scenario == "file":
            figures = _child_file(pathlib.Path(paths[0]), mode)
        else:
            figures = _child_sequence([pathlib.Path(p) for p in paths], mode)
    print(json.dumps(figures))
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child_main(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdf", type=pathlib.Path, default=DEFAULT_CORPUS_DIR / "GeoTopo-komprimiert.pdf")
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS_DIR)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sequence", type=int, default=50, help="documents in the consecutive-documents run")
    parser.add_argument(
        "--mode",
        choices=("in-process", "multi"),
        default="multi",
        help="extractor for the memory runs: the service's worker processes, or one process",
    )
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()

    pdf = pdf_or_generated(args.pdf)
    if not args.skip_speed:
        speed(pdf, args.rounds)
    if not args.skip_memory:
        memory(args.corpus, args.sequence, args.mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
