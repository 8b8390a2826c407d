"""No word left behind: word recall of our Markdown against PyMuPDF's raw text, for every corpus PDF.

    .venv/bin/python bench/word_recall.py [--corpus ../shared/corpus] [--only korean] [--sample 12]

Needs no ground truth (bench/quality_words.py says how words are compared).
For each PDF under the corpus: the raw words, the recall, the words lost and
the words removed as furniture (running headers, footers, page numbers:
explained, not counted against the recall), with a sample of each. Encrypted
files open with the passwords the corpus READMEs give; a file MuPDF cannot
read is listed as such. Target: recall >= 0.99 on every file; a file below
prints "TARGET MISSED" (the exit status is 0 regardless: this is a report).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.ground_truth import DEFAULT_CORPUS_DIR  # noqa: E402
from bench.quality_words import CORPUS_PASSWORDS, word_recall  # noqa: E402

RECALL_TARGET = 0.99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS_DIR)
    parser.add_argument("--only", default="", help="only files whose path contains this")
    parser.add_argument("--sample", type=int, default=12, help="missing words shown per file and kind")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}: nothing to measure")
        return 0
    paths = sorted(p for p in args.corpus.rglob("*.pdf") if args.only in p.relative_to(args.corpus).as_posix())
    print(f"{len(paths)} PDFs; recall = 1 - lost / (raw words - furniture); target >= {RECALL_TARGET}")
    print(f"  {'file':<50} {'raw':>7} {'recall':>7} {'lost':>6} {'furnit.':>7} {'seconds':>7}")
    misses: list[str] = []
    for path in paths:
        name = path.relative_to(args.corpus).as_posix()
        started = time.perf_counter()
        try:
            result = word_recall(path, CORPUS_PASSWORDS.get(path.name))
        except Exception as exc:  # noqa: BLE001 - a broken file is a line of the report
            print(f"  {name:<50} unreadable: {type(exc).__name__}: {str(exc)[:80]}")
            continue
        seconds = time.perf_counter() - started
        print(
            f"  {name:<50} {result.raw:>7} {result.recall:>7.4f} {result.lost.total():>6} "
            f"{result.furniture.total():>7} {seconds:>7.2f}"
        )
        if result.lost:
            print(f"      lost: {', '.join(result.sample('lost', args.sample))}")
        if result.furniture:
            print(f"      furniture (removed on purpose): {', '.join(result.sample('furniture', args.sample))}")
        if result.recall < RECALL_TARGET:
            misses.append(f"{name} {result.recall:.4f}")
    print(f"\nTarget: word recall >= {RECALL_TARGET} on every readable file")
    for miss in misses:
        print(f"  TARGET MISSED: {miss}")
    if not misses:
        print("  met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
