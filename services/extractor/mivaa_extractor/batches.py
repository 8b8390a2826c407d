"""Batches: uploads made under one id, and their aggregate progress. Domain code (no grpc).

A batch's record (mivaa.jobs.v1.BatchRecord, stored by adapters.batch_store) holds what the
creator said (display name, labels, how many uploads to expect), the ids of the jobs that joined
it and the uploads refused before a job existed. Its progress is never stored: `summarize`
computes it from the jobs' current records at every read, so it can never disagree with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1.processing_options_pb2 import ProcessingOptions
from mivaa_extractor.jobs import DOMAIN, TERMINAL_STATES, new_job_id
from mivaa_platform import limits
from mivaa_platform.errors import FailedPrecondition, InvalidArgument, NotFound

MAX_DISPLAY_NAME_CHARS = 200
# The failures a batch shows in full (progress.failures), and the refused uploads its record keeps.
MAX_LISTED_FAILURES = 50
MAX_KEPT_REJECTIONS = 20
_ID_LENGTH = len(new_job_id())


@dataclass(frozen=True)
class NewBatch:
    display_name: str
    labels: tuple[str, ...]
    expected_documents: int
    tenant: str
    # How its uploads that give no options of their own are processed (checked: processing_options).
    options: ProcessingOptions | None = None


def new_batch_id() -> str:
    """Time-ordered like a job id, so key order is creation order."""
    return new_job_id()


def batch_id_from_name(name: str) -> str:
    """The id in "batches/{batch_id}", or INVALID_ARGUMENT INVALID_BATCH_NAME."""
    prefix, _, batch_id = name.partition("/")
    if prefix != "batches" or len(batch_id) != _ID_LENGTH or not all(c in "0123456789abcdef" for c in batch_id):
        raise InvalidArgument(
            "INVALID_BATCH_NAME",
            "A batch name looks like 'batches/{id}'.",
            domain=DOMAIN,
            metadata={"name": name[:100]},
        )
    return batch_id


def batch_not_found(name: str) -> NotFound:
    return NotFound("BATCH_NOT_FOUND", "No such batch.", domain=DOMAIN, metadata={"batch": name[:100]})


def new_batch_request(
    *, display_name: str, labels: Iterable[str], expected_documents: int, tenant: str, max_documents: int
) -> NewBatch:
    """The creator's fields, checked: DISPLAY_NAME_TOO_LONG, the upload's label limits, and
    INVALID_EXPECTED_DOCUMENTS outside 0..max_documents."""
    display_name = display_name.strip()
    if len(display_name) > MAX_DISPLAY_NAME_CHARS:
        raise InvalidArgument(
            "DISPLAY_NAME_TOO_LONG",
            f"display_name must be at most {MAX_DISPLAY_NAME_CHARS} characters.",
            domain=DOMAIN,
            metadata={"field": "display_name", "max_chars": str(MAX_DISPLAY_NAME_CHARS)},
        )
    limits.check_title(display_name, domain=DOMAIN, field="display_name")  # control characters
    stripped = [label.strip() for label in labels]
    checked = limits.check_labels([label for label in stripped if label], domain=DOMAIN, field="labels")
    if not 0 <= expected_documents <= max_documents:
        raise InvalidArgument(
            "INVALID_EXPECTED_DOCUMENTS",
            f"expected_documents must be between 0 and {max_documents}.",
            domain=DOMAIN,
            metadata={"max_documents": str(max_documents)},
        )
    return NewBatch(display_name, tuple(sorted(set(checked))), expected_documents, tenant)


def documents_joined(record: job_pb2.BatchRecord) -> int:
    return len(record.job_ids) + record.rejected_count


def check_room(record: job_pb2.BatchRecord, max_documents: int) -> None:
    """FAILED_PRECONDITION BATCH_FULL when no more uploads may join."""
    if documents_joined(record) >= max_documents:
        raise FailedPrecondition(
            "BATCH_FULL",
            f"The batch already holds {max_documents} documents; create another batch.",
            domain=DOMAIN,
            metadata={"batch": record.batch.name, "max_documents": str(max_documents)},
        )


def upload_labels(record: job_pb2.BatchRecord, labels: Sequence[str]) -> list[str]:
    """The upload's labels with the batch's added (the label limits hold for the union)."""
    merged = sorted(set(labels) | set(record.batch.labels))
    return limits.check_labels(merged, domain=DOMAIN, field="metadata.labels")


def join(record: job_pb2.BatchRecord, job_id: str) -> None:
    """Adds the job of an accepted upload. Every accepted upload counts, so a batch expecting N
    uploads gets N entries even when two files had the same bytes (and so one job)."""
    record.job_ids.append(job_id)


def reject(record: job_pb2.BatchRecord, filename: str, reason: str, message: str) -> None:
    """Counts an upload refused before its job existed; the first few are kept with their reason."""
    record.rejected_count += 1
    if len(record.rejected_uploads) < MAX_KEPT_REJECTIONS:
        record.rejected_uploads.append(
            job_pb2.BatchFailure(filename=filename, error=job_pb2.JobError(reason=reason, message=message))
        )


_COUNTERS = {
    job_pb2.JOB_STATE_QUEUED: "documents_queued",
    job_pb2.JOB_STATE_RUNNING: "documents_running",
    job_pb2.JOB_STATE_SUCCEEDED: "documents_succeeded",
    job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED: "documents_partially_succeeded",
    job_pb2.JOB_STATE_FAILED: "documents_failed",
    job_pb2.JOB_STATE_CANCELLED: "documents_cancelled",
}


def summarize(record: job_pb2.BatchRecord, jobs: Mapping[str, job_pb2.Job], *, now_ms: int) -> job_pb2.Batch:
    """The batch with its state and progress from `jobs` (by job id). A job not in `jobs` (not read
    yet) counts as queued: it exists, since it joined after its record was written."""
    batch = job_pb2.Batch()
    batch.CopyFrom(record.batch)
    progress = batch.progress
    progress.documents_total = documents_joined(record)
    progress.documents_failed = record.rejected_count
    progress.failures.extend(record.rejected_uploads[:MAX_LISTED_FAILURES])
    remaining_pages = 0
    first_created_ms = last_updated_ms = 0
    all_terminal = True
    for job_id in record.job_ids:
        job = jobs.get(job_id)
        if job is None:
            progress.documents_queued += 1
            all_terminal = False
            continue
        counter = _COUNTERS.get(job.state, "documents_queued")
        setattr(progress, counter, getattr(progress, counter) + 1)
        progress.pages_done += job.pages_done
        progress.pages_total += job.pages_total
        progress.chunks_indexed += job.chunks_indexed
        if job.state in TERMINAL_STATES:
            last_updated_ms = max(last_updated_ms, job.update_time.ToMilliseconds())
        else:
            all_terminal = False
            remaining_pages += max(job.pages_total - job.pages_done, 0)
        created_ms = job.create_time.ToMilliseconds()
        first_created_ms = min(first_created_ms or created_ms, created_ms)
        if job.state == job_pb2.JOB_STATE_FAILED and len(progress.failures) < MAX_LISTED_FAILURES:
            progress.failures.append(job_pb2.BatchFailure(filename=job.filename, job=f"jobs/{job_id}", error=job.error))
    batch.state = batch_state(record, all_terminal=all_terminal)
    end_ms = last_updated_ms if batch.state == job_pb2.BATCH_STATE_DONE else now_ms
    progress.pages_per_second = pages_per_second(progress.pages_done, first_created_ms, end_ms)
    progress.eta_seconds = eta_seconds(remaining_pages, progress.pages_per_second)
    return batch


def batch_state(record: job_pb2.BatchRecord, *, all_terminal: bool) -> job_pb2.BatchState:
    joined = documents_joined(record)
    if joined == 0 or joined < record.batch.expected_documents:
        return job_pb2.BATCH_STATE_OPEN
    return job_pb2.BATCH_STATE_DONE if all_terminal else job_pb2.BATCH_STATE_RUNNING


def pages_per_second(pages_done: int, start_ms: int, end_ms: int) -> float:
    """Pages done over the time since the first job was created; 0 before any page or any time."""
    elapsed = (end_ms - start_ms) / 1000
    return pages_done / elapsed if pages_done > 0 and start_ms and elapsed > 0 else 0.0


def eta_seconds(remaining_pages: int, rate: float) -> float:
    """The remaining pages at the rate so far; 0 when nothing remains or no rate is known yet."""
    return remaining_pages / rate if remaining_pages > 0 and rate > 0 else 0.0


def is_done(batch: job_pb2.Batch) -> bool:
    return batch.state == job_pb2.BATCH_STATE_DONE
