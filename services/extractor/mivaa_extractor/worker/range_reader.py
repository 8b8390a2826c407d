"""Reading a range of another worker's document: admitted like its task, extracted, spooled.

A range is believed only as far as its document's task is (worker/admission.py:
the catalog, the job store and the sealed password agree), and only while the
attempt (of the same run: an admin's retry counts attempts again) that asked for it
still runs: a range of a finished, cancelled, retried or redelivered attempt is
dropped without reading a page. The original is fetched
once per document and kept in scratch while its ranges keep coming.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor import metrics
from mivaa_extractor.extraction.pictures import picture_type
from mivaa_extractor.extraction.structure.model import DocumentInfo, FontProfile, PageError
from mivaa_extractor.extraction.structure.wire import WireError, from_json, to_json
from mivaa_extractor.jobs import is_retryable, is_terminal, task_tenant
from mivaa_extractor.ports import PageRangeExchange, WorkingCopy
from mivaa_extractor.worker.admission import TASK_REJECTED, TaskAdmission
from mivaa_extractor.worker.page_source import LocalPages, RangeOutcome
from mivaa_extractor.worker.shared_pages import range_name
from mivaa_platform.errors import MivaaError

log = logging.getLogger("mivaa.extractor.pages")


@dataclass(frozen=True)
class _Copy:
    path: str
    is_picture: bool


class OriginalCopies:
    """Originals written to scratch by sha256, the `keep` most recently used (a document's ranges
    arrive one after another, those of two documents interleaved)."""

    def __init__(self, admission: TaskAdmission, scratch_dir: str | None = None, keep: int = 2):
        self._admission = admission
        self._dir = tempfile.mkdtemp(dir=scratch_dir or None, prefix="mivaa-ranges-")
        self._keep = keep
        self._copies: collections.OrderedDict[str, _Copy] = collections.OrderedDict()
        self._lock = asyncio.Lock()

    async def get(self, task: job_pb2.ExtractTask) -> _Copy:
        async with self._lock:
            copy = self._copies.get(task.sha256)
            if copy is not None:
                self._copies.move_to_end(task.sha256)
                return copy
            data = await self._admission.original(task)
            path = os.path.join(self._dir, task.sha256)
            await asyncio.to_thread(_write_file, path, data)
            copy = self._copies[task.sha256] = _Copy(path, picture_type(data[:16]) is not None)
            while len(self._copies) > self._keep:
                _, old = self._copies.popitem(last=False)
                _remove(old.path)
            return copy

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


class RangeReader:
    def __init__(
        self, admission: TaskAdmission, copies: OriginalCopies, local: LocalPages, exchange: PageRangeExchange
    ):
        self._admission = admission
        self._copies = copies
        self._local = local
        self._exchange = exchange

    async def handle(self, work: job_pb2.PageRangeTask) -> bool:
        """Reads the range and spools its outcome; False when it was dropped as stale or not believed.

        Raises a retryable MivaaError when a dependency is down (the range is delivered again).
        """
        outcome = await self.read(work)
        if outcome is None:
            metrics.page_range("dropped")
            return False
        name = range_name(work.task.job, work.run, work.attempt, work.first_page, work.last_page)
        await self._exchange.put(name, to_json(outcome))
        metrics.page_range("extracted")
        return True

    async def read(self, work: job_pb2.PageRangeTask) -> RangeOutcome | None:
        task, first, last = work.task, work.first_page, work.last_page
        fields = {"job": task.job[:100], "first": first, "last": last}
        if work.deadline_unix_seconds and time.time() > work.deadline_unix_seconds:
            log.info("page range past its deadline; dropped", extra={"fields": fields})
            return None
        try:
            job, password = await self._admission.admit(task)
        except MivaaError as error:
            if error.reason == TASK_REJECTED:
                return None
            raise
        if is_terminal(job) or (job.retry_count, job.attempts) != (work.run, work.attempt):
            return None  # its document finished, or a newer run or attempt reads it with ranges of its own
        if not 0 <= first < last <= job.pages_total:
            log.error("page range outside its document; dropped", extra={"fields": fields})
            return None
        try:
            read: tuple[DocumentInfo, FontProfile] = from_json(tuple[DocumentInfo, FontProfile], work.document_profile)
        except WireError as error:
            log.error("page range profile unreadable; dropped", extra={"fields": {**fields, "why": str(error)[:200]}})
            return None
        try:
            copy = await self._copies.get(task)
            document = WorkingCopy(copy.path, password, task.job, task_tenant(task), is_picture=copy.is_picture)
            return await self._local.read_range(document, read, task.options, first, last)
        except MivaaError as error:
            if is_retryable(error):
                raise
            # The assembling worker reads the range itself and reports what it finds there.
            return RangeOutcome(first=first, last=last, pages=[], error=PageError(error.reason, error.message))


def _write_file(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
