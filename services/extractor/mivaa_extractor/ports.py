"""What the upload and processing use cases need from the world, as plain async interfaces.

Typed with the extractor's own types (the structure model, the chunks, the
dataclasses below), never with another service's protos: the adapters in
`mivaa_extractor.adapters` translate to search, OCR and NATS, and the unit
tests pass in-memory fakes. Job records and work items are the extractor's
own messages (mivaa.jobs.v1), stored as they are, so the job ports speak them.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1.processing_options_pb2 import ProcessingOptions
from mivaa_extractor.batches import NewBatch
from mivaa_extractor.extraction.chunking import TextChunk
from mivaa_extractor.extraction.entities import FoundEntity
from mivaa_extractor.extraction.structure.model import DocumentInfo, ExtractedImage, FontProfile, PageLayout
from mivaa_extractor.extraction.text_extraction import RenderedPage
from mivaa_extractor.job_filter import JobFilter
from mivaa_platform.embedding import EmbeddedTexts
from mivaa_platform.tenancy import TenantScope


class DocumentState(enum.Enum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True)
class NewDocument:
    """A document the catalog is asked to register; documents are deduplicated per tenant by sha256."""

    filename: str
    title: str
    labels: tuple[str, ...]
    sha256: str
    size_bytes: int
    page_count: int
    job: str
    # The tenant that owns the document (the uploader's).
    tenant: str
    # What the stored original is, by its signature: application/pdf, image/png, image/jpeg, image/tiff.
    media_type: str = "application/pdf"
    # How it is processed (checked by processing_options); the defaults when the uploader gave none.
    processing_options: ProcessingOptions | None = None
    # The next version of this document's chain ("documents/{id}"), or of the tenant's newest
    # document with the same filename; a first version otherwise.
    parent: str = ""
    replace_by_filename: bool = False


@dataclass(frozen=True)
class CatalogDocument:
    """A document as the catalog holds it (what an uploader is shown)."""

    name: str
    sha256: str
    state: DocumentState
    # The job that processes it: "jobs/{id}" ("" when none was recorded).
    job: str
    filename: str = ""
    title: str = ""
    labels: tuple[str, ...] = ()
    size_bytes: int = 0
    page_count: int = 0
    chunk_count: int = 0
    image_count: int = 0
    create_time: datetime | None = None
    update_time: datetime | None = None
    # Read from the PDF when it was processed; None before.
    info: DocumentInfo | None = None
    media_type: str = "application/pdf"
    processing_options: ProcessingOptions | None = None
    # Its place among its chain's versions (1 first); the chain's first version's name.
    version: int = 1
    first_version: str = ""
    version_count: int = 1


class StoredImages(Protocol):
    """A tenant's stored images ("documents/{id}/images/{sha256}"); another tenant's are NOT_FOUND."""

    async def check_image(self, name: str, *, tenant: str) -> None: ...

    async def image_content(self, name: str, *, tenant: str) -> bytes: ...


class DocumentCatalog(Protocol):
    """Documents of one tenant at a time: every call names the tenant that owns the document."""

    async def create(self, document: NewDocument) -> tuple[CatalogDocument, bool]: ...

    async def set_state(
        self,
        name: str,
        state: DocumentState,
        *,
        tenant: str,
        job: str | None = None,
        processing_options: ProcessingOptions | None = None,
    ) -> CatalogDocument:
        """Sets the state, and the job and processing options when given."""
        ...

    async def get(self, name: str, *, tenant: str) -> CatalogDocument:
        """The tenant's document; NOT_FOUND when it has none of that name (another tenant's included)."""
        ...

    async def delete(self, name: str, *, tenant: str) -> None:
        """Deletes the document; the catalog removes its stored original when no document still has it."""
        ...


@dataclass(frozen=True)
class EmbeddedChunk:
    """A chunk ready for the index: its vector, its token count and where its text came from."""

    chunk: TextChunk
    embedding: Sequence[float]
    token_count: int
    # True when a page of the chunk was read by OCR; the lowest confidence of those pages (0..1).
    from_ocr: bool = False
    ocr_confidence: float = 0.0
    entities: tuple[ChunkEntity, ...] = ()


@dataclass(frozen=True)
class ChunkEntity:
    """A named entity the chunk mentions: its type (PERSON, ORGANIZATION, PLACE, DATE, AMOUNT), its text
    and the pages of the chunk it is on."""

    type: str
    text: str
    pages: tuple[int, ...]


class EntityFinder(Protocol):
    """Named entities of English texts (extraction.entities.EntityRecognizer: spaCy in supervised processes)."""

    async def recognize(self, texts: Sequence[str], *, owner: Hashable = None) -> list[list[FoundEntity]]: ...


@dataclass(frozen=True)
class IndexTarget:
    """The document whose chunks, pages and images a writer replaces, and what to record about it."""

    document: str
    tenant: str
    model: str
    page_count: int
    info: DocumentInfo


class ChunkWriter(Protocol):
    """One atomic replacement of a document's chunks, pages and images: write many, then commit or abort."""

    async def write(self, chunk: EmbeddedChunk) -> None: ...

    async def write_page(self, page: PageLayout, *, ocr: bool) -> None: ...

    async def write_image(self, image: ExtractedImage, *, vector: Sequence[float], model: str) -> None: ...

    async def commit(self) -> int: ...

    async def abort(self) -> None: ...


