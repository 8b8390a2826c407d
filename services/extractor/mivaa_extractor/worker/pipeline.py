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
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor import metrics
from mivaa_extractor.extraction.chunking import Chunker, TextChunk
from mivaa_extractor.extraction.pictures import picture_type
from mivaa_extractor.extraction.structure.furniture import FurnitureDetector
from mivaa_extractor.extraction.structure.model import DocumentInfo, ExtractedImage, FontProfile, PageLayout
from mivaa_extractor.jobs import DOMAIN, is_retryable, is_terminal, task_tenant
from mivaa_extractor.ports import (
    ChunkIndex,
    ChunkWriter,
    DocumentCatalog,
    DocumentState,
    EmbeddedChunk,
    EntityFinder,
    ImageEmbedder,
    IndexTarget,
    JobRecords,
    Originals,
    PageRangeExchange,
    PageReader,
    PageRecognizer,
    TextEmbedder,
    WorkingCopy,
)
from mivaa_extractor.task_seal import TaskSealer
from mivaa_extractor.worker.admission import TASK_REJECTED, TaskAdmission
from mivaa_extractor.worker.entity_stage import DocumentEntities, EntityStage
from mivaa_extractor.worker.ocr_stage import OcrStage
from mivaa_extractor.worker.page_source import LocalPages
from mivaa_extractor.worker.progress import (
    Progress,
    failed_with,
    finished,
    record_progress,
    start_attempt,
)
from mivaa_extractor.worker.shared_pages import RangeSettings, SharedPages
from mivaa_platform.errors import FailedPrecondition, MivaaError
from mivaa_platform.telemetry import traced

log = logging.getLogger("mivaa.extractor.pipeline")

Heartbeat = Callable[[], Awaitable[None]]


class JobCancelled(Exception):
    """The job was cancelled while it ran; its partial output is discarded."""


@dataclass
class PipelineSettings:
    # Chunks per embedder call.
    embed_batch: int = 32
    progress_interval_seconds: float = 0.25
    # Where originals are written while their pages are read (the system's temporary directory by default).
    scratch_dir: str | None = None
    # How long documents are split into page ranges for every worker (when PipelinePorts.ranges is set).
    ranges: RangeSettings = field(default_factory=RangeSettings)


@dataclass(frozen=True)
class PipelinePorts:
    """What the pipeline reads from and writes to (the adapters in the service, fakes in unit tests)."""

    jobs: JobRecords
    originals: Originals
    catalog: DocumentCatalog
    embedder: TextEmbedder
    index: ChunkIndex
    pages: PageReader
    task_sealer: TaskSealer
    recognizer: PageRecognizer | None = None
    image_embedder: ImageEmbedder | None = None
    entities: EntityFinder | None = None
    # Long documents' page ranges to and from other workers; None reads every page here.
    ranges: PageRangeExchange | None = None


