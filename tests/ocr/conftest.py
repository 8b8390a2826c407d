"""OCR test fixtures: the service's packages on sys.path until the lead wires services/ocr into the
project, ground-truth pages, and one shared worker pool (spawning workers and loading EasyOCR is slow)."""

from __future__ import annotations

import pathlib
import sys

import pytest
import pytest_asyncio

try:
    import mivaa_ocr  # noqa: F401
except ImportError:  # not yet installed as part of the project: use the source tree
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "services" / "ocr"))

from mivaa_ocr.engines.factory import is_installed
from tests.ocr import groundtruth


def require_engine(name: str) -> None:
    if not is_installed(name):
        hint = {
            "tesseract": "pip install tesserocr (tools/install_ocr.sh)",
            "easyocr": "tools/install_ocr.sh installs torch, torchvision, easyocr and its offline weights",
        }[name]
        pytest.skip(f"the {name} engine is not installed here: {hint}")


@pytest.fixture(scope="session")
def clean_page() -> groundtruth.Page:
    return groundtruth.clean_page()


@pytest.fixture(scope="session")
def degraded_pages() -> dict[str, groundtruth.Page]:
    return {page.name: page for page in groundtruth.degraded_pages()}


@pytest_asyncio.fixture(scope="session")
async def ocr_pool():
    """Two workers with every installed engine, started once for the whole session."""
    from mivaa_ocr.engines.factory import installed_engines
    from mivaa_ocr.pool import OcrPool

    if not installed_engines():
        pytest.skip("no OCR engine is installed: run tools/install_ocr.sh")
    pool = OcrPool(("auto",), processes=2)
    await pool.start()
    yield pool
    await pool.close()
