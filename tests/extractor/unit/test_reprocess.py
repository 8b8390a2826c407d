"""ReprocessDocument's use case against in-memory ports: a new job over the stored original, and
a READY document that stays READY (its old chunks searchable) while it runs, and after it fails."""

from __future__ import annotations

import dataclasses
import os

import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1 import processing_options_pb2 as options_pb2
from mivaa_extractor.api.ingest import Ingestor, UploadLimits, UploadPorts, new_upload_request
from mivaa_extractor.api.reprocess import Reprocessor
from mivaa_extractor.extraction.chunking import Chunker
from mivaa_extractor.ports import DocumentState
from mivaa_extractor.task_seal import TaskSealer
from mivaa_extractor.worker.pipeline import DocumentPipeline, PipelinePorts, PipelineSettings
from mivaa_platform.errors import FailedPrecondition, NotFound
from tests.extractor.unit.fakes import (
    FakeCatalog,
    FakeEmbedder,
    FakeIndex,
    FakeJobs,
    FakeOriginals,
    FakePages,
    FakeValidator,
    FakeWorkQueue,
)

PDF = b"%PDF-1.7\n" + b"x" * 2000
TEXT = "A paragraph about rivers and the sea, long enough to be worth a chunk of its own. " * 4


async def no_heartbeat() -> None:
    pass


class Mesh:
    """The upload API, the reprocess use case and a worker's pipeline over one set of fakes."""

    def __init__(self) -> None:
        self.jobs, self.originals, self.catalog = FakeJobs(), FakeOriginals(), FakeCatalog()
        self.work, self.sealer = FakeWorkQueue(), TaskSealer(os.urandom(32))
        ports = UploadPorts(self.jobs, self.originals, self.catalog, self.work, self.sealer)
        self.ingestor = Ingestor(ports, UploadLimits(max_bytes=1 << 20, max_pages=100), FakeValidator(page_count=2))
        self.reprocessor = Reprocessor(ports, self.ingestor.validate)
        self.index, self.embedder = FakeIndex(), FakeEmbedder()
        pipeline_ports = PipelinePorts(
            self.jobs, self.originals, self.catalog, self.embedder, self.index, FakePages([TEXT, TEXT]), self.sealer
        )

        def chunker(max_tokens: int = 128) -> Chunker:
            return Chunker(max_tokens=max_tokens, overlap_tokens=4)

        settings = PipelineSettings(embed_batch=3, progress_interval_seconds=0.0)
        self.pipeline = DocumentPipeline(pipeline_ports, chunker, settings)

    async def ready_document(self, tenant: str = "acme", chunk_tokens: int = 0) -> str:
        request = new_upload_request(filename="a.pdf", title="", labels=["x"], password="", tenant=tenant)
        if chunk_tokens:
            options = options_pb2.ProcessingOptions(chunk_tokens=chunk_tokens)
            request = dataclasses.replace(request, options=options)
        result = await self.ingestor.upload(request, PDF)
        await self.run_last_task()
        # The search service's index marks the document READY in its commit.
        await self.catalog.set_state(result.document.name, DocumentState.READY, tenant=tenant)
        return result.document.name

    async def run_last_task(self) -> job_pb2.Job:
        return await self.pipeline.run(self.work.tasks[-1], no_heartbeat)


async def test_a_ready_document_is_reprocessed_as_a_new_job_with_new_options_and_stays_ready():
    mesh = Mesh()
    name = await mesh.ready_document(chunk_tokens=128)
    first = mesh.index.writers[-1]
    states: list[DocumentState] = []
    real_set_state = mesh.catalog.set_state

    async def watched(*args, **kwargs):
        document = await real_set_state(*args, **kwargs)
        states.append(document.state)
        return document

    mesh.catalog.set_state = watched  # type: ignore[method-assign]

    options = options_pb2.ProcessingOptions(chunk_tokens=32, tables=options_pb2.TABLE_EXTRACTION_OFF)
    document, job = await mesh.reprocessor.reprocess(name, options=options, password="", tenant="acme")

    assert document.state is DocumentState.READY and document.job == job.name
    assert document.processing_options == options
    assert (job.state, job.pages_total, job.document, tuple(job.labels)) == (job_pb2.JOB_STATE_QUEUED, 2, name, ("x",))
    task = mesh.work.tasks[-1]
    assert task.job == job.name and task.reprocess and task.options == options
    done = await mesh.run_last_task()
    assert done.state == job_pb2.JOB_STATE_SUCCEEDED
    assert set(states) == {DocumentState.READY}  # never PROCESSING or PENDING: searchable throughout
    second = mesh.index.writers[-1]
    assert second.committed and len(second.chunks) > len(first.chunks)


async def test_without_options_the_stored_ones_are_used_again():
    mesh = Mesh()
    name = await mesh.ready_document(chunk_tokens=48)
    _, job = await mesh.reprocessor.reprocess(name, options=None, password="", tenant="acme")
    assert mesh.work.tasks[-1].options.chunk_tokens == 48 and mesh.work.tasks[-1].job == job.name


async def test_a_document_being_processed_is_refused_and_another_tenants_is_not_found():
    mesh = Mesh()
    name = await mesh.ready_document()
    await mesh.reprocessor.reprocess(name, options=None, password="", tenant="acme")
    with pytest.raises(FailedPrecondition) as busy:
        await mesh.reprocessor.reprocess(name, options=None, password="", tenant="acme")
    assert busy.value.reason == "DOCUMENT_PROCESSING"
    with pytest.raises(NotFound):
        await mesh.reprocessor.reprocess(name, options=None, password="", tenant="globex")
    assert len(mesh.work.tasks) == 2  # the upload's and the first reprocess's


async def test_a_failed_reprocess_leaves_the_document_ready_with_its_old_chunks():
    mesh = Mesh()
    name = await mesh.ready_document()
    await mesh.reprocessor.reprocess(name, options=None, password="", tenant="acme")
    mesh.pipeline.ports.pages.texts[:] = [None, None]  # type: ignore[attr-defined]  # every page fails now
    job = await mesh.run_last_task()
    assert (job.state, job.error.reason) == (job_pb2.JOB_STATE_FAILED, "NO_PAGE_EXTRACTED")
    assert [error.reason for error in job.page_errors] == ["PAGE_TIMEOUT", "PAGE_TIMEOUT"]
    assert mesh.index.writers[-1].aborted and not mesh.index.writers[-1].committed  # the old chunks stay
    assert (await mesh.catalog.get(name, tenant="acme")).state is DocumentState.READY


async def test_a_failed_document_is_processed_again_like_an_upload():
    mesh = Mesh()
    name = await mesh.ready_document()
    await mesh.catalog.set_state(name, DocumentState.FAILED, tenant="acme")
    document, _ = await mesh.reprocessor.reprocess(name, options=None, password="", tenant="acme")
    assert document.state is DocumentState.PENDING and not mesh.work.tasks[-1].reprocess


async def test_a_reprocess_that_cannot_be_queued_puts_the_document_back():
    mesh = Mesh()
    name = await mesh.ready_document()
    before = await mesh.catalog.get(name, tenant="acme")
    mesh.work.failure = RuntimeError("the bus is gone")
    options = options_pb2.ProcessingOptions(chunk_tokens=64)
    with pytest.raises(RuntimeError):
        await mesh.reprocessor.reprocess(name, options=options, password="", tenant="acme")
    after = await mesh.catalog.get(name, tenant="acme")
    assert (after.state, after.job) == (DocumentState.READY, before.job)
    assert after.processing_options.chunk_tokens == 0  # type: ignore[union-attr]