class DocumentPipeline:
    def __init__(
        self, ports: PipelinePorts, chunker_factory: Callable[..., Chunker], settings: PipelineSettings | None = None
    ):
        """`chunker_factory()` makes the default chunker, `chunker_factory(max_tokens=n)` one of a task's size."""
        self.ports = ports
        self.settings = settings = settings or PipelineSettings()
        self._jobs = ports.jobs
        self._chunker_factory = chunker_factory
        self._admission = TaskAdmission(
            jobs=ports.jobs, catalog=ports.catalog, originals=ports.originals, task_sealer=ports.task_sealer
        )
        self._pages = SharedPages(
            LocalPages(ports.pages, OcrStage(ports.pages, ports.recognizer)), ports.ranges, settings.ranges
        )
        self._entities = EntityStage(ports.entities)

    async def run(self, task: job_pb2.ExtractTask, heartbeat: Heartbeat) -> job_pb2.Job:
        """Processes one task to a terminal job state, or raises a retryable error.

        A task that does not match what the catalog and the job store say (see TaskAdmission)
        raises TASK_REJECTED before anything is written.
        """
        job, password = await traced("validate task", self._admission.admit(task))
        if is_terminal(job):
            return job  # a redelivery of work that already finished
        data = await self._admission.original(task)
        tenant = task_tenant(task)
        job = await self._jobs.update(task.job, start_attempt, tenant=tenant)
        if is_terminal(job):
            return job
        progress = Progress()
        try:
            if not task.reprocess:  # a reprocessed document stays READY: its old chunks answer until commit
                await self.ports.catalog.set_state(task.document, DocumentState.PROCESSING, tenant=tenant)
            with tempfile.TemporaryDirectory(dir=self.settings.scratch_dir, prefix="mivaa-") as scratch:
                path = os.path.join(scratch, "original.pdf")
                await asyncio.to_thread(_write_file, path, data)
                is_picture = picture_type(data[:16]) is not None
                del data
                document = WorkingCopy(path, password, task.job, tenant, is_picture=is_picture)
                chunks = await self._process(task, job, document, progress, heartbeat)
        except JobCancelled:
            if not task.reprocess:
                await self.ports.catalog.set_state(task.document, DocumentState.FAILED, tenant=tenant)
            return await self._jobs.get(task.job, tenant=tenant)
        except MivaaError as error:
            if is_retryable(error):
                raise
            return await self._fail(task, progress, error)
        return await self._finish(task, progress, chunks)

    async def _process(
        self,
        task: job_pb2.ExtractTask,
        job: job_pb2.Job,
        document: WorkingCopy,
        progress: Progress,
        heartbeat: Heartbeat,
    ) -> int:
        info, profile = await self.ports.pages.profile(document)
        # The tenant's model, which may not be the configured one (re-embedded tenants): the chunks
        # are embedded once, with the model search compares the tenant's queries with.
        model = await self.ports.index.text_model(document.tenant)
        writer = await self.ports.index.open_writer(
            IndexTarget(
                document=task.document,
                tenant=document.tenant,
                model=model or self.ports.embedder.model,
                page_count=job.pages_total,
                info=info,
            )
        )
        committed = False
        entities = self._entities.for_document(info.language, document.tenant)
        try:
            queue: asyncio.Queue[list[TextChunk] | None] = asyncio.Queue(maxsize=8)
            # Extraction and embedding overlap; if either fails the other is cancelled.
            try:
                async with asyncio.TaskGroup() as group:
                    extract = self._extract_and_chunk(
                        task, job, document, (info, profile), queue, progress, heartbeat, writer, entities
                    )
                    group.create_task(traced("extract pages", extract, pages=job.pages_total))
                    group.create_task(
                        traced("embed chunks", self._embed_and_write(queue, writer, progress, entities, model))
                    )
            except BaseExceptionGroup as failures:
                raise _first_cause(failures) from None
            if task.reprocess and len(progress.page_errors) >= job.pages_total:
                # Nothing was read this time: the document keeps the chunks it has (the writer aborts).
                raise FailedPrecondition("NO_PAGE_EXTRACTED", "No page could be extracted.", domain=DOMAIN)
            await self._set_progress(task, progress, job_pb2.JOB_STAGE_INDEXING)
            started = time.perf_counter()
            written = await traced("commit index", writer.commit())
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
        document: WorkingCopy,
        read: tuple[DocumentInfo, FontProfile],
        queue: asyncio.Queue,
        progress: Progress,
        heartbeat: Heartbeat,
        writer: ChunkWriter,
        entities: DocumentEntities | None,
    ) -> None:
        chunk_tokens = task.options.chunk_tokens  # 0: the service's default size
        chunker = self._chunker_factory(max_tokens=chunk_tokens) if chunk_tokens else self._chunker_factory()
        furniture = FurnitureDetector()
        last_report = 0.0

        async def settle(pages: list[PageLayout]) -> None:
            """Pages whose furniture is decided: stored, chunked, counted."""
            new_chunks: list[TextChunk] = []
            for page in pages:
                if page.error:
                    progress.page_failed(page.number, page.error.reason, page.error.message)
                else:
                    if entities is not None:
                        entities.remember(page)
                    new_chunks.extend(chunker.feed(page))
                await self._write_page(task, page, writer, progress)
            if new_chunks:
                await queue.put(new_chunks)

        async def ocr_starting() -> job_pb2.Job:
            return await self._set_progress(task, progress, job_pb2.JOB_STAGE_OCR)

        batches = self._pages.batches(
            task, job.retry_count, job.attempts, document, job.pages_total, read, progress, ocr_starting
        )
        async with contextlib.aclosing(batches):
            async for batch in batches:
                for page in batch:
                    await settle(furniture.push(page))
                    progress.pages_done += 1
                metrics.pages_processed(task_tenant(task), len(batch))
                await heartbeat()
                now = time.monotonic()
                if now - last_report >= self.settings.progress_interval_seconds:
                    last_report = now
                    await self._report_or_stop(task, progress, job_pb2.JOB_STAGE_EXTRACTING)
        await settle(furniture.finish())
        tail = chunker.finish()
        if tail:
            await queue.put(tail)
        await queue.put(None)
        await self._report_or_stop(task, progress, job_pb2.JOB_STAGE_EMBEDDING)

    async def _report_or_stop(self, task: job_pb2.ExtractTask, progress: Progress, stage: job_pb2.JobStage) -> None:
        """Records the progress; raises JobCancelled when the job was cancelled meanwhile."""
        current = await self._set_progress(task, progress, stage)
        if current.state == job_pb2.JOB_STATE_CANCELLED:
            raise JobCancelled()

    async def _write_page(
        self, task: job_pb2.ExtractTask, page: PageLayout, writer: ChunkWriter, progress: Progress
    ) -> None:
        """Stores the page's structure and the images it is the first to show."""
        referenced = {block.image.sha256 for block in page.blocks if block.image is not None}
        new_images = [
            image for image in page.images if image.sha256 in referenced and image.sha256 not in progress.images_written
        ]
        model, vectors = await self._embed_images(task, new_images, progress)
        for image, vector in zip(new_images, vectors, strict=True):
            progress.images_written.add(image.sha256)
            await writer.write_image(image, vector=vector, model=model)
        await writer.write_page(page, ocr=page.number in progress.ocr_confidence)

    async def _embed_images(
        self, task: job_pb2.ExtractTask, images: list[ExtractedImage], progress: Progress
    ) -> tuple[str, list[list[float]]]:
        """Vectors for new images from the image model; empty vectors when none is served or an image is refused."""
        none: list[list[float]] = [[] for _ in images]
        image_embedder = self.ports.image_embedder
        if not images or image_embedder is None or progress.no_image_model:
            return "", none
        started = time.perf_counter()
        try:
            model, vectors = await image_embedder.embed_images([image.data for image in images])
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

    async def _embed_and_write(
        self,
        queue: asyncio.Queue,
        writer: ChunkWriter,
        progress: Progress,
        entities: DocumentEntities | None,
        model: str,
    ) -> None:
        pending: list[TextChunk] = []
        finished_chunks = False
        size = self.settings.embed_batch
        while not finished_chunks:
            item = await queue.get()
            if item is None:
                finished_chunks = True
            else:
                pending.extend(item)
            while pending and (finished_chunks or len(pending) >= size):
                batch, pending = pending[:size], pending[size:]
                # Entities are recognized in their own processes while the embedder works on the batch.
                mentions_task = asyncio.create_task(entities.find(batch, progress)) if entities else None
                started = time.perf_counter()
                try:
                    embedded = await self.ports.embedder.embed([chunk.text for chunk in batch], model)
                except BaseException:
                    if mentions_task:
                        mentions_task.cancel()
                    raise
                progress.embed_seconds += time.perf_counter() - started
                mentions = await mentions_task if mentions_task else [()] * len(batch)
                for chunk, vector, tokens, found in zip(
                    batch, embedded.vectors, embedded.token_counts, mentions, strict=True
                ):
                    from_ocr, confidence = progress.text_source(chunk.page_start, chunk.page_end)
                    await writer.write(EmbeddedChunk(chunk, vector, tokens, from_ocr, confidence, found))
                progress.chunks_embedded += len(batch)

    async def _set_progress(
        self, task: job_pb2.ExtractTask, progress: Progress, stage: job_pb2.JobStage
    ) -> job_pb2.Job:
        def apply(job: job_pb2.Job) -> None:
            record_progress(job, progress, stage, chunks=progress.chunks_embedded)

        return await self._jobs.update(task.job, apply, tenant=task_tenant(task))

    async def _finish(self, task: job_pb2.ExtractTask, progress: Progress, chunks: int) -> job_pb2.Job:
        job = await self._jobs.update(task.job, finished(progress, chunks), tenant=task_tenant(task))
        if job.state == job_pb2.JOB_STATE_FAILED and not task.reprocess:
            await self.ports.catalog.set_state(task.document, DocumentState.FAILED, tenant=task_tenant(task))
        return job

    async def _fail(self, task: job_pb2.ExtractTask, progress: Progress, error: MivaaError) -> job_pb2.Job:
        log.warning("job failed", extra={"fields": {"job": task.job, "reason": error.reason}})
        job = await self._jobs.update(task.job, failed_with(error, progress), tenant=task_tenant(task))
        if task.reprocess:  # the document keeps its old chunks and stays READY
            return job
        with contextlib.suppress(MivaaError):
            await self.ports.catalog.set_state(task.document, DocumentState.FAILED, tenant=task_tenant(task))
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
            await self._admission.admit(task)
        except MivaaError as refusal:
            if refusal.reason == TASK_REJECTED:
                return job_pb2.Job(name=task.job)
            return await self._jobs.update(task.job, failed_with(error, Progress()), tenant=task_tenant(task))
        return await self._fail(task, Progress(), error)


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