class ChunkIndex(Protocol):
    async def open_writer(self, target: IndexTarget) -> ChunkWriter: ...

    async def text_model(self, tenant: str) -> str:
        """The text model the tenant's chunks are embedded with (its searches use): "" for the
        embedder's default one, until the tenant is re-embedded with another."""
        ...


class TextEmbedder(Protocol):
    model: str

    async def embed(self, texts: Sequence[str], model: str = "") -> EmbeddedTexts:
        """The texts' vectors from `model` ("": the configured one)."""
        ...


class ImageEmbedder(Protocol):
    """Image vectors (CLIP's image tower): raises FAILED_PRECONDITION IMAGE_MODEL_UNAVAILABLE when none is served."""

    async def embed_images(self, images: Sequence[bytes]) -> tuple[str, list[list[float]]]: ...


@dataclass(frozen=True)
class RecognizedPage:
    number: int
    text: str
    # Mean word confidence, 0..1.
    confidence: float
    # Set (UPPER_SNAKE_CASE, e.g. OCR_PAGE_TIMEOUT) when this page alone failed; text is then empty.
    error_reason: str = ""
    error_message: str = ""
    # Set (OCR_LOW_CONFIDENCE) when the text came back but should not be trusted; the script OCR detected.
    flag_reason: str = ""
    detected_script: str = ""


class PageRecognizer(Protocol):
    """OCR of rendered pages (PNG bytes), results keyed by page number; a page that failed alone
    comes back with its error_reason, the others as usual."""

    async def recognize(
        self, pages: Sequence[tuple[int, bytes]], dpi: int, *, languages: Sequence[str] = ()
    ) -> dict[int, RecognizedPage]:
        """`languages` (Tesseract codes) override the service's choice; empty: its own."""
        ...


@dataclass(frozen=True)
class WorkingCopy:
    """The document a task processes: its original written to scratch, opened with its password."""

    path: str
    password: str | None
    job: str
    tenant: str
    # A picture uploaded as a document (image/png, ...) is read as image-only pages whose picture
    # is the content, not a scan to throw away once OCR has read it.
    is_picture: bool = False


class PageReader(Protocol):
    """A document's pages as the structure model (adapters.page_reader: supervised processes in the service)."""

    async def profile(self, document: WorkingCopy) -> tuple[DocumentInfo, FontProfile]:
        """What every page's analysis needs to know about the document, read once."""
        ...

    def pages(
        self,
        document: WorkingCopy,
        page_count: int,
        profile: tuple[DocumentInfo, FontProfile],
        first: int = 0,
        *,
        images: bool,
    ) -> AsyncIterator[list[PageLayout]]:
        """Pages first + 1 .. page_count in order, a batch at a time; a page that failed carries its error.

        Without `images` (the task's images off) no picture is extracted: the pages carry no images
        and no figures, and their captions stay as text."""
        ...

    async def render(self, document: WorkingCopy, numbers: list[int]) -> list[RenderedPage]:
        """The pages as images for OCR; a page that could not be rendered carries its error."""
        ...


