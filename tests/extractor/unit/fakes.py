"""In-memory fakes of the extractor's ports, for unit tests of the use cases (no mesh, no processes)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace

from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1.processing_options_pb2 import ProcessingOptions
from mivaa_extractor.extraction.structure.model import (
    DocumentInfo,
    ExtractedImage,
    FontProfile,
    PageError,
    PageLayout,
)
from mivaa_extractor.extraction.text_extraction import RenderedPage
from mivaa_extractor.extraction.validation import PdfInfo
from mivaa_extractor.job_filter import EVERY_JOB, JobFilter
from mivaa_extractor.jobs import DOMAIN, is_terminal, job_tenant
from mivaa_extractor.ports import (
    CatalogDocument,
    DocumentState,
    EmbeddedChunk,
    IndexTarget,
    NewDocument,
    RecognizedPage,
    WorkingCopy,
)
from mivaa_platform.embedding import EmbeddedTexts
from mivaa_platform.errors import NotFound
from mivaa_platform.tenancy import TenantScope, in_scope


def copy_of(job: job_pb2.Job) -> job_pb2.Job:
    copy = job_pb2.Job()
    copy.CopyFrom(job)
    return copy


class FakeJobs:
    """JobRecords in a dict; every read is a copy, as a store's would be."""

    def __init__(self) -> None:
        self.records: dict[str, job_pb2.Job] = {}
        # Called with the job after each stored change (a test cancels a job from here).
        self.on_update: Callable[[job_pb2.Job], None] | None = None

    async def create(self, job: job_pb2.Job) -> job_pb2.Job:
        self.records[job.name] = copy_of(job)
        return job

    async def get(self, name: str, *, tenant: TenantScope) -> job_pb2.Job:
        job = self.records.get(name)
        if job is None or not in_scope(job_tenant(job), tenant):
            raise NotFound("JOB_NOT_FOUND", "No such job.", domain=DOMAIN)
        return copy_of(job)

    async def update(
        self, name: str, change: Callable[[job_pb2.Job], bool | None], *, tenant: TenantScope
    ) -> job_pb2.Job:
        job = await self.get(name, tenant=tenant)
        if is_terminal(job) or change(job) is False:
            return job
        self.records[name] = copy_of(job)
        if self.on_update is not None:
            self.on_update(job)
        return job

    async def delete(self, name: str, *, tenant: TenantScope) -> None:
        await self.get(name, tenant=tenant)
        del self.records[name]

    async def reopen(
        self, name: str, change: Callable[[job_pb2.Job], bool | None], *, tenant: TenantScope
    ) -> job_pb2.Job:
        job = await self.get(name, tenant=tenant)
        if change(job) is not False:
            self.records[name] = copy_of(job)
        return job

    async def cancel(self, name: str, *, tenant: TenantScope) -> job_pb2.Job:
        def cancelled(job: job_pb2.Job) -> None:
            job.state = job_pb2.JOB_STATE_CANCELLED
            job.stage = job_pb2.JOB_STAGE_DONE

        return await self.update(name, cancelled, tenant=tenant)

    async def list(
        self, page_size: int, page_token: str, *, tenant: TenantScope, where: JobFilter = EVERY_JOB
    ) -> tuple[list[job_pb2.Job], str]:
        jobs = [
            copy_of(job) for job in self.records.values() if in_scope(job_tenant(job), tenant) and where.matches(job)
        ]
        return jobs[:page_size], ""

    async def watch(self, name: str, *, tenant: TenantScope) -> AsyncIterator[job_pb2.JobEvent]:
        yield job_pb2.JobEvent(job=await self.get(name, tenant=tenant))


class FakeOriginals:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def put(self, sha256: str, data: bytes) -> None:
        self.files[sha256] = data

    async def get(self, sha256: str) -> bytes:
        if sha256 not in self.files:  # as OriginalsStore.get says it
            raise NotFound("ORIGINAL_NOT_FOUND", "The stored original of this document is missing.")
        return self.files[sha256]


