"""Batch rules without a mesh: the creator's fields, joining, and the aggregate with its state and ETA."""

from __future__ import annotations

import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor import batches
from mivaa_platform.errors import FailedPrecondition, InvalidArgument

T0 = 1_700_000_000_000  # ms


def job(job_id: str, state, *, pages_done=0, pages_total=10, created_ms=T0, updated_ms=T0, chunks=0, error=""):
    record = job_pb2.Job(
        name=f"jobs/{job_id}",
        state=state,
        pages_done=pages_done,
        pages_total=pages_total,
        chunks_indexed=chunks,
        filename=f"{job_id}.pdf",
    )
    record.create_time.FromMilliseconds(created_ms)
    record.update_time.FromMilliseconds(updated_ms)
    if error:
        record.error.reason = error
    return record


def record(*job_ids: str, expected: int = 0) -> job_pb2.BatchRecord:
    return job_pb2.BatchRecord(
        batch=job_pb2.Batch(name="batches/0123456789ab01234567", expected_documents=expected), job_ids=job_ids
    )


def test_a_batch_name_is_checked():
    assert batches.batch_id_from_name("batches/0123456789ab01234567") == "0123456789ab01234567"
    for bad in ("batches/", "batches/XYZ", "jobs/0123456789ab01234567", "batches/0123456789ab0123456", ""):
        with pytest.raises(InvalidArgument) as refused:
            batches.batch_id_from_name(bad)
        assert refused.value.reason == "INVALID_BATCH_NAME"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"display_name": "x" * 201}, "DISPLAY_NAME_TOO_LONG"),
        ({"display_name": "bad\nname"}, "CONTROL_CHARACTERS"),
        ({"labels": [f"l{i}" for i in range(33)]}, "TOO_MANY_LABELS"),
        ({"expected_documents": -1}, "INVALID_EXPECTED_DOCUMENTS"),
        ({"expected_documents": 11}, "INVALID_EXPECTED_DOCUMENTS"),
    ],
)
def test_the_creators_fields_are_held_to_limits(fields, reason):
    arguments = {"display_name": "ok", "labels": [], "expected_documents": 0, "tenant": "t", "max_documents": 10}
    with pytest.raises(InvalidArgument) as refused:
        batches.new_batch_request(**(arguments | fields))
    assert refused.value.reason == reason


def test_labels_are_cleaned_and_merged_into_each_upload():
    new = batches.new_batch_request(
        display_name="  Manuals ", labels=["b", " a ", "", "b"], expected_documents=2, tenant="t", max_documents=10
    )
    assert (new.display_name, new.labels) == ("Manuals", ("a", "b"))
    stored = record()
    stored.batch.labels.extend(new.labels)
    assert batches.upload_labels(stored, ["c", "a"]) == ["a", "b", "c"]
    stored.batch.labels.extend(f"x{i}" for i in range(31))
    with pytest.raises(InvalidArgument, match="at most 32"):
        batches.upload_labels(stored, ["c"])


def test_a_full_batch_refuses_more_and_every_accepted_upload_counts():
    stored = record("a", "b")
    batches.reject(stored, "c.pdf", "PDF_UNREADABLE", "unreadable")
    with pytest.raises(FailedPrecondition) as refused:
        batches.check_room(stored, 3)
    assert refused.value.reason == "BATCH_FULL"
    batches.check_room(stored, 4)
    batches.join(stored, "d")
    batches.join(stored, "d")  # the same bytes in two files: one job, two documents of the batch
    assert list(stored.job_ids) == ["a", "b", "d", "d"]
    summary = batches.summarize(stored, {}, now_ms=T0)
    assert (summary.progress.documents_total, summary.progress.documents_queued) == (5, 4)


def test_only_the_first_rejections_are_kept_but_all_are_counted():
    stored = record()
    for i in range(batches.MAX_KEPT_REJECTIONS + 5):
        batches.reject(stored, f"{i}.pdf", "NOT_A_PDF", "not a pdf")
    assert stored.rejected_count == batches.MAX_KEPT_REJECTIONS + 5
    assert len(stored.rejected_uploads) == batches.MAX_KEPT_REJECTIONS


