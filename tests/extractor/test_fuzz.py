"""Mutation fuzzing of upload validation and page extraction, driven by hypothesis.

Each example is a seed PDF (generated here with PyMuPDF: text, an image, a
ruled table, an outline, links, in several serialisations; plus, when
../shared/corpus is present, a handful of small corpus files) with one to
three mutations stacked on it (bit flips, truncation, deleted / duplicated
ranges, splices of two seeds, a corrupted startxref or xref entry, numbers
replaced in the object syntax and inside (decoded) object and content streams,
stream lengths zeroed, keywords damaged, deep nesting; see
tests/support/pdf_mutations.py, shared with bench/fuzz_extract.py). It goes
through the service's own code: UploadValidator.validate (the Ingestor's entry:
validate_pdf in a supervised worker process with a time limit), then, when
validation passes, PageExtractor.iter_pages over every page.
The contract: a MivaaError with an UPPER_SNAKE reason, or pages 1..N in order,
each without error or with a known page error reason; nothing else, no hang.
After every example the extractor must still extract a known-good PDF.

Event loop design. The extractor's worker pool belongs to the event loop it is
first used on, and hypothesis drives plain synchronous test functions (its
examples are called one after another, and shrinking re-runs them). So the
module owns one private event loop (`asyncio.new_event_loop()` in a
module-scoped fixture), creates the harness (PageExtractor(workers=2) plus the
validator process) inside it, and each example runs
`loop.run_until_complete(...)` on that same loop. Sync tests run while no
other loop is running in the thread (pytest-asyncio's session loop only runs
during async tests), so this is safe; the fixture closes the extractor on its
loop and then the loop. Pages get a 3 s time limit and documents 15 s, so a
hostile example costs seconds, not minutes.

Bounded for CI: derandomized (the same examples every run, no example
database written), 150 examples, under 10 s in all on 2 cores. For thousands of
cases run `bench/fuzz_extract.py`.
"""

from __future__ import annotations

import asyncio
import pathlib

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from mivaa_extractor.extraction.structure.model import PageError, PageLayout
from mivaa_extractor.extraction.text_extraction import analyze_page_range
from tests.support.pdf_mutations import (
    MAX_RAW,
    MUTATION_KINDS,
    Case,
    Mutation,
    ServiceHarness,
    check_pages,
    corpus_seeds,
    generated_seeds,
    is_reason,
    save_input,
)
from tests.support.pdfs import make_pdf

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
# Where tests/conftest.py looks for the corpus; absent is fine here (generated seeds only).
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
FAILURES = REPO_ROOT / ".cache" / "fuzz-failures"

SEEDS = generated_seeds() + corpus_seeds(CORPUS)
SEED = {seed.name: seed for seed in SEEDS}

raw = st.integers(min_value=0, max_value=MAX_RAW)
mutations = st.builds(Mutation, kind=st.sampled_from(MUTATION_KINDS), a=raw, b=raw, c=raw)
cases = st.builds(Case, seed=st.sampled_from(SEEDS), mutations=st.lists(mutations, min_size=1, max_size=3).map(tuple))


class LoopHarness:
    """A ServiceHarness on a private event loop, called from synchronous code."""

    def __init__(self, workdir: pathlib.Path):
        self.loop = asyncio.new_event_loop()
        self.harness = ServiceHarness(workdir, workers=2, page_time_limit=3.0, document_time_limit=15.0)
        self.loop.run_until_complete(self.harness.start())

    def run(self, data: bytes, password: str | None = None):
        return self.loop.run_until_complete(self.harness.run(data, password))

    def known_good_ok(self) -> str | None:
        return self.loop.run_until_complete(self.harness.known_good_ok())

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.harness.close())
        finally:
            self.loop.close()


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    loop_harness = LoopHarness(tmp_path_factory.mktemp("fuzz"))
    try:
        yield loop_harness
    finally:
        loop_harness.close()


def check(harness: LoopHarness, case: Case) -> None:
    data = case.build(SEEDS)
    outcome = harness.run(data, case.password)
    event(f"{outcome.status} {outcome.reason}".strip())
    if outcome.page_errors:
        event("page errors: " + ",".join(sorted(outcome.page_errors)))
    if outcome.violation:
        saved = save_input(FAILURES, data, outcome, case.describe())
        pytest.fail(
            f"contract broken ({outcome.violation}) by {case.describe()}; input saved as {saved}\n{outcome.detail}"
        )
    broken = harness.known_good_ok()
    assert broken is None, f"after {case.describe()}: {broken}"


