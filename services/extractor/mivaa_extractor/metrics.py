"""The pipeline's metrics (the RPC ones come from mivaa_platform.telemetry): jobs by state, pages,
stage durations, the work queue's backlog, and per-tenant usage with a bounded tenant label."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from mivaa.jobs.v1 import job_pb2
from mivaa_platform.metrics import DEFAULT_TENANT, tenant_label

JOBS = Counter("mivaa_jobs_total", "Job records that entered a state (created, then each change of state).", ["state"])
PAGES = Counter("mivaa_pages_processed_total", "Pages extracted (read, OCR'd where needed, chunked).", ["tenant"])
STAGE_SECONDS = Histogram(
    "mivaa_job_stage_duration_seconds",
    "Time a finished job spent in each stage (work time, overlapping stages counted in each).",
    ["stage"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
UPLOADS = Counter("mivaa_tenant_documents_total", "Documents accepted for extraction, by tenant.", ["tenant"])
UPLOAD_BYTES = Counter("mivaa_tenant_stored_bytes_total", "Bytes of originals stored, by tenant.", ["tenant"])
QUEUE = Gauge(
    "mivaa_queue_messages",
    "The work queue as JetStream reports it: pending (not yet delivered), ack_pending (delivered, "
    "not acknowledged), redelivered.",
    ["stream", "consumer", "kind"],
)
QUEUE_OLDEST = Gauge(
    "mivaa_queue_oldest_pending_age_seconds",
    "How long the oldest undelivered work item has waited.",
    ["stream", "consumer"],
)

PAGE_RANGES = Counter(
    "mivaa_page_ranges_total",
    "Ranges of long documents' pages: extracted here for the worker assembling the document (extracted), "
    "assembled from another worker's outcome (received), read by the assembling worker itself because none "
    "came back in time or usable (read_here), dropped as stale (dropped).",
    ["outcome"],
)
PAGE_RANGE_OUTCOMES = ("extracted", "received", "read_here", "dropped")

_STATES = [s for s in job_pb2.JobState.values() if s != job_pb2.JOB_STATE_UNSPECIFIED]
_TIMED_STAGES = (
    job_pb2.JOB_STAGE_EXTRACTING,
    job_pb2.JOB_STAGE_OCR,
    job_pb2.JOB_STAGE_EMBEDDING,
    job_pb2.JOB_STAGE_INDEXING,
    job_pb2.JOB_STAGE_ENTITIES,
)
_TERMINAL = {
    job_pb2.JOB_STATE_SUCCEEDED,
    job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED,
    job_pb2.JOB_STATE_FAILED,
    job_pb2.JOB_STATE_CANCELLED,
}


def state_name(state: int) -> str:
    return job_pb2.JobState.Name(state).removeprefix("JOB_STATE_").lower()


def stage_name(stage: int) -> str:
    return job_pb2.JobStage.Name(stage).removeprefix("JOB_STAGE_").lower()


def initialize() -> None:
    """Every known label value at zero, so a series exists (and a rate reads 0) before the first job."""
    for state in _STATES:
        JOBS.labels(state_name(state))
    for stage in _TIMED_STAGES:
        STAGE_SECONDS.labels(stage_name(stage))
    for counter in (PAGES, UPLOADS, UPLOAD_BYTES):
        counter.labels(tenant_label(DEFAULT_TENANT))
    for outcome in PAGE_RANGE_OUTCOMES:
        PAGE_RANGES.labels(outcome)


def job_changed(before: int | None, job: job_pb2.Job) -> None:
    """A job record was written: counts a new state, and a finished job's stage times."""
    if job.state == before:
        return
    JOBS.labels(state_name(job.state)).inc()
    if job.state in _TERMINAL:
        for timing in job.stage_timings:
            if timing.seconds > 0:
                STAGE_SECONDS.labels(stage_name(timing.stage)).observe(timing.seconds)


def pages_processed(tenant: str, pages: int) -> None:
    PAGES.labels(tenant_label(tenant or "default")).inc(pages)


def document_stored(tenant: str, size_bytes: int) -> None:
    label = tenant_label(tenant or "default")
    UPLOADS.labels(label).inc()
    UPLOAD_BYTES.labels(label).inc(size_bytes)


def page_range(outcome: str) -> None:
    PAGE_RANGES.labels(outcome).inc()
