"""Processing use case: one stored PDF becomes searchable chunks.

Stages overlap: pages are extracted in worker processes, chunked as they
arrive, embedded in batches while later pages are still being extracted, and
streamed to the index, which replaces the document's chunks atomically at
commit. A redelivered task therefore rewrites identical chunks and never
duplicates anything. Progress goes to the job record (and its events) as
pages finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2
from mivaa_extractor.extraction.chunking import Chunker, TextChunk
from mivaa_extractor.jobs import JobStore, is_terminal, job_tenant
from mivaa_extractor.ports import (
    ChunkIndex,
    ChunkWriter,
    DocumentCatalog,
    ImageEmbedder,
    PageRecognizer,
    RecognizedPage,
    TextEmbedder,
)
from mivaa_extractor.extraction.structure.furniture import FurnitureDetector
from mivaa_extractor.extraction.structure.model import BlockKind, DocumentInfo, FontProfile, PageLayout
from mivaa_extractor.adapters.structure_proto import BLOCK_TYPES, image_pieces, metadata_to_proto, page_to_proto
from mivaa_extractor.task_seal import TaskSealer
from mivaa_extractor.extraction.text_extraction import DEFAULT_OCR_MAX_PIXELS, DEFAULT_OCR_MIN_DPI, PageExtractor
from mivaa_platform.errors import InvalidArgument, MivaaError, NotFound, Unavailable
from mivaa_platform.messaging import OriginalsStore
from mivaa_platform.tenancy import ALL_TENANTS, DEFAULT_TENANT

log = logging.getLogger("mivaa.extractor.pipeline")

Heartbeat = Callable[[], Awaitable[None]]

# A work item that does not match the catalog: dropped without writing anything.
TASK_REJECTED = "TASK_REJECTED"
# Page errors kept in a job record (~130 bytes each); the rest are counted, so the record stays small.
MAX_PAGE_ERRORS_RECORDED = 1000


class JobCancelled(Exception):
    """The job was cancelled while it ran; its partial output is discarded."""


@dataclass
class PipelineSettings:
    batch_pages: int = 16
    embed_batch: int = 32
    progress_interval_seconds: float = 0.25
    scratch_dir: str | None = None
    # Resolution pages without a usable text layer are rendered at for OCR; a page larger
    # than ocr_max_pixels at it is rendered at a lower one, down to ocr_min_dpi (else a page error).
    ocr_dpi: int = 200
    ocr_max_pixels: int = DEFAULT_OCR_MAX_PIXELS
    ocr_min_dpi: int = DEFAULT_OCR_MIN_DPI
    # Wall-clock limit for extracting one document's pages; pages not reached are reported, not lost silently.
    document_time_limit_seconds: float = 1800.0


@dataclass
class _Progress:
    pages_done: int = 0
    chunks_embedded: int = 0
    page_errors: list[job_pb2.JobError] = field(default_factory=list)
    extract_seconds: float = 0.0
    embed_seconds: float = 0.0
    index_seconds: float = 0.0
    ocr_seconds: float = 0.0
    ocr_pages_total: int = 0
    ocr_pages_done: int = 0
    # Mean OCR confidence of every page whose text came from OCR, by page number.
    ocr_confidence: dict[int, float] = field(default_factory=dict)
    images_written: set[str] = field(default_factory=set)
    images_embedded: int = 0
    image_embed_seconds: float = 0.0
    # Set once the embedder says it has no image model: the document's images are stored without vectors.
    no_image_model: bool = False

    def text_source(self, page_start: int, page_end: int) -> tuple[search_service_pb2.TextSource, float]:
        """OCR (with its lowest page confidence) when any page of the span was recognized."""
        confidences = [self.ocr_confidence[n] for n in range(page_start, page_end + 1) if n in self.ocr_confidence]
        if confidences:
            return search_service_pb2.TEXT_SOURCE_OCR, min(confidences)
        return search_service_pb2.TEXT_SOURCE_TEXT_LAYER, 0.0


def task_tenant(task: job_pb2.ExtractTask) -> str:
    """The tenant that owns the task's document (tasks queued before tenancy belong to the default one)."""
    return task.tenant or DEFAULT_TENANT


