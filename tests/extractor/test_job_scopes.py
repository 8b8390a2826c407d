"""The job store names a tenant scope on every call: one tenant's, or ALL_TENANTS said out loud."""

from __future__ import annotations

import uuid

import nats
import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.adapters.job_store import JobStore
from mivaa_extractor.job_filter import new_job_filter
from mivaa_extractor.jobs import new_job_id
from mivaa_platform.errors import InvalidArgument, NotFound
from mivaa_platform.tenancy import ALL_TENANTS


async def test_each_call_sees_only_its_scope(mesh):
    nc = await nats.connect(**mesh.nats_settings().connect_options())
    jobs = JobStore(nc.jetstream())
    acme, globex = f"acme-{uuid.uuid4().hex[:8]}", f"globex-{uuid.uuid4().hex[:8]}"
    made = {}
    try:
        for tenant in (acme, acme, acme, globex, ""):  # "" is a record written before tenancy
            job = job_pb2.Job(name=f"jobs/{new_job_id()}", document="documents/x", tenant=tenant)
            made.setdefault(tenant, []).append((await jobs.create(job)).name)

        listed = [job.name for job in (await jobs.list(0, "", tenant=acme))[0]]
        assert listed == sorted(made[acme], reverse=True)  # newest first, only acme's
        first, token = await jobs.list(2, "", tenant=acme)
        rest, end = await jobs.list(2, token, tenant=acme)
        assert [j.name for j in first + rest] == listed and end == ""
        with pytest.raises(InvalidArgument) as err:  # a token works only in the scope it was issued in
            await jobs.list(2, token, tenant=globex)
        assert err.value.reason == "INVALID_PAGE_TOKEN"

        acme_job, globex_job, old_job = made[acme][0], made[globex][0], made[""][0]
        for call in (
            lambda: jobs.get(globex_job, tenant=acme),
            lambda: jobs.cancel(globex_job, tenant=acme),
            lambda: jobs.update(globex_job, lambda job: None, tenant=acme),
            lambda: jobs.delete(globex_job, tenant=acme),
        ):
            with pytest.raises(NotFound) as err:
                await call()
            assert err.value.reason == "JOB_NOT_FOUND"
        assert (await jobs.get(globex_job, tenant=ALL_TENANTS)).tenant == globex
        assert (await jobs.get(old_job, tenant="default")).name == old_job  # read as the default tenant's
        everyone = {job.name for job in (await jobs.list(500, "", tenant=ALL_TENANTS))[0]}
        assert {acme_job, globex_job, old_job} <= everyone
        with pytest.raises(TypeError):  # forgetting the tenant is an error, not a read of every tenant
            await jobs.get(acme_job)
    finally:
        for names in made.values():
            for name in names:
                await jobs.delete(name, tenant=ALL_TENANTS)
        await nc.close()


def _states(states: list[int]):
    return new_job_filter(states=states, labels=(), after_ms=None, before_ms=None)


async def test_a_listing_keeps_only_the_states_asked_for(mesh):
    nc = await nats.connect(**mesh.nats_settings().connect_options())
    jobs = JobStore(nc.jetstream())
    tenant = f"states-{uuid.uuid4().hex[:8]}"
    names: dict[int, list[str]] = {}
    try:
        for state in (job_pb2.JOB_STATE_QUEUED, job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_QUEUED):
            job = job_pb2.Job(name=f"jobs/{new_job_id()}", document="documents/x", tenant=tenant, state=state)
            names.setdefault(state, []).append((await jobs.create(job)).name)

        queued = [
            job.name for job in (await jobs.list(0, "", tenant=tenant, where=_states([job_pb2.JOB_STATE_QUEUED])))[0]
        ]
        assert queued == sorted(names[job_pb2.JOB_STATE_QUEUED], reverse=True)
        both = (
            await jobs.list(0, "", tenant=tenant, where=_states([job_pb2.JOB_STATE_QUEUED, job_pb2.JOB_STATE_FAILED]))
        )[0]
        assert len(both) == 3
        first, token = await jobs.list(1, "", tenant=tenant, where=_states([job_pb2.JOB_STATE_QUEUED]))
        rest, _ = await jobs.list(1, token, tenant=tenant, where=_states([job_pb2.JOB_STATE_QUEUED]))
        assert [j.name for j in first + rest] == queued
        with pytest.raises(InvalidArgument) as err:  # a token is tied to the states it was issued for
            await jobs.list(1, token, tenant=tenant)
        assert err.value.reason == "INVALID_PAGE_TOKEN"
        for bad in (job_pb2.JOB_STATE_UNSPECIFIED, 99):
            with pytest.raises(InvalidArgument) as err:
                _states([bad])
            assert err.value.reason == "INVALID_JOB_STATE"
    finally:
        for made in names.values():
            for name in made:
                await jobs.delete(name, tenant=ALL_TENANTS)
        await nc.close()
