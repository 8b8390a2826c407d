"""A real page without a text layer: OCR is the only way to its words."""

from __future__ import annotations

import pymupdf
import pytest

from mivaa_ocr.pool import RecognizeOptions
from tests.ocr.conftest import require_engine


@pytest.mark.corpus
async def test_loremipsum_flat_page_is_read(corpus_dir, ocr_pool):
    require_engine("tesseract")
    path = corpus_dir / "unstructured" / "loremipsum-flat.pdf"
    if not path.exists():
        pytest.skip(f"{path} is not in the corpus")
    with pymupdf.open(path) as doc:
        assert not doc[0].get_text().strip(), "the page was expected to have no text layer"
        png = doc[0].get_pixmap(dpi=200).tobytes("png")
    result = await ocr_pool.recognize("1", png, 200, RecognizeOptions(correct_orientation=True))
    assert "Lorem ipsum" in result.text, result.text[:500]