class PageRangeExchange(Protocol):
    """Where a long document's page ranges go to other workers and their pages come back
    (adapters.page_spool: the work queue's `mivaa.work.pages` and the bus's page spool)."""

    async def submit(self, ranges: Sequence[job_pb2.PageRangeTask]) -> None:
        """Queues the ranges for any worker (the one submitting included)."""
        ...

    async def result(self, name: str) -> bytes | None:
        """A range's spooled outcome by its name (worker.ranges.range_name), None while it is not there."""
        ...

    async def put(self, name: str, data: bytes) -> None: ...

    async def discard(self, names: Sequence[str]) -> None:
        """Removes the named outcomes (those never written are skipped)."""
        ...


class Originals(Protocol):
    """Uploaded files by sha256 (mivaa_platform.messaging.OriginalsStore: the NATS object store)."""

    async def put(self, sha256: str, data: bytes) -> None: ...

    async def get(self, sha256: str) -> bytes: ...


class JobRecords(Protocol):
    """Durable job records (adapters.job_store.JobStore: NATS KV); a job outside `tenant` is JOB_NOT_FOUND."""

    async def create(self, job: job_pb2.Job) -> job_pb2.Job: ...

    async def get(self, name: str, *, tenant: TenantScope) -> job_pb2.Job: ...

    async def update(
        self, name: str, change: Callable[[job_pb2.Job], bool | None], *, tenant: TenantScope
    ) -> job_pb2.Job:
        """Applies `change` atomically; terminal jobs are never changed, False from `change` skips the write."""
        ...

    async def delete(self, name: str, *, tenant: TenantScope) -> None: ...

    async def reopen(
        self, name: str, change: Callable[[job_pb2.Job], bool | None], *, tenant: TenantScope
    ) -> job_pb2.Job:
        """Like update, but for a finished job (a retry); `change` decides on the current record."""
        ...

    async def cancel(self, name: str, *, tenant: TenantScope) -> job_pb2.Job: ...

    async def list(
        self, page_size: int, page_token: str, *, tenant: TenantScope, where: JobFilter = ...
    ) -> tuple[list[job_pb2.Job], str]:
        """Newest first, the jobs in `tenant` that `where` keeps (every job by default)."""
        ...

    def watch(self, name: str, *, tenant: TenantScope) -> AsyncIterator[job_pb2.JobEvent]: ...


class BatchRecords(Protocol):
    """Batches of uploads (adapters.batch_store.BatchStore: NATS KV); a batch outside `tenant` is BATCH_NOT_FOUND."""

    async def create(self, new: NewBatch) -> job_pb2.Batch: ...

    async def record(self, name: str, *, tenant: str) -> job_pb2.BatchRecord:
        """The stored record (no progress)."""
        ...

    async def change(
        self, name: str, change: Callable[[job_pb2.BatchRecord], bool | None], *, tenant: str
    ) -> job_pb2.BatchRecord:
        """Applies `change` atomically; False from `change` skips the write."""
        ...

    async def get(self, name: str, *, tenant: str) -> job_pb2.Batch: ...

    async def list(self, page_size: int, page_token: str, *, tenant: str) -> tuple[list[job_pb2.Batch], str]: ...

    def watch(self, name: str, *, tenant: str) -> AsyncIterator[job_pb2.Batch]: ...


class WorkQueue(Protocol):
    """Where extraction tasks wait for a worker (adapters.work_queue.NatsWorkQueue: the JetStream work stream)."""

    async def submit(self, task: job_pb2.ExtractTask, *, run: int = 0) -> None:
        """Queues the task once: submitting the same job and `run` (its retry count) again is a no-op."""
        ...
