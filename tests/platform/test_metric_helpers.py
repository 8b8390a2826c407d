"""The shared metric helpers: a tenant label of bounded cardinality, volume and pool gauges, and the
pipeline's job-state and stage-time metrics."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, generate_latest

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor import metrics as pipeline
from mivaa_platform.metrics import OTHER_TENANTS, TenantLabel, _PoolCollector, _VolumeCollector


def test_tenant_label_keeps_the_first_tenants_and_folds_the_rest():
    label = TenantLabel(limit=3)
    assert [label(t) for t in ("a", "b", "c", "d", "e", "a")] == ["a", "b", "c", OTHER_TENANTS, OTHER_TENANTS, "a"]


def test_tenant_label_stays_bounded_under_concurrent_callers():
    label = TenantLabel(limit=10)
    seen: set[str] = set()

    def call(start: int) -> None:
        for n in range(start, start + 200):
            seen.add(label(f"tenant-{n}"))

    threads = [threading.Thread(target=call, args=(k * 1000,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen - {OTHER_TENANTS}) == 10


def _text(collector) -> str:
    registry = CollectorRegistry()
    registry.register(collector)
    return generate_latest(registry).decode()


def test_volume_gauges_report_the_real_filesystem_and_skip_a_missing_folder(tmp_path):
    text = _text(_VolumeCollector("extractor", {"scratch": str(tmp_path), "gone": str(tmp_path / "missing")}))
    assert 'mivaa_volume_avail_bytes{service="extractor",volume="scratch"}' in text
    assert 'mivaa_volume_size_bytes{service="extractor",volume="scratch"}' in text
    assert 'volume="gone"' not in text


def test_pool_gauges_follow_the_pool_stats():
    stats = {"pool_size": 4, "pool_available": 1, "pool_max": 10, "requests_waiting": 2}
    text = _text(_PoolCollector("search", lambda: stats))
    for state, value in (("size", 4), ("available", 1), ("max", 10), ("waiting", 2)):
        assert f'mivaa_db_pool_connections{{service="search",state="{state}"}} {float(value)}' in text


def _count(state: str) -> float:
    return pipeline.JOBS.labels(state)._value.get()


def test_a_job_is_counted_once_per_state_it_enters_and_its_stage_times_when_it_ends():
    job = job_pb2.Job(state=job_pb2.JOB_STATE_RUNNING)
    before_running, before_succeeded = _count("running"), _count("succeeded")
    extracting = pipeline.STAGE_SECONDS.labels("extracting")
    observed = extracting._sum.get()
    pipeline.job_changed(job_pb2.JOB_STATE_QUEUED, job)
    pipeline.job_changed(job_pb2.JOB_STATE_RUNNING, job)  # progress in the same state: not a new state
    assert _count("running") == before_running + 1
    assert extracting._sum.get() == observed  # not finished yet
    job.state = job_pb2.JOB_STATE_SUCCEEDED
    job.stage_timings.add(stage=job_pb2.JOB_STAGE_EXTRACTING, seconds=2.5)
    pipeline.job_changed(job_pb2.JOB_STATE_RUNNING, job)
    assert _count("succeeded") == before_succeeded + 1
    assert extracting._sum.get() == observed + 2.5