def is_retryable(error: BaseException) -> bool:
    """Failures of a peer (embedder, search, NATS) are worth a redelivery; bad input is not."""
    return isinstance(error, Unavailable)


class DocumentPipeline:
    def __init__(
        self,
        *,
        jobs: JobStore,
        originals: OriginalsStore,
        catalog: DocumentCatalog,
        embedder: TextEmbedder,
        index: ChunkIndex,
        page_extractor: PageExtractor,
        chunker_factory: Callable[[], Chunker],
        settings: PipelineSettings | None = None,
        task_sealer: TaskSealer,
        recognizer: PageRecognizer | None = None,
        image_embedder: ImageEmbedder | None = None,
    ):
        self._task_sealer = task_sealer
        self._image_embedder = image_embedder
        self._jobs = jobs
        self._originals = originals
        self._catalog = catalog
        self._embedder = embedder
        self._index = index
        self._pages = page_extractor
        self._chunker_factory = chunker_factory
        self._recognizer = recognizer
        self.settings = settings or PipelineSettings()

    async def run(self, task: job_pb2.ExtractTask, heartbeat: Heartbeat) -> job_pb2.Job:
        """Processes one task to a terminal job state, or raises a retryable error.

        A task that does not match what the catalog and the job store say (see `_admit`)
        raises TASK_REJECTED before anything is written.
        """
        job, password = await self._admit(task)
        if is_terminal(job):
            return job  # a redelivery of work that already finished
        data = await self._original(task)

        def start(job: job_pb2.Job) -> None:
            job.state = job_pb2.JOB_STATE_RUNNING
            job.stage = job_pb2.JOB_STAGE_EXTRACTING
            job.attempts += 1
            job.pages_done = 0
            del job.page_errors[:]

        job = await self._jobs.update(task.job, start, tenant=task_tenant(task))
        if is_terminal(job):
            return job
        progress = _Progress()
        try:
            await self._catalog.set_state(
                task.document, search_service_pb2.DOCUMENT_STATE_PROCESSING, tenant=task_tenant(task)
            )
            with tempfile.TemporaryDirectory(dir=self.settings.scratch_dir, prefix="mivaa-") as scratch:
                path = os.path.join(scratch, "original.pdf")
                await asyncio.to_thread(_write_file, path, data)
                del data
                chunks = await self._process(task, job, path, password, progress, heartbeat)
        except JobCancelled:
            await self._catalog.set_state(
                task.document, search_service_pb2.DOCUMENT_STATE_FAILED, tenant=task_tenant(task)
            )
            return await self._jobs.get(task.job, tenant=task_tenant(task))
        except MivaaError as error:
            if is_retryable(error):
                raise
            return await self._fail(task, progress, error)
        return await self._finish(task, progress, chunks)

    async def _admit(self, task: job_pb2.ExtractTask) -> tuple[job_pb2.Job, str | None]:
        """The task's job and password, once the task is known to be the work the uploader asked for.

        Anyone who can publish on the bus can write a work item (and a job record), so a task is
        believed only where it agrees with the catalog, which only the upload API writes: the
        task's document exists in the task's tenant, its current job is the task's job and its
        sha256 is the task's. The job record must agree too, and the sealed password must open
        for exactly this task.
        """
        try:
            # Every tenant's: the task's own claim of its tenant is what is checked here.
            job = await self._jobs.get(task.job, tenant=ALL_TENANTS)
        except (NotFound, InvalidArgument):
            raise _rejected(task, "its job does not exist") from None
        if job.document != task.document or job_tenant(job) != task_tenant(task):
            raise _rejected(task, "its job belongs to another document or tenant")
        try:
            document = await self._catalog.get(task.document, tenant=task_tenant(task))
        except (NotFound, InvalidArgument):
            raise _rejected(task, "its document does not exist in its tenant") from None
        if document.job != task.job:
            raise _rejected(task, "it is not its document's current job")
        if document.sha256 != task.sha256:
            raise _rejected(task, "its sha256 is not its document's")
        try:
            password = self._task_sealer.open_password(task)
        except MivaaError:
            raise _rejected(task, "its sealed password does not open for it") from None
        return job, password

    async def _original(self, task: job_pb2.ExtractTask) -> bytes:
        """The stored original, which must hash to the task's (and so the document's) sha256."""
        data = await self._originals.get(task.sha256)
        if hashlib.sha256(data).hexdigest() != task.sha256:
            raise _rejected(task, "the stored original does not hash to its sha256")
        return data

    async def _process(
        self,
        task: job_pb2.ExtractTask,
        job: job_pb2.Job,
        path: str,
        password: str | None,
        progress: _Progress,
        heartbeat: Heartbeat,
    ) -> int:
        info, profile = await self._pages.profile(path, password, owner=task_tenant(task))
        metadata, outline = metadata_to_proto(info)
        writer = await self._index.open_writer(
            task.document,
            tenant=task_tenant(task),
            model=self._embedder.model,
            page_count=job.pages_total,
            metadata=metadata,
            outline=outline,
        )
        committed = False
        try:
            queue: asyncio.Queue[list[TextChunk] | None] = asyncio.Queue(maxsize=8)
            # Extraction and embedding overlap; if either fails the other is cancelled.
            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(
                        self._extract_and_chunk(
                            task, job, path, password, queue, progress, heartbeat, writer, info, profile
                        )
                    )
                    group.create_task(self._embed_and_write(queue, writer, progress))
            except BaseExceptionGroup as failures:
                raise _first_cause(failures) from None
            await self._set_progress(task, progress, job_pb2.JOB_STAGE_INDEXING)
            started = time.perf_counter()
            written = await writer.commit()
            committed = True
            progress.index_seconds += time.perf_counter() - started
            return written
        finally:
            if not committed:
                await writer.abort()

    async def _extract_and_chunk(
        self,
        task: job_pb2.ExtractTask,
        job: job_pb2.Job,
        path: str,
        password: str | None,
        queue: asyncio.Queue,
        progress: _Progress,
        heartbeat: Heartbeat,
        writer: ChunkWriter,
        info: DocumentInfo,
        profile: FontProfile,
    ) -> None:
        chunker = self._chunker_factory()
        furniture = FurnitureDetector()
        last_report = 0.0
        started = time.perf_counter()

        async def settle(pages: list[PageLayout]) -> None:
            """Pages whose furniture is decided: stored, chunked, counted."""
            new_chunks: list[TextChunk] = []
            for page in pages:
                if page.error:
                    progress.page_errors.append(
                        job_pb2.JobError(reason=page.error.reason, message=page.error.message, page=page.number)
                    )
                else:
                    new_chunks.extend(chunker.feed(page))
                await self._write_page(task, page, writer, progress)
            if new_chunks:
                await queue.put(new_chunks)

        async for batch in self._pages.iter_pages(
            path,
            password,
            job.pages_total,
            batch_pages=self.settings.batch_pages,
            info=info,
            profile=profile,
            time_limit=self.settings.document_time_limit_seconds,
            owner=task_tenant(task),
        ):
            progress.extract_seconds += time.perf_counter() - started
            batch = await self._recognize_unreadable_pages(task, path, password, batch, progress)
            for page in batch:
                await settle(furniture.push(page))
                progress.pages_done += 1
            await heartbeat()
            now = time.monotonic()
            if now - last_report >= self.settings.progress_interval_seconds:
                last_report = now
                current = await self._set_progress(task, progress, job_pb2.JOB_STAGE_EXTRACTING)
                if current.state == job_pb2.JOB_STATE_CANCELLED:
                    raise JobCancelled()
            started = time.perf_counter()
        await settle(furniture.finish())
        tail = chunker.finish()
        if tail:
            await queue.put(tail)
        await queue.put(None)
        current = await self._set_progress(task, progress, job_pb2.JOB_STAGE_EMBEDDING)
        if current.state == job_pb2.JOB_STATE_CANCELLED:
            raise JobCancelled()

    async def _write_page(
        self, task: job_pb2.ExtractTask, page: PageLayout, writer: ChunkWriter, progress: _Progress
    ) -> None:
        """Stores the page's structure and the images it is the first to show."""
        referenced = {block.image.sha256 for block in page.blocks if block.image is not None}
        new_images = [
            image for image in page.images if image.sha256 in referenced and image.sha256 not in progress.images_written
        ]
        model, vectors = await self._embed_images(task, new_images, progress)
        for image, vector in zip(new_images, vectors, strict=True):
            progress.images_written.add(image.sha256)
            for index, piece in enumerate(image_pieces(image)):
                if index == 0 and vector:
                    piece.embedding.extend(vector)
                    piece.embedding_model = model
                await writer.write_image(piece)
        await writer.write_page(page_to_proto(page, task.document, ocr=page.number in progress.ocr_confidence))

    async def _embed_images(
        self, task: job_pb2.ExtractTask, images: list, progress: _Progress
    ) -> tuple[str, list[list[float]]]:
        """Vectors for new images from the image model; empty vectors when none is served or an image is refused."""
        none: list[list[float]] = [[] for _ in images]
        if not images or self._image_embedder is None or progress.no_image_model:
            return "", none
        started = time.perf_counter()
        try:
            model, vectors = await self._image_embedder.embed_images([image.data for image in images])
        except MivaaError as error:
            if is_retryable(error):
                raise
            if error.reason == "IMAGE_MODEL_UNAVAILABLE":
                progress.no_image_model = True
            else:
                log.warning("images not embedded", extra={"fields": {"job": task.job, "reason": error.reason}})
            return "", none
        finally:
            progress.image_embed_seconds += time.perf_counter() - started
        progress.images_embedded += sum(1 for vector in vectors if vector)
        return model, vectors

    async def _recognize_unreadable_pages(
        self, task: job_pb2.ExtractTask, path: str, password: str | None, batch: list[PageLayout], progress: _Progress
    ) -> list[PageLayout]:
        """Replaces the text of pages without a usable text layer by what OCR reads on them."""
        flagged = [page for page in batch if page.ocr_reason and not page.error]
        if not flagged:
            return batch
        if self._recognizer is None:
            for page in flagged:
                progress.page_errors.append(
                    job_pb2.JobError(
                        reason="OCR_NOT_CONFIGURED",
                        message=f"Page {page.number} has no usable text layer ({page.ocr_reason}) and no OCR service is configured.",
                        page=page.number,
                    )
                )
            return batch
        progress.ocr_pages_total += len(flagged)
        await self._set_progress(task, progress, job_pb2.JOB_STAGE_OCR)
        started = time.perf_counter()
        rendered = await self._pages.render(
            path,
            password,
            [page.number for page in flagged],
            self.settings.ocr_dpi,
            max_pixels=self.settings.ocr_max_pixels,
            min_dpi=self.settings.ocr_min_dpi,
            owner=task_tenant(task),
        )
        # Rendering is extraction work; the OCR stage's time is recognition alone.
        progress.extract_seconds += time.perf_counter() - started
        started = time.perf_counter()
        unrendered = {shot.number: shot.error for shot in rendered if shot.error is not None}
        # Pages too large for the usual resolution were rendered at a lower one: one OCR call per resolution.
        by_dpi: dict[int, list[tuple[int, bytes]]] = {}
        for shot in rendered:
            if shot.error is None:
                by_dpi.setdefault(shot.dpi, []).append((shot.number, shot.png))
        del rendered
        recognized: dict[int, RecognizedPage] = {}
        for dpi, pages in by_dpi.items():
            try:
                recognized |= await self._recognizer.recognize(pages, dpi)
            except MivaaError as error:
                if is_retryable(error):
                    raise
                log.warning("OCR rejected pages", extra={"fields": {"job": task.job, "reason": error.reason}})
        progress.ocr_seconds += time.perf_counter() - started
        progress.ocr_pages_done += len(flagged)
        replaced: dict[int, PageLayout] = {}
        for page in flagged:
            result = recognized.get(page.number)
            if page.number in unrendered:
                failure = unrendered[page.number]
                progress.page_errors.append(
                    job_pb2.JobError(reason=failure.reason, message=failure.message, page=page.number)
                )
                continue
            if result is None:
                progress.page_errors.append(
                    job_pb2.JobError(
                        reason="OCR_FAILED", message=f"Page {page.number} could not be recognized.", page=page.number
                    )
                )
                continue
            progress.ocr_confidence[page.number] = result.confidence
            replaced[page.number] = _with_recognized_text(page, result.text)
        return [replaced.get(page.number, page) for page in batch]

    async def _embed_and_write(self, queue: asyncio.Queue, writer: ChunkWriter, progress: _Progress) -> None:
        pending: list[TextChunk] = []
        finished = False
        while not finished:
            item = await queue.get()
            if item is None:
                finished = True
            else:
                pending.extend(item)
            while pending and (finished or len(pending) >= self.settings.embed_batch):
                batch, pending = pending[: self.settings.embed_batch], pending[self.settings.embed_batch :]
                started = time.perf_counter()
                embedded = await self._embedder.embed([chunk.text for chunk in batch])
                progress.embed_seconds += time.perf_counter() - started
                for chunk, vector, tokens in zip(batch, embedded.vectors, embedded.token_counts, strict=True):
                    source, confidence = progress.text_source(chunk.page_start, chunk.page_end)
                    await writer.write(
                        search_service_pb2.Chunk(
                            index=chunk.index,
                            text=chunk.text,
                            page_start=chunk.page_start,
                            page_end=chunk.page_end,
                            embedding=vector,
                            token_count=tokens,
                            text_source=source,
                            ocr_confidence=confidence,
                            section_path=list(chunk.section_path),
                            block_types=[BLOCK_TYPES[kind] for kind in chunk.block_kinds],
                        )
                    )
                progress.chunks_embedded += len(batch)

    async def _set_progress(
        self, task: job_pb2.ExtractTask, progress: _Progress, stage: job_pb2.JobStage
    ) -> job_pb2.Job:
        def apply(job: job_pb2.Job) -> None:
            job.stage = stage
            job.pages_done = progress.pages_done
            job.chunks_indexed = progress.chunks_embedded
            job.ocr_pages_total = progress.ocr_pages_total
            job.ocr_pages_done = progress.ocr_pages_done
            job.images_extracted = len(progress.images_written)
            _set_timings(job, progress)

        return await self._jobs.update(task.job, apply, tenant=task_tenant(task))

    async def _finish(self, task: job_pb2.ExtractTask, progress: _Progress, chunks: int) -> job_pb2.Job:
        def done(job: job_pb2.Job) -> None:
            job.stage = job_pb2.JOB_STAGE_DONE
            job.pages_done = progress.pages_done
            job.chunks_indexed = chunks
            job.ocr_pages_total = progress.ocr_pages_total
            job.ocr_pages_done = progress.ocr_pages_done
            job.images_extracted = len(progress.images_written)
            del job.page_errors[:]
            job.page_errors.extend(_recorded_page_errors(progress.page_errors))
            _set_timings(job, progress)
            if not progress.page_errors:
                job.state = job_pb2.JOB_STATE_SUCCEEDED
            elif len(progress.page_errors) < job.pages_total:
                job.state = job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED
            else:
                job.state = job_pb2.JOB_STATE_FAILED
                job.error.CopyFrom(job_pb2.JobError(reason="NO_PAGE_EXTRACTED", message="No page could be extracted."))

        job = await self._jobs.update(task.job, done, tenant=task_tenant(task))
        if job.state == job_pb2.JOB_STATE_FAILED:
            await self._catalog.set_state(
                task.document, search_service_pb2.DOCUMENT_STATE_FAILED, tenant=task_tenant(task)
            )
        return job

    async def _fail(self, task: job_pb2.ExtractTask, progress: _Progress, error: MivaaError) -> job_pb2.Job:
        log.warning("job failed", extra={"fields": {"job": task.job, "reason": error.reason}})
        job = await self._jobs.update(task.job, _failed_with(error, progress), tenant=task_tenant(task))
        with contextlib.suppress(MivaaError):
            await self._catalog.set_state(
                task.document, search_service_pb2.DOCUMENT_STATE_FAILED, tenant=task_tenant(task)
            )
        return job

    async def give_up(self, task: job_pb2.ExtractTask, error: MivaaError) -> job_pb2.Job:
        """Called by the worker when a task cannot succeed: a rejected task or used-up redeliveries.

        A rejected task writes nothing. Otherwise the job is marked FAILED, and its document
        too, but the document only for a task that is still admitted: a forged task must not
        mark another tenant's document failed while the catalog could not check it.
        """
        if error.reason == TASK_REJECTED:
            return job_pb2.Job(name=task.job)
        try:
            await self._admit(task)
        except MivaaError as refusal:
            if refusal.reason == TASK_REJECTED:
                return job_pb2.Job(name=task.job)
            return await self._jobs.update(task.job, _failed_with(error, _Progress()), tenant=task_tenant(task))
        return await self._fail(task, _Progress(), error)


