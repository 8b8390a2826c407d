"""The processing use case against in-memory ports: what a task writes, records and refuses."""

from __future__ import annotations

import os

import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.extraction.chunking import Chunker
from mivaa_extractor.jobs import DOMAIN
from mivaa_extractor.ports import DocumentState, NewDocument
from mivaa_extractor.task_seal import TaskSealer
from mivaa_extractor.worker.pipeline import DocumentPipeline, PipelinePorts, PipelineSettings
from mivaa_platform.errors import InvalidArgument, Unavailable
from tests.extractor.unit.fakes import (
    FakeCatalog,
    FakeEmbedder,
    FakeIndex,
    FakeJobs,
    FakeOriginals,
    FakePages,
    FakeRecognizer,
    sha256_of,
)

PDF = b"%PDF-1.7 the stored original"
TEXT = "A paragraph about rivers and the sea, long enough to be worth a chunk of its own."


async def no_heartbeat() -> None:
    pass


class Processing:
    """A DocumentPipeline over fakes, with one uploaded document and its queued task."""

    def __init__(self, texts: list[str | None], *, recognizer: FakeRecognizer | None = None):
        self.jobs, self.originals, self.catalog = FakeJobs(), FakeOriginals(), FakeCatalog()
        self.embedder, self.index, self.pages = FakeEmbedder(), FakeIndex(), FakePages(texts)
        self.sealer = TaskSealer(os.urandom(32))
        ports = PipelinePorts(
            self.jobs, self.originals, self.catalog, self.embedder, self.index, self.pages, self.sealer, recognizer
        )
        settings = PipelineSettings(embed_batch=3, progress_interval_seconds=0.0)
        self.pipeline = DocumentPipeline(ports, lambda: Chunker(max_tokens=32, overlap_tokens=4), settings)
        self.page_count = len(texts)

    async def queued_task(self, tenant: str = "acme", password: str = "") -> job_pb2.ExtractTask:
        sha256 = sha256_of(PDF)
        await self.originals.put(sha256, PDF)
        job_name = f"jobs/{os.urandom(6).hex()}"
        document, _ = await self.catalog.create(
            NewDocument("a.pdf", "A", (), sha256, len(PDF), self.page_count, job_name, tenant)
        )
        job = job_pb2.Job(
            name=job_name, document=document.name, state=job_pb2.JOB_STATE_QUEUED, pages_total=self.page_count
        )
        job.tenant = tenant
        await self.jobs.create(job)
        task = job_pb2.ExtractTask(job=job_name, document=document.name, sha256=sha256, tenant=tenant)
        task.sealed_password = self.sealer.seal_password(password, task)
        return task

    def state_of(self, task: job_pb2.ExtractTask) -> DocumentState:
        return self.catalog.documents[task.document][1].state


async def test_a_task_becomes_chunks_pages_and_a_succeeded_job():
    processing = Processing([TEXT, TEXT + " Second page.", "Third page, short."])
    task = await processing.queued_task()

    job = await processing.pipeline.run(task, no_heartbeat)

    assert job.state == job_pb2.JOB_STATE_SUCCEEDED and job.stage == job_pb2.JOB_STAGE_DONE
    assert (job.pages_done, job.attempts) == (3, 1)
    [writer] = processing.index.writers
    assert writer.committed and not writer.aborted
    assert (writer.target.document, writer.target.tenant, writer.target.model) == (task.document, "acme", "fake-model")
    assert writer.target.info.title == "From the PDF"
    assert [page.number for page, _ in writer.pages] == [1, 2, 3]
    assert job.chunks_indexed == len(writer.chunks) > 0
    assert [chunk.chunk.index for chunk in writer.chunks] == list(range(len(writer.chunks)))
    assert all(chunk.embedding and not chunk.from_ocr for chunk in writer.chunks)
    assert all(len(batch) <= 3 for batch in processing.embedder.batches)
    assert {timing.stage for timing in job.stage_timings} >= {job_pb2.JOB_STAGE_EXTRACTING, job_pb2.JOB_STAGE_INDEXING}
    assert processing.state_of(task) is DocumentState.PROCESSING  # the index marks it READY at commit


