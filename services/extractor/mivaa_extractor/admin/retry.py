"""Retrying finished jobs: one by name, or the failed ones a filter selects.

A retry runs the same job again from the stored original: the job goes back to QUEUED with its
attempts, errors and timings cleared and retry_count raised, its document back to PENDING, and a
new work item is queued. Nothing is changed before every check has passed (the job failed or was
cancelled, its document still exists with it as its current job, the original is still stored and
opens, with the caller's password when it is encrypted: the service keeps no password).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.job_filter import JobFilter
from mivaa_extractor.jobs import DOMAIN, job_tenant
from mivaa_extractor.ports import DocumentCatalog, DocumentState, JobRecords, Originals, WorkQueue
from mivaa_extractor.task_seal import TaskSealer
from mivaa_platform import limits
from mivaa_platform.bus_errors import bus_errors
from mivaa_platform.errors import FailedPrecondition, InvalidArgument, MivaaError, NotFound
from mivaa_platform.tenancy import TenantScope

log = logging.getLogger("mivaa.extractor.admin")

RETRYABLE_STATES = frozenset({job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_CANCELLED})
DEFAULT_BATCH_RETRIES = 20
MAX_BATCH_RETRIES = 100
# Failed jobs one batch call reads at most looking for matches (newest first).
MAX_JOBS_SCANNED = 5_000
_LIST_PAGE = 500


@dataclass(frozen=True)
class RetryPorts:
    jobs: JobRecords
    catalog: DocumentCatalog
    originals: Originals
    work: WorkQueue
    task_sealer: TaskSealer
    # Opens the original as an upload is opened (raises PDF_ENCRYPTED without the right password).
    validate: Callable[[bytes, str | None], Awaitable[object]]


@dataclass(frozen=True)
class BatchRetryFilter:
    reason: str
    after_ms: int | None
    before_ms: int | None
    max_jobs: int


@dataclass(frozen=True)
class BatchRetryResult:
    retried: list[str]
    # (job, reason, message) of each job that could not be retried.
    failures: list[tuple[str, str, str]]
    more: bool


def new_batch_filter(*, reason: str, after_ms: int | None, before_ms: int | None, max_jobs: int) -> BatchRetryFilter:
    """The caller's batch, or INVALID_ARGUMENT: INVALID_REASON, INVALID_TIME_RANGE, INVALID_MAX_JOBS."""
    reason = reason.strip()
    if reason and (len(reason) > 64 or not reason.replace("_", "").isalnum() or reason.upper() != reason):
        raise InvalidArgument(
            "INVALID_REASON", "reason must be an UPPER_SNAKE_CASE error reason such as PDF_UNREADABLE.", domain=DOMAIN
        )
    if after_ms is not None and before_ms is not None and after_ms >= before_ms:
        raise InvalidArgument(
            "INVALID_TIME_RANGE", "create_time_after must be earlier than create_time_before.", domain=DOMAIN
        )
    if max_jobs < 0 or max_jobs > MAX_BATCH_RETRIES:
        raise InvalidArgument(
            "INVALID_MAX_JOBS",
            f"max_jobs must be between 0 (the default, {DEFAULT_BATCH_RETRIES}) and {MAX_BATCH_RETRIES}.",
            domain=DOMAIN,
            metadata={"max_jobs": str(MAX_BATCH_RETRIES)},
        )
    return BatchRetryFilter(reason, after_ms, before_ms, max_jobs or DEFAULT_BATCH_RETRIES)


