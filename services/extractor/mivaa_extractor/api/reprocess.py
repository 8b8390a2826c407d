"""Reprocessing a stored document: a new job over its stored original, with new or the same options.

No upload: the original is read from the store (and must still open, with the caller's password
when it is encrypted: the service keeps none). A READY document stays READY while the new job
runs, so its old chunks keep answering searches; the worker replaces them in the index's one
commit (ChunkIndex: the search service swaps a document's chunks, pages and images in one
transaction), and a failed run leaves them as they were (the task says `reprocess`). A FAILED
document is processed again like an upload (PENDING until its chunks are committed).

Nothing changes before every check has passed: the caller's tenant owns the document (another
tenant's is NOT_FOUND like a missing one), it is not being processed (FAILED_PRECONDITION
DOCUMENT_PROCESSING), the options are valid (checked by the caller: processing_options).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1.processing_options_pb2 import ProcessingOptions
from mivaa_extractor.api.ingest import UploadPorts
from mivaa_extractor.jobs import DOMAIN, is_terminal, new_job_id
from mivaa_extractor.ports import CatalogDocument, DocumentState
from mivaa_platform import limits
from mivaa_platform.bus_errors import bus_errors
from mivaa_platform.errors import FailedPrecondition, NotFound

log = logging.getLogger("mivaa.extractor.reprocess")

DOCUMENT_PROCESSING = "DOCUMENT_PROCESSING"


class Reprocessor:
    def __init__(self, ports: UploadPorts, validate: Callable[[bytes, str | None], Awaitable[object]]):
        self._ports = ports
        self._validate = validate
        # One reprocess of a document at a time in this process: the check and the switch to the
        # new job are not one catalog operation.
        self._busy: set[tuple[str, str]] = set()

    async def reprocess(
        self, name: str, *, options: ProcessingOptions | None, password: str, tenant: str
    ) -> tuple[CatalogDocument, job_pb2.Job]:
        """The document (its job now the new one) and the new, queued job."""
        password = limits.check_password(password, domain=DOMAIN, field="password")
        key = (tenant, name)
        if key in self._busy:
            raise _processing(name)
        self._busy.add(key)
        try:
            return await self._reprocess(name, options, password, tenant)
        finally:
            self._busy.discard(key)

    async def _reprocess(
        self, name: str, options: ProcessingOptions | None, password: str, tenant: str
    ) -> tuple[CatalogDocument, job_pb2.Job]:
        ports = self._ports
        document = await ports.catalog.get(name, tenant=tenant)  # another tenant's: DOCUMENT_NOT_FOUND
        await self._check_idle(document, tenant)
        if options is None:
            options = document.processing_options or ProcessingOptions()
        with bus_errors(domain=DOMAIN):
            try:
                data = await ports.originals.get(document.sha256)
            except NotFound:
                raise FailedPrecondition(
                    "ORIGINAL_MISSING", "The uploaded file is no longer stored; upload it again.", domain=DOMAIN
                ) from None
        await self._validate(data, password or None)  # PDF_ENCRYPTED without the right password
        del data
        keep_ready = document.state is DocumentState.READY
        job = job_pb2.Job(
            name=f"jobs/{new_job_id()}",
            document=document.name,
            state=job_pb2.JOB_STATE_QUEUED,
            stage=job_pb2.JOB_STAGE_QUEUED,
            pages_total=document.page_count,
            filename=document.filename,
            tenant=tenant,
            labels=document.labels,
        )
        task = job_pb2.ExtractTask(
            job=job.name,
            document=document.name,
            sha256=document.sha256,
            filename=document.filename,
            tenant=tenant,
            options=options,
            reprocess=keep_ready,
        )
        task.sealed_password = ports.task_sealer.seal_password(password, task)
        with bus_errors(domain=DOMAIN):
            job = await ports.jobs.create(job)
        state = DocumentState.READY if keep_ready else DocumentState.PENDING
        try:
            updated = await ports.catalog.set_state(
                document.name, state, tenant=tenant, job=job.name, processing_options=options
            )
            with bus_errors(domain=DOMAIN):
                await ports.work.submit(task)
        except BaseException:
            await asyncio.shield(self._undo(document, job, tenant))
            raise
        log.info("document reprocessing", extra={"fields": {"document": document.name, "job": job.name}})
        return updated, job

    async def _check_idle(self, document: CatalogDocument, tenant: str) -> None:
        """FAILED_PRECONDITION DOCUMENT_PROCESSING while the document's current job has not finished."""
        if document.state in (DocumentState.PENDING, DocumentState.PROCESSING):
            raise _processing(document.name)
        if not document.job:
            return
        try:
            with bus_errors(domain=DOMAIN):
                current = await self._ports.jobs.get(document.job, tenant=tenant)
        except NotFound:
            return  # its job expired: nothing runs
        if not is_terminal(current):
            raise _processing(document.name)

    async def _undo(self, document: CatalogDocument, job: job_pb2.Job, tenant: str) -> None:
        """The run could not be queued: the document goes back to its job and options, the new job says why."""
        try:
            await self._ports.jobs.update(job.name, _mark_not_queued, tenant=tenant)
            await self._ports.catalog.set_state(
                document.name,
                document.state,
                tenant=tenant,
                job=document.job,
                processing_options=document.processing_options or ProcessingOptions(),
            )
        except Exception:
            log.exception("could not undo a failed reprocess", extra={"fields": {"document": document.name}})


def _processing(name: str) -> FailedPrecondition:
    return FailedPrecondition(
        DOCUMENT_PROCESSING,
        "The document is being processed; reprocess it when its job has finished.",
        domain=DOMAIN,
        metadata={"document": name[:100]},
    )


def _mark_not_queued(job: job_pb2.Job) -> None:
    job.state = job_pb2.JOB_STATE_FAILED
    job.stage = job_pb2.JOB_STAGE_DONE
    job.error.CopyFrom(
        job_pb2.JobError(reason="REPROCESS_FAILED", message="The reprocess could not be queued; try again.")
    )