async def test_a_re_embedded_tenants_upload_is_embedded_once_with_its_model():
    """Search reports the tenant's model; every batch is embedded with it and the index is told so."""
    processing = Processing([TEXT, TEXT + " Second page."])
    processing.index.tenant_models["acme"] = "tiny-clip"
    task = await processing.queued_task()
    other = await processing.queued_task(tenant="globex")

    assert (await processing.pipeline.run(task, no_heartbeat)).state == job_pb2.JOB_STATE_SUCCEEDED
    [writer] = processing.index.writers
    assert writer.target.model == "tiny-clip" and writer.chunks
    assert processing.embedder.models and set(processing.embedder.models) == {"tiny-clip"}
    assert sum(map(len, processing.embedder.batches)) == len(writer.chunks), "a chunk was embedded twice"

    processing.embedder.models.clear()
    assert (await processing.pipeline.run(other, no_heartbeat)).state == job_pb2.JOB_STATE_SUCCEEDED
    assert processing.index.writers[-1].target.model == "fake-model"
    assert set(processing.embedder.models) == {""}  # the configured model, for a tenant that never switched


async def test_a_finished_job_is_not_run_again():
    processing = Processing([TEXT])
    task = await processing.queued_task()
    await processing.pipeline.run(task, no_heartbeat)
    again = await processing.pipeline.run(task, no_heartbeat)
    assert again.state == job_pb2.JOB_STATE_SUCCEEDED and again.attempts == 1
    assert len(processing.index.writers) == 1


@pytest.mark.parametrize(
    "forge",
    [
        lambda task: setattr(task, "sha256", "0" * 64),
        lambda task: setattr(task, "tenant", "globex"),
        lambda task: setattr(task, "job", "jobs/0123abcd"),
        lambda task: setattr(task, "sealed_password", b"\x01" + b"x" * 40),
    ],
    ids=["sha256", "tenant", "job", "password"],
)
async def test_a_task_that_disagrees_with_the_catalog_is_rejected_before_anything_is_written(forge):
    processing = Processing([TEXT])
    task = await processing.queued_task()
    forge(task)
    with pytest.raises(InvalidArgument) as refusal:
        await processing.pipeline.run(task, no_heartbeat)
    assert refusal.value.reason == "TASK_REJECTED"
    assert processing.index.writers == []
    assert all(job.state == job_pb2.JOB_STATE_QUEUED for job in processing.jobs.records.values())


async def test_pages_without_a_text_layer_are_read_by_ocr():
    recognizer = FakeRecognizer(confidence=0.6)
    processing = Processing([TEXT, "", TEXT], recognizer=recognizer)
    task = await processing.queued_task()

    job = await processing.pipeline.run(task, no_heartbeat)

    assert job.state == job_pb2.JOB_STATE_SUCCEEDED
    assert (job.ocr_pages_total, job.ocr_pages_done) == (1, 1)
    assert recognizer.calls == [([2], 200)]
    [writer] = processing.index.writers
    assert [(page.number, ocr) for page, ocr in writer.pages] == [(1, False), (2, True), (3, False)]
    assert "Words read from the scan." in writer.pages[1][0].text
    from_ocr = [chunk for chunk in writer.chunks if chunk.chunk.page_start <= 2 <= chunk.chunk.page_end]
    assert from_ocr and all(chunk.from_ocr and chunk.ocr_confidence == 0.6 for chunk in from_ocr)


async def test_a_page_the_ocr_service_failed_alone_is_its_page_error_and_the_others_are_read():
    recognizer = FakeRecognizer(failing={3: "OCR_PAGE_TIMEOUT"})
    processing = Processing([TEXT, "", ""], recognizer=recognizer)
    job = await processing.pipeline.run(await processing.queued_task(), no_heartbeat)
    assert job.state == job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED
    assert [(error.page, error.reason, error.message) for error in job.page_errors] == [
        (3, "OCR_PAGE_TIMEOUT", "Page 3: It failed.")
    ]
    [writer] = processing.index.writers
    assert "Words read from the scan." in writer.pages[1][0].text


