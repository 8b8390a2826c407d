"""ListJobs filters and `mivaa jobs list` options, without a mesh (the mesh tests: tests/extractor/test_job_listing.py)."""

from __future__ import annotations

import argparse
import asyncio

import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa_cli import jobs_cmd
from mivaa_cli.main import build_parser
from mivaa_extractor.adapters.job_retention import run_retention, sweep_interval
from mivaa_extractor.job_filter import id_time_ms, new_job_filter
from mivaa_extractor.jobs import new_job_id
from mivaa_platform.errors import InvalidArgument


def _filter(**fields):
    return new_job_filter(**({"states": (), "labels": (), "after_ms": None, "before_ms": None} | fields))


def test_the_same_filter_in_any_order_binds_the_same_tokens():
    one = _filter(states=[job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_CANCELLED], labels=["a", "b"])
    other = _filter(states=[job_pb2.JOB_STATE_CANCELLED, job_pb2.JOB_STATE_FAILED], labels=["b", "a"])
    assert one.fingerprint() == other.fingerprint() != _filter().fingerprint()
    assert _filter(after_ms=1).fingerprint() != _filter(before_ms=1).fingerprint()


def test_ids_outside_the_time_window_are_not_read():
    job_id = new_job_id()
    created = id_time_ms(job_id)
    assert created is not None
    assert _filter(after_ms=created).may_hold(job_id)
    assert not _filter(after_ms=created + 3_600_000).may_hold(job_id)
    assert not _filter(before_ms=created).may_hold(job_id) and _filter(before_ms=created + 1).may_hold(job_id)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"states": [job_pb2.JOB_STATE_FAILED] * 7}, "TOO_MANY_STATES"),
        ({"states": [0]}, "INVALID_JOB_STATE"),
        ({"states": [99]}, "INVALID_JOB_STATE"),
        ({"labels": [f"l{i}" for i in range(33)]}, "TOO_MANY_LABELS"),
        ({"labels": ["x" * 65]}, "LABEL_TOO_LONG"),
        ({"after_ms": 5, "before_ms": 5}, "INVALID_TIME_RANGE"),
    ],
)
def test_filters_past_the_limits_are_refused_with_a_reason(fields, reason):
    with pytest.raises(InvalidArgument) as refused:
        _filter(**fields)
    assert refused.value.reason == reason


def test_cli_options_become_the_request():
    args = build_parser().parse_args(["jobs", "list", "--state", "failed", "--label", "x", "--since", "1h"])
    request = jobs_cmd.list_request(args, "")
    assert list(request.states) == [job_pb2.JOB_STATE_FAILED] and list(request.labels) == ["x"]
    assert request.HasField("create_time_after") and not request.HasField("create_time_before")
    assert jobs_cmd.duration_seconds("90s") == 90 and jobs_cmd.duration_seconds("7d") == 7 * 86400
    with pytest.raises(argparse.ArgumentTypeError):
        jobs_cmd.duration_seconds("soon")


async def test_retention_zero_keeps_every_job_and_sweeps_are_bounded():
    await asyncio.wait_for(run_retention(None, 0, asyncio.Event()), timeout=1)  # type: ignore[arg-type]
    assert sweep_interval(2) == 1 and sweep_interval(30 * 86400) == 600 and sweep_interval(400) == 100