class JobRetrier:
    def __init__(self, ports: RetryPorts):
        self._ports = ports
        self._jobs = ports.jobs

    async def retry(self, name: str, *, password: str, tenant: str) -> job_pb2.Job:
        password = limits.check_password(password, domain=DOMAIN, field="password")
        with bus_errors(domain=DOMAIN):
            job = await self._jobs.get(name, tenant=tenant)  # another tenant's job: JOB_NOT_FOUND
        _check_retryable(job)
        try:
            document = await self._ports.catalog.get(job.document, tenant=tenant)
        except NotFound:
            raise _cannot_retry("DOCUMENT_DELETED", "The job's document was deleted; upload the file again.") from None
        if document.job != job.name:
            raise _cannot_retry(
                "JOB_SUPERSEDED", "A newer job processes this document; retry that one.", current=document.job
            )
        with bus_errors(domain=DOMAIN):
            try:
                data = await self._ports.originals.get(document.sha256)
            except NotFound:
                raise _cannot_retry(
                    "ORIGINAL_MISSING", "The uploaded file is no longer stored; upload it again."
                ) from None
        await self._ports.validate(data, password or None)  # PDF_ENCRYPTED without the right password
        del data
        task = job_pb2.ExtractTask(
            job=job.name,
            document=job.document,
            sha256=document.sha256,
            filename=job.filename,
            tenant=tenant,
            options=document.processing_options,  # the run is processed as its document says
        )
        task.sealed_password = self._ports.task_sealer.seal_password(password, task)
        with bus_errors(domain=DOMAIN):
            job = await self._jobs.reopen(name, _reset_for_retry, tenant=tenant)
        try:
            await self._ports.catalog.set_state(job.document, DocumentState.PENDING, tenant=tenant, job=job.name)
            with bus_errors(domain=DOMAIN):
                await self._ports.work.submit(task, run=job.retry_count)
        except BaseException:
            await self._undo(job, tenant)
            raise
        log.info("job retried", extra={"fields": {"job": job.name, "retry_count": job.retry_count}})
        return job

    async def _undo(self, job: job_pb2.Job, tenant: str) -> None:
        """The retry could not be queued: the job and its document say so, instead of waiting forever."""
        try:
            await self._jobs.update(job.name, _mark_retry_failed, tenant=tenant)
            await self._ports.catalog.set_state(job.document, DocumentState.FAILED, tenant=tenant)
        except Exception:
            log.exception("could not undo a failed retry", extra={"fields": {"job": job.name}})

    async def retry_failed(self, batch: BatchRetryFilter, *, tenant: TenantScope) -> BatchRetryResult:
        """Retries up to batch.max_jobs of the tenant's FAILED jobs that match, newest first.

        With ALL_TENANTS (a platform admin's call) every tenant's, each for its own tenant."""
        where = JobFilter(
            states=frozenset({job_pb2.JOB_STATE_FAILED}), after_ms=batch.after_ms, before_ms=batch.before_ms
        )
        retried: list[str] = []
        failures: list[tuple[str, str, str]] = []
        token, scanned = "", 0
        while True:
            with bus_errors(domain=DOMAIN):
                jobs, token = await self._jobs.list(_LIST_PAGE, token, tenant=tenant, where=where)
            scanned += _LIST_PAGE
            for job in jobs:
                if batch.reason and job.error.reason != batch.reason:
                    continue
                if len(retried) + len(failures) == batch.max_jobs:
                    return BatchRetryResult(retried, failures, more=True)
                try:
                    await self.retry(job.name, password="", tenant=job_tenant(job))
                except MivaaError as error:
                    failures.append((job.name, error.reason, error.message))
                else:
                    retried.append(job.name)
            if not token or scanned >= MAX_JOBS_SCANNED:
                return BatchRetryResult(retried, failures, more=bool(token))


def _check_retryable(job: job_pb2.Job) -> None:
    if job.state not in RETRYABLE_STATES:
        raise _cannot_retry(
            "JOB_NOT_RETRYABLE",
            "Only a failed or cancelled job can be retried; this one is "
            f"{job_pb2.JobState.Name(job.state).removeprefix('JOB_STATE_').lower().replace('_', ' ')}.",
            state=job_pb2.JobState.Name(job.state),
        )


def _cannot_retry(reason: str, message: str, **metadata: str) -> FailedPrecondition:
    return FailedPrecondition(reason, message, domain=DOMAIN, metadata=metadata or None)


def _reset_for_retry(job: job_pb2.Job) -> None:
    """The job as a fresh run sees it: progress, errors, timings and attempts cleared; what the
    upload said about it (document, file, tenant, labels, creation time) kept."""
    _check_retryable(job)  # on the record as it is now: two retries at once queue one run
    for progress in (
        "pages_done",
        "chunks_indexed",
        "error",
        "page_errors",
        "stage_timings",
        "attempts",
        "ocr_pages_total",
        "ocr_pages_done",
        "images_extracted",
        "entities_found",
    ):
        job.ClearField(progress)
    job.state = job_pb2.JOB_STATE_QUEUED
    job.stage = job_pb2.JOB_STAGE_QUEUED
    job.retry_count += 1


def _mark_retry_failed(job: job_pb2.Job) -> None:
    job.state = job_pb2.JOB_STATE_FAILED
    job.stage = job_pb2.JOB_STAGE_DONE
    job.error.CopyFrom(job_pb2.JobError(reason="RETRY_FAILED", message="The retry could not be queued; try again."))
