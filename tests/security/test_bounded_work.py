"""Bounded and fair work in the extraction workers: hostile documents cost seconds, and one tenant's
heavy document cannot hold back another tenant's upload.

The documents are generated in code (tests.support.bombs): a 1 GiB content stream
doubly deflated to a few KB, a 200-inch image-only page, pages heavy to parse.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.extraction.structure.content_limits import ContentLimits
from mivaa_extractor.extraction.structure.page_analysis import AnalysisSettings
from mivaa_extractor.extraction.text_extraction import PageExtractor
from tests.support.bombs import pdf_with_bomb_page, pdf_with_heavy_pages, pdf_with_huge_scan_page
from tests.support.pdfs import make_pdf, page_phrase
from tests.support.tenants import TenantCaller, as_tenant

TERMINAL = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED, job_pb2.JOB_STATE_FAILED)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def run_job(caller: TenantCaller, data: bytes, filename: str) -> tuple[job_pb2.Job, float]:
    """Uploads and follows the job to its end: (the final job, seconds from upload to the end)."""
    started = time.monotonic()
    response = await caller.upload(data, filename)
    events = await caller.watch(response.job.name)
    return events[-1], time.monotonic() - started


async def assert_pages_searchable(caller: TenantCaller, tag: str, pages: list[int]) -> None:
    for number in pages:
        hits = (await caller.search_chunks(page_phrase(tag, number), top_k=3)).hits
        assert hits and hits[0].page_start <= number <= hits[0].page_end, (number, hits[:1])


async def test_a_decompression_bomb_page_is_a_page_error_in_seconds_and_the_rest_is_extracted(mesh, client):
    """Door: a 4 KB upload whose page inflates to 1 GiB of drawing operators (45 s a pass in MuPDF)."""
    tag = unique("bombdoc")
    data = pdf_with_bomb_page(tag, 3, bomb_page=2, pattern=b"q Q ")
    assert len(data) < 8192
    async with as_tenant(mesh, client, unique("bomber")) as caller:
        job, seconds = await run_job(caller, data, "bomb.pdf")
        assert job.state == job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED, job
        assert [(error.page, error.reason) for error in job.page_errors] == [(2, "PAGE_CONTENT_TOO_LARGE")]
        assert "64 MiB" in job.page_errors[0].message
        # Seconds, not the minute a worker spent on it before (the whole job: upload to indexed chunks).
        assert seconds < 15, seconds
        await assert_pages_searchable(caller, tag, [1, 3])


async def test_an_oversized_image_only_page_is_a_page_error_and_the_others_are_searchable(mesh, client):
    """Door: a 200 x 200 inch scanned page, which cannot be rendered for OCR at any sane resolution."""
    if not mesh.ocr:
        pytest.skip("the OCR service is not installed here (make ocr installs Tesseract and tesserocr)")
    tag = unique("hugescan")
    async with as_tenant(mesh, client, unique("scanner")) as caller:
        job, _ = await run_job(caller, pdf_with_huge_scan_page(tag, 3, huge_page=2), "huge.pdf")
        assert job.state == job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED, job
        assert [(error.page, error.reason) for error in job.page_errors] == [(2, "PAGE_TOO_LARGE_FOR_OCR")]
        assert job.chunks_indexed > 0
        await assert_pages_searchable(caller, tag, [1, 3])


async def test_pages_past_the_document_content_limit_are_reported_with_the_reason(tmp_path):
    """Door: many pages each under the page limit that together inflate far past the document's."""
    path = tmp_path / "heavy.pdf"
    path.write_bytes(pdf_with_heavy_pages("manyheavy", 5, heavy_pages=range(1, 6), pattern=b" ", size=8 << 20))
    limits = ContentLimits(page_content_bytes=10 << 20, document_content_bytes=20 << 20)
    async with PageExtractor(workers=1, settings=AnalysisSettings(content=limits)) as extractor:
        pages = [page async for batch in extractor.iter_pages(path, None, 5) for page in batch]
    # Pages 1-3 hold 24 MiB: the limit is passed on page 3, so pages 4 and 5 are not parsed.
    assert [page.error.reason if page.error else None for page in pages] == [
        None,
        None,
        None,
        "DOCUMENT_CONTENT_LIMIT",
        "DOCUMENT_CONTENT_LIMIT",
    ]
    assert "20 MiB" in pages[3].error.message
    assert page_phrase("manyheavy", 3) in pages[2].text


async def test_a_huge_page_is_rendered_for_ocr_at_a_lower_resolution_or_refused(tmp_path):
    """Door: rendering a page as large as PDF allows (a 40000-pixel square at 200 dpi) for OCR."""
    path = tmp_path / "huge.pdf"
    path.write_bytes(pdf_with_huge_scan_page("renderhuge", 3, huge_page=2, side_points=14400))
    async with PageExtractor(workers=1) as extractor:
        refused = await extractor.render(path, None, [1, 2, 3], 200)
        lowered = await extractor.render(path, None, [2], 200, max_pixels=60_000_000, min_dpi=20)
    assert [(page.number, page.dpi, page.error.reason if page.error else None) for page in refused] == [
        (1, 200, None),
        (2, 0, "PAGE_TOO_LARGE_FOR_OCR"),
        (3, 200, None),
    ]
    assert lowered[0].error is None and 20 <= lowered[0].dpi < 200 and lowered[0].png


async def test_one_tenants_heavy_document_does_not_hold_back_another_tenants_upload(mesh, client):
    """Door: starving other tenants by keeping the only worker busy with a slow document."""
    heavy_tag, light_tag = unique("heavydoc"), unique("lightdoc")
    # Twelve pages that each take MuPDF seconds to parse (32 MiB of drawing operators, under the limits).
    heavy = pdf_with_heavy_pages(heavy_tag, 12, heavy_pages=range(1, 13), size=32 << 20)
    async with as_tenant(mesh, client, unique("hog")) as hog, as_tenant(mesh, client, unique("small")) as small:
        heavy_started = time.monotonic()
        heavy_upload = await hog.upload(heavy, "heavy.pdf")
        heavy_job = asyncio.create_task(hog.watch(heavy_upload.job.name))
        await wait_until_running(hog, heavy_upload.job.name)
        light, light_seconds = await run_job(small, make_pdf(light_tag, 1), "light.pdf")
        heavy_state = await get_job(hog, heavy_upload.job.name)
        heavy_final = (await heavy_job)[-1]
        heavy_seconds = time.monotonic() - heavy_started
    assert light.state == job_pb2.JOB_STATE_SUCCEEDED, light
    assert heavy_final.state == job_pb2.JOB_STATE_SUCCEEDED, heavy_final
    # The small upload finished while the heavy document was still being extracted, and well before it.
    assert heavy_state.state not in TERMINAL, heavy_state
    assert light_seconds < heavy_seconds / 2, (light_seconds, heavy_seconds)


async def get_job(caller: TenantCaller, name: str) -> job_pb2.Job:
    request = extractor_pb.GetJobRequest(name=name)
    return (await caller.extractor.GetJob(request, timeout=30, metadata=caller.metadata)).job


async def wait_until_running(caller: TenantCaller, name: str) -> None:
    deadline = time.monotonic() + 60
    while (job := await get_job(caller, name)).state != job_pb2.JOB_STATE_RUNNING:
        assert job.state not in TERMINAL and time.monotonic() < deadline, job
        await asyncio.sleep(0.2)
