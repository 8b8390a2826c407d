"""PageReader over the page extractor's supervised processes, with the service's batch, time and OCR settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from mivaa_extractor.extraction.structure.model import DocumentInfo, FontProfile, PageLayout
from mivaa_extractor.extraction.text_extraction import (
    DEFAULT_OCR_MAX_PIXELS,
    DEFAULT_OCR_MIN_DPI,
    PageExtractor,
    RenderedPage,
)
from mivaa_extractor.ports import WorkingCopy


@dataclass(frozen=True)
class PageReading:
    # Pages one worker process extracts per call.
    batch_pages: int = 16
    # Wall-clock limit for extracting one document's pages; pages not reached are reported, not lost silently.
    document_time_limit_seconds: float = 1800.0
    # Resolution pages without a usable text layer are rendered at for OCR; a page larger
    # than ocr_max_pixels at it is rendered at a lower one, down to ocr_min_dpi (else a page error).
    ocr_dpi: int = 200
    ocr_max_pixels: int = DEFAULT_OCR_MAX_PIXELS
    ocr_min_dpi: int = DEFAULT_OCR_MIN_DPI


class ProcessPageReader:
    """The document's tenant is the pool's fair-share owner: tenants' documents get the processes in turn."""

    def __init__(self, extractor: PageExtractor, settings: PageReading = PageReading()):
        self._extractor = extractor
        self.settings = settings

    async def profile(self, document: WorkingCopy) -> tuple[DocumentInfo, FontProfile]:
        return await self._extractor.profile(document.path, document.password, owner=document.tenant)

    def pages(
        self,
        document: WorkingCopy,
        page_count: int,
        profile: tuple[DocumentInfo, FontProfile],
        first: int = 0,
        *,
        images: bool,
    ) -> AsyncIterator[list[PageLayout]]:
        return self._extractor.iter_pages(
            document.path,
            document.password,
            page_count,
            batch_pages=self.settings.batch_pages,
            first=first,
            info=profile[0],
            profile=profile[1],
            time_limit=self.settings.document_time_limit_seconds,
            owner=document.tenant,
            images=images,
        )

    async def render(self, document: WorkingCopy, numbers: list[int]) -> list[RenderedPage]:
        return await self._extractor.render(
            document.path,
            document.password,
            numbers,
            self.settings.ocr_dpi,
            max_pixels=self.settings.ocr_max_pixels,
            min_dpi=self.settings.ocr_min_dpi,
            owner=document.tenant,
        )