class FakeCatalog:
    """DocumentCatalog: documents by name, deduplicated per tenant by sha256."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[str, CatalogDocument]] = {}  # name -> (tenant, document)

    async def create(self, document: NewDocument) -> tuple[CatalogDocument, bool]:
        for tenant, existing in self.documents.values():
            if tenant == document.tenant and existing.sha256 == document.sha256:
                return existing, False
        name = f"documents/{os.urandom(4).hex()}"
        created = CatalogDocument(
            name=name,
            sha256=document.sha256,
            state=DocumentState.PENDING,
            job=document.job,
            filename=document.filename,
            title=document.title,
            labels=document.labels,
            size_bytes=document.size_bytes,
            page_count=document.page_count,
            processing_options=document.processing_options,
        )
        self.documents[name] = (document.tenant, created)
        return created, True

    async def set_state(
        self,
        name: str,
        state: DocumentState,
        *,
        tenant: str,
        job: str | None = None,
        processing_options: ProcessingOptions | None = None,
    ) -> CatalogDocument:
        document = await self.get(name, tenant=tenant)
        document = replace(document, state=state, job=document.job if job is None else job)
        if processing_options is not None:
            document = replace(document, processing_options=processing_options)
        self.documents[name] = (tenant, document)
        return document

    async def get(self, name: str, *, tenant: str) -> CatalogDocument:
        owner, document = self.documents.get(name, ("", None))
        if document is None or owner != tenant:
            raise NotFound("DOCUMENT_NOT_FOUND", "No such document.", domain="search.mivaa")
        return document

    async def delete(self, name: str, *, tenant: str) -> None:
        await self.get(name, tenant=tenant)
        del self.documents[name]


class FakeWorkQueue:
    def __init__(self) -> None:
        self.tasks: list[job_pb2.ExtractTask] = []
        self.runs: list[int] = []
        self.failure: Exception | None = None

    async def submit(self, task: job_pb2.ExtractTask, *, run: int = 0) -> None:
        if self.failure is not None:
            raise self.failure
        self.tasks.append(task)
        self.runs.append(run)


@dataclass
class FakeValidator:
    """PdfValidator that believes every upload has `page_count` pages."""

    page_count: int = 2
    title: str = ""
    failure: Exception | None = None

    async def validate(self, data: bytes, password: str | None) -> PdfInfo:
        if self.failure is not None:
            raise self.failure
        return PdfInfo(page_count=self.page_count, title=self.title, encrypted=bool(password), producer="")

    async def warm_up(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeEmbedder:
    """TextEmbedder: a two-number vector per text, one token per word."""

    model = "fake-model"

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.models: list[str] = []  # the model asked for, per batch ("": the configured one)
        self.failure: Exception | None = None

    async def embed(self, texts: Sequence[str], model: str = "") -> EmbeddedTexts:
        if self.failure is not None:
            raise self.failure
        self.batches.append(list(texts))
        self.models.append(model)
        return EmbeddedTexts(
            vectors=[[1.0, float(len(text))] for text in texts], token_counts=[len(text.split()) for text in texts]
        )


@dataclass
class FakeWriter:
    target: IndexTarget
    chunks: list[EmbeddedChunk] = field(default_factory=list)
    pages: list[tuple[PageLayout, bool]] = field(default_factory=list)
    images: list[tuple[ExtractedImage, Sequence[float], str]] = field(default_factory=list)
    committed: bool = False
    aborted: bool = False

    async def write(self, chunk: EmbeddedChunk) -> None:
        self.chunks.append(chunk)

    async def write_page(self, page: PageLayout, *, ocr: bool) -> None:
        self.pages.append((page, ocr))

    async def write_image(self, image: ExtractedImage, *, vector: Sequence[float], model: str) -> None:
        self.images.append((image, vector, model))

    async def commit(self) -> int:
        self.committed = True
        return len(self.chunks)

    async def abort(self) -> None:
        self.aborted = True


class FakeIndex:
    def __init__(self) -> None:
        self.writers: list[FakeWriter] = []
        self.tenant_models: dict[str, str] = {}  # tenants re-embedded with another model

    async def text_model(self, tenant: str) -> str:
        return self.tenant_models.get(tenant, "")

    async def open_writer(self, target: IndexTarget) -> FakeWriter:
        self.writers.append(FakeWriter(target))
        return self.writers[-1]


@dataclass
class FakePages:
    """PageReader over page texts given by the test: "" is a page without a text layer, None a failed page."""

    texts: list[str | None]
    batch_pages: int = 2
    # Called after each batch is yielded (a test cancels the job from here).
    after_batch: Callable[[], None] | None = None
    # (first page, last page, images) of each pages() call: whether the images were asked for.
    image_requests: list[tuple[int, int, bool]] = field(default_factory=list)

    async def profile(self, document: WorkingCopy) -> tuple[DocumentInfo, FontProfile]:
        return DocumentInfo(page_count=len(self.texts), title="From the PDF"), FontProfile()

    async def pages(
        self,
        document: WorkingCopy,
        page_count: int,
        profile: tuple[DocumentInfo, FontProfile],
        first: int = 0,
        *,
        images: bool,
    ) -> AsyncIterator[list[PageLayout]]:
        self.image_requests.append((first + 1, page_count, images))
        pages = [self._page(number) for number in range(first + 1, page_count + 1)]
        for start in range(0, len(pages), self.batch_pages):
            yield pages[start : start + self.batch_pages]
            if self.after_batch is not None:
                self.after_batch()

    def _page(self, number: int) -> PageLayout:
        text = self.texts[number - 1]
        if text is None:
            return PageLayout(number=number, error=PageError("PAGE_TIMEOUT", f"Page {number} took too long."))
        if not text:
            return PageLayout(number=number, width=600, height=800, ocr_reason="NO_TEXT_LAYER")
        return PageLayout.from_text(number, text, width=600, height=800)

    async def render(self, document: WorkingCopy, numbers: list[int]) -> list[RenderedPage]:
        return [RenderedPage(number, dpi=200, png=b"\x89PNG page %d" % number) for number in numbers]


class FakeRecognizer:
    def __init__(
        self,
        text: str = "Words read from the scan.",
        confidence: float = 0.75,
        failing: dict[int, str] | None = None,
        flagged: dict[int, str] | None = None,
    ) -> None:
        self.text, self.confidence = text, confidence
        self.failing = failing or {}  # page number -> the reason the OCR service reports for it alone
        self.flagged = flagged or {}  # page number -> the flag_reason its result carries
        self.calls: list[tuple[list[int], int]] = []
        self.languages: list[tuple[str, ...]] = []  # each call's languages

    async def recognize(
        self, pages: Sequence[tuple[int, bytes]], dpi: int, *, languages: Sequence[str] = ()
    ) -> dict[int, RecognizedPage]:
        self.calls.append(([number for number, _ in pages], dpi))
        self.languages.append(tuple(languages))
        return {
            number: RecognizedPage(number, "", 0.0, self.failing[number], "It failed.")
            if number in self.failing
            else RecognizedPage(
                number, self.text, self.confidence, flag_reason=self.flagged.get(number, ""), detected_script="Latin"
            )
            for number, _ in pages
        }


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
