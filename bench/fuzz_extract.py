"""Mutation fuzzing of upload validation and page extraction: thousands of cases, counted by outcome.

    .venv/bin/python bench/fuzz_extract.py [--cases 5000] [--seed 0] [--concurrency 2] [--no-corpus]
    .venv/bin/python bench/fuzz_extract.py --replay .cache/fuzz-failures/some-case.pdf [--password pw]

The same mutation engine and harness as tests/extractor/test_fuzz.py
(tests/support/pdf_mutations.py): seeds generated with PyMuPDF plus, when
../shared/corpus is present, a handful of small corpus files; each case stacks
one to three random mutations (bit flips, truncation, deleted / duplicated
ranges, splices, corrupted startxref / xref entries, numbers replaced in the
object syntax and inside object and content streams, zeroed stream lengths,
damaged keywords, deep nesting) on a seed, and goes through what the service
does, with its own code: UploadValidator.validate (the Ingestor's entry:
validate_pdf in a supervised worker process with a time limit), then
PageExtractor.iter_pages over every page. Cases are drawn from
random.Random(--seed), so the inputs of a run are reproducible (and a saved
input replays with --replay); with --concurrency above 1 a few outcomes can
differ between runs, as they depend on which worker process a task lands on.

The contract: every input is rejected with a MivaaError whose reason is
UPPER_SNAKE_CASE, or extracted into pages 1..N in order, each without error
or with a known page error reason; no other exception, no hang, and the
extractor still extracts a known-good PDF afterwards (checked every
--health-every cases and at the end). A case that breaks it is saved under
.cache/fuzz-failures/ (the PDF, named by its sha256, and a JSON note with the
case, the outcome and the traceback) and the run exits 1. Cases that keep the
contract but deserve a look (the validator process crashed or timed out,
which the service maps to PDF_UNREADABLE; a document that validation accepted
failing as a whole at extraction) are saved under .cache/fuzz-failures/notable/.

Printed: counts per outcome (extracted; rejected, by stage and reason), pages
with errors by reason, outcomes per mutation kind, the notable cases, new
extraction worker processes that ended, seen through PageExtractor.worker_pids()
(crashes, kills and routine recycling every 200 tasks), validator restarts,
the slowest cases and cases/s. MuPDF's and the workers' log output goes to
--stderr-log (.cache/fuzz-extract-stderr.log) instead of the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import pathlib
import random
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.pdf_mutations import (  # noqa: E402 - needs the repository root on sys.path
    Case,
    Outcome,
    ServiceHarness,
    corpus_seeds,
    generated_seeds,
    random_case,
    save_input,
)

DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"
DEFAULT_FAILURES = REPO_ROOT / ".cache" / "fuzz-failures"
DEFAULT_STDERR_LOG = REPO_ROOT / ".cache" / "fuzz-extract-stderr.log"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=5000, help="number of mutated inputs (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same cases")
    parser.add_argument("--workers", type=int, default=2, help="extraction worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=2, help="cases in flight at once (default 2)")
    parser.add_argument("--max-mutations", type=int, default=3, help="mutations stacked per case, at most")
    parser.add_argument("--page-time-limit", type=float, default=5.0)
    parser.add_argument("--document-time-limit", type=float, default=30.0)
    parser.add_argument("--validate-timeout", type=float, default=20.0)
    parser.add_argument("--health-every", type=int, default=100, help="check the known-good PDF every N cases")
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-corpus", action="store_true", help="generated seeds only")
    parser.add_argument("--corpus-seeds", type=int, default=8, help="how many small corpus files to use as seeds")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_FAILURES, help="where offending inputs go")
    parser.add_argument("--stderr-log", default=str(DEFAULT_STDERR_LOG), help="'' keeps stderr on the terminal")
    parser.add_argument("--replay", type=pathlib.Path, help="run this one file instead and print its outcome")
    parser.add_argument("--password", default=None, help="with --replay: the file's password")
    return parser.parse_args(argv)


@contextlib.contextmanager
def stderr_to(path: str):
    """Points fd 2 at `path` (the extraction workers inherit it when spawned); restores it after."""
    if not path:
        yield
        return
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


class Tally:
    def __init__(self) -> None:
        self.done = 0
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.page_errors: collections.Counter[str] = collections.Counter()
        self.cases_with_page_errors = 0
        self.pages = 0
        self.by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.notable: collections.Counter[str] = collections.Counter()
        self.violations: list[tuple[Outcome, pathlib.Path, dict]] = []
        self.slowest: list[tuple[float, str]] = []
        self.health_checks = 0
        self.health_failures: list[str] = []

    def add(self, case: Case, outcome: Outcome, saved: pathlib.Path | None) -> None:
        self.done += 1
        if outcome.violation:
            key = f"VIOLATION {outcome.violation}"
        elif outcome.status == "extracted":
            key = "extracted"
        else:
            key = f"rejected at {outcome.stage}: {outcome.reason}"
        self.outcomes[key] += 1
        if outcome.status == "extracted" and not outcome.violation:
            self.pages += outcome.page_count
        if outcome.page_errors:
            self.cases_with_page_errors += 1
            self.page_errors.update(outcome.page_errors)
        short = "extracted" if key == "extracted" else ("VIOLATION" if outcome.violation else "rejected")
        for kind in {m.kind for m in case.mutations}:
            self.by_kind[kind][short] += 1
        if outcome.notable:
            self.notable[outcome.notable] += 1
        if outcome.violation and saved is not None:
            self.violations.append((outcome, saved, case.describe()))
        self.slowest.append((outcome.seconds, f"{case.seed.name} {[m.kind for m in case.mutations]} -> {key}"))
        self.slowest = sorted(self.slowest, reverse=True)[:5]


def cases_from(args: argparse.Namespace, seeds) -> collections.abc.Iterator[tuple[int, Case]]:
    rng = random.Random(args.seed)
    for index in range(args.cases):
        yield index, random_case(rng, seeds, args.max_mutations)


def harness_for(args: argparse.Namespace, workdir: str, **options: int) -> ServiceHarness:
    """The service's own validator and page extractor, with the limits the command line gives."""
    return ServiceHarness(
        workdir,
        workers=args.workers,
        page_time_limit=args.page_time_limit,
        document_time_limit=args.document_time_limit,
        validate_timeout=args.validate_timeout,
        **options,
    )


