"""Where a running document's pages come from: extracted (and OCR'd) here, or by other workers.

`LocalPages` extracts pages in this worker's page processes and OCRs those
without a usable text layer. A range of pages extracted by another worker
comes back as a `RangeOutcome`: its pages with OCR already applied and what
the range's OCR recorded, merged into the document's progress as if the pages
had been read here (worker/shared_pages.py).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from mivaa.jobs.v1 import processing_options_pb2 as options_pb2
from mivaa_extractor.extraction.structure.model import DocumentInfo, FontProfile, PageError, PageLayout
from mivaa_extractor.ports import PageReader, WorkingCopy
from mivaa_extractor.worker.ocr_stage import OcrStage
from mivaa_extractor.worker.page_options import apply_page_options
from mivaa_extractor.worker.progress import Progress

OcrStarting = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class PageFailure:
    """A page error recorded outside the page itself (OCR's), as Progress.page_failed takes it."""

    page: int
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class RangeOutcome:
    """What one worker made of a range of pages (travels as JSON: extraction.structure.wire).

    `error` is set when the range could not be read at all (the document did not open on that
    worker, say): the assembling worker then reads the range itself and reports what it finds.
    """

    first: int  # 0-based, half-open
    last: int
    pages: list[PageLayout]
    failures: tuple[PageFailure, ...] = ()
    ocr_confidence: tuple[tuple[int, float], ...] = ()
    ocr_pages: int = 0
    extract_seconds: float = 0.0
    ocr_seconds: float = 0.0
    error: PageError | None = None

    def merge_into(self, progress: Progress) -> None:
        """The range's OCR results and timings, counted in the document's progress (pages are counted as
        the pipeline settles them)."""
        for failure in self.failures:
            progress.page_failed(failure.page, failure.reason, failure.message)
        progress.ocr_confidence.update(self.ocr_confidence)
        progress.ocr_pages_total += self.ocr_pages
        progress.ocr_pages_done += self.ocr_pages
        progress.extract_seconds += self.extract_seconds
        progress.ocr_seconds += self.ocr_seconds


class LocalPages:
    """A document's pages extracted by this worker's page processes, the task's processing options and
    OCR applied batch by batch."""

    def __init__(self, pages: PageReader, ocr: OcrStage):
        self._pages = pages
        self._ocr = ocr

    async def batches(
        self,
        document: WorkingCopy,
        read: tuple[DocumentInfo, FontProfile],
        progress: Progress,
        ocr_starting: OcrStarting,
        options: options_pb2.ProcessingOptions,
        first: int,
        last: int,
    ) -> AsyncGenerator[list[PageLayout]]:
        """Pages first + 1 .. last (0-based half-open bounds), a batch at a time, in order."""
        started = time.perf_counter()
        # Images off: not extracted at all (apply_page_options below only makes sure none is left).
        images = options.images != options_pb2.IMAGE_EXTRACTION_OFF
        async for batch in self._pages.pages(document, last, read, first, images=images):
            progress.extract_seconds += time.perf_counter() - started
            batch = apply_page_options(batch, options)
            languages = options.ocr_languages
            yield await self._ocr.recognize_unreadable_pages(document, batch, progress, ocr_starting, languages)
            started = time.perf_counter()

    async def read_range(
        self,
        document: WorkingCopy,
        read: tuple[DocumentInfo, FontProfile],
        options: options_pb2.ProcessingOptions,
        first: int,
        last: int,
    ) -> RangeOutcome:
        """The whole range at once, as a worker reading it for another worker sends it back."""
        progress = Progress()
        pages: list[PageLayout] = []

        async def no_stage_change() -> None:
            return None  # the assembling worker reports the OCR stage when the range's pages reach it

        async for batch in self.batches(document, read, progress, no_stage_change, options, first, last):
            pages.extend(batch)
        return RangeOutcome(
            first=first,
            last=last,
            pages=pages,
            failures=tuple(PageFailure(e.page, e.reason, e.message) for e in progress.page_errors),
            ocr_confidence=tuple(sorted(progress.ocr_confidence.items())),
            ocr_pages=progress.ocr_pages_done,
            extract_seconds=progress.extract_seconds,
            ocr_seconds=progress.ocr_seconds,
        )
