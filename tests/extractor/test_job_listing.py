"""Job records per tenant in the KV bucket: listing reads one tenant's keys, filters, retention, old keys.

Against the mesh's real NATS (the job store in-process, as the API uses it) and through the
gateway (ListJobs with filters, as a tenant).
"""

from __future__ import annotations

import time
import uuid

import grpc
import nats
import pytest
from google.protobuf import timestamp_pb2

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.adapters.job_keys import scope_filters
from mivaa_extractor.adapters.job_retention import JOBS_EXPIRED, sweep_once
from mivaa_extractor.adapters.job_store import JobStore
from mivaa_extractor.job_filter import new_job_filter
from mivaa_extractor.jobs import new_job_id
from mivaa_platform.errors import InvalidArgument, NotFound
from mivaa_platform.grpc_errors import error_reason
from mivaa_platform.kv_keys import live_keys
from mivaa_platform.messaging import JOBS_BUCKET
from mivaa_platform.tenancy import ALL_TENANTS
from tests.support.pdfs import make_pdf
from tests.support.tenants import as_tenant

FAILED, RUNNING, SUCCEEDED = job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_RUNNING, job_pb2.JOB_STATE_SUCCEEDED


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def store(mesh):
    """The job store as the API role has it: the extractor's own NATS user and permissions (bus_access)."""
    nc = await nats.connect(**mesh.nats_settings("extractor").connect_options())
    try:
        yield nc.jetstream(), JobStore(nc.jetstream())
    finally:
        await nc.close()


async def _make(jobs: JobStore, tenant: str, state: int, labels=()) -> str:
    job = job_pb2.Job(name=f"jobs/{new_job_id()}", document="documents/x", tenant=tenant, state=state)
    job.labels.extend(labels)
    return (await jobs.create(job)).name


async def test_a_tenant_listing_reads_only_its_own_keys(store):
    js, jobs = store
    dotted, other = unique("acme.eu"), unique("globex")
    mine = [await _make(jobs, dotted, SUCCEEDED) for _ in range(3)]
    theirs = await _make(jobs, other, SUCCEEDED)
    keys = await live_keys(js, scope_filters(dotted)[0], bucket=JOBS_BUCKET)
    # The tenant written as in event subjects ('.' is %2E): one subtree, nothing of another tenant.
    assert sorted(keys) == sorted(f"{dotted.replace('.', '%2E')}.{name.removeprefix('jobs/')}" for name in mine)
    assert [j.name for j in (await jobs.list(0, "", tenant=dotted))[0]] == sorted(mine, reverse=True)
    assert (await jobs.list(0, "", tenant=other))[0][0].name == theirs
    with pytest.raises(NotFound):
        await jobs.get(theirs, tenant=dotted)
    assert (await jobs.get(theirs, tenant=ALL_TENANTS)).tenant == other  # one wildcard get, no listing


async def test_filters_and_pages_bound_to_them(store):
    _, jobs = store
    tenant = unique("filters")
    failed_x = [await _make(jobs, tenant, FAILED, ["x", "y"]) for _ in range(3)]
    await _make(jobs, tenant, FAILED, ["y"])
    await _make(jobs, tenant, SUCCEEDED, ["x"])
    running = await _make(jobs, tenant, RUNNING)

    def where(**kwargs):
        fields = {"states": (), "labels": (), "after_ms": None, "before_ms": None} | kwargs
        return new_job_filter(**fields)

    failed_with_x = where(states=[FAILED], labels=["x"])
    first, token = await jobs.list(2, "", tenant=tenant, where=failed_with_x)
    rest, end = await jobs.list(2, token, tenant=tenant, where=failed_with_x)
    assert [j.name for j in first + rest] == sorted(failed_x, reverse=True) and end == ""
    with pytest.raises(InvalidArgument) as reused:  # the token of another filter
        await jobs.list(2, token, tenant=tenant, where=where(states=[FAILED]))
    assert reused.value.reason == "INVALID_PAGE_TOKEN"
    listed = await jobs.list(0, "", tenant=tenant, where=where(states=[RUNNING, job_pb2.JOB_STATE_QUEUED]))
    assert [j.name for j in listed[0]] == [running]
    now_ms = int(time.time() * 1000)
    assert len((await jobs.list(0, "", tenant=tenant, where=where(after_ms=now_ms - 60_000)))[0]) == 6
    assert (await jobs.list(0, "", tenant=tenant, where=where(after_ms=now_ms + 60_000)))[0] == []
    assert (await jobs.list(0, "", tenant=tenant, where=where(before_ms=now_ms - 60_000)))[0] == []


