"""Page extraction: extract_page_range in-process, PageExtractor through supervised worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

import pymupdf
import pytest

from mivaa_extractor.extraction.structure import page_analysis, text_cleanup
from mivaa_extractor.extraction.structure.model import BlockKind, PageLayout
from mivaa_extractor.extraction.text_extraction import PageExtractor, extract_page_range
from mivaa_platform.errors import ErrorKind, MivaaError


def phrase(number: int) -> str:
    return f"unique phrase number {number} zebra{number:03d}"


def write_pdf(path: Path, pages: int, **save_options) -> Path:
    """Page N says "Page N" and carries phrase(N): known ground truth per page."""
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        page = doc.new_page()
        page.insert_text((72, 72), f"Page {number}")
        page.insert_text((72, 200), f"This page carries the {phrase(number)}.")
    doc.save(path, **save_options)
    doc.close()
    return path


@pytest.fixture(scope="session")
def five_pages(tmp_path_factory) -> Path:
    return write_pdf(tmp_path_factory.mktemp("pdf") / "five.pdf", 5)


@pytest.fixture(scope="session")
def many_pages(tmp_path_factory) -> Path:
    return write_pdf(tmp_path_factory.mktemp("pdf") / "many.pdf", 120)


@pytest.fixture(scope="session")
def encrypted(tmp_path_factory) -> Path:
    return write_pdf(
        tmp_path_factory.mktemp("pdf") / "encrypted.pdf",
        3,
        encryption=pymupdf.PDF_ENCRYPT_AES_256,
        user_pw="user-pw",
        owner_pw="owner-pw",
    )


@pytest.fixture(scope="session")
def extractor():
    pages = PageExtractor(workers=2)
    yield pages
    pages.close()


async def collect(extractor: PageExtractor, path: Path, page_count: int, password=None, batch_pages=16):
    batches = [batch async for batch in extractor.iter_pages(path, password, page_count, batch_pages=batch_pages)]
    return batches, [page for batch in batches for page in batch]


# --- extract_page_range ----------------------------------------------------------------


def test_each_page_has_its_own_text(five_pages: Path):
    pages = extract_page_range(str(five_pages), None, 0, 5)
    assert [page.number for page in pages] == [1, 2, 3, 4, 5]
    for page in pages:
        assert page.error is None
        # "Page N" at the top of every page is its page number: furniture, not text.
        assert page.text == f"This page carries the {phrase(page.number)}."
        assert [b.text for b in page.blocks if b.kind is BlockKind.PAGE_NUMBER] == [f"Page {page.number}"]
        for other in range(1, 6):
            assert (phrase(other) in page.text) == (other == page.number)


def test_range_is_zero_based_and_half_open(five_pages: Path):
    assert [page.number for page in extract_page_range(str(five_pages), None, 1, 3)] == [2, 3]
    assert [page.number for page in extract_page_range(str(five_pages), None, 4, 5)] == [5]
    assert extract_page_range(str(five_pages), None, 2, 2) == []


@pytest.mark.parametrize(("first", "last"), [(-1, 2), (3, 2), (0, 6), (5, 7)])
def test_range_outside_the_document(five_pages: Path, first: int, last: int):
    with pytest.raises(MivaaError) as caught:
        extract_page_range(str(five_pages), None, first, last)
    assert caught.value.reason == "PAGE_RANGE_INVALID"


def test_a_failing_page_gives_an_error_entry(five_pages: Path, monkeypatch):
    real = page_analysis.PageAnalyzer.analyze

    def flaky(self, number):
        if number == 3:
            raise RuntimeError("code=7: MuPDF internals that must not leak")
        return real(self, number)

    monkeypatch.setattr(page_analysis.PageAnalyzer, "analyze", flaky)
    pages = extract_page_range(str(five_pages), None, 0, 5)
    assert [page.number for page in pages] == [1, 2, 3, 4, 5]
    bad = pages[2]
    assert bad.text == "" and bad.error.reason == "PAGE_EXTRACTION_FAILED" and "3" in bad.error.message
    assert "internals" not in bad.error.message
    assert all(page.error is None and phrase(page.number) in page.text for page in pages if page.number != 3)


def test_encrypted_document(encrypted: Path):
    pages = extract_page_range(str(encrypted), "user-pw", 0, 3)
    assert [phrase(page.number) in page.text for page in pages] == [True, True, True]
    for password, supplied in ((None, "false"), ("nope", "true")):
        with pytest.raises(MivaaError) as caught:
            extract_page_range(str(encrypted), password, 0, 1)
        assert caught.value.reason == "PDF_ENCRYPTED"
        assert caught.value.metadata == {"password_supplied": supplied}


def test_unreadable_document(tmp_path: Path):
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    with pytest.raises(MivaaError) as caught:
        extract_page_range(str(path), None, 0, 1)
    assert caught.value.reason == "PDF_UNREADABLE"


def single_page_text(tmp_path: Path, draw) -> str:
    doc = pymupdf.open()
    draw(doc.new_page())
    path = tmp_path / "page.pdf"
    doc.save(path)
    doc.close()
    (page,) = extract_page_range(str(path), None, 0, 1)
    assert page.error is None
    return page.text


def test_hyphenated_line_breaks_are_joined(tmp_path: Path):
    text = single_page_text(
        tmp_path,
        lambda page: page.insert_text(
            (72, 72),
            "This is an exam-\nple of a hyphen-\nated paragraph about Vitamin-\n"
            "C and the well-\nknown self- \nassessment.",
        ),
    )
    assert "This is an example of a hyphenated paragraph about Vitamin-C and the wellknown" in text
    assert "exam-" not in text and "\n" not in text


def test_blocks_stay_apart_and_lines_reflow(tmp_path: Path):
    def draw(page):
        page.insert_text((72, 72), "First paragraph, line one\nand line two.")
        page.insert_text((72, 300), "Second paragraph.")
        page.insert_text((72, 500), "Third paragraph.")

    assert single_page_text(tmp_path, draw) == (
        "First paragraph, line one and line two.\n\nSecond paragraph.\n\nThird paragraph."
    )


def test_whitespace_is_normalised(tmp_path: Path):
    def draw(page):
        page.insert_text((72, 72), "  spaced    out\u00a0\u00a0text\t here  ")

    assert single_page_text(tmp_path, draw) == "spaced out text here"


def test_soft_hyphen_and_control_characters(tmp_path: Path):
    assert text_cleanup.join_lines(["inter\u00ad", "national\x07 bell\x00"]) == "international bell"
    assert text_cleanup.join_lines(["one--", "and -", "two"]) == "one-- and - two"


def test_empty_page_has_empty_text(tmp_path: Path):
    assert single_page_text(tmp_path, lambda page: None) == ""


def test_extraction_is_quiet_on_stderr(tmp_path: Path, five_pages: Path, capfd):
    data = five_pages.read_bytes()
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(data[: data.rindex(b"startxref")] + b"%%EOF\n")
    pages = extract_page_range(str(damaged), None, 0, 5)
    assert all(phrase(page.number) in page.text for page in pages)
    assert capfd.readouterr().err == ""


# --- PageExtractor -------------------------------------------------------------------


async def test_pages_arrive_in_order_in_batches(extractor: PageExtractor, many_pages: Path):
    batches, pages = await collect(extractor, many_pages, 120, batch_pages=7)
    assert [len(batch) for batch in batches] == [7] * 17 + [1]
    assert [page.number for page in pages] == list(range(1, 121))
    assert all(phrase(page.number) in page.text for page in pages)


async def test_same_text_as_in_process(extractor: PageExtractor, five_pages: Path):
    _, pages = await collect(extractor, five_pages, 5, batch_pages=2)
    assert pages == extract_page_range(str(five_pages), None, 0, 5)


async def test_zero_pages_yields_nothing(extractor: PageExtractor, five_pages: Path):
    assert (await collect(extractor, five_pages, 0))[0] == []


async def test_bad_arguments(extractor: PageExtractor, five_pages: Path):
    with pytest.raises(ValueError):
        await collect(extractor, five_pages, 5, batch_pages=0)
    with pytest.raises(ValueError):
        PageExtractor(workers=0)


async def test_domain_errors_cross_the_process_boundary(extractor: PageExtractor, encrypted: Path):
    with pytest.raises(MivaaError) as caught:
        await collect(extractor, encrypted, 3, password="wrong")
    assert caught.value.reason == "PDF_ENCRYPTED"
    assert caught.value.kind is ErrorKind.FAILED_PRECONDITION
    assert caught.value.metadata == {"password_supplied": "true"}
    _, pages = await collect(extractor, encrypted, 3, password="owner-pw")
    assert [phrase(page.number) in page.text for page in pages] == [True] * 3


async def test_pages_the_document_does_not_have_are_page_errors(extractor: PageExtractor, five_pages: Path):
    # The service asks for the page count validation saw; a page tree that MuPDF
    # repairs down to fewer pages costs those pages, not the document.
    _, pages = await collect(extractor, five_pages, 6, batch_pages=2)
    assert [page.number for page in pages] == [1, 2, 3, 4, 5, 6]
    assert all(page.error is None for page in pages[:5])
    assert pages[5].error.reason == "PAGE_EXTRACTION_FAILED" and "6" in pages[5].error.message


async def test_event_loop_stays_responsive(extractor: PageExtractor, many_pages: Path):
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker():
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    try:
        _, pages = await collect(extractor, many_pages, 120, batch_pages=4)
    finally:
        done.set()
        await task
    assert len(pages) == 120
    assert len(gaps) > 3
    assert max(gaps) < 0.5, f"the event loop was blocked for {max(gaps):.3f}s"


async def test_batches_in_flight_are_bounded(many_pages: Path):
    extractor = PageExtractor(workers=1, max_in_flight=2)
    real = extractor._extract_range
    running = 0
    most = 0

    async def counted(*args):
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            return await real(*args)
        finally:
            running -= 1

    extractor._extract_range = counted
    try:
        async for batch in extractor.iter_pages(many_pages, None, 120, batch_pages=2):
            await asyncio.sleep(0.01)  # a slow consumer: the workers must not run ahead unbounded
            assert batch
        assert most <= 2
    finally:
        extractor.close()


async def test_stopping_early_cancels_the_rest(extractor: PageExtractor, many_pages: Path):
    async with contextlib.aclosing(extractor.iter_pages(many_pages, None, 120, batch_pages=1)) as batches:
        async for batch in batches:
            assert batch[0].number == 1
            break
    # The pool serves the next document in full: nothing of the abandoned one leaks into it.
    _, pages = await collect(extractor, many_pages, 120)
    assert [page.number for page in pages] == list(range(1, 121))


async def test_a_killed_worker_costs_one_page_and_the_document_goes_on(many_pages: Path, five_pages: Path):
    extractor = PageExtractor(workers=1)
    try:
        pages: list[PageLayout] = []
        async for batch in extractor.iter_pages(many_pages, None, 120, batch_pages=40):
            pages.extend(batch)
            if batch[0].number == 1:
                for pid in extractor.worker_pids():
                    os.kill(pid, signal.SIGKILL)
        assert [page.number for page in pages] == list(range(1, 121))
        failed = [page for page in pages if page.error]
        assert len(failed) <= 1
        assert all(page.error.reason == "PAGE_WORKER_CRASHED" for page in failed)
        assert sum(phrase(page.number) in page.text for page in pages) >= 119
        _, pages = await collect(extractor, five_pages, 5)
        assert [page.number for page in pages] == [1, 2, 3, 4, 5]
    finally:
        extractor.close()


async def test_closed_extractor_refuses_work(five_pages: Path):
    extractor = PageExtractor(workers=1)
    _, pages = await collect(extractor, five_pages, 5)
    assert len(pages) == 5
    await extractor.aclose()
    with pytest.raises(MivaaError) as caught:
        await collect(extractor, five_pages, 5)
    assert caught.value.reason == "EXTRACTOR_CLOSED"


# --- corpus --------------------------------------------------------------------------


@pytest.mark.corpus
async def test_corpus_geotopo_all_pages_in_order(corpus: Path, extractor: PageExtractor):
    path = corpus / "GeoTopo-komprimiert.pdf"
    batches, pages = await collect(extractor, path, 117, batch_pages=16)
    assert len(batches) == 8
    assert [page.number for page in pages] == list(range(1, 118))
    assert all(page.error is None for page in pages)
    assert sum(bool(page.text.strip()) for page in pages) >= 110
    assert "Geometrie und Topologie" in pages[0].text
    assert pages == extract_page_range(str(path), None, 0, 117)  # the same text in every process


@pytest.mark.corpus
async def test_corpus_encrypted_through_the_pool(corpus: Path, extractor: PageExtractor):
    path = corpus / "libreoffice-writer-password.pdf"
    _, pages = await collect(extractor, path, 1, password="openpassword")
    assert pages[0].text.startswith("Lorem ipsum dolor sit amet, consetetur sadipscing elitr")
    with pytest.raises(MivaaError) as caught:
        await collect(extractor, path, 1)
    assert caught.value.reason == "PDF_ENCRYPTED"


@pytest.mark.corpus
def test_corpus_two_columns_read_column_by_column(corpus: Path):
    (page,) = extract_page_range(str(corpus / "multicolumn.pdf"), None, 0, 1)
    # The left column ends with "Nulla malesuada ..."; the right one starts with "pellentesque ante".
    assert page.text.index("Nulla malesuada porttitor diam") < page.text.index("pellentesque ante")
    assert "adipiscing elit" in page.text  # "adip-" / "iscing" joined


@pytest.mark.corpus
def test_corpus_unreadable_metadata(corpus: Path):
    # MuPDF opens it (after repairing the xref) but finds no page: nothing to extract.
    assert extract_page_range(str(corpus / "unreadablemetadata.pdf"), None, 0, 0) == []
    with pytest.raises(MivaaError) as caught:
        extract_page_range(str(corpus / "unreadablemetadata.pdf"), None, 0, 1)
    assert caught.value.reason == "PAGE_RANGE_INVALID"


def test_page_layout_is_a_plain_picklable_value(five_pages: Path):
    import pickle

    pages = extract_page_range(str(five_pages), None, 0, 2)
    assert pickle.loads(pickle.dumps(pages)) == pages


# --- per-page limits: real faults injected on page 3 ----------------------------------


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("hang_on_page", "PAGE_TIMEOUT"),
        ("segfault_on_page", "PAGE_WORKER_CRASHED"),
        ("allocate_on_page", "PAGE_MEMORY_LIMIT"),
    ],
)
async def test_a_page_that_hangs_crashes_or_blows_memory_is_reported_and_the_rest_comes_out(
    five_pages: Path, fault: str, reason: str
):
    from tests.extractor import page_faults

    extractor = PageExtractor(workers=1, page_time_limit=2.0, memory_limit_bytes=1536 << 20)
    extractor.analyze_function = getattr(page_faults, fault)
    try:
        started = time.monotonic()
        _, pages = await collect(extractor, five_pages, 5, batch_pages=5)
        assert time.monotonic() - started < 30
        assert [page.number for page in pages] == [1, 2, 3, 4, 5]
        assert pages[2].error is not None and pages[2].error.reason == reason
        assert "3" in pages[2].error.message
        assert all(page.error is None and phrase(page.number) in page.text for page in pages if page.number != 3)
        # The pool is healthy afterwards.
        extractor.analyze_function = page_faults.analyze_page_range
        _, pages = await collect(extractor, five_pages, 5)
        assert all(page.error is None for page in pages)
    finally:
        await extractor.aclose()


async def test_document_time_limit_reports_the_pages_not_reached(many_pages: Path):
    from tests.extractor import page_faults

    extractor = PageExtractor(workers=1, page_time_limit=60.0)
    extractor.analyze_function = page_faults.hang_on_page
    try:
        pages = [
            page
            async for batch in extractor.iter_pages(many_pages, None, 10, batch_pages=5, time_limit=2.0)
            for page in batch
        ]
        assert [page.number for page in pages] == list(range(1, 11))
        assert [page.error is None for page in pages[:2]] == [True, True]
        assert {page.error.reason for page in pages[2:]} == {"DOCUMENT_TIME_LIMIT"}
    finally:
        await extractor.aclose()
