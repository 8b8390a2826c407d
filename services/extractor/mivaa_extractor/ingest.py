"""Upload use case: validate, store content-addressed, register, enqueue.

Nothing is stored before the file has passed validation, so a rejected upload
leaves every store exactly as it was. Re-uploading bytes the same tenant
already stored returns its existing document and job instead of processing
them again; another tenant uploading the same bytes gets a document of its own
(the stored original, keyed by content, is shared).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
import multiprocessing
from collections.abc import AsyncIterator
from dataclasses import dataclass

from nats.js import JetStreamContext

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2
from mivaa_extractor.jobs import DOMAIN, JobStore, new_job_id
from mivaa_extractor.ports import DocumentCatalog, NewDocument
from mivaa_extractor.validation import PdfInfo, check_signature, validate_pdf
from mivaa_platform.errors import InvalidArgument, MivaaError, NotFound
from mivaa_platform.messaging import WORK_SUBJECT_EXTRACT, OriginalsStore
from mivaa_platform.tenancy import DEFAULT_TENANT
from mivaa_platform.telemetry import inject_trace_headers

log = logging.getLogger("mivaa.extractor.ingest")

SIGNATURE_BYTES = 1024


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pages: int
    validate_seconds: float = 60.0


@dataclass(frozen=True)
class UploadRequest:
    filename: str
    title: str
    labels: tuple[str, ...]
    password: str
    # Who uploads: the document and its job belong to this tenant.
    tenant: str = DEFAULT_TENANT


@dataclass(frozen=True)
class UploadResult:
    document: search_service_pb2.Document
    job: job_pb2.Job
    created: bool


class Ingestor:
    def __init__(
        self,
        *,
        js: JetStreamContext,
        jobs: JobStore,
        originals: OriginalsStore,
        catalog: DocumentCatalog,
        limits: UploadLimits,
    ):
        self._js = js
        self._jobs = jobs
        self._originals = originals
        self._catalog = catalog
        self.limits = limits
        # Opening an untrusted PDF can take long or crash MuPDF: do it in a
        # separate process, never on the event loop or in this process.
        self._validator = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )

    def close(self) -> None:
        self._validator.shutdown(wait=False, cancel_futures=True)

    async def warm_up(self) -> None:
        """Starts the validator process now, so the first upload does not pay for it."""
        await asyncio.get_running_loop().run_in_executor(self._validator, _warm)

    async def read_upload(self, chunks: AsyncIterator[bytes]) -> bytes:
        """Collects the bytes, failing fast on a wrong signature or a size over the cap."""
        buffer = bytearray()
        signature_checked = False
        async for chunk in chunks:
            buffer += chunk
            if len(buffer) > self.limits.max_bytes:
                raise InvalidArgument(
                    "FILE_TOO_LARGE",
                    f"The upload is larger than the limit of {self.limits.max_bytes} bytes.",
                    domain=DOMAIN,
                    metadata={"max_bytes": str(self.limits.max_bytes)},
                )
            if not signature_checked and len(buffer) >= SIGNATURE_BYTES:
                check_signature(bytes(buffer[:SIGNATURE_BYTES]))
                signature_checked = True
        return bytes(buffer)

    async def _validate(self, data: bytes, password: str | None) -> PdfInfo:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._validator,
            _validate_in_worker,
            data,
            password,
            self.limits.max_bytes,
            self.limits.max_pages,
        )
        try:
            return await asyncio.wait_for(future, self.limits.validate_seconds)
        except TimeoutError as exc:
            self._restart_validator()
            raise InvalidArgument("PDF_UNREADABLE", "The PDF could not be opened in time.", domain=DOMAIN) from exc
        except concurrent.futures.process.BrokenProcessPool as exc:
            self._restart_validator()
            raise InvalidArgument("PDF_UNREADABLE", "The PDF crashed the parser.", domain=DOMAIN) from exc

    def _restart_validator(self) -> None:
        self._validator.shutdown(wait=False, cancel_futures=True)
        for process in list(getattr(self._validator, "_processes", {}).values()):
            process.kill()
        self._validator = concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )

    async def upload(self, request: UploadRequest, data: bytes) -> UploadResult:
        info = await self._validate(data, request.password or None)
        sha256 = hashlib.sha256(data).hexdigest()
        await self._originals.put(sha256, data)
        job_name = f"jobs/{new_job_id()}"
        title = request.title or info.title or request.filename
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
            )
        )
        if not created:
            existing_job = await self._existing_job(document, request.tenant)
            if existing_job is not None and document.state != search_service_pb2.DOCUMENT_STATE_FAILED:
                return UploadResult(document=document, job=existing_job, created=False)
            # The earlier attempt failed or never got its job recorded: start again.
            document = await self._catalog.set_state(
                document.name, search_service_pb2.DOCUMENT_STATE_PENDING, tenant=request.tenant, job=job_name
            )
        job = await self._jobs.create(
            job_pb2.Job(
                name=job_name,
                document=document.name,
                state=job_pb2.JOB_STATE_QUEUED,
                stage=job_pb2.JOB_STAGE_QUEUED,
                pages_total=info.page_count,
                filename=request.filename,
                tenant=request.tenant,
            )
        )
        await self._enqueue(job, sha256, request)
        return UploadResult(document=document, job=job, created=True)

    async def _existing_job(self, document: search_service_pb2.Document, tenant: str) -> job_pb2.Job | None:
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
            password=request.password,
            tenant=request.tenant,
        )
        # Nats-Msg-Id makes a retried publish of the same job a no-op on the server.
        headers = inject_trace_headers({"Nats-Msg-Id": job.name})
        await self._js.publish(WORK_SUBJECT_EXTRACT, task.SerializeToString(), headers=headers)


def _warm() -> None:
    """Runs in the validator process: importing this module (and PyMuPDF) is the work."""


def _validate_in_worker(data: bytes, password: str | None, max_bytes: int, max_pages: int) -> PdfInfo:
    try:
        return validate_pdf(data, password=password, max_bytes=max_bytes, max_pages=max_pages)
    except MivaaError:
        raise
    except Exception as exc:  # noqa: BLE001 - an unknown parser failure is still "unreadable"
        raise InvalidArgument("PDF_UNREADABLE", "The file could not be read as a PDF.", domain=DOMAIN) from exc