def _rejected(task: job_pb2.ExtractTask, why: str) -> InvalidArgument:
    log.error(
        "task rejected",
        extra={
            "fields": {
                "reason": TASK_REJECTED,
                "why": why,
                "job": task.job[:100],
                "document": task.document[:100],
                "tenant": task.tenant[:100],
            }
        },
    )
    return InvalidArgument(TASK_REJECTED, f"The work item was rejected: {why}.", domain="extractor.mivaa")


def _recorded_page_errors(errors: list[job_pb2.JobError]) -> list[job_pb2.JobError]:
    """The page errors a job record keeps: the first MAX_PAGE_ERRORS_RECORDED, then one line for the rest,
    so a long document whose every page failed still fits in its record."""
    if len(errors) <= MAX_PAGE_ERRORS_RECORDED:
        return errors
    omitted = len(errors) - MAX_PAGE_ERRORS_RECORDED
    return [
        *errors[:MAX_PAGE_ERRORS_RECORDED],
        job_pb2.JobError(reason="MORE_PAGE_ERRORS", message=f"{omitted} more pages failed; they are not listed."),
    ]


def _failed_with(error: MivaaError, progress: _Progress) -> Callable[[job_pb2.Job], None]:
    def failed(job: job_pb2.Job) -> None:
        job.state = job_pb2.JOB_STATE_FAILED
        job.stage = job_pb2.JOB_STAGE_DONE
        job.error.CopyFrom(job_pb2.JobError(reason=error.reason, message=error.message))
        del job.page_errors[:]
        job.page_errors.extend(_recorded_page_errors(progress.page_errors))
        _set_timings(job, progress)

    return failed


