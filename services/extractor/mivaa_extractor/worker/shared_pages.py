"""A long document's pages read by every worker, assembled in order by the one running its task.

The worker that runs a document's task splits a long document into ranges of
pages and queues them (`mivaa.work.pages`); any worker, this one included,
takes a range, extracts and OCRs its pages and leaves the outcome in the page
spool (worker/range_reader.py). This worker reads the outcomes back in page
order and hands the pages to the same stages a document read here goes
through (furniture, chunking, embedding, the index writer), so what crosses
pages (running headers, paragraphs and tables that continue, heading levels,
chunk numbering) is decided once, over the whole document, exactly as when
one worker reads it all: the document's profile travels with every range, and
a document assembled from ranges is the document read in one piece.

A range that does not come back in time (its worker died and the redelivery is
slow, every worker is busy) or comes back unreadable is read here instead, so
a document never waits on another worker for longer than `range_wait_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor import metrics
from mivaa_extractor.extraction.structure.model import DocumentInfo, FontProfile, PageLayout
from mivaa_extractor.extraction.structure.wire import WireError, from_json, to_json
from mivaa_extractor.ports import PageRangeExchange, WorkingCopy
from mivaa_extractor.worker.page_source import LocalPages, OcrStarting, RangeOutcome
from mivaa_extractor.worker.progress import Progress
from mivaa_platform.errors import MivaaError

log = logging.getLogger("mivaa.extractor.pages")


@dataclass(frozen=True)
class RangeSettings:
    # Pages per range work item; 0 keeps every document on the worker that runs its task.
    range_pages: int = 48
    # Documents with more pages than this are split; shorter ones are not worth the round trip.
    share_above_pages: int = 96
    # How long the next range in page order may keep this worker waiting before it reads the range itself.
    range_wait_seconds: float = 300.0
    # Nobody works on a range after this long (the document's own time limit).
    range_deadline_seconds: float = 1800.0
    # Pages handed to the next stages at a time, as the local reader's batches.
    batch_pages: int = 16


def range_name(job: str, run: int, attempt: int, first: int, last: int) -> str:
    """A range's outcome in the spool: one name per job, run (retry), attempt and range."""
    return f"{job}/{run}.{attempt}/{first}-{last}"


def split_pages(page_count: int, range_pages: int) -> list[tuple[int, int]]:
    """0-based half-open ranges of at most `range_pages` pages covering the document, in order."""
    return [(first, min(first + range_pages, page_count)) for first in range(0, page_count, range_pages)]


class SharedPages:
    def __init__(self, local: LocalPages, exchange: PageRangeExchange | None, settings: RangeSettings):
        self._local = local
        self._exchange = exchange
        self.settings = settings

    def shares(self, page_count: int) -> bool:
        s = self.settings
        return self._exchange is not None and s.range_pages > 0 and page_count > max(s.share_above_pages, s.range_pages)

    async def batches(
        self,
        task: job_pb2.ExtractTask,
        run: int,
        attempt: int,
        document: WorkingCopy,
        page_count: int,
        read: tuple[DocumentInfo, FontProfile],
        progress: Progress,
        ocr_starting: OcrStarting,
    ) -> AsyncGenerator[list[PageLayout]]:
        """Pages 1..page_count in order, a batch at a time, with OCR applied.

        run and attempt: the job's retry_count and attempts now; they name its ranges."""
        if self._exchange is None or not self.shares(page_count):
            async for batch in self._local.batches(document, read, progress, ocr_starting, task.options, 0, page_count):
                yield batch
            return
        exchange = self._exchange
        ranges = split_pages(page_count, self.settings.range_pages)
        names = [range_name(task.job, run, attempt, first, last) for first, last in ranges]
        deadline = int(time.time() + self.settings.range_deadline_seconds)
        profile = to_json(read)
        await exchange.submit(
            [
                job_pb2.PageRangeTask(
                    task=task,
                    attempt=attempt,
                    run=run,
                    first_page=first,
                    last_page=last,
                    document_profile=profile,
                    deadline_unix_seconds=deadline,
                )
                for first, last in ranges
            ]
        )
        try:
            for (first, last), name in zip(ranges, names, strict=True):
                outcome = await self._wait_for(exchange, name, first, last)
                if outcome is None:
                    metrics.page_range("read_here")
                    local = self._local.batches(document, read, progress, ocr_starting, task.options, first, last)
                    async for batch in local:
                        yield batch
                    continue
                metrics.page_range("received")
                if outcome.ocr_pages:
                    await ocr_starting()
                outcome.merge_into(progress)
                size = max(1, self.settings.batch_pages)
                for start in range(0, len(outcome.pages), size):
                    yield outcome.pages[start : start + size]
                with contextlib.suppress(MivaaError):
                    await exchange.discard([name])
        finally:
            # Outcomes not read (a failure, a cancelled job); the spool's own expiry takes what is left
            # (also when this task is being cancelled: the cancellation goes on).
            with contextlib.suppress(MivaaError):
                await exchange.discard(names)

    async def _wait_for(self, exchange: PageRangeExchange, name: str, first: int, last: int) -> RangeOutcome | None:
        """The range's outcome once another worker spooled it; None to read it here instead."""
        give_up = time.monotonic() + self.settings.range_wait_seconds
        pause = 0.02
        while True:
            try:
                data = await exchange.result(name)
            except MivaaError as error:
                log.warning("page spool unreadable", extra={"fields": {"range": name, "reason": error.reason}})
                data = None
            if data is not None:
                return _checked(data, name, first, last)
            if time.monotonic() >= give_up:
                log.warning("page range late; reading it here", extra={"fields": {"range": name}})
                return None
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)


def _checked(data: bytes, name: str, first: int, last: int) -> RangeOutcome | None:
    """The outcome if it is the range's, every page of it in order; None (read it here) otherwise."""
    try:
        outcome: RangeOutcome = from_json(RangeOutcome, data)
    except WireError as error:
        log.error("spooled page range unreadable", extra={"fields": {"range": name, "why": str(error)[:200]}})
        return None
    if outcome.error is not None:
        log.warning("page range failed elsewhere", extra={"fields": {"range": name, "reason": outcome.error.reason}})
        return None
    numbers = [page.number for page in outcome.pages]
    if (outcome.first, outcome.last) != (first, last) or numbers != list(range(first + 1, last + 1)):
        log.error("spooled page range does not match", extra={"fields": {"range": name}})
        return None
    return outcome
