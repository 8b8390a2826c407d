"""Job records and work items: the rules both roles share (names, ids, tenants, terminal states).

A job's record is its mivaa.jobs.v1.Job message, stored by adapters.job_store.JobStore
(NATS KV), which publishes every change as a JobEvent. Job ids
start with the creation time in hex, so key order is creation order. Every job and task
belongs to a tenant; one written before tenancy (empty tenant) is the default tenant's.
"""

from __future__ import annotations

import os
import time

from google.protobuf import timestamp_pb2

from mivaa.jobs.v1 import job_pb2
from mivaa_platform.errors import InvalidArgument, Unavailable
from mivaa_platform.tenancy import DEFAULT_TENANT

DOMAIN = "extractor.mivaa"
TERMINAL_STATES = frozenset(
    {
        job_pb2.JOB_STATE_SUCCEEDED,
        job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED,
        job_pb2.JOB_STATE_FAILED,
        job_pb2.JOB_STATE_CANCELLED,
    }
)


def new_job_id() -> str:
    """Time-ordered id: 12 hex digits of milliseconds, then 8 random hex digits."""
    return f"{int(time.time() * 1000):012x}{os.urandom(4).hex()}"


def job_id_from_name(name: str) -> str:
    prefix, _, job_id = name.partition("/")
    if prefix != "jobs" or not job_id or not all(c in "0123456789abcdef" for c in job_id) or len(job_id) > 64:
        raise InvalidArgument(
            "INVALID_JOB_NAME", "A job name looks like 'jobs/{id}'.", domain=DOMAIN, metadata={"name": name[:100]}
        )
    return job_id


def now_timestamp() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


def is_terminal(job: job_pb2.Job) -> bool:
    return job.state in TERMINAL_STATES


def job_tenant(job: job_pb2.Job) -> str:
    """The job's tenant; a record written before tenancy (empty) is the default tenant's."""
    return job.tenant or DEFAULT_TENANT


def task_tenant(task: job_pb2.ExtractTask) -> str:
    """The tenant that owns the task's document (tasks queued before tenancy belong to the default one)."""
    return task.tenant or DEFAULT_TENANT


def is_retryable(error: BaseException) -> bool:
    """Failures of a peer (embedder, search, NATS) are worth a redelivery of the task; bad input is not."""
    return isinstance(error, Unavailable)