def _set_timings(job: job_pb2.Job, progress: _Progress) -> None:
    del job.stage_timings[:]
    job.stage_timings.extend(
        [
            job_pb2.StageTiming(stage=job_pb2.JOB_STAGE_EXTRACTING, seconds=progress.extract_seconds),
            job_pb2.StageTiming(stage=job_pb2.JOB_STAGE_OCR, seconds=progress.ocr_seconds),
            job_pb2.StageTiming(stage=job_pb2.JOB_STAGE_EMBEDDING, seconds=progress.embed_seconds),
            job_pb2.StageTiming(stage=job_pb2.JOB_STAGE_INDEXING, seconds=progress.index_seconds),
        ]
    )


def _with_recognized_text(page: PageLayout, text: str) -> PageLayout:
    """The page with OCR's text as its paragraphs; figures smaller than half the page stay (the scan itself goes)."""
    recognized = PageLayout.from_text(
        page.number, text, width=page.width, height=page.height, rotation=page.rotation, ocr_reason=page.ocr_reason
    )
    area = max(page.width * page.height, 1.0)
    for block in page.blocks:
        if block.kind is BlockKind.FIGURE:
            x0, y0, x1, y1 = block.bbox
            if (x1 - x0) * (y1 - y0) < 0.5 * area:
                recognized.blocks.append(block)
    recognized.images = page.images
    recognized.warnings = page.warnings
    return recognized


def _write_file(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def _first_cause(failures: BaseExceptionGroup) -> BaseException:
    """The error that stopped the pipeline: cancellation and domain errors before anything else."""
    leaves: list[BaseException] = []
    stack: list[BaseException] = [failures]
    while stack:
        error = stack.pop()
        if isinstance(error, BaseExceptionGroup):
            stack.extend(error.exceptions)
        else:
            leaves.append(error)
    for kind in (JobCancelled, MivaaError):
        for error in leaves:
            if isinstance(error, kind):
                return error
    return leaves[0]