def test_the_checks_catch_a_broken_contract():
    """The harness's own checks are not vacuous."""
    assert check_pages([PageLayout(number=1), PageLayout(number=2)], 2).violation is None
    assert check_pages([PageLayout(number=2), PageLayout(number=1)], 2).violation == "PAGE_NUMBERS"
    assert check_pages([PageLayout(number=1)], 2).violation == "PAGE_NUMBERS"
    failed = PageLayout(number=1, error=PageError("PAGE_TIMEOUT", "Page 1 took too long."))
    assert check_pages([failed], 1).violation is None
    unknown = PageLayout(number=1, error=PageError("SOMETHING_ELSE", "?"))
    assert check_pages([unknown], 1).violation == "UNKNOWN_PAGE_ERROR"
    assert is_reason("PDF_UNREADABLE") and is_reason("PAGE_TIMEOUT")
    assert not any(is_reason(value) for value in ("", "pdf_unreadable", "Pdf Unreadable", "_X", "X__Y", None))


def test_a_crashed_page_keeps_the_contract_and_restarts_a_worker(harness: LoopHarness):
    """A worker segfault on page 3 (injected): the page is reported, the others extracted, a new worker seen."""
    from tests.extractor.page_faults import FAULT_PAGE, segfault_on_page

    extractor = harness.harness.extractor
    before = harness.harness.worker_restarts()
    extractor.analyze_function = segfault_on_page
    try:
        outcome = harness.run(make_pdf("fuzzcrash", 5))
    finally:
        extractor.analyze_function = analyze_page_range
    assert outcome.violation is None, outcome
    assert outcome.status == "extracted" and outcome.page_count == 5, outcome
    assert outcome.page_errors == {"PAGE_WORKER_CRASHED": 1}, (FAULT_PAGE, outcome)
    assert harness.harness.worker_restarts() > before
    assert harness.known_good_ok() is None


def test_seeds_extract_cleanly(harness: LoopHarness):
    """The unmutated seeds are good PDFs: extracted, no page errors, text where they have text."""
    for seed in SEEDS:
        outcome = harness.run(seed.data, seed.password)
        assert outcome.violation is None, (seed, outcome)
        assert outcome.status == "extracted" and not outcome.page_errors, (seed, outcome)
        if seed.has_text:
            assert outcome.text_chars > 0, (seed, outcome)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases)
@example(case=Case(SEED["gen-text"], (Mutation("startxref", 3, 0, 1),)))
@example(case=Case(SEED["gen-all-objstm"], (Mutation("startxref", 9, 0, 1), Mutation("stream_number", 1, 2, 3))))
@example(case=Case(SEED["gen-all-objstm"], (Mutation("zero_length", 0, 0, 0),)))
@example(case=Case(SEED["gen-all-plain"], (Mutation("xref_entry", 5, 8, 0), Mutation("number", 17, 4, 2))))
@example(case=Case(SEED["gen-incremental"], (Mutation("truncate", 100, 0, 1),)))
@example(case=Case(SEED["gen-link"], (Mutation("nest", 2, 0, 24),)))
@example(case=Case(SEED["gen-all-encrypted"], (Mutation("flip_near_token", 11, 5, 3),)))
@example(case=Case(SEED["gen-image"], (Mutation("splice", 4000, 900, 3),)))
def test_mutated_pdf_keeps_the_contract(harness: LoopHarness, case: Case):
    check(harness, case)


def test_extractor_still_serves_after_fuzzing(harness: LoopHarness):
    assert harness.known_good_ok() is None
    extractor = harness.harness.extractor
    assert len(extractor.worker_pids()) <= extractor.workers


# ---- findings of the fuzzer, kept as regression tests ------------------------------------
# Both kept the contract (a MivaaError with a reason) but lost a document that
# validation had accepted.


def test_overstated_page_count_keeps_the_good_pages(harness: LoopHarness):
    data = SEED["gen-text"].data.replace(b"/Count 2", b"/Count 5", 1)
    outcome = harness.run(data)
    assert outcome.violation is None, outcome
    assert outcome.status == "extracted", outcome
    assert outcome.page_count == 5
    assert outcome.page_errors == {"PAGE_EXTRACTION_FAILED": 3}, outcome


def test_prev_offset_past_the_end_is_treated_alike_by_validation_and_extraction(harness: LoopHarness):
    data = SEED["gen-incremental"].data
    assert b"/Prev " in data
    start = data.index(b"/Prev ") + len(b"/Prev ")
    end = start
    while data[end : end + 1].isdigit():
        end += 1
    data = data[:start] + b"9223372036854775807" + data[end:]
    outcome = harness.run(data)
    assert outcome.violation is None, outcome
    # Either both reject it or both read it; not accepted at upload and then lost.
    assert outcome.stage != "extraction", outcome
