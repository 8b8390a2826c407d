"""Admin use cases against in-memory ports: job statistics and retries (no mesh)."""

from __future__ import annotations

import os

import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.admin.retry import JobRetrier, RetryPorts, new_batch_filter
from mivaa_extractor.admin.statistics import DAY_MS, JobStatistics, new_window, percentile
from mivaa_extractor.api.ingest import Ingestor, UploadLimits, UploadPorts, new_upload_request
from mivaa_extractor.ports import DocumentState
from mivaa_extractor.task_seal import TaskSealer
from mivaa_platform.errors import FailedPrecondition, InvalidArgument, NotFound
from tests.extractor.unit.fakes import FakeCatalog, FakeJobs, FakeOriginals, FakeValidator, FakeWorkQueue

PDF = b"%PDF-1.7\n" + b"x" * 2000
FAILED, CANCELLED, QUEUED = job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_CANCELLED, job_pb2.JOB_STATE_QUEUED


def timed_job(state: int, **seconds: float) -> job_pb2.Job:
    job = job_pb2.Job(state=state)  # type: ignore[arg-type]
    for stage, value in seconds.items():
        job.stage_timings.add(stage=job_pb2.JobStage.Value(f"JOB_STAGE_{stage.upper()}"), seconds=value)
    return job


def test_percentiles_are_nearest_rank_values_jobs_really_took():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (50.0, 95.0)
    assert percentile([7.0], 0.95) == 7.0 and percentile([], 0.5) == 0.0
    assert percentile([1.0, 2.0, 10.0], 0.5) == 2.0


def test_statistics_count_states_time_stages_in_pipeline_order_and_rank_failure_reasons():
    stats = JobStatistics()
    stats.add_all(timed_job(job_pb2.JOB_STATE_SUCCEEDED, extracting=s, embedding=s / 2) for s in (1.0, 2.0, 3.0, 40.0))
    stats.add(timed_job(job_pb2.JOB_STATE_SUCCEEDED, queued=0.5, extracting=1.0, ocr=5.0))
    for reason in ("PDF_UNREADABLE", "PDF_UNREADABLE", "EMBEDDER_UNAVAILABLE"):
        failed = timed_job(FAILED, extracting=0.25)
        failed.error.reason, failed.error.message = reason, f"{reason} in plain words"
        stats.add(failed)
    # A redelivered job timed the same stage twice: the job's time in it is the sum.
    stats.add(timed_job(job_pb2.JOB_STATE_SUCCEEDED, extracting=2.0, embedding=1.0))

    assert stats.total == 9
    assert stats.states == {job_pb2.JOB_STATE_SUCCEEDED: 6, FAILED: 3}
    stages = {job_pb2.JobStage.Name(s.stage): s for s in stats.stages()}
    assert [job_pb2.JobStage.Name(s.stage) for s in stats.stages()] == [
        "JOB_STAGE_QUEUED",
        "JOB_STAGE_EXTRACTING",
        "JOB_STAGE_OCR",
        "JOB_STAGE_EMBEDDING",
    ]
    extracting = stages["JOB_STAGE_EXTRACTING"]
    assert extracting.samples == 9 and extracting.max == 40.0
    assert (extracting.p50, extracting.p95) == (1.0, 40.0)
    assert stages["JOB_STAGE_OCR"].samples == 1 and stages["JOB_STAGE_OCR"].p95 == 5.0
    failures = stats.failures()
    assert [(f.reason, f.count) for f in failures] == [("PDF_UNREADABLE", 2), ("EMBEDDER_UNAVAILABLE", 1)]
    assert failures[0].example_message == "PDF_UNREADABLE in plain words"


def test_a_window_defaults_to_the_last_week_and_is_refused_past_ninety_days_or_backwards():
    now = 1_800_000_000_000
    assert new_window(start_ms=None, end_ms=None, now_ms=now).start_ms == now - 7 * DAY_MS
    assert new_window(start_ms=now - 90 * DAY_MS, end_ms=now, now_ms=now).end_ms == now
    for start, end in ((now - 91 * DAY_MS, now), (now, now), (now, now - 1)):
        with pytest.raises(InvalidArgument) as refused:
            new_window(start_ms=start, end_ms=end, now_ms=now)
        assert refused.value.reason == "INVALID_TIME_WINDOW"


def test_a_batch_filter_refuses_a_malformed_reason_a_backwards_range_and_too_many_jobs():
    assert new_batch_filter(reason=" PDF_UNREADABLE ", after_ms=None, before_ms=None, max_jobs=0).max_jobs == 20
    for fields, reason in (
        ({"reason": "not a reason"}, "INVALID_REASON"),
        ({"after_ms": 5, "before_ms": 5}, "INVALID_TIME_RANGE"),
        ({"max_jobs": 101}, "INVALID_MAX_JOBS"),
        ({"max_jobs": -1}, "INVALID_MAX_JOBS"),
    ):
        arguments = {"reason": "", "after_ms": None, "before_ms": None, "max_jobs": 0} | fields
        with pytest.raises(InvalidArgument) as refused:
            new_batch_filter(**arguments)  # type: ignore[arg-type]
        assert refused.value.reason == reason


