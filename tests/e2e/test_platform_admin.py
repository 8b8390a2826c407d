"""Platform admins through Envoy: statistics, usage and retries across tenants, refused to everyone else.

The gateway tells the services which scopes the verified token holds (x-mivaa-scopes, stripped
from what a client sends); only a token with platform-admin may ask AdminService for all tenants.
"""

from __future__ import annotations

import asyncio

import grpc

from mivaa.admin.v1 import admin_service_pb2 as admin_pb
from mivaa.jobs.v1 import job_pb2
from tests.e2e.test_admin_api import caller, expect_error, inject_failure, stopped, unique
from tests.e2e.test_operations import mivaa
from tests.support.pdfs import make_pdf

DENIED, REASON = grpc.StatusCode.PERMISSION_DENIED, "PLATFORM_ADMIN_REQUIRED"
NOT_FOUND = grpc.StatusCode.NOT_FOUND
FORGED = (("x-mivaa-scopes", "platform-admin"),)
ALL_STATS = admin_pb.GetJobStatisticsRequest(all_tenants=True)
ALL_USAGE = admin_pb.GetUsageRequest(all_tenants=True)


async def every_tenants_usage(client, page_size: int) -> dict[str, admin_pb.GetUsageResponse]:
    """Every page of the usage listing, by tenant (each page at most page_size tenants)."""
    found: dict[str, admin_pb.GetUsageResponse] = {}
    request = admin_pb.GetUsageRequest(all_tenants=True, page_size=page_size)
    while True:
        response = await client.admin.GetUsage(request, timeout=60)
        assert 0 < len(response.tenants) <= page_size and not response.tenant, response
        for usage in response.tenants:
            assert usage.tenant not in found, "a tenant on two pages"
            found[usage.tenant] = usage
        if not response.next_page_token:
            return found
        request.page_token = response.next_page_token


async def test_only_a_platform_admin_sees_every_tenants_jobs_and_usage(mesh):
    acme, globex = unique("pa-acme"), unique("pa-globex")
    async with (
        caller(mesh, acme, ("read", "write", "admin")) as tenant_admin,
        caller(mesh, globex, ("read", "write")) as other,
        caller(mesh, unique("ops"), ("admin", "platform-admin")) as platform,
    ):
        uploads = [await tenant_admin.upload_bytes(make_pdf("acme only", 1), "acme.pdf")]
        for n in range(2):
            uploads.append(await other.upload_bytes(make_pdf(f"globex {n}", 1), f"globex-{n}.pdf"))
        for client, upload in zip((tenant_admin, other, other), uploads, strict=True):
            final = await asyncio.wait_for(client.wait_for_job(upload.job.name, timeout=300), 300)
            assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final

        # A tenant's admin asking for all tenants is refused, even with a forged scopes header.
        for metadata in ((), FORGED):
            await expect_error(tenant_admin.admin.GetJobStatistics(ALL_STATS, metadata=metadata), DENIED, REASON)
            await expect_error(tenant_admin.admin.GetUsage(ALL_USAGE, metadata=metadata), DENIED, REASON)
        own = await tenant_admin.admin.GetJobStatistics(admin_pb.GetJobStatisticsRequest(), timeout=30)
        assert own.total_jobs == 1 and not own.tenants

        stats = await platform.admin.GetJobStatistics(ALL_STATS, timeout=60)
        per_tenant = {t.tenant: t.count for t in stats.tenants}
        assert (per_tenant[acme], per_tenant[globex]) == (1, 2), per_tenant
        assert stats.total_jobs == sum(per_tenant.values()) >= 3
        # Without all_tenants a platform admin sees its own tenant, like any admin.
        assert (await platform.admin.GetJobStatistics(admin_pb.GetJobStatisticsRequest(), timeout=30)).total_jobs == 0

        usage = await every_tenants_usage(platform, page_size=1)
        assert (usage[acme].documents, usage[acme].pages, usage[acme].jobs) == (1, 1, 1)
        assert usage[acme].original_bytes == uploads[0].document.size_bytes
        assert (usage[globex].documents, usage[globex].pages, usage[globex].jobs) == (2, 2, 2)
        assert usage.keys() == (await every_tenants_usage(platform, page_size=100)).keys()
        await expect_error(
            platform.admin.GetUsage(admin_pb.GetUsageRequest(all_tenants=True, page_token="forged"), timeout=30),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_PAGE_TOKEN",
        )


async def test_a_platform_admin_retries_every_tenants_failed_jobs_each_for_its_tenant(mesh):
    tenants = [unique("pa-retry"), unique("pa-retry")]
    reason = f"FAULT_{unique('x').replace('-', '_').upper()}"  # this test's failures only
    async with (
        caller(mesh, tenants[0], ("read", "write", "admin")) as first,
        caller(mesh, tenants[1], ("read", "write")) as second,
        caller(mesh, unique("ops"), ("admin", "platform-admin")) as platform,
    ):
        clients = (first, second)
        with stopped(mesh, "worker-0"):
            jobs = []
            for tenant, client in zip(tenants, clients, strict=True):
                tag = unique("retry").replace("-", "")
                job = (await client.upload_bytes(make_pdf(tag, 1), f"{tag}.pdf")).job.name
                await inject_failure(mesh, job, tenant, reason)
                jobs.append(job)
            everyone = admin_pb.BatchRetryJobsRequest(reason=reason, all_tenants=True)
            await expect_error(first.admin.BatchRetryJobs(everyone, timeout=30), DENIED, REASON)
            batch = await platform.admin.BatchRetryJobs(everyone, timeout=60)
            assert (sorted(batch.retried_jobs), batch.failures, batch.more) == (sorted(jobs), [], False), batch
        for client, job in zip(clients, jobs, strict=True):
            final = await asyncio.wait_for(client.wait_for_job(job, timeout=300), 300)
            assert (final.state, final.retry_count) == (job_pb2.JOB_STATE_SUCCEEDED, 1), final


