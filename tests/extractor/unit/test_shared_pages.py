"""A long document's page ranges read by "another worker" and assembled: the same job as read in one piece.

The other worker is a RangeReader over the same in-memory ports (tests/e2e/test_page_ranges.py does it
with real workers, NATS and the spool); here the faults are injected: a range never spooled, an
outcome that lies about its pages, stale and forged ranges.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1 import processing_options_pb2 as options_pb2
from mivaa_extractor.extraction.chunking import Chunker
from mivaa_extractor.extraction.structure.model import PageLayout
from mivaa_extractor.extraction.structure.wire import from_json, to_json
from mivaa_extractor.worker.admission import TaskAdmission
from mivaa_extractor.worker.ocr_stage import OcrStage
from mivaa_extractor.worker.page_source import LocalPages, RangeOutcome
from mivaa_extractor.worker.pipeline import DocumentPipeline, PipelinePorts, PipelineSettings
from mivaa_extractor.worker.range_reader import OriginalCopies, RangeReader
from mivaa_extractor.worker.shared_pages import RangeSettings, range_name
from tests.extractor.unit.fakes import FakeRecognizer
from tests.extractor.unit.test_pipeline import TEXT, Processing, no_heartbeat

# Seven pages: text, a scan for OCR, a failed page, text that OCR fails on.
TEXTS: list[str | None] = [TEXT + " One.", "", TEXT + " Three.", None, TEXT + " Five.", "", TEXT + " Seven."]
SHARED = RangeSettings(range_pages=2, share_above_pages=3, range_wait_seconds=5.0, batch_pages=2)


class MemoryRanges:
    """PageRangeExchange in memory: what was queued, and a spool."""

    def __init__(self) -> None:
        self.queued: asyncio.Queue[job_pb2.PageRangeTask] = asyncio.Queue()
        self.spool: dict[str, bytes] = {}
        self.discarded: list[str] = []

    async def submit(self, ranges: Sequence[job_pb2.PageRangeTask]) -> None:
        for work in ranges:
            self.queued.put_nowait(work)

    async def result(self, name: str) -> bytes | None:
        return self.spool.get(name)

    async def put(self, name: str, data: bytes) -> None:
        self.spool[name] = data

    async def discard(self, names: Sequence[str]) -> None:
        for name in names:
            self.discarded.append(name)
            self.spool.pop(name, None)


def processing_with(ranges: MemoryRanges | None, settings: RangeSettings = SHARED) -> Processing:
    processing = Processing(TEXTS, recognizer=FakeRecognizer(confidence=0.7, failing={6: "OCR_PAGE_TIMEOUT"}))
    ports = PipelinePorts(
        processing.jobs,
        processing.originals,
        processing.catalog,
        processing.embedder,
        processing.index,
        processing.pages,
        processing.sealer,
        FakeRecognizer(confidence=0.7, failing={6: "OCR_PAGE_TIMEOUT"}),
        ranges=ranges,
    )
    pipeline_settings = PipelineSettings(embed_batch=3, progress_interval_seconds=0.0, ranges=settings)
    processing.pipeline = DocumentPipeline(ports, lambda: Chunker(max_tokens=32, overlap_tokens=4), pipeline_settings)
    processing.ranges = ranges  # type: ignore[attr-defined]
    return processing


def other_worker(processing: Processing, ranges: MemoryRanges, tmp_path) -> RangeReader:
    admission = TaskAdmission(
        jobs=processing.jobs, catalog=processing.catalog, originals=processing.originals, task_sealer=processing.sealer
    )
    local = LocalPages(
        processing.pages, OcrStage(processing.pages, FakeRecognizer(confidence=0.7, failing={6: "OCR_PAGE_TIMEOUT"}))
    )
    return RangeReader(admission, OriginalCopies(admission, str(tmp_path)), local, ranges)


async def serve(reader: RangeReader, ranges: MemoryRanges, skip: frozenset[int] = frozenset()) -> None:
    """Reads every range queued, except those starting at a page in `skip` (their worker "died")."""
    while True:
        work = await ranges.queued.get()
        if work.first_page not in skip:
            await reader.handle(work)


def summary(processing: Processing, job: job_pb2.Job) -> tuple:
    [writer] = processing.index.writers
    return (
        job.state,
        job.pages_done,
        (job.ocr_pages_total, job.ocr_pages_done),
        [(error.page, error.reason) for error in job.page_errors],
        [(page.number, ocr) for page, ocr in writer.pages],
        [(c.chunk.text, c.chunk.page_start, c.chunk.page_end, c.from_ocr, c.ocr_confidence) for c in writer.chunks],
    )


async def read_in_one_piece(ocr_mode: int = 0) -> tuple:
    processing = processing_with(None)
    task = await processing.queued_task()
    task.options.ocr_mode = ocr_mode
    return summary(processing, await processing.pipeline.run(task, no_heartbeat))


async def test_ranges_read_by_another_worker_make_the_same_job_as_one_piece(tmp_path):
    expected = await read_in_one_piece()
    ranges = MemoryRanges()
    processing = processing_with(ranges)
    task = await processing.queued_task()
    server = asyncio.create_task(serve(other_worker(processing, ranges, tmp_path), ranges))
    try:
        job = await processing.pipeline.run(task, no_heartbeat)
    finally:
        server.cancel()
    assert summary(processing, job) == expected
    assert sorted(expected[3]) == [(4, "PAGE_TIMEOUT"), (6, "OCR_PAGE_TIMEOUT")]  # the faults are really there
    assert len(ranges.discarded) >= 4 and not ranges.spool, "every spooled outcome is removed once read"


async def test_the_documents_processing_options_apply_where_its_ranges_are_read(tmp_path):
    expected = await read_in_one_piece(options_pb2.OCR_MODE_OFF)
    assert expected[2] == (0, 0), "no page was OCR'd"
    ranges = MemoryRanges()
    processing = processing_with(ranges)
    task = await processing.queued_task()
    task.options.ocr_mode = options_pb2.OCR_MODE_OFF
    server = asyncio.create_task(serve(other_worker(processing, ranges, tmp_path), ranges))
    try:
        job = await processing.pipeline.run(task, no_heartbeat)
    finally:
        server.cancel()
    assert summary(processing, job) == expected


async def test_images_off_is_asked_of_the_page_reader_where_the_document_and_its_ranges_are_read(tmp_path):
    for images, wanted in ((options_pb2.IMAGE_EXTRACTION_UNSPECIFIED, True), (options_pb2.IMAGE_EXTRACTION_OFF, False)):
        ranges = MemoryRanges()
        processing = processing_with(ranges)
        task = await processing.queued_task()
        task.options.images = images
        server = asyncio.create_task(serve(other_worker(processing, ranges, tmp_path), ranges))
        try:
            await processing.pipeline.run(task, no_heartbeat)
        finally:
            server.cancel()
        requests = processing.pages.image_requests
        assert {first for first, _, _ in requests} >= {1, 3, 5, 7}, requests  # the ranges were read, too
        assert {asked for _, _, asked in requests} == {wanted}, requests


async def test_a_range_that_never_comes_back_is_read_by_the_assembling_worker(tmp_path):
    expected = await read_in_one_piece()
    ranges = MemoryRanges()
    processing = processing_with(ranges, RangeSettings(range_pages=2, share_above_pages=3, range_wait_seconds=0.2))
    task = await processing.queued_task()
    server = asyncio.create_task(serve(other_worker(processing, ranges, tmp_path), ranges, skip=frozenset({2})))
    try:
        job = await processing.pipeline.run(task, no_heartbeat)
    finally:
        server.cancel()
    assert summary(processing, job) == expected


async def test_an_outcome_that_is_not_its_ranges_pages_is_not_believed(tmp_path):
    expected = await read_in_one_piece()
    ranges = MemoryRanges()
    processing = processing_with(ranges)
    task = await processing.queued_task()

    async def lying_worker() -> None:
        while True:
            work = await ranges.queued.get()
            name = range_name(work.task.job, work.run, work.attempt, work.first_page, work.last_page)
            if work.first_page == 0:
                ranges.spool[name] = b"{not json"
            else:  # the right range, but another page's content
                pages = [
                    PageLayout.from_text(n, "Injected words.") for n in range(work.first_page + 2, work.last_page + 2)
                ]
                ranges.spool[name] = to_json(RangeOutcome(first=work.first_page, last=work.last_page, pages=pages))

    server = asyncio.create_task(lying_worker())
    try:
        job = await processing.pipeline.run(task, no_heartbeat)
    finally:
        server.cancel()
    assert summary(processing, job) == expected


async def test_stale_and_forged_ranges_are_dropped_without_reading_a_page(tmp_path):
    ranges = MemoryRanges()
    processing = processing_with(ranges, RangeSettings(range_pages=2, share_above_pages=3, range_wait_seconds=0.05))
    task = await processing.queued_task()
    reader = other_worker(processing, ranges, tmp_path)
    job = await processing.pipeline.run(task, no_heartbeat)  # nobody serves: every range is read here
    assert job.state == job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED
    queued = [ranges.queued.get_nowait() for _ in range(ranges.queued.qsize())]
    assert [(w.first_page, w.last_page) for w in queued] == [(0, 2), (2, 4), (4, 6), (6, 7)]
    # The job finished: its ranges are stale.
    assert [await reader.read(work) for work in queued] == [None] * 4
    # Another tenant's claim on the same job: rejected by admission.
    forged = job_pb2.PageRangeTask()
    forged.CopyFrom(queued[0])
    forged.task.tenant = "globex"
    assert await reader.read(forged) is None
    assert not ranges.spool


async def test_an_older_attempts_range_is_dropped(tmp_path):
    ranges = MemoryRanges()
    processing = processing_with(ranges)
    task = await processing.queued_task()
    reader = other_worker(processing, ranges, tmp_path)
    job = job_pb2.Job()

    def running_second_attempt(record: job_pb2.Job) -> None:
        record.state = job_pb2.JOB_STATE_RUNNING
        record.attempts = 2

    job = await processing.jobs.update(task.job, running_second_attempt, tenant="acme")
    first_attempt = job_pb2.PageRangeTask(
        task=task, attempt=1, first_page=0, last_page=2, document_profile=to_json(await profile_of(processing))
    )
    assert await reader.read(first_attempt) is None
    current = job_pb2.PageRangeTask()
    current.CopyFrom(first_attempt)
    current.attempt = job.attempts
    outcome = await reader.read(current)
    assert outcome is not None and [page.number for page in outcome.pages] == [1, 2]
    assert outcome.ocr_pages == 1 and outcome.ocr_confidence == ((2, 0.7),)
    assert from_json(RangeOutcome, to_json(outcome)) == outcome


async def test_a_retried_runs_ranges_are_its_own(tmp_path):
    """An admin's retry counts attempts from 1 again: the previous run's range (same attempt number)
    is dropped, and the two runs' ranges differ in name and in the bus's duplicate id."""
    ranges = MemoryRanges()
    processing = processing_with(ranges)
    task = await processing.queued_task()
    reader = other_worker(processing, ranges, tmp_path)

    def retried_and_running(record: job_pb2.Job) -> None:
        record.state = job_pb2.JOB_STATE_RUNNING
        record.retry_count = 1
        record.attempts = 1

    await processing.jobs.update(task.job, retried_and_running, tenant="acme")
    profile = to_json(await profile_of(processing))
    previous_run = job_pb2.PageRangeTask(
        task=task, run=0, attempt=1, first_page=0, last_page=2, document_profile=profile
    )
    assert await reader.read(previous_run) is None
    this_run = job_pb2.PageRangeTask()
    this_run.CopyFrom(previous_run)
    this_run.run = 1
    outcome = await reader.read(this_run)
    assert outcome is not None and [page.number for page in outcome.pages] == [1, 2]
    assert range_name(task.job, 0, 1, 0, 2) != range_name(task.job, 1, 1, 0, 2)


async def profile_of(processing: Processing):
    return await processing.pages.profile(None)  # type: ignore[arg-type]


def test_ranges_cover_the_document_in_order():
    from mivaa_extractor.worker.shared_pages import split_pages

    assert split_pages(7, 2) == [(0, 2), (2, 4), (4, 6), (6, 7)]
    assert split_pages(96, 48) == [(0, 48), (48, 96)]
    assert split_pages(0, 48) == []
    assert os.path.sep not in "".join(str(r) for r in split_pages(5, 5))
