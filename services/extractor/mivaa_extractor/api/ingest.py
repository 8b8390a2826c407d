"""Upload use case: validate, store content-addressed, register, enqueue.

Nothing is stored before the caller's fields and the file have passed
validation, so a rejected upload leaves every store exactly as it was. The
catalog registers the document first; the original, the job record and the
work item follow, and a failure among them undoes the upload (see `_undo`). Re-uploading bytes the same tenant
already stored returns its existing document and job instead of processing
them again; another tenant uploading the same bytes gets a document of its own
(the stored original, keyed by content, is shared).

The catalog's document row is also the upload's (and its job's) reference to the shared original:
search records it in the same transaction, before the bytes are stored or found already stored,
so no other tenant's delete can remove bytes this upload relies on: a delete that got there first
has either finished (the bytes are then stored again here) or finds this reference and leaves the
bytes (search's store/originals.py). A job never runs without its document: `_undo` deletes a document whose job
could not be started, which releases the reference.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from opentelemetry import trace

from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1.processing_options_pb2 import ProcessingOptions
from mivaa_extractor import metrics
from mivaa_extractor.api.upload_validation import UploadValidator
from mivaa_extractor.extraction.pictures import PictureLimits
from mivaa_extractor.extraction.validation import PdfInfo, media_type_of, over_limit
from mivaa_extractor.jobs import DOMAIN, new_job_id
from mivaa_extractor.ports import (
    CatalogDocument,
    DocumentCatalog,
    DocumentState,
    JobRecords,
    NewDocument,
    Originals,
    WorkQueue,
)
from mivaa_extractor.task_seal import TaskSealer
from mivaa_platform import limits as field_limits
from mivaa_platform.bus_errors import bus_errors
from mivaa_platform.errors import InvalidArgument, NotFound
from mivaa_platform.telemetry import traced

log = logging.getLogger("mivaa.extractor.ingest")

SIGNATURE_BYTES = 1024


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pages: int
    validate_seconds: float = 60.0
    pictures: PictureLimits = PictureLimits()


@dataclass(frozen=True)
class UploadRequest:
    # Who uploads: the document and its job belong to this tenant.
    tenant: str
    # Travels to the workers sealed (task_seal); "" for none.
    password: str
    # What the uploader says about the document.
    filename: str
    title: str
    labels: tuple[str, ...]
    # The batch it joins ("batches/{id}", api.batch_uploads), "" for none.
    batch: str = ""
    # How to process it (checked: processing_options); None for the batch's or the defaults.
    options: ProcessingOptions | None = None
    # The document this upload becomes the next version of ("documents/{id}", api.versions), or
    # with replace_by_filename the uploader's newest document of the same filename.
    parent: str = ""
    replace_by_filename: bool = False


@dataclass(frozen=True)
class UploadResult:
    document: CatalogDocument
    job: job_pb2.Job
    created: bool


@dataclass(frozen=True)
class UploadPorts:
    """Where an upload goes (the adapters in the service, fakes in unit tests)."""

    jobs: JobRecords
    originals: Originals
    catalog: DocumentCatalog
    work: WorkQueue
    task_sealer: TaskSealer


class PdfValidator(Protocol):
    """Opens the upload as a PDF within its limits (api.upload_validation.UploadValidator in the service)."""

    async def validate(self, data: bytes, password: str | None) -> PdfInfo: ...

    async def warm_up(self) -> None: ...

    def close(self) -> None: ...


class Ingestor:
    def __init__(self, ports: UploadPorts, limits: UploadLimits, validator: PdfValidator | None = None):
        self.ports = ports
        self.limits = limits
        self._jobs, self._catalog = ports.jobs, ports.catalog
        # Opening an untrusted PDF can take long or crash MuPDF: a supervised worker process does it.
        self._validator = validator or UploadValidator(
            max_bytes=limits.max_bytes,
            max_pages=limits.max_pages,
            timeout=limits.validate_seconds,
            picture_limits=limits.pictures,
        )

    def close(self) -> None:
        self._validator.close()

    async def warm_up(self) -> None:
        """Starts the validator process now, so the first upload does not pay for it."""
        await self._validator.warm_up()

    async def validate(self, data: bytes, password: str | None) -> PdfInfo:
        """Opens stored bytes as an upload is opened (a retry checks its original and password so)."""
        return await self._validator.validate(data, password)

    async def read_upload(self, chunks: AsyncIterator[bytes]) -> bytes:
        """Collects the bytes, failing fast on a signature neither a PDF's nor a picture's, or a size over the cap."""
        buffer = bytearray()
        signature_checked = False
        async for chunk in chunks:
            buffer += chunk
            if len(buffer) > self.limits.max_bytes:
                raise over_limit(
                    "FILE_TOO_LARGE",
                    f"The upload is larger than the limit of {self.limits.max_bytes} bytes.",
                    max_bytes=self.limits.max_bytes,
                )
            if not signature_checked and len(buffer) >= SIGNATURE_BYTES:
                media_type_of(bytes(buffer[:SIGNATURE_BYTES]))
                signature_checked = True
        return bytes(buffer)

    async def upload(self, request: UploadRequest, data: bytes) -> UploadResult:
        info = await traced("validate upload", self._validator.validate(data, request.password or None))
        sha256 = hashlib.sha256(data).hexdigest()
        job_name = f"jobs/{new_job_id()}"
        # The upload's span names its job: `mivaa trace jobs/<id>` finds the trace by it.
        trace.get_current_span().set_attribute("mivaa.job", job_name)
        title = (
            request.title or field_limits.printable(info.title or "", field_limits.MAX_TITLE_CHARS) or request.filename
        )
        # The catalog first: it is the store that can still refuse the document, and until it has
        # accepted it nothing else (the original, a job, a work item) is written.
        document, created = await self._catalog.create(
            NewDocument(
                filename=request.filename,
                title=title,
                labels=request.labels,
                sha256=sha256,
                size_bytes=len(data),
                page_count=info.page_count,
                job=job_name,
                tenant=request.tenant,
                media_type=info.media_type,
                processing_options=request.options,
                parent=request.parent,
                replace_by_filename=request.replace_by_filename,
            )
        )
        if not created:
            existing_job = await self._existing_job(document, request.tenant)
            if existing_job is not None and document.state is not DocumentState.FAILED:
                return UploadResult(document=document, job=existing_job, created=False)
            # The earlier attempt failed or never got its job recorded: start again.
            document = await self._catalog.set_state(
                document.name,
                DocumentState.PENDING,
                tenant=request.tenant,
                job=job_name,
                processing_options=request.options,
            )
        job: job_pb2.Job | None = None
        try:
            with bus_errors(domain=DOMAIN):
                await self.ports.originals.put(sha256, data)
                job = await self._jobs.create(
                    job_pb2.Job(
                        name=job_name,
                        document=document.name,
                        state=job_pb2.JOB_STATE_QUEUED,
                        stage=job_pb2.JOB_STAGE_QUEUED,
                        pages_total=info.page_count,
                        filename=request.filename,
                        tenant=request.tenant,
                        labels=request.labels,
                        batch=request.batch,
                    )
                )
                await traced("enqueue job", self._enqueue(job, sha256, request), job=job.name)
        except BaseException as failure:
            await self._undo(document, job, created=created, tenant=request.tenant, failure=failure)
            raise
        metrics.document_stored(request.tenant, len(data))
        return UploadResult(document=document, job=job, created=True)

    async def _undo(
        self,
        document: CatalogDocument,
        job: job_pb2.Job | None,
        *,
        created: bool,
        tenant: str,
        failure: BaseException,
    ) -> None:
        """Leaves no half-made upload behind: the caller got an error, so nothing of it stays queued.

        A document created by this upload is deleted with its job record (the catalog then
        removes the original unless another document, of any tenant, still has the same bytes):
        the caller was told the upload failed, so it leaves nothing to list. A document that
        existed before goes back to FAILED, the state that made this upload start it again, and
        its new job is marked FAILED too, so the document and GetJob agree that nothing runs.
        A work item published after all (a publish that timed out late) finds no matching job
        and is rejected by the worker.
        """
        reason = getattr(failure, "reason", type(failure).__name__)
        log.warning(
            "upload failed after the catalog accepted it; undoing",
            extra={"fields": {"document": document.name, "reason": reason}},
        )
        try:
            if created:
                if job is not None:
                    await self._jobs.delete(job.name, tenant=tenant)
                await self._catalog.delete(document.name, tenant=tenant)
            else:
                if job is not None:
                    await self._jobs.update(job.name, _mark_upload_failed, tenant=tenant)
                await self._catalog.set_state(document.name, DocumentState.FAILED, tenant=tenant)
        except Exception:  # the first failure is the one the caller must see
            log.exception("could not undo a failed upload", extra={"fields": {"document": document.name}})

    async def _existing_job(self, document: CatalogDocument, tenant: str) -> job_pb2.Job | None:
        if not document.job:
            return None
        try:
            return await self._jobs.get(document.job, tenant=tenant)
        except NotFound:
            return None

    async def _enqueue(self, job: job_pb2.Job, sha256: str, request: UploadRequest) -> None:
        task = job_pb2.ExtractTask(
            job=job.name,
            document=job.document,
            sha256=sha256,
            filename=request.filename,
            tenant=request.tenant,
            options=request.options,
        )
        # The password crosses the bus sealed for the workers, bound to this task.
        task.sealed_password = self.ports.task_sealer.seal_password(request.password, task)
        await self.ports.work.submit(task)


def _mark_upload_failed(job: job_pb2.Job) -> None:
    job.state = job_pb2.JOB_STATE_FAILED
    job.stage = job_pb2.JOB_STAGE_DONE
    job.error.CopyFrom(
        job_pb2.JobError(reason="UPLOAD_FAILED", message="The upload could not be completed; upload again.")
    )


def new_upload_request(
    *, filename: str, title: str, labels: Sequence[str], password: str, tenant: str, fields: str = "metadata."
) -> UploadRequest:
    """The caller's upload fields, checked against the shared limits before anything is read or stored.

    `fields` prefixes the field names errors give (UploadMetadata's; ImportDocument's are top-level)."""
    filename = field_limits.check_filename(filename.strip(), domain=DOMAIN, field=f"{fields}filename")
    if not filename:
        raise InvalidArgument("FILENAME_MISSING", f"{fields}filename is required.", domain=DOMAIN)
    stripped = [label.strip() for label in labels]
    return UploadRequest(
        filename=filename,
        title=field_limits.check_title(title.strip(), domain=DOMAIN, field=f"{fields}title"),
        labels=tuple(
            sorted(
                set(
                    field_limits.check_labels(
                        [label for label in stripped if label], domain=DOMAIN, field=f"{fields}labels"
                    )
                )
            )
        ),
        password=field_limits.check_password(password, domain=DOMAIN, field=f"{fields}password"),
        tenant=tenant,
    )
