"""Recognition quality against ground truth by construction (text rendered with PyMuPDF).

Bounds (CER on whitespace-normalised text):
- Tesseract: <= 1% on the clean 200-DPI page, <= 3% on every degraded variant after
  orientation correction (measured: 0.0% everywhere except 0.1% at 100 DPI).
- EasyOCR: <= 3% on the clean page and the degraded variants tested here. Measured
  0.3-0.8% at 200 DPI and 1.7% at 100 DPI; its errors are almost all punctuation
  (commas dropped, "." read as "_" or ":"), which english_g2 handles less well than
  letters, so it gets the degraded-page bound on the clean page too. Word accuracy
  >= 90% for the same reason (a dropped comma costs a whole word).
"""

from __future__ import annotations

import asyncio

import pytest

from mivaa_ocr.pool import RecognizeOptions
from tests.ocr.conftest import require_engine
from tests.ocr.groundtruth import GERMAN_PARAGRAPH, cer, render_text_page, to_png, word_accuracy

TESSERACT_PAGES = [
    "clean-200dpi",
    "rotated-90",
    "rotated-180",
    "rotated-270",
    "skewed-3deg",
    "blur",
    "noise",
    "jpeg-q30",
    "low-100dpi",
]
# EasyOCR takes ~6 s of CPU per page here, so it reads a representative subset.
EASYOCR_PAGES = ["clean-200dpi", "rotated-180", "skewed-3deg", "noise", "jpeg-q30", "low-100dpi"]
BOUNDS = {"tesseract": (0.01, 0.03, 0.97), "easyocr": (0.03, 0.03, 0.90)}  # clean CER, degraded CER, word accuracy

_results: dict[str, dict] = {}


async def _read_all(pool, engine: str, names: list[str], clean_page, degraded_pages) -> dict:
    if engine not in _results:
        pages = {"clean-200dpi": clean_page, **degraded_pages}
        chosen = [pages[name] for name in names]
        results = await asyncio.gather(
            *(
                pool.recognize(page.name, page.png, page.dpi, RecognizeOptions(engine=engine, correct_orientation=True))
                for page in chosen
            )
        )
        _results[engine] = {page.name: (page, result) for page, result in zip(chosen, results, strict=True)}
    return _results[engine]


@pytest.mark.parametrize("name", TESSERACT_PAGES)
async def test_tesseract_quality(ocr_pool, clean_page, degraded_pages, name):
    require_engine("tesseract")
    page, result = (await _read_all(ocr_pool, "tesseract", TESSERACT_PAGES, clean_page, degraded_pages))[name]
    clean_bound, degraded_bound, word_bound = BOUNDS["tesseract"]
    error = cer(page.text, result.text)
    assert error <= (clean_bound if name == "clean-200dpi" else degraded_bound), (name, error, result.text)
    assert word_accuracy(page.text, result.text) >= word_bound
    assert result.rotation_degrees == page.rotation
    assert result.skew_degrees == pytest.approx(page.skew, abs=0.3)
    assert result.engine == "tesseract" and 0.8 <= result.confidence <= 1.0


@pytest.mark.parametrize("name", EASYOCR_PAGES)
async def test_easyocr_quality(ocr_pool, clean_page, degraded_pages, name):
    require_engine("easyocr")
    page, result = (await _read_all(ocr_pool, "easyocr", EASYOCR_PAGES, clean_page, degraded_pages))[name]
    clean_bound, degraded_bound, word_bound = BOUNDS["easyocr"]
    error = cer(page.text, result.text)
    assert error <= (clean_bound if name == "clean-200dpi" else degraded_bound), (name, error, result.text)
    assert word_accuracy(page.text, result.text) >= word_bound
    assert result.rotation_degrees == page.rotation
    assert result.engine == "easyocr" and result.confidence > 0.3


async def test_paragraphs_become_blocks(ocr_pool, clean_page):
    require_engine("tesseract")
    result = await ocr_pool.recognize("p", clean_page.png, 200, RecognizeOptions(engine="tesseract"))
    blocks = result.text.split("\n\n")
    assert len(blocks) == 3
    assert blocks[0].startswith("The river town") and blocks[2].endswith("center of the\nworld.")
    assert len(result.lines) == 12 and all(line.words for line in result.lines)
    first = result.lines[0].words[0]
    assert first.text == "The" and first.box.x0 < first.box.x1 and first.box.y0 < first.box.y1


async def test_a_second_tesseract_language(ocr_pool):
    require_engine("tesseract")
    if "deu" not in ocr_pool.engines()[0].languages:
        pytest.skip("tesseract-ocr-deu is not installed")
    png = to_png(render_text_page([GERMAN_PARAGRAPH]))
    result = await ocr_pool.recognize("de", png, 200, RecognizeOptions(engine="tesseract", languages=("deu",)))
    assert cer(GERMAN_PARAGRAPH, result.text) <= 0.01, result.text
    assert "Äpfel" in result.text and "Brücke" in result.text
