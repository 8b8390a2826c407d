"""What ListJobs may be asked to keep: states, labels and a creation-time window, checked once.

Domain code (no grpc): the servicer builds a JobFilter from the request with new_job_filter,
which refuses what no job can match and what is past the limits; the job store asks it which
keys can hold a match (a job id starts with its creation time) and which records do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.batches import batch_id_from_name
from mivaa_extractor.jobs import DOMAIN
from mivaa_platform import limits
from mivaa_platform.errors import InvalidArgument
from mivaa_platform.pagination import filter_fingerprint

# Every state a job can be in once: more than that repeats one.
MAX_STATE_FILTERS = len(job_pb2.JobState.values()) - 1
# A job id is created a moment before the job's create_time is set: ids this much older than a
# window's start are still read, and the record's own create_time decides.
_ID_CLOCK_SLACK_MS = 60_000
_ID_TIME_DIGITS = 12


@dataclass(frozen=True)
class JobFilter:
    """Jobs in any of `states` (all when empty), carrying every label, created in [after_ms, before_ms),
    in `batch` when it names one."""

    states: frozenset[int] = frozenset()
    labels: frozenset[str] = frozenset()
    after_ms: int | None = None
    before_ms: int | None = None
    batch: str = ""

    def matches(self, job: job_pb2.Job) -> bool:
        if self.batch and job.batch != self.batch:
            return False
        if self.states and job.state not in self.states:
            return False
        if not self.labels <= set(job.labels):
            return False
        created_ms = job.create_time.ToMilliseconds()
        if self.after_ms is not None and created_ms < self.after_ms:
            return False
        return self.before_ms is None or created_ms < self.before_ms

    def may_hold(self, job_id: str) -> bool:
        """False when the id's creation time alone rules the job out (no need to read it)."""
        id_ms = id_time_ms(job_id)
        if id_ms is None:
            return True
        if self.before_ms is not None and id_ms >= self.before_ms:
            return False
        return self.after_ms is None or id_ms >= self.after_ms - _ID_CLOCK_SLACK_MS

    def fingerprint(self) -> str:
        """Ties a page token to this filter: the same filter in any order gives the same value."""
        values = [f"state:{state}" for state in self.states] + [f"label:{label}" for label in self.labels]
        values += [f"after:{self.after_ms}", f"before:{self.before_ms}", f"batch:{self.batch}"]
        return filter_fingerprint(values)


EVERY_JOB = JobFilter()


def id_time_ms(job_id: str) -> int | None:
    """Milliseconds since the epoch when the id was made (jobs.new_job_id); None for an id of another shape."""
    try:
        return int(job_id[:_ID_TIME_DIGITS], 16) if len(job_id) > _ID_TIME_DIGITS else None
    except ValueError:
        return None


def new_job_filter(
    *, states: Iterable[int], labels: Iterable[str], after_ms: int | None, before_ms: int | None, batch: str = ""
) -> JobFilter:
    """The caller's filter, or INVALID_ARGUMENT: TOO_MANY_STATES, INVALID_JOB_STATE, TOO_MANY_LABELS,
    LABEL_TOO_LONG (the upload's label limits), INVALID_TIME_RANGE or INVALID_BATCH_NAME."""
    if batch:
        batch_id_from_name(batch)
    state_list = list(states)
    if len(state_list) > MAX_STATE_FILTERS:
        raise InvalidArgument(
            "TOO_MANY_STATES",
            f"states may hold at most {MAX_STATE_FILTERS} values.",
            domain=DOMAIN,
            metadata={"max_states": str(MAX_STATE_FILTERS)},
        )
    known = set(job_pb2.JobState.values()) - {job_pb2.JOB_STATE_UNSPECIFIED}
    for state in state_list:
        if state not in known:
            raise InvalidArgument(
                "INVALID_JOB_STATE",
                "states may hold only QUEUED, RUNNING, SUCCEEDED, PARTIALLY_SUCCEEDED, FAILED or CANCELLED.",
                domain=DOMAIN,
                metadata={"state": str(state)},
            )
    label_list = limits.check_labels([label.strip() for label in labels], domain=DOMAIN, field="labels")
    if after_ms is not None and before_ms is not None and after_ms >= before_ms:
        raise InvalidArgument(
            "INVALID_TIME_RANGE", "create_time_after must be earlier than create_time_before.", domain=DOMAIN
        )
    return JobFilter(frozenset(state_list), frozenset(label_list), after_ms, before_ms, batch)
