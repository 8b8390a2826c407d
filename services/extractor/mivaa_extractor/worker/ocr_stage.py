"""OCR of the pages without a usable text layer: rendered in the page processes, read by the OCR service."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from mivaa_extractor.extraction.structure.model import BlockKind, PageLayout
from mivaa_extractor.jobs import is_retryable
from mivaa_extractor.ports import PageReader, PageRecognizer, RecognizedPage, WorkingCopy
from mivaa_extractor.worker.progress import Progress
from mivaa_platform.errors import MivaaError
from mivaa_platform.telemetry import traced

log = logging.getLogger("mivaa.extractor.pipeline")


class OcrStage:
    def __init__(self, pages: PageReader, recognizer: PageRecognizer | None):
        self._pages = pages
        self._recognizer = recognizer

    async def recognize_unreadable_pages(
        self,
        document: WorkingCopy,
        batch: list[PageLayout],
        progress: Progress,
        starting: Callable[[], Awaitable[object]],
        languages: Sequence[str] = (),
    ) -> list[PageLayout]:
        """Replaces the text of pages without a usable text layer by what OCR reads on them.

        `starting` reports the OCR stage before any page is rendered; `languages` are the
        document's own OCR languages (its processing options), empty for the service's choice.
        """
        flagged = [page for page in batch if page.ocr_reason and not page.error]
        if not flagged:
            return batch
        if self._recognizer is None:
            for page in flagged:
                progress.page_failed(
                    page.number,
                    "OCR_NOT_CONFIGURED",
                    f"Page {page.number} has no usable text layer ({page.ocr_reason}) and no OCR service is configured.",
                )
            return batch
        progress.ocr_pages_total += len(flagged)
        await starting()
        started = time.perf_counter()
        rendered = await self._pages.render(document, [page.number for page in flagged])
        # Rendering is extraction work; the OCR stage's time is recognition alone.
        progress.extract_seconds += time.perf_counter() - started
        started = time.perf_counter()
        unrendered = {shot.number: shot.error for shot in rendered if shot.error is not None}
        # Pages too large for the usual resolution were rendered at a lower one: one OCR call per resolution.
        by_dpi: dict[int, list[tuple[int, bytes]]] = {}
        for shot in rendered:
            if shot.error is None:
                by_dpi.setdefault(shot.dpi, []).append((shot.number, shot.png))
        del rendered
        recognized = await self._recognize(self._recognizer, by_dpi, document.job, languages)
        progress.ocr_seconds += time.perf_counter() - started
        progress.ocr_pages_done += len(flagged)
        replaced: dict[int, PageLayout] = {}
        for page in flagged:
            result = recognized.get(page.number)
            if page.number in unrendered:
                failure = unrendered[page.number]
                progress.page_failed(page.number, failure.reason, failure.message)
            elif result is None:
                progress.page_failed(page.number, "OCR_FAILED", f"Page {page.number} could not be recognized.")
            elif result.error_reason:
                progress.page_failed(page.number, result.error_reason, f"Page {page.number}: {result.error_message}")
            elif result.flag_reason:
                # Text OCR itself does not trust (noise, handwriting, a script without installed
                # language data) is not indexed: it would answer searches with gibberish. The page is
                # a page error, so the job is PARTIALLY_SUCCEEDED and says which page and why.
                script = f", script {result.detected_script}" if result.detected_script else ""
                progress.page_failed(
                    page.number,
                    result.flag_reason,
                    f"Page {page.number}: OCR read it with low confidence ({result.confidence:.2f}{script});"
                    " its text was not indexed.",
                )
            else:
                progress.ocr_confidence[page.number] = result.confidence
                replaced[page.number] = with_recognized_text(page, result.text, keep_pictures=document.is_picture)
        return [replaced.get(page.number, page) for page in batch]

    @staticmethod
    async def _recognize(
        recognizer: PageRecognizer, by_dpi: dict[int, list[tuple[int, bytes]]], job: str, languages: Sequence[str]
    ) -> dict[int, RecognizedPage]:
        recognized: dict[int, RecognizedPage] = {}
        for dpi, pages in by_dpi.items():
            try:
                reading = recognizer.recognize(pages, dpi, languages=languages)
                recognized |= await traced("ocr pages", reading, pages=len(pages), dpi=dpi)
            except MivaaError as error:
                if is_retryable(error):
                    raise
                log.warning("OCR rejected pages", extra={"fields": {"job": job, "reason": error.reason}})
        return recognized


def with_recognized_text(page: PageLayout, text: str, *, keep_pictures: bool = False) -> PageLayout:
    """The page with OCR's text as its paragraphs; figures smaller than half the page stay (the scan itself goes).

    keep_pictures keeps every figure: on a picture uploaded as a document the picture is the content.
    """
    recognized = PageLayout.from_text(
        page.number, text, width=page.width, height=page.height, rotation=page.rotation, ocr_reason=page.ocr_reason
    )
    area = max(page.width * page.height, 1.0)
    for block in page.blocks:
        if block.kind is BlockKind.FIGURE:
            x0, y0, x1, y1 = block.bbox
            if keep_pictures or (x1 - x0) * (y1 - y0) < 0.5 * area:
                recognized.blocks.append(block)
    recognized.images = page.images
    recognized.warnings = page.warnings
    return recognized