def test_progress_counts_every_state_and_the_eta_follows_the_rate_so_far():
    stored = record("a", "b", "c", "d", expected=5)
    batches.reject(stored, "e.pdf", "PDF_UNREADABLE", "The file could not be read as a PDF.")
    jobs = {
        "a": job("a", job_pb2.JOB_STATE_SUCCEEDED, pages_done=10, chunks=7, updated_ms=T0 + 5_000),
        "b": job("b", job_pb2.JOB_STATE_RUNNING, pages_done=10, pages_total=30),
        "c": job("c", job_pb2.JOB_STATE_FAILED, pages_total=4, error="PDF_UNREADABLE"),
        # "d" joined but was not read yet: queued.
    }
    batch = batches.summarize(stored, jobs, now_ms=T0 + 10_000)
    progress = batch.progress
    assert batch.state == job_pb2.BATCH_STATE_RUNNING
    counts = (
        progress.documents_total,
        progress.documents_queued,
        progress.documents_running,
        progress.documents_succeeded,
        progress.documents_failed,
    )
    assert counts == (5, 1, 1, 1, 2)
    assert (progress.pages_done, progress.pages_total, progress.chunks_indexed) == (20, 44, 7)
    assert progress.pages_per_second == pytest.approx(2.0)  # 20 pages in 10 s
    assert progress.eta_seconds == pytest.approx(10.0)  # job b's 20 pages left; c failed, d unknown
    assert [(f.filename, f.job, f.error.reason) for f in progress.failures] == [
        ("e.pdf", "", "PDF_UNREADABLE"),
        ("c.pdf", "jobs/c", "PDF_UNREADABLE"),
    ]


def test_state_is_open_until_the_expected_uploads_joined_then_done_when_all_finished():
    finished = {"a": job("a", job_pb2.JOB_STATE_SUCCEEDED, pages_done=10, updated_ms=T0 + 4_000)}
    assert batches.summarize(record(), {}, now_ms=T0).state == job_pb2.BATCH_STATE_OPEN
    assert batches.summarize(record("a", expected=2), finished, now_ms=T0).state == job_pb2.BATCH_STATE_OPEN
    done = batches.summarize(record("a", expected=1), finished, now_ms=T0 + 60_000)
    assert done.state == job_pb2.BATCH_STATE_DONE and batches.is_done(done)
    # The rate of a finished batch is measured to its last job's end, not to now.
    assert done.progress.pages_per_second == pytest.approx(2.5) and done.progress.eta_seconds == 0
    without_expectation = batches.summarize(record("a"), finished, now_ms=T0)
    assert without_expectation.state == job_pb2.BATCH_STATE_DONE


def test_no_rate_and_no_eta_before_any_page_is_done():
    stored = record("a", expected=1)
    batch = batches.summarize(stored, {"a": job("a", job_pb2.JOB_STATE_QUEUED)}, now_ms=T0 + 1_000)
    assert (batch.progress.pages_per_second, batch.progress.eta_seconds) == (0, 0)
    assert batches.pages_per_second(5, T0, T0) == 0 and batches.eta_seconds(0, 3.0) == 0


def test_the_cli_says_a_batchs_progress_and_failures_in_words():
    from mivaa_cli import batches_cmd

    stored = record("a", "b", "c", expected=4)
    batches.reject(stored, "broken.pdf", "PDF_UNREADABLE", "The file could not be read as a PDF.")
    jobs = {
        "a": job("a", job_pb2.JOB_STATE_SUCCEEDED, pages_done=10),
        "b": job("b", job_pb2.JOB_STATE_RUNNING, pages_done=5, pages_total=40),
        "c": job("c", job_pb2.JOB_STATE_QUEUED),
    }
    batch = batches.summarize(stored, jobs, now_ms=T0 + 10_000)
    line = batches_cmd.aggregate_line(batch)  # 1.5 pages/s so far, 45 pages left
    assert "2/4 documents  1 failed  15/60 pages  ETA 30s  running" in line
    assert line.startswith("[" + "#" * 12 + "-" * 12 + "]")
    assert batches_cmd.failure_lines(batch) == ["  broken.pdf: The file could not be read as a PDF. (PDF_UNREADABLE)"]
    assert [batches_cmd.duration_words(s) for s in (44.6, 200, 7500)] == ["45s", "3m 20s", "2h 05m"]
