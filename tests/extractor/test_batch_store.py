"""Batch records in their KV bucket, against the mesh's real NATS with the extractor's own user:
per-tenant keys, a watch that follows joins and job changes to DONE, and retention with the jobs."""

from __future__ import annotations

import asyncio
import time
import uuid

import nats
import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor import batches
from mivaa_extractor.adapters.batch_store import BatchStore
from mivaa_extractor.adapters.job_retention import BATCHES_EXPIRED, sweep_batches, sweep_once
from mivaa_extractor.adapters.job_store import JobStore
from mivaa_extractor.jobs import new_job_id
from mivaa_platform.errors import NotFound

SUCCEEDED, RUNNING = job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_RUNNING


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def stores(mesh):
    """The stores as the API role has them: the extractor's own NATS user and permissions (bus_access)."""
    nc = await nats.connect(**mesh.nats_settings("extractor").connect_options())
    try:
        jobs = JobStore(nc.jetstream())
        yield jobs, BatchStore(nc.jetstream(), jobs)
    finally:
        await nc.close()


async def new_batch(store: BatchStore, tenant: str, expected: int = 0) -> str:
    new = batches.new_batch_request(
        display_name="b", labels=[], expected_documents=expected, tenant=tenant, max_documents=10
    )
    return (await store.create(new)).name


async def join_new_job(jobs: JobStore, store: BatchStore, batch: str, tenant: str, state: int) -> str:
    job = await jobs.create(job_pb2.Job(name=f"jobs/{new_job_id()}", tenant=tenant, state=state, pages_total=2))
    job_id = job.name.removeprefix("jobs/")
    await store.change(batch, lambda record: batches.join(record, job_id), tenant=tenant)
    return job.name


def finish(job: job_pb2.Job) -> None:
    job.state, job.pages_done = SUCCEEDED, job.pages_total


async def test_a_watch_follows_joins_and_jobs_to_done_for_its_tenant_only(stores):
    jobs, store = stores
    tenant = unique("acme.eu")  # a '.' in the tenant: its key token is %2E
    batch = await new_batch(store, tenant, expected=2)
    with pytest.raises(NotFound):
        await store.get(batch, tenant=unique("globex"))
    seen: list[job_pb2.Batch] = []

    async def watch() -> None:
        async for update in store.watch(batch, tenant=tenant):
            seen.append(update)

    watching = asyncio.create_task(watch())
    first = await join_new_job(jobs, store, batch, tenant, RUNNING)
    await join_new_job(jobs, store, batch, tenant, SUCCEEDED)
    await jobs.update(first, finish, tenant=tenant)
    await asyncio.wait_for(watching, timeout=30)
    assert seen[0].state == job_pb2.BATCH_STATE_OPEN and seen[-1].state == job_pb2.BATCH_STATE_DONE
    progress = seen[-1].progress  # the second job was made finished with no page done
    assert (progress.documents_succeeded, progress.pages_done, progress.pages_total) == (2, 2, 4)
    assert [b.state for b in seen].count(job_pb2.BATCH_STATE_DONE) == 1
    listed, token = await store.list(0, "", tenant=tenant)
    assert [b.name for b in listed] == [batch] and token == ""


async def test_batches_expire_with_their_jobs(stores):
    jobs, store = stores
    tenant = unique("retention")
    finished = await new_batch(store, tenant)
    await join_new_job(jobs, store, finished, tenant, SUCCEEDED)
    running = await new_batch(store, tenant)
    await join_new_job(jobs, store, running, tenant, RUNNING)
    assert await store.expire(3600, tenant=tenant) == 0  # nothing is an hour old yet
    later = time.time() + 7200
    assert await sweep_once(jobs, 3600, tenant=tenant, now=later) == 1  # the finished job goes first
    counted = BATCHES_EXPIRED._value.get()
    assert await sweep_batches(store, 3600, now=later) >= 1  # every tenant's batches, this one's among them
    assert BATCHES_EXPIRED._value.get() >= counted + 1
    with pytest.raises(NotFound):
        await store.get(finished, tenant=tenant)
    assert (await store.get(running, tenant=tenant)).state == job_pb2.BATCH_STATE_RUNNING  # a running job keeps it