async def test_a_platform_admin_retries_one_job_of_another_tenant_by_naming_the_tenant(mesh):
    owner_tenant, other_tenant = unique("pa-one"), unique("pa-one")
    other_token = mesh.token(tenant=other_tenant, subject="one-admin", scopes=("admin",))
    platform_token = mesh.token(tenant=unique("pa-ops"), subject="one-ops", scopes=("admin", "platform-admin"))
    async with (
        caller(mesh, owner_tenant, ("read", "write", "admin")) as owner,
        caller(mesh, other_tenant, ("admin",)) as other_admin,
        caller(mesh, unique("ops"), ("admin", "platform-admin")) as platform,
    ):

        def retry(name: str, tenant: str = "") -> admin_pb.RetryJobRequest:
            return admin_pb.RetryJobRequest(name=name, tenant=tenant)

        with stopped(mesh, "worker-0"):
            tag = unique("one").replace("-", "")
            job = (await owner.upload_bytes(make_pdf(tag, 1), f"{tag}.pdf")).job.name
            await inject_failure(mesh, job, owner_tenant, "ONE_JOB_FAULT")
            for metadata in ((), FORGED):
                # Another tenant's admin naming the owner is refused, a forged scopes header changing nothing;
                # without naming it the job is not found, as before.
                await expect_error(
                    other_admin.admin.RetryJob(retry(job, owner_tenant), metadata=metadata, timeout=30), DENIED, REASON
                )
                await expect_error(
                    other_admin.admin.RetryJob(retry(job), metadata=metadata, timeout=30), NOT_FOUND, "JOB_NOT_FOUND"
                )
            # A platform admin finds it only in the tenant that owns it.
            await expect_error(platform.admin.RetryJob(retry(job), timeout=30), NOT_FOUND, "JOB_NOT_FOUND")
            await expect_error(
                platform.admin.RetryJob(retry(job, other_tenant), timeout=30), NOT_FOUND, "JOB_NOT_FOUND"
            )
            await expect_error(
                platform.admin.RetryJob(retry(job, "not a tenant"), timeout=30),
                grpc.StatusCode.INVALID_ARGUMENT,
                "INVALID_TENANT",
            )
            refused = await asyncio.to_thread(
                mivaa, mesh, "admin", "retry", job, "--tenant", owner_tenant, token=other_token, timeout=60
            )
            assert refused.returncode == 1 and "PERMISSION_DENIED PLATFORM_ADMIN_REQUIRED" in refused.stderr, refused
            retried = await asyncio.to_thread(
                mivaa, mesh, "admin", "retry", job, "--tenant", owner_tenant, token=platform_token, timeout=60
            )
            assert retried.returncode == 0 and f"{job} queued again (retry 1)" in retried.stdout, retried
            # Naming one's own tenant is allowed to anyone: the job is found, and is queued now.
            await expect_error(
                owner.admin.RetryJob(retry(job, owner_tenant), timeout=30),
                grpc.StatusCode.FAILED_PRECONDITION,
                "JOB_NOT_RETRYABLE",
            )
        final = await asyncio.wait_for(owner.wait_for_job(job, timeout=300), 300)
        assert (final.state, final.retry_count) == (job_pb2.JOB_STATE_SUCCEEDED, 1), final


def test_the_cli_shows_every_tenant_to_a_platform_admin_only(mesh):
    tenant = unique("pa-cli")
    admin_token = mesh.token(tenant=tenant, subject="cli-admin", scopes=("admin",))
    platform_token = mesh.token(tenant=unique("pa-ops"), subject="cli-ops", scopes=("admin", "platform-admin"))
    assert mivaa(mesh, "admin", "usage", token=admin_token, timeout=60).returncode == 0  # a job-less tenant
    for action in (("stats",), ("usage",), ("retry", "--failed")):
        refused = mivaa(mesh, "admin", *action, "--all-tenants", token=admin_token, timeout=60)
        assert refused.returncode == 1 and "PERMISSION_DENIED PLATFORM_ADMIN_REQUIRED" in refused.stderr, refused
    stats = mivaa(mesh, "admin", "stats", "--all-tenants", token=platform_token, timeout=60)
    assert stats.returncode == 0 and "jobs created from" in stats.stdout, stats.stderr
    usage = mivaa(mesh, "admin", "usage", "--all-tenants", token=platform_token, timeout=60)
    assert usage.returncode == 0 and usage.stdout.startswith("tenant "), usage.stderr
