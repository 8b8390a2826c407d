"""Our extraction of a scanned PDF as the pipeline does it, in this process: pages without a text layer OCR'd.

The service renders a flagged page in its page workers (`text_extraction.render_page`, grey PNG at the
extractor's `ocr_dpi`, 200), sends it to the OCR service, which reads it in a worker
(`mivaa_ocr.recognition.recognize_page`: script detection, orientation and skew correction, the
low-confidence flag) and puts the text in place of the page's (`ocr_stage.with_recognized_text`)
before page furniture is decided. Here the same functions run in line, with Tesseract (the OCR
service's default engine) loaded once per process: no mesh, no gRPC. A page OCR flags as low
confidence keeps no text, as in the service (where it is a page error and is not indexed).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mivaa_extractor.extraction.structure.document import StructuredDocument
    from mivaa_extractor.extraction.structure.model import PageLayout

OCR_ENGINE = "tesseract"
_ready = False


def ocr_missing() -> str | None:
    """Why in-process OCR cannot run here (its engine or language data missing), or None."""
    try:
        from mivaa_ocr.engines.factory import installed_engines
    except ImportError as exc:
        return f"mivaa_ocr not importable ({exc})"
    if OCR_ENGINE not in installed_engines():
        return f"{OCR_ENGINE} is not installed (tools/install_ocr.sh, tools/install_tessdata.sh)"
    return None


def _init_ocr() -> None:
    global _ready
    if not _ready:
        from mivaa_ocr import recognition

        recognition.init_worker(recognition.WorkerConfig(engines=(OCR_ENGINE,), preload=(OCR_ENGINE,)))
        _ready = True


def _recognized(path: str, page: PageLayout) -> PageLayout:
    from mivaa_extractor.extraction.text_extraction import (
        DEFAULT_OCR_MAX_PIXELS,
        DEFAULT_OCR_MIN_DPI,
        render_page,
    )
    from mivaa_extractor.settings import ExtractorSettings
    from mivaa_extractor.worker.ocr_stage import with_recognized_text
    from mivaa_ocr import recognition

    # The service's default resolution (a dataclass field's default is its class attribute).
    shot = render_page(path, None, page.number, ExtractorSettings.ocr_dpi, DEFAULT_OCR_MAX_PIXELS, DEFAULT_OCR_MIN_DPI)
    if shot.error is not None or shot.png is None:
        return page
    _init_ocr()
    task = recognition.PageTask(str(page.number), shot.png, shot.dpi, OCR_ENGINE, (), correct_orientation=True)
    result = recognition.recognize_page(task)
    if result.flag_reason:
        return page
    return with_recognized_text(page, result.text)


def extract_with_ocr(path: str | os.PathLike[str]) -> StructuredDocument:
    """`extract_document`, with every page flagged for OCR read by OCR before furniture is decided."""
    from mivaa_extractor.extraction.structure.document import StructuredDocument, iter_layouts, profile_document
    from mivaa_extractor.extraction.structure.furniture import FurnitureDetector
    from mivaa_extractor.extraction.validation import open_pdf

    doc = open_pdf(os.fspath(path), None)
    try:
        info, profile = profile_document(doc)
        result = StructuredDocument(info=info, profile=profile)
        furniture = FurnitureDetector()
        for layout in iter_layouts(doc, info, profile):
            if layout.ocr_reason and not layout.error:
                layout = _recognized(os.fspath(path), layout)
            result.pages.extend(furniture.push(layout))
        result.pages.extend(furniture.finish())
        return result
    finally:
        doc.close()
