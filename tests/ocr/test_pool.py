"""Decoding limits, domain errors from workers, backpressure and recovery from a crashed worker."""

from __future__ import annotations

import asyncio
import io
import os
import signal

import pytest
from PIL import Image

from mivaa_ocr.imaging import decode
from mivaa_ocr.pool import OcrPool, RecognizeOptions
from mivaa_platform.errors import FailedPrecondition, Internal, InvalidArgument, ResourceExhausted, Unavailable
from tests.ocr import faults
from tests.ocr.conftest import require_engine
from tests.ocr.groundtruth import render_text_page


def _encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.fixture(scope="module")
def small_page() -> Image.Image:
    return render_text_page(["Small page for the decoding tests."], dpi=100)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_accepted_formats(small_page, fmt):
    decoded = decode(_encoded(small_page, fmt, dpi=(100, 100)))
    assert decoded.format == fmt and decoded.image.size == small_page.size and decoded.dpi == 100
    assert decode(_encoded(small_page, fmt), dpi=300).dpi == 300  # the caller's dpi wins


def test_transparent_and_sixteen_bit_images_are_normalised(small_page):
    rgba = small_page.convert("RGBA")
    rgba.putalpha(255)
    assert decode(_encoded(rgba, "PNG")).image.mode == "RGB"
    sixteen = small_page.convert("I;16")
    assert decode(_encoded(sixteen, "PNG")).image.mode == "L"


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "IMAGE_UNREADABLE"),
        (b"this is not an image at all", "IMAGE_UNREADABLE"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "IMAGE_UNREADABLE"),
    ],
)
def test_unreadable_bytes(data, reason):
    with pytest.raises(InvalidArgument) as failure:
        decode(data)
    assert failure.value.reason == reason


def test_truncated_image_is_unreadable(small_page):
    data = _encoded(small_page, "PNG")
    with pytest.raises(InvalidArgument) as failure:
        decode(data[: len(data) // 2])
    assert failure.value.reason == "IMAGE_UNREADABLE"


def test_other_formats_are_refused(small_page):
    with pytest.raises(InvalidArgument) as failure:
        decode(_encoded(small_page, "GIF"))
    assert failure.value.reason == "IMAGE_FORMAT_UNSUPPORTED"


def test_huge_images_are_refused_before_decoding():
    # 9000 x 9000 = 81 megapixels, as a tiny PNG: only the header is read
    data = _encoded(Image.new("1", (9000, 9000), 1), "PNG")
    assert len(data) < 100_000
    with pytest.raises(InvalidArgument) as failure:
        decode(data)
    assert failure.value.reason == "IMAGE_TOO_LARGE"
    assert failure.value.metadata["max_pixels"] == "60000000"


async def test_domain_errors_cross_the_process_boundary(ocr_pool, small_page):
    require_engine("tesseract")
    with pytest.raises(InvalidArgument) as failure:
        await ocr_pool.recognize("7", b"garbage", 0, RecognizeOptions())
    assert (failure.value.reason, failure.value.metadata["page_id"]) == ("IMAGE_UNREADABLE", "7")
    with pytest.raises(FailedPrecondition) as failure:
        await ocr_pool.recognize("7", _encoded(small_page, "PNG"), 0, RecognizeOptions(languages=("xyz",)))
    assert failure.value.reason == "LANGUAGE_NOT_AVAILABLE"
    assert "eng" in failure.value.metadata["installed"].split(",")
    with pytest.raises(FailedPrecondition) as failure:
        await ocr_pool.recognize("7", _encoded(small_page, "PNG"), 0, RecognizeOptions(engine="abbyy"))
    assert failure.value.reason == "ENGINE_NOT_AVAILABLE"


async def test_not_ready_before_start():
    require_engine("tesseract")
    pool = OcrPool(("tesseract",), processes=1)
    with pytest.raises(Unavailable) as failure:
        await pool.recognize("1", b"", 0, RecognizeOptions())
    assert failure.value.reason == "ENGINES_LOADING"
    await pool.close()


async def test_backpressure_bounds_pages_in_flight(ocr_pool, small_page):
    require_engine("tesseract")
    data = _encoded(small_page, "PNG")
    tasks = [
        asyncio.create_task(ocr_pool.recognize(str(i), data, 100, RecognizeOptions(engine="tesseract")))
        for i in range(12)
    ]
    await asyncio.sleep(0.05)
    assert ocr_pool._slots._value == 0
    results = await asyncio.gather(*tasks)
    assert sorted(int(r.page_id) for r in results) == list(range(12))
    assert ocr_pool._slots._value == ocr_pool.max_in_flight


async def test_a_crashed_worker_is_a_domain_error_and_the_pool_recovers():
    require_engine("tesseract")
    page = render_text_page(dpi=300)
    data = _encoded(page, "PNG")
    pool = OcrPool(("tesseract",), processes=1)
    await pool.start()
    try:
        running = asyncio.create_task(pool.recognize("1", data, 300, RecognizeOptions(correct_orientation=True)))
        await asyncio.sleep(0.3)
        for pid in pool.worker_pids():
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(Internal) as failure:
            await running
        assert failure.value.reason == "OCR_WORKER_CRASHED"
        result = await pool.recognize("2", data, 300, RecognizeOptions())
        assert "river town" in result.text
    finally:
        await pool.close()


async def test_a_hung_or_crashing_page_fails_alone_and_the_others_go_on(small_page):
    """Per-page isolation: the hung page is killed at its time limit, the crashing one reported; the rest are read."""
    require_engine("tesseract")
    data = _encoded(small_page, "PNG")
    pool = OcrPool(("tesseract",), processes=2, page_timeout=3.0)
    await pool.start()
    pool.recognize_function = faults.recognize_with_faults
    try:
        ids = [faults.HANG, "1", faults.CRASH, "2", "3"]
        results = await asyncio.gather(
            *(pool.recognize(page_id, data, 100, RecognizeOptions()) for page_id in ids), return_exceptions=True
        )
        outcome = dict(zip(ids, results, strict=True))
        assert isinstance(outcome[faults.HANG], ResourceExhausted), outcome
        assert outcome[faults.HANG].reason == "OCR_PAGE_TIMEOUT"
        assert outcome[faults.HANG].metadata == {"page_id": faults.HANG, "timeout_seconds": "3"}
        assert isinstance(outcome[faults.CRASH], Internal), outcome
        assert (outcome[faults.CRASH].reason, outcome[faults.CRASH].metadata["page_id"]) == (
            "OCR_WORKER_CRASHED",
            faults.CRASH,
        )
        for page_id in ("1", "2", "3"):
            assert outcome[page_id].page_id == page_id and "decoding tests" in outcome[page_id].text, outcome[page_id]
        assert (await pool.recognize("4", data, 100, RecognizeOptions())).page_id == "4"
        assert len(pool.worker_pids()) == 2
    finally:
        await pool.close()
