"""Job statistics over a time window: counts by state, stage duration percentiles, failures by reason.

Domain code (no grpc): the servicer checks the window with new_window and feeds the jobs it read
to JobStatistics; percentiles are nearest-rank, so every value reported is one a job really took.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.jobs import DOMAIN
from mivaa_platform.errors import InvalidArgument

DAY_MS = 24 * 3600 * 1000
MAX_WINDOW_DAYS = 90
DEFAULT_WINDOW_DAYS = 7
# Jobs one statistics call reads at most (newest first); past it the answer says it is truncated.
MAX_JOBS_READ = 20_000


@dataclass(frozen=True)
class Window:
    """Jobs created in [start_ms, end_ms)."""

    start_ms: int
    end_ms: int


def new_window(*, start_ms: int | None, end_ms: int | None, now_ms: int) -> Window:
    """The caller's window (default: the last 7 days up to now), or INVALID_ARGUMENT INVALID_TIME_WINDOW."""
    end = now_ms if end_ms is None else end_ms
    start = end - DEFAULT_WINDOW_DAYS * DAY_MS if start_ms is None else start_ms
    if start >= end:
        raise InvalidArgument("INVALID_TIME_WINDOW", "start_time must be earlier than end_time.", domain=DOMAIN)
    if end - start > MAX_WINDOW_DAYS * DAY_MS:
        raise InvalidArgument(
            "INVALID_TIME_WINDOW",
            f"The window may span at most {MAX_WINDOW_DAYS} days.",
            domain=DOMAIN,
            metadata={"max_days": str(MAX_WINDOW_DAYS)},
        )
    return Window(start, end)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of values sorted ascending (0.0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class StageSummary:
    stage: int
    samples: int
    p50: float
    p95: float
    max: float


@dataclass(frozen=True)
class FailureSummary:
    reason: str
    count: int
    example_message: str


@dataclass
class JobStatistics:
    """Accumulates jobs (add) and summarizes them."""

    total: int = 0
    states: Counter[int] = field(default_factory=Counter)
    _stage_seconds: defaultdict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    _failures: Counter[str] = field(default_factory=Counter)
    _examples: dict[str, str] = field(default_factory=dict)

    def add_all(self, jobs: Iterable[job_pb2.Job]) -> None:
        for job in jobs:
            self.add(job)

    def add(self, job: job_pb2.Job) -> None:
        self.total += 1
        self.states[job.state] += 1
        # A stage timed more than once in a job (a redelivery) counts as the time the job spent in it.
        per_stage: defaultdict[int, float] = defaultdict(float)
        for timing in job.stage_timings:
            per_stage[timing.stage] += max(0.0, timing.seconds)
        for stage, seconds in per_stage.items():
            self._stage_seconds[stage].append(seconds)
        if job.state == job_pb2.JOB_STATE_FAILED:
            reason = job.error.reason or "UNKNOWN"
            self._failures[reason] += 1
            self._examples.setdefault(reason, job.error.message)

    def stages(self) -> list[StageSummary]:
        """In pipeline order (the JobStage numbers are not)."""
        summaries = []
        for stage in sorted(self._stage_seconds, key=_pipeline_position):
            values = sorted(self._stage_seconds[stage])
            summaries.append(
                StageSummary(stage, len(values), percentile(values, 0.5), percentile(values, 0.95), values[-1])
            )
        return summaries

    def failures(self) -> list[FailureSummary]:
        """Most frequent first, then by reason."""
        ordered = sorted(self._failures.items(), key=lambda item: (-item[1], item[0]))
        return [FailureSummary(reason, count, self._examples.get(reason, "")) for reason, count in ordered]


_PIPELINE_ORDER = (
    job_pb2.JOB_STAGE_QUEUED,
    job_pb2.JOB_STAGE_EXTRACTING,
    job_pb2.JOB_STAGE_OCR,
    job_pb2.JOB_STAGE_EMBEDDING,
    job_pb2.JOB_STAGE_ENTITIES,
    job_pb2.JOB_STAGE_INDEXING,
    job_pb2.JOB_STAGE_DONE,
)


def _pipeline_position(stage: int) -> int:
    return _PIPELINE_ORDER.index(stage) if stage in _PIPELINE_ORDER else len(_PIPELINE_ORDER) + stage
