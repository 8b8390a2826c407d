"""Page text extraction: extract_page_range in-process, PageExtractor through worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pymupdf
import pytest

from mivaa_extractor import text_extraction
from mivaa_extractor.text_extraction import PageExtractor, PageText, extract_page_range
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
        assert page.text == f"Page {page.number}\n\nThis page carries the {phrase(page.number)}."
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
    real = text_extraction.page_text

    def flaky(page):
        if page.number == 2:  # the third page, 0-based
            raise RuntimeError("code=7: MuPDF internals that must not leak")
        return real(page)

    monkeypatch.setattr(text_extraction, "page_text", flaky)
    pages = extract_page_range(str(five_pages), None, 0, 5)
    assert [page.number for page in pages] == [1, 2, 3, 4, 5]
    bad = pages[2]
    assert bad.text == "" and bad.error and "3" in bad.error
    assert "internals" not in bad.error
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
    assert text_extraction._reflow("inter\u00ad\nnational\x07 bell\x00") == "international bell"
    assert text_extraction._reflow("one--\nand -\ntwo") == "one-- and - two"


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


async def test_page_count_beyond_the_document_fails_cleanly(extractor: PageExtractor, five_pages: Path):
    with pytest.raises(MivaaError) as caught:
        await collect(extractor, five_pages, 6, batch_pages=2)
    assert caught.value.reason == "PAGE_RANGE_INVALID"


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
    try:
        seen: list[int] = []
        async for batch in extractor.iter_pages(many_pages, None, 120, batch_pages=2):
            await asyncio.sleep(0.01)  # a slow consumer: the workers must not run ahead unbounded
            seen.append(len(extractor._pool._pending_work_items))
            assert batch
        assert max(seen) <= 2
    finally:
        extractor.close()


async def test_stopping_early_cancels_the_rest(extractor: PageExtractor, many_pages: Path):
    async with contextlib.aclosing(extractor.iter_pages(many_pages, None, 120, batch_pages=1)) as batches:
        async for batch in batches:
            assert batch[0].number == 1
            break
    for _ in range(200):
        if not extractor._pool._pending_work_items:
            break
        await asyncio.sleep(0.01)
    assert not extractor._pool._pending_work_items
    _, pages = await collect(extractor, many_pages, 120)
    assert len(pages) == 120


async def test_worker_crash_is_a_domain_error_and_the_pool_recovers(many_pages: Path, five_pages: Path):
    extractor = PageExtractor(workers=1)
    try:
        crashed_pool = None
        with pytest.raises(MivaaError) as caught:
            async for batch in extractor.iter_pages(many_pages, None, 120, batch_pages=1):
                if batch[0].number == 1:
                    crashed_pool = extractor._pool
                    for process in list(crashed_pool._processes.values()):
                        process.kill()
        assert caught.value.reason == "EXTRACTION_WORKER_CRASHED"
        assert caught.value.kind is ErrorKind.INTERNAL
        assert caught.value.domain == "extractor.mivaa"
        # The next document gets a fresh pool.
        _, pages = await collect(extractor, five_pages, 5)
        assert [page.number for page in pages] == [1, 2, 3, 4, 5]
        assert extractor._pool is not crashed_pool
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


def test_page_text_is_a_plain_picklable_value():
    import pickle

    page = PageText(number=3, text="x", error=None, warnings=("w",))
    assert pickle.loads(pickle.dumps(page)) == page
