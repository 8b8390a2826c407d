"""Engines load in a worker when a page first asks for them: EasyOCR's torch stays out of idle workers."""

from __future__ import annotations

import io
import pathlib

import pytest

from mivaa_ocr.pool import OcrPool, RecognizeOptions, resolve_preload, worker_bytes
from mivaa_platform.errors import FailedPrecondition
from tests.ocr.conftest import require_engine
from tests.ocr.groundtruth import render_text_page


def _holds_torch(pid: int) -> bool:
    """Whether the process has torch's native library mapped (it is, once torch is imported)."""
    maps = pathlib.Path(f"/proc/{pid}/maps").read_text()
    return "libtorch" in maps


def _png(text: str) -> bytes:
    out = io.BytesIO()
    render_text_page([text], dpi=200).save(out, format="PNG")
    return out.getvalue()


def test_preload_follows_the_default_engine():
    both = ("tesseract", "easyocr")
    assert resolve_preload(("auto",), both, "easyocr") == ("easyocr",)
    assert resolve_preload(("all",), both, "auto") == both
    assert resolve_preload(("easyocr",), both, "auto") == ("easyocr",)
    with pytest.raises(FailedPrecondition) as failure:
        resolve_preload(("nonesuch",), both, "auto")
    assert failure.value.reason == "ENGINE_NOT_AVAILABLE"


@pytest.mark.skipif(not pathlib.Path("/proc/self/maps").exists(), reason="needs /proc to read a worker's libraries")
async def test_easyocr_loads_on_its_first_page_and_not_before():
    require_engine("tesseract")
    require_engine("easyocr")
    pool = OcrPool(("auto",), processes=1)
    if pool.preloaded != ("tesseract",):
        pytest.skip(f"a GPU is visible here, so every engine is preloaded: {pool.preloaded}")
    try:
        await pool.start()
        # Both engines are offered, described by a probe process that is gone again.
        engines = {info.name: info for info in pool.engines()}
        assert set(engines) == {"tesseract", "easyocr"} and "en" in engines["easyocr"].languages
        assert pool.default_engine == "tesseract"
        (worker,) = pool.worker_pids()
        assert not _holds_torch(worker)
        read = await pool.recognize("1", _png("Tesseract reads this line."), 200, RecognizeOptions())
        assert read.engine == "tesseract" and "Tesseract" in read.text
        assert not _holds_torch(worker)
        # The first EasyOCR page loads it in that worker, and it reads.
        easy = await pool.recognize("2", _png("EasyOCR reads this line."), 200, RecognizeOptions(engine="easyocr"))
        assert easy.engine == "easyocr" and "EasyOCR" in easy.text
        assert pool.worker_pids() == [worker] and _holds_torch(worker)
    finally:
        await pool.close()


def test_workers_are_sized_for_every_offered_engine_unless_set():
    require_engine("tesseract")
    tesseract_only = OcrPool(("tesseract",))
    assert tesseract_only.sizing.per_worker_bytes == worker_bytes(("tesseract",)) == 110 << 20
    assert tesseract_only.processes == tesseract_only.sizing.workers >= 1
    assert tesseract_only.sizing.limited_by in ("cores", "memory")
    require_engine("easyocr")
    both = OcrPool(("auto",))  # a worker may load EasyOCR on a page's request: sized for it too
    assert both.sizing.per_worker_bytes == worker_bytes(("tesseract", "easyocr")) == 660 << 20
    assert both.processes <= tesseract_only.processes
    chosen = OcrPool(("auto",), processes=3, worker_memory_bytes=1 << 30)
    assert (chosen.processes, chosen.sizing.limited_by, chosen.sizing.per_worker_bytes) == (3, "setting", 1 << 30)
