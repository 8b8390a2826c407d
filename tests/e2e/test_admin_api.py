"""AdminService through Envoy: admin scope only, one tenant's data, retries that run again, health.

A job failure is injected by writing FAILED into the job's record with the extractor's own NATS
user while the worker is stopped (the worker would otherwise finish the job first); everything
after that (the retry, the queue, the worker running it again) is the real mesh.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import grpc
import nats
import pytest
from google.protobuf import timestamp_pb2

from mivaa.admin.v1 import admin_service_pb2 as admin_pb
from mivaa.jobs.v1 import job_pb2
from mivaa_cli.client import MeshClient
from mivaa_extractor.adapters.job_store import JobStore
from mivaa_platform.grpc_errors import error_reason
from tests.e2e.test_operations import mivaa
from tests.support.pdfs import make_pdf

ADMIN_RPCS = {
    "GetJobStatistics": admin_pb.GetJobStatisticsRequest(),
    "RetryJob": admin_pb.RetryJobRequest(name="jobs/0000000000000000"),
    "BatchRetryJobs": admin_pb.BatchRetryJobsRequest(),
    "GetQueueStatus": admin_pb.GetQueueStatusRequest(),
    "GetSystemHealth": admin_pb.GetSystemHealthRequest(),
    "GetUsage": admin_pb.GetUsageRequest(),
}
UP, DOWN = admin_pb.HEALTH_STATUS_UP, admin_pb.HEALTH_STATUS_DOWN
FAILED, QUEUED = job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_QUEUED


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@contextlib.asynccontextmanager
async def caller(mesh, tenant: str, scopes: tuple[str, ...]) -> AsyncIterator[MeshClient]:
    token = mesh.token(tenant=tenant, subject=f"{tenant}-{'-'.join(scopes)}", scopes=scopes)
    async with MeshClient(mesh.gateway_address, token=token, ca=mesh.ca_path.read_bytes()) as client:
        yield client


async def expect_error(call, code: grpc.StatusCode, reason: str = "") -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    assert failure.value.code() == code, failure.value
    if reason:
        assert error_reason(failure.value) == reason, failure.value


@contextlib.contextmanager
def stopped(mesh, name: str):
    """`name` stopped for the block, started again after it (on its own ports)."""
    mesh.processes[name].stop()
    try:
        yield
    finally:
        mesh.restart_process(name)


async def inject_failure(mesh, job: str, tenant: str, reason: str) -> None:
    """The job FAILED with `reason`, as a worker records a failure (the extractor's NATS user)."""
    nc = await nats.connect(**mesh.nats_settings("extractor").connect_options())
    try:

        def fail(record: job_pb2.Job) -> None:
            record.state, record.stage = FAILED, job_pb2.JOB_STAGE_DONE
            record.error.CopyFrom(job_pb2.JobError(reason=reason, message="Injected by the test."))
            record.stage_timings.add(stage=job_pb2.JOB_STAGE_EXTRACTING, seconds=0.5)

        await JobStore(nc.jetstream()).update(job, fail, tenant=tenant)
    finally:
        await nc.close()


async def test_admin_rpcs_need_the_admin_scope(mesh):
    tenant = unique("scopes")
    for scopes in (("read",), ("write",), ("read", "write")):
        async with caller(mesh, tenant, scopes) as client:
            for method, request in ADMIN_RPCS.items():
                await expect_error(
                    getattr(client.admin, method)(request, timeout=30), grpc.StatusCode.PERMISSION_DENIED
                )
    async with caller(mesh, tenant, ("admin",)) as admin:
        assert (await admin.admin.GetUsage(admin_pb.GetUsageRequest(), timeout=30)).tenant == tenant
        assert (await admin.admin.GetJobStatistics(admin_pb.GetJobStatisticsRequest(), timeout=30)).total_jobs == 0
        await expect_error(
            admin.admin.RetryJob(ADMIN_RPCS["RetryJob"], timeout=30), grpc.StatusCode.NOT_FOUND, "JOB_NOT_FOUND"
        )


async def test_bad_admin_inputs_are_refused_with_reasons(mesh):
    async with caller(mesh, unique("bad"), ("admin",)) as admin:
        now = int(time.time())
        too_long = admin_pb.GetJobStatisticsRequest(
            start_time=timestamp_pb2.Timestamp(seconds=now - 91 * 86400), end_time=timestamp_pb2.Timestamp(seconds=now)
        )
        backwards = admin_pb.GetJobStatisticsRequest(
            start_time=timestamp_pb2.Timestamp(seconds=now), end_time=timestamp_pb2.Timestamp(seconds=now - 60)
        )
        bad = grpc.StatusCode.INVALID_ARGUMENT
        for request in (too_long, backwards):
            await expect_error(admin.admin.GetJobStatistics(request, timeout=30), bad, "INVALID_TIME_WINDOW")
        for request, reason in (
            (admin_pb.BatchRetryJobsRequest(max_jobs=1000), "INVALID_MAX_JOBS"),
            (admin_pb.BatchRetryJobsRequest(reason="not a reason"), "INVALID_REASON"),
            (
                admin_pb.BatchRetryJobsRequest(
                    create_time_after=timestamp_pb2.Timestamp(seconds=now),
                    create_time_before=timestamp_pb2.Timestamp(seconds=now - 1),
                ),
                "INVALID_TIME_RANGE",
            ),
        ):
            await expect_error(admin.admin.BatchRetryJobs(request, timeout=30), bad, reason)
        await expect_error(admin.admin.RetryJob(admin_pb.RetryJobRequest(name="not-a-job"), timeout=30), bad)


async def test_failed_jobs_are_counted_retried_and_run_again_for_their_tenant_only(mesh):
    tenant, other = unique("acme"), unique("globex")
    async with caller(mesh, tenant, ("admin",)) as admin, caller(mesh, other, ("admin",)) as outsider:
        with stopped(mesh, "worker-0"):
            tags = [unique("retry").replace("-", "") for _ in range(3)]
            uploads = [await admin.upload_bytes(make_pdf(tag, 2), f"{tag}.pdf") for tag in tags]
            jobs = [upload.job.name for upload in uploads]
            await asyncio.sleep(1.1)
            queues = (await admin.admin.GetQueueStatus(admin_pb.GetQueueStatusRequest(), timeout=30)).queues
            assert [(q.stream, q.consumer) for q in queues] == [
                ("MIVAA_WORK", "extractors"),
                ("MIVAA_WORK", "page-ranges"),
            ]
            queue, ranges = queues
            assert queue.pending >= 3 and queue.oldest_pending_age.ToTimedelta().total_seconds() >= 1.0, queue
            # The documents' tasks are not counted as page ranges waiting (one stream, two subjects).
            assert ranges.pending == ranges.stream_messages == 0 and not ranges.oldest_pending_age.seconds, ranges

            await inject_failure(mesh, jobs[0], tenant, "INJECTED_FAULT")
            await inject_failure(mesh, jobs[1], tenant, "OTHER_FAULT")
            stats = await admin.admin.GetJobStatistics(admin_pb.GetJobStatisticsRequest(), timeout=30)
            assert stats.total_jobs == 3
            assert {s.state: s.count for s in stats.states} == {FAILED: 2, QUEUED: 1}
            assert [(f.reason, f.count) for f in stats.failures] == [("INJECTED_FAULT", 1), ("OTHER_FAULT", 1)]
            [extracting] = [s for s in stats.stage_durations if s.stage == job_pb2.JOB_STAGE_EXTRACTING]
            assert (extracting.samples, extracting.p50_seconds, extracting.p95_seconds) == (2, 0.5, 0.5)
            # Another tenant's admin neither counts nor retries them.
            assert (
                await outsider.admin.GetJobStatistics(admin_pb.GetJobStatisticsRequest(), timeout=30)
            ).total_jobs == 0
            await expect_error(
                outsider.admin.RetryJob(admin_pb.RetryJobRequest(name=jobs[0]), timeout=30),
                grpc.StatusCode.NOT_FOUND,
                "JOB_NOT_FOUND",
            )
            batch = await outsider.admin.BatchRetryJobs(admin_pb.BatchRetryJobsRequest(), timeout=30)
            assert batch.retried_count == 0 and not batch.failures
            # A job that has not failed is not retried.
            await expect_error(
                admin.admin.RetryJob(admin_pb.RetryJobRequest(name=jobs[2]), timeout=30),
                grpc.StatusCode.FAILED_PRECONDITION,
                "JOB_NOT_RETRYABLE",
            )

            batch = await admin.admin.BatchRetryJobs(
                admin_pb.BatchRetryJobsRequest(reason="INJECTED_FAULT"), timeout=60
            )
            assert (batch.retried_count, list(batch.retried_jobs), batch.more) == (1, [jobs[0]], False)
            retried = (await admin.admin.RetryJob(admin_pb.RetryJobRequest(name=jobs[1]), timeout=60)).job
            assert (retried.state, retried.attempts, retried.retry_count) == (QUEUED, 0, 1)
            assert not retried.HasField("error") and not retried.stage_timings
            await expect_error(
                admin.admin.RetryJob(admin_pb.RetryJobRequest(name=jobs[1]), timeout=30),
                grpc.StatusCode.FAILED_PRECONDITION,
                "JOB_NOT_RETRYABLE",
            )
        # The worker is back: every job runs (again) to the end.
        for job in jobs:
            final = await asyncio.wait_for(admin.wait_for_job(job, timeout=300), 300)
            assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
            assert final.attempts >= 1 and final.retry_count == (1 if job != jobs[2] else 0)
        usage = await admin.admin.GetUsage(admin_pb.GetUsageRequest(), timeout=30)
        assert (usage.tenant, usage.documents, usage.pages, usage.jobs) == (tenant, 3, 6, 3)
        assert usage.original_bytes == sum(u.document.size_bytes for u in uploads)
        assert usage.chunks > 0 and usage.vectors >= usage.chunks
        foreign = await outsider.admin.GetUsage(admin_pb.GetUsageRequest(), timeout=30)
        assert (foreign.documents, foreign.chunks, foreign.jobs) == (0, 0, 0)


async def test_health_reports_every_component_and_a_stopped_service_as_down_quickly(mesh):
    async with caller(mesh, unique("ops"), ("admin",)) as admin:
        health = await admin.admin.GetSystemHealth(admin_pb.GetSystemHealthRequest(), timeout=30)
        components = {c.component: c for c in health.components}
        for name in ("extractor", "search", "embedder", "answer", "nats", "postgresql", "models", "disk"):
            assert components[name].status == UP, components[name]
            assert components[name].message
        assert components["ocr"].status == (UP if mesh.ocr else admin_pb.HEALTH_STATUS_NOT_CONFIGURED)
        assert "all-MiniLM" in components["models"].message or "dimensions" in components["models"].message
        assert health.status == UP
        with stopped(mesh, "answer"):
            started = time.monotonic()
            health = await admin.admin.GetSystemHealth(admin_pb.GetSystemHealthRequest(), timeout=30)
            took = time.monotonic() - started
            components = {c.component: c for c in health.components}
            assert components["answer"].status == DOWN and components["answer"].message
            assert components["search"].status == UP
            assert health.status == DOWN and took < 5.0, took


def test_the_admin_cli_speaks_plain_words(mesh):
    tenant = unique("cli")
    token = mesh.token(tenant=tenant, subject="cli-admin", scopes=("admin",))
    health = mivaa(mesh, "admin", "health", token=token, timeout=60)
    assert health.returncode == 0, health.stdout + health.stderr
    assert "overall: up" in health.stdout and "postgresql" in health.stdout and "Serving." in health.stdout
    queue = mivaa(mesh, "admin", "queue", token=token, timeout=60)
    assert "MIVAA_WORK/extractors:" in queue.stdout and "waiting" in queue.stdout, queue.stderr
    usage = mivaa(mesh, "admin", "usage", token=token, timeout=60)
    assert f"tenant {tenant}: 0 documents, 0 pages, 0 bytes of originals" in usage.stdout, usage.stderr
    stats = mivaa(mesh, "admin", "stats", "--since", "1d", token=token, timeout=60)
    assert stats.stdout.startswith("0 jobs created from"), stats.stderr
    assert mivaa(mesh, "admin", "jobs", token=token, timeout=60).stdout.strip() == "no failed jobs"
    bulk = mivaa(mesh, "admin", "retry", "--failed", token=token, timeout=60)
    assert bulk.stdout.startswith("retried 0 job(s)"), bulk.stderr
    refused = mivaa(mesh, "admin", "retry", "jobs/0000000000000000", token=token, timeout=60)
    assert refused.returncode == 1 and "NOT_FOUND JOB_NOT_FOUND" in refused.stderr
    reader = mivaa(mesh, "admin", "usage", token=mesh.token(tenant=tenant, scopes=("read",)), timeout=60)
    assert reader.returncode == 1 and "PERMISSION_DENIED" in reader.stderr
