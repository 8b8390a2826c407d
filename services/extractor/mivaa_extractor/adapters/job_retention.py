"""Retention of job records: finished jobs older than EXTRACTOR_JOB_RETENTION_SECONDS are removed.

A sweep in the API role (JobStore.expire over every tenant) runs a few times per retention
period, at most every 10 minutes; any number of API replicas may sweep at once (removing a
removed record is a no-op). A sweep that fails (NATS away) is logged and tried again at the next
interval. Per-message TTLs in the KV bucket would need the TTL set on the write that finishes a
job and would not count what expires; a sweep does both and never touches a running job.
Batches go with their jobs: one whose every job finished longer ago than the retention (or is
gone) and that no upload joined since is removed in the same sweep (BatchStore.expire).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import Counter

from mivaa_extractor.adapters.batch_store import BatchStore
from mivaa_extractor.adapters.job_store import JobStore
from mivaa_platform.tenancy import ALL_TENANTS, TenantScope

log = logging.getLogger("mivaa.extractor.jobs")

JOBS_EXPIRED = Counter("mivaa_extractor_jobs_expired_total", "Finished job records removed by retention.")
BATCHES_EXPIRED = Counter("mivaa_extractor_batches_expired_total", "Finished batches removed by retention.")
_MAX_SWEEP_INTERVAL_SECONDS = 600.0
_MIN_SWEEP_INTERVAL_SECONDS = 1.0


def sweep_interval(retention_seconds: float) -> float:
    """A quarter of the retention, between 1 s and 10 minutes."""
    return min(max(retention_seconds / 4, _MIN_SWEEP_INTERVAL_SECONDS), _MAX_SWEEP_INTERVAL_SECONDS)


async def sweep_once(
    jobs: JobStore, retention_seconds: float, *, tenant: TenantScope = ALL_TENANTS, now: float | None = None
) -> int:
    """One sweep (every tenant's jobs unless a test narrows it); how many jobs it removed."""
    removed = await jobs.expire(retention_seconds, tenant=tenant, now=now)
    JOBS_EXPIRED.inc(removed)
    if removed:
        log.info("expired finished jobs", extra={"fields": {"jobs": removed}})
    return removed


async def sweep_batches(batches: BatchStore, retention_seconds: float, *, now: float | None = None) -> int:
    """One sweep of every tenant's batches (each tenant's own keys); how many it removed."""
    removed = 0
    for tenant in await batches.tenants():
        removed += await batches.expire(retention_seconds, tenant=tenant, now=now)
    BATCHES_EXPIRED.inc(removed)
    return removed


async def run_retention(
    jobs: JobStore, retention_seconds: float, stop: asyncio.Event, batches: BatchStore | None = None
) -> None:
    """Sweeps until `stop` is set; retention 0 keeps every job and returns at once."""
    if retention_seconds <= 0:
        return
    interval = sweep_interval(retention_seconds)
    while not stop.is_set():
        try:
            await sweep_once(jobs, retention_seconds)
            if batches is not None:
                await sweep_batches(batches, retention_seconds)
        except Exception:
            log.warning("job retention sweep failed; trying again later", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