async def test_retention_removes_old_finished_jobs_never_running_ones(store):
    _, jobs = store
    tenant = unique("retention")
    finished = [await _make(jobs, tenant, state) for state in (SUCCEEDED, FAILED, job_pb2.JOB_STATE_CANCELLED)]
    running = await _make(jobs, tenant, RUNNING)
    assert await jobs.expire(3600, tenant=tenant) == 0  # none finished an hour ago yet
    counted = JOBS_EXPIRED._value.get()
    assert await sweep_once(jobs, 3600, tenant=tenant, now=time.time() + 7200) == 3  # two hours on
    assert JOBS_EXPIRED._value.get() == counted + 3
    for name in finished:
        with pytest.raises(NotFound):
            await jobs.get(name, tenant=tenant)
    assert [j.name for j in (await jobs.list(0, "", tenant=tenant))[0]] == [running]
    assert (await jobs.get(running, tenant=tenant)).state == RUNNING


async def test_records_of_the_old_layout_stay_readable(store):
    """Records written before per-tenant keys sit under their bare id; every call still finds them."""
    js, jobs = store
    tenant = unique("legacy")
    kv = await js.key_value(JOBS_BUCKET)
    old = []
    for state in (RUNNING, SUCCEEDED):
        job_id = new_job_id()
        record = job_pb2.Job(name=f"jobs/{job_id}", document="documents/x", tenant=tenant, state=state)
        record.create_time.GetCurrentTime()
        record.update_time.CopyFrom(record.create_time)
        await kv.create(job_id, record.SerializeToString())
        old.append(record.name)
    new = await _make(jobs, tenant, RUNNING)
    # Ids made in one millisecond order by their random part: newest first is id order.
    assert [j.name for j in (await jobs.list(0, "", tenant=tenant))[0]] == sorted([new, *old], reverse=True)
    assert (await jobs.list(0, "", tenant=unique("other")))[0] == []
    assert (await jobs.get(old[0], tenant=tenant)).state == RUNNING
    with pytest.raises(NotFound):
        await jobs.get(old[0], tenant=unique("other"))
    watch = jobs.watch(old[0], idle_timeout=10, tenant=tenant)
    assert (await anext(watch)).job.name == old[0]
    cancelled = await jobs.cancel(old[0], tenant=tenant)
    assert cancelled.state == job_pb2.JOB_STATE_CANCELLED
    assert (await anext(watch)).job.state == job_pb2.JOB_STATE_CANCELLED
    await watch.aclose()
    assert await jobs.expire(3600, tenant=tenant, now=time.time() + 7200) == 2  # both old ones, now finished
    assert [j.name for j in (await jobs.list(0, "", tenant=tenant))[0]] == [new]


async def test_list_jobs_through_the_gateway(mesh, client):
    """Uploads carry their labels onto the job; a tenant lists its own with filters; bad filters are refused."""
    label = unique("joblabel")
    async with as_tenant(mesh, client, unique("lister")) as a, as_tenant(mesh, client, unique("other")) as b:
        response = await a.upload(make_pdf(label, 1), "jobs.pdf", labels=[label])
        events = await a.watch(response.job.name)
        assert events[-1].state == SUCCEEDED and list(events[-1].labels) == [label]

        async def listed(caller, **fields) -> list[str]:
            request = extractor_pb.ListJobsRequest(**fields)
            return [
                j.name for j in (await caller.extractor.ListJobs(request, timeout=30, metadata=caller.metadata)).jobs
            ]

        since = timestamp_pb2.Timestamp(seconds=int(time.time()) - 3600)
        assert await listed(a, states=[SUCCEEDED], labels=[label], create_time_after=since) == [response.job.name]
        assert await listed(a, states=[FAILED]) == []
        assert await listed(b) == []  # another tenant never sees it
        assert await listed(b, labels=[label]) == []

        failures = {
            "TOO_MANY_STATES": {"states": [SUCCEEDED] * 7},
            "INVALID_JOB_STATE": {"states": [job_pb2.JOB_STATE_UNSPECIFIED]},
            "TOO_MANY_LABELS": {"labels": [f"l{i}" for i in range(33)]},
            "INVALID_TIME_RANGE": {"create_time_after": since, "create_time_before": since},
        }
        for reason, fields in failures.items():
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await listed(a, **fields)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert error_reason(refused.value) == reason
