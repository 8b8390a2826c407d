"""Engines by name, without importing an engine's heavy libraries until it is created."""

from __future__ import annotations

import importlib.util

from mivaa_ocr.engines.base_engine import OcrEngine
from mivaa_ocr.errors import engine_not_available

# name -> (module, class, the importable packages it needs)
ENGINES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "tesseract": ("mivaa_ocr.engines.tesseract_engine", "TesseractEngine", ("tesserocr",)),
    "easyocr": ("mivaa_ocr.engines.easyocr_engine", "EasyOcrEngine", ("easyocr", "torch", "torchvision")),
}


def is_installed(kind: str) -> bool:
    """Whether the packages of engine `kind` can be imported here (checked without importing them)."""
    if kind not in ENGINES:
        return False
    return all(importlib.util.find_spec(package) is not None for package in ENGINES[kind][2])


def installed_engines() -> list[str]:
    return [kind for kind in ENGINES if is_installed(kind)]


def create_engine(kind: str, **options) -> OcrEngine:
    """Creates engine `kind` ("tesseract" or "easyocr"); options go to its constructor (e.g. languages=)."""
    kind = kind.strip().lower()
    if kind not in ENGINES:
        raise engine_not_available(kind, list(ENGINES))
    if not is_installed(kind):
        raise engine_not_available(kind, installed_engines())
    module_name, class_name, _ = ENGINES[kind]
    module = importlib.import_module(module_name)
    return getattr(module, class_name)(**options)