class Mesh:
    """An Ingestor and a JobRetrier over the same fakes."""

    def __init__(self) -> None:
        self.jobs, self.originals, self.catalog = FakeJobs(), FakeOriginals(), FakeCatalog()
        self.work, self.sealer, self.validator = FakeWorkQueue(), TaskSealer(os.urandom(32)), FakeValidator()
        ports = UploadPorts(self.jobs, self.originals, self.catalog, self.work, self.sealer)
        self.ingestor = Ingestor(ports, UploadLimits(max_bytes=1 << 20, max_pages=100), self.validator)
        self.retrier = JobRetrier(
            RetryPorts(self.jobs, self.catalog, self.originals, self.work, self.sealer, self.ingestor.validate)
        )

    async def failed_upload(self, *, tenant: str = "acme", reason: str = "PDF_UNREADABLE", data: bytes = PDF):
        request = new_upload_request(filename="a.pdf", title="", labels=[], password="", tenant=tenant)
        result = await self.ingestor.upload(request, data)
        job = self.jobs.records[result.job.name]
        job.state, job.stage, job.attempts = FAILED, job_pb2.JOB_STAGE_DONE, 3
        job.error.reason, job.error.message = reason, "It failed."
        job.stage_timings.add(stage=job_pb2.JOB_STAGE_EXTRACTING, seconds=1.5)
        await self.catalog.set_state(result.document.name, DocumentState.FAILED, tenant=tenant)
        return job


async def test_a_failed_job_is_reset_visibly_and_queued_again_under_a_new_message_id():
    mesh = Mesh()
    failed = await mesh.failed_upload()

    job = await mesh.retrier.retry(failed.name, password="", tenant="acme")

    assert (job.state, job.stage, job.attempts, job.retry_count) == (QUEUED, job_pb2.JOB_STAGE_QUEUED, 0, 1)
    assert not job.HasField("error") and not job.stage_timings
    assert (job.document, job.filename, job.tenant, job.pages_total) == (
        failed.document,
        failed.filename,
        "acme",
        failed.pages_total,
    )
    assert (await mesh.catalog.get(job.document, tenant="acme")).state is DocumentState.PENDING
    assert mesh.work.runs == [0, 1]  # the upload's run, then the retry's
    assert mesh.work.tasks[-1].job == job.name
    # Running again: not retryable until it fails again.
    with pytest.raises(FailedPrecondition) as refused:
        await mesh.retrier.retry(failed.name, password="", tenant="acme")
    assert refused.value.reason == "JOB_NOT_RETRYABLE"


async def test_a_retry_refuses_another_tenants_job_a_deleted_document_and_a_missing_original():
    mesh = Mesh()
    failed = await mesh.failed_upload()
    with pytest.raises(NotFound):
        await mesh.retrier.retry(failed.name, password="", tenant="globex")
    mesh.originals.files.clear()
    with pytest.raises(FailedPrecondition) as missing:
        await mesh.retrier.retry(failed.name, password="", tenant="acme")
    assert missing.value.reason == "ORIGINAL_MISSING"
    await mesh.catalog.delete(failed.document, tenant="acme")
    with pytest.raises(FailedPrecondition) as deleted:
        await mesh.retrier.retry(failed.name, password="", tenant="acme")
    assert deleted.value.reason == "DOCUMENT_DELETED"
    assert mesh.jobs.records[failed.name].state == FAILED  # nothing changed


async def test_an_encrypted_original_needs_its_password_and_the_task_carries_it_sealed():
    mesh = Mesh()
    failed = await mesh.failed_upload()
    mesh.validator.failure = FailedPrecondition("PDF_ENCRYPTED", "needs a password")
    with pytest.raises(FailedPrecondition) as refused:
        await mesh.retrier.retry(failed.name, password="", tenant="acme")
    assert refused.value.reason == "PDF_ENCRYPTED" and mesh.jobs.records[failed.name].state == FAILED
    mesh.validator.failure = None
    await mesh.retrier.retry(failed.name, password="secret", tenant="acme")
    assert mesh.sealer.open_password(mesh.work.tasks[-1]) == "secret"


async def test_a_batch_retries_the_tenants_failed_jobs_by_reason_up_to_its_cap_and_reports_the_rest():
    mesh = Mesh()
    unreadable = [await mesh.failed_upload(data=PDF + bytes([i])) for i in range(3)]
    other = await mesh.failed_upload(reason="EMBEDDER_UNAVAILABLE", data=PDF + b"other")
    foreign = await mesh.failed_upload(tenant="globex", data=PDF + b"foreign")
    mesh.originals.files.pop(mesh.work.tasks[2].sha256)  # the third one's original is gone

    first = await mesh.retrier.retry_failed(
        new_batch_filter(reason="PDF_UNREADABLE", after_ms=None, before_ms=None, max_jobs=2), tenant="acme"
    )
    assert len(first.retried) + len(first.failures) == 2 and first.more
    rest = await mesh.retrier.retry_failed(
        new_batch_filter(reason="PDF_UNREADABLE", after_ms=None, before_ms=None, max_jobs=10), tenant="acme"
    )
    retried = set(first.retried) | set(rest.retried)
    assert retried == {job.name for job in unreadable[:2]}
    assert [(job, reason) for job, reason, _ in first.failures + rest.failures] == [
        (unreadable[2].name, "ORIGINAL_MISSING")
    ]
    assert mesh.jobs.records[other.name].state == FAILED and mesh.jobs.records[foreign.name].state == FAILED