async def fuzz(args: argparse.Namespace) -> int:
    seeds = generated_seeds()
    generated = len(seeds)
    if not args.no_corpus:
        seeds += corpus_seeds(args.corpus, limit=args.corpus_seeds)
    print(
        f"fuzz_extract: {args.cases} cases, seed {args.seed}, {len(seeds)} seeds ({generated} generated, "
        f"{len(seeds) - generated} from {args.corpus if len(seeds) > generated else 'no corpus'}), "
        f"{args.workers} workers, {args.concurrency} cases at a time",
        flush=True,
    )
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="mivaa-fuzz-") as workdir:
        harness = harness_for(args, workdir, validators=args.concurrency)
        await harness.start()
        cases = cases_from(args, seeds)
        progress_every = max(1, min(1000, args.cases // 10))
        started = time.monotonic()

        async def health() -> None:
            tally.health_checks += 1
            broken = await harness.known_good_ok()
            if broken:
                tally.health_failures.append(f"after {tally.done} cases: {broken}")

        async def consume() -> None:
            for index, case in cases:  # a shared iterator: each case goes to one consumer
                data = case.build(seeds)
                outcome = await harness.run(data, case.password)
                saved = None
                if outcome.violation:
                    saved = save_input(args.out, data, outcome, {"index": index, "seed": args.seed, **case.describe()})
                    print(f"  VIOLATION {outcome.violation} in case {index}: saved {saved}", flush=True)
                elif outcome.notable:
                    save_input(
                        args.out / "notable", data, outcome, {"index": index, "seed": args.seed, **case.describe()}
                    )
                tally.add(case, outcome, saved)
                if tally.done % progress_every == 0:
                    elapsed = time.monotonic() - started
                    print(
                        f"  {tally.done:6d} cases  {tally.done / elapsed:6.1f} cases/s  "
                        f"violations {len(tally.violations)}  notable {sum(tally.notable.values())}",
                        flush=True,
                    )
                if args.health_every and tally.done % args.health_every == 0:
                    await health()

        try:
            await asyncio.gather(*(consume() for _ in range(max(1, args.concurrency))))
            elapsed = time.monotonic() - started
            await health()
            restarts = harness.worker_restarts()
        finally:
            await harness.close()
    report(args, tally, elapsed, restarts, harness.validator_restarts)
    return 1 if tally.violations or tally.health_failures else 0


def report(args: argparse.Namespace, tally: Tally, elapsed: float, restarts: int, validator_restarts: int) -> None:
    print("\noutcomes:")
    for key, count in sorted(tally.outcomes.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:7d}  {key}")
    print(f"pages extracted: {tally.pages}; cases with page errors: {tally.cases_with_page_errors}")
    for reason, count in tally.page_errors.most_common():
        print(f"  {count:7d}  pages {reason}")
    print("by mutation kind (cases containing it: extracted / rejected / violations):")
    for kind in sorted(tally.by_kind):
        counts = tally.by_kind[kind]
        print(f"  {kind:16s} {counts['extracted']:6d} / {counts['rejected']:6d} / {counts['VIOLATION']:3d}")
    if tally.notable:
        print(f"notable, within the contract (inputs in {args.out / 'notable'}):")
        for label, count in tally.notable.most_common():
            print(f"  {count:7d}  {label}")
    print(
        f"extraction worker processes that ended (crashed, killed or recycled; seen through worker_pids()): "
        f"{restarts}; validator restarts: {validator_restarts}"
    )
    print(f"known-good checks: {tally.health_checks}, failed: {len(tally.health_failures)}")
    for failure in tally.health_failures[:5]:
        print(f"  {failure}")
    print("slowest cases:")
    for seconds, label in tally.slowest:
        print(f"  {seconds:6.2f} s  {label}")
    print(f"violations: {len(tally.violations)}")
    for outcome, saved, case in tally.violations[:20]:
        print(
            f"  {outcome.violation}: {saved}\n    case {case}\n    {outcome.detail.strip().splitlines()[-1] if outcome.detail else ''}"
        )
    print(f"{tally.done} cases in {elapsed:.1f} s: {tally.done / elapsed:.1f} cases/s")
    if args.stderr_log:
        print(f"worker and MuPDF log output: {args.stderr_log}")


async def replay(args: argparse.Namespace) -> int:
    data = args.replay.read_bytes()
    with tempfile.TemporaryDirectory(prefix="mivaa-fuzz-") as workdir:
        harness = harness_for(args, workdir)
        await harness.start()
        try:
            outcome = await harness.run(data, args.password)
            broken = await harness.known_good_ok()
        finally:
            await harness.close()
    print(outcome)
    if broken:
        print(broken)
    return 1 if outcome.violation or broken else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with stderr_to(args.stderr_log):
        return asyncio.run(replay(args) if args.replay else fuzz(args))


if __name__ == "__main__":
    sys.exit(main())