async def test_a_page_ocr_read_with_low_confidence_is_not_indexed_and_the_job_says_so():
    recognizer = FakeRecognizer(text="Hlq ~ |i =", confidence=0.31, flagged={3: "OCR_LOW_CONFIDENCE"})
    processing = Processing([TEXT, "", ""], recognizer=recognizer)
    job = await processing.pipeline.run(await processing.queued_task(), no_heartbeat)
    assert job.state == job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED
    assert [(error.page, error.reason) for error in job.page_errors] == [(3, "OCR_LOW_CONFIDENCE")]
    assert "low confidence (0.31, script Latin)" in job.page_errors[0].message
    [writer] = processing.index.writers
    assert "Hlq" in writer.pages[1][0].text  # page 2 was not flagged
    assert all("Hlq" not in chunk.chunk.text or chunk.chunk.page_start <= 2 for chunk in writer.chunks)
    assert "Hlq" not in writer.pages[2][0].text


async def test_without_ocr_a_scanned_page_is_a_page_error_and_the_job_partly_succeeds():
    processing = Processing([TEXT, ""])
    task = await processing.queued_task()
    job = await processing.pipeline.run(task, no_heartbeat)
    assert job.state == job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED
    assert [(error.page, error.reason) for error in job.page_errors] == [(2, "OCR_NOT_CONFIGURED")]


async def test_when_no_page_is_extracted_the_job_and_the_document_fail():
    processing = Processing([None, None])
    task = await processing.queued_task()
    job = await processing.pipeline.run(task, no_heartbeat)
    assert job.state == job_pb2.JOB_STATE_FAILED and job.error.reason == "NO_PAGE_EXTRACTED"
    assert [error.reason for error in job.page_errors] == ["PAGE_TIMEOUT", "PAGE_TIMEOUT"]
    assert processing.state_of(task) is DocumentState.FAILED


async def test_a_peer_outage_is_raised_for_a_redelivery_and_the_index_is_left_untouched():
    processing = Processing([TEXT, TEXT])
    processing.embedder.failure = Unavailable("EMBEDDER_UNAVAILABLE", "Down.", domain=DOMAIN)
    task = await processing.queued_task()
    with pytest.raises(Unavailable):
        await processing.pipeline.run(task, no_heartbeat)
    [writer] = processing.index.writers
    assert writer.aborted and not writer.committed
    assert processing.jobs.records[task.job].state == job_pb2.JOB_STATE_RUNNING


async def test_a_job_cancelled_while_it_runs_stops_and_discards_its_output():
    processing = Processing([TEXT] * 6)
    task = await processing.queued_task()

    def cancel_after_the_first_batch() -> None:
        job = processing.jobs.records[task.job]
        job.state = job_pb2.JOB_STATE_CANCELLED

    processing.pages.after_batch = cancel_after_the_first_batch
    job = await processing.pipeline.run(task, no_heartbeat)

    assert job.state == job_pb2.JOB_STATE_CANCELLED
    [writer] = processing.index.writers
    assert writer.aborted and not writer.committed
    assert processing.state_of(task) is DocumentState.FAILED


async def test_giving_up_fails_the_job_and_its_document_but_writes_nothing_for_a_rejected_task():
    processing = Processing([TEXT])
    task = await processing.queued_task()
    error = Unavailable("SEARCH_UNAVAILABLE", "Down.", domain=DOMAIN)
    job = await processing.pipeline.give_up(task, error)
    assert job.state == job_pb2.JOB_STATE_FAILED and job.error.reason == "SEARCH_UNAVAILABLE"
    assert processing.state_of(task) is DocumentState.FAILED

    forged = await processing.queued_task(tenant="initech")
    forged.tenant = "globex"
    await processing.pipeline.give_up(forged, error)
    assert processing.jobs.records[forged.job].state == job_pb2.JOB_STATE_QUEUED
