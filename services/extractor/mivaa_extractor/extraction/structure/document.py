"""Whole-document extraction in one process: for tests, benchmarks and tools.

The service runs the same stages in supervised worker processes with
per-page limits (text_extraction.PageExtractor); this runs them in line,
which is what a benchmark "per core" measures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pymupdf

from mivaa_extractor.extraction.structure.content_limits import ContentLimits, check_document, check_page
from mivaa_extractor.extraction.structure.furniture import FurnitureDetector
from mivaa_extractor.extraction.structure.language import guess_language
from mivaa_extractor.extraction.structure.markdown import document_markdown
from mivaa_extractor.extraction.structure.model import DocumentInfo, ExtractedImage, FontProfile, PageLayout
from mivaa_extractor.extraction.structure.page_analysis import AnalysisSettings, PageAnalyzer, failed_page
from mivaa_extractor.extraction.structure.pymupdf_backend import (
    learn_font_profile,
    outline_level_offset,
    read_document_info,
)
from mivaa_extractor.extraction.validation import mupdf_warnings, open_pdf

log = logging.getLogger("mivaa.extractor.structure")


@dataclass
class StructuredDocument:
    info: DocumentInfo
    profile: FontProfile
    pages: list[PageLayout] = field(default_factory=list)

    @property
    def images(self) -> dict[str, ExtractedImage]:
        return {image.sha256: image for page in self.pages for image in page.images}

    def markdown(self) -> str:
        mime_types = {sha: image.mime_type for sha, image in self.images.items()}
        return "\n\n".join(document_markdown(self.pages, mime_types=mime_types))

    def body_text(self) -> str:
        return "\n\n".join(page.text for page in self.pages if page.text)


# Text pages hold tens of KB of drawing instructions; a page with more than this is mostly drawing.
PROFILE_MAX_PAGE_CONTENT_BYTES = 4 << 20


def profile_document(doc: pymupdf.Document, limits: ContentLimits | None = None) -> tuple[DocumentInfo, FontProfile]:
    """What is read once before the pages: content sizes, metadata, outline, language, font sizes.

    Pages over a content limit are measured first and then never parsed, here or later.
    """
    faults, sizes = check_document(doc, limits or ContentLimits())
    skip = {number - 1 for number, _ in faults}
    # The profile is a sample: pages slow to parse are left out of it (they are read once, when extracted).
    skip |= {number - 1 for number, size in sizes.items() if size > PROFILE_MAX_PAGE_CONTENT_BYTES}
    profile = learn_font_profile(doc, skip=skip)
    sample = []
    for number in range(min(doc.page_count, 3)):
        if number in skip:
            continue
        with contextlib.suppress(Exception):  # the language guess is best effort
            sample.append(doc.load_page(number).get_text("text"))
    info = read_document_info(doc, language=guess_language(" ".join(sample)))
    if info.outline:
        profile = dataclasses.replace(
            profile, outline_level_offset=outline_level_offset(doc, info.outline, profile, skip)
        )
    return dataclasses.replace(info, page_faults=faults), profile


def iter_layouts(
    doc: pymupdf.Document,
    info: DocumentInfo,
    profile: FontProfile,
    settings: AnalysisSettings | None = None,
    first: int = 1,
    last: int | None = None,
) -> Iterator[PageLayout]:
    """Pages first..last (1-based, inclusive), each analysed or reported as failed; furniture not yet marked.

    A page that fails is a PageLayout with `error` set (MemoryError propagates: a
    worker that hit its memory limit must be replaced). So is a page the document
    no longer has: MuPDF may repair a broken page tree down to fewer pages than
    were counted when the file was opened. MuPDF's diagnostics go on each page.
    """
    analyzer = PageAnalyzer(doc, profile, info, settings)
    limits = (settings or AnalysisSettings()).content
    faults = dict(info.page_faults or ())
    for number in range(first, (doc.page_count if last is None else last) + 1):
        mupdf_warnings(reset=True)
        error = faults.get(number)
        if error is None and info.page_faults is None and number <= doc.page_count:
            # Not measured with the document (its profile failed): this page's own limit still holds.
            _, fault = check_page(doc, number, limits)
            error = fault[1] if fault else None
        if error is not None:
            log.info("page %d: %s", number, error.reason)
            yield failed_page(number, error.reason, error.message)
            continue
        if number > doc.page_count:
            yield failed_page(
                number,
                "PAGE_EXTRACTION_FAILED",
                f"Page {number} could not be read: the file's page tree is damaged and was repaired without it.",
            )
            continue
        try:
            layout = analyzer.analyze(number)
        except MemoryError:
            raise
        except Exception as exc:
            log.warning("page %d: extraction failed: %s", number, type(exc).__name__, exc_info=True)
            layout = failed_page(number, "PAGE_EXTRACTION_FAILED", f"Page {number} could not be extracted.")
        layout.warnings = tuple(layout.warnings) + mupdf_warnings(reset=True)
        yield layout


def extract_document(
    path: str | os.PathLike[str], password: str | None = None, settings: AnalysisSettings | None = None
) -> StructuredDocument:
    doc = open_pdf(os.fspath(path), password)
    try:
        info, profile = profile_document(doc, (settings or AnalysisSettings()).content)
        result = StructuredDocument(info=info, profile=profile)
        furniture = FurnitureDetector(margin_share=(settings or AnalysisSettings()).margin_share)
        for layout in iter_layouts(doc, info, profile, settings):
            result.pages.extend(furniture.push(layout))
        result.pages.extend(furniture.finish())
        return result
    finally:
        doc.close()
