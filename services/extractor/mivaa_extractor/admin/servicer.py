"""AdminService: translates between protos and the admin use cases, nothing more.

Every call concerns the caller's tenant (x-mivaa-tenant, set by the gateway from the token);
the gateway lets only the admin scope reach this service. A request with all_tenants spans every
tenant, and only a platform admin's (x-mivaa-scopes, also set by the gateway) may ask for it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import Protocol

import grpc
from google.protobuf import timestamp_pb2

from mivaa.admin.v1 import admin_service_pb2 as pb
from mivaa.admin.v1 import admin_service_pb2_grpc
from mivaa_extractor.admin.retry import JobRetrier, new_batch_filter
from mivaa_extractor.admin.statistics import MAX_JOBS_READ, JobStatistics, new_window
from mivaa_extractor.job_filter import JobFilter
from mivaa_extractor.jobs import DOMAIN, job_tenant
from mivaa_extractor.ports import JobRecords
from mivaa_platform.bus_errors import bus_errors
from mivaa_platform.pagination import PageSizes, decode_page_token, encode_page_token
from mivaa_platform.platform_admin import require_platform_admin
from mivaa_platform.tenancy import ALL_TENANTS, TenantScope, check_tenant, tenant_from_metadata

log = logging.getLogger("mivaa.extractor.admin")

_LIST_PAGE = 500
# Tenants per page of a platform admin's usage listing (each costs one call to search).
TENANT_PAGES = PageSizes(default=20, maximum=100)
_USAGE_TOKEN = "tenant-usage"


class QueueInspector(Protocol):
    async def statuses(self) -> list[pb.QueueStatus]: ...


class HealthChecker(Protocol):
    async def check(self) -> list[pb.ComponentHealth]: ...


class UsageReader(Protocol):
    async def usage(self, tenant: str) -> pb.GetUsageResponse: ...

    async def tenants(self) -> list[str]: ...


def _millis(message, field: str) -> int | None:
    return getattr(message, field).ToMilliseconds() if message.HasField(field) else None


def _timestamp(millis: int) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMilliseconds(millis)
    return stamp


def _scope(all_tenants: bool, context: grpc.aio.ServicerContext) -> TenantScope:
    """The caller's tenant, or ALL_TENANTS when asked for by a platform admin (PLATFORM_ADMIN_REQUIRED otherwise)."""
    metadata = context.invocation_metadata()
    if all_tenants:
        require_platform_admin(metadata, domain=DOMAIN)
        return ALL_TENANTS
    return tenant_from_metadata(metadata)


def _owner(named: str, context: grpc.aio.ServicerContext) -> str:
    """The tenant a call about one job acts in: the caller's, or the one it names when that is
    another tenant and the caller a platform admin (PLATFORM_ADMIN_REQUIRED otherwise)."""
    metadata = context.invocation_metadata()
    own = tenant_from_metadata(metadata)
    if not named or named == own:
        return own
    require_platform_admin(metadata, domain=DOMAIN)  # before the name is judged: nothing learnt without it
    tenant = check_tenant(named)
    log.info("a platform admin acts in another tenant", extra={"fields": {"tenant": tenant, "caller_tenant": own}})
    return tenant


def _overall(components: list[pb.ComponentHealth]) -> pb.HealthStatus:
    statuses = {component.status for component in components}
    if pb.HEALTH_STATUS_DOWN in statuses:
        return pb.HEALTH_STATUS_DOWN
    return pb.HEALTH_STATUS_DEGRADED if pb.HEALTH_STATUS_DEGRADED in statuses else pb.HEALTH_STATUS_UP


class AdminServicer(admin_service_pb2_grpc.AdminServiceServicer):
    def __init__(
        self,
        jobs: JobRecords,
        retrier: JobRetrier,
        queues: QueueInspector,
        health: HealthChecker,
        usage: UsageReader,
    ):
        self._jobs = jobs
        self._retrier = retrier
        self._queues = queues
        self._health = health
        self._usage = usage

    async def GetJobStatistics(
        self, request: pb.GetJobStatisticsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetJobStatisticsResponse:
        tenant = _scope(request.all_tenants, context)
        window = new_window(
            start_ms=_millis(request, "start_time"), end_ms=_millis(request, "end_time"), now_ms=int(time.time() * 1000)
        )
        where = JobFilter(after_ms=window.start_ms, before_ms=window.end_ms)
        statistics = JobStatistics()
        per_tenant: collections.Counter[str] = collections.Counter()
        token = ""
        while True:
            with bus_errors(domain=DOMAIN):
                jobs, token = await self._jobs.list(_LIST_PAGE, token, tenant=tenant, where=where)
            statistics.add_all(jobs)
            per_tenant.update(job_tenant(job) for job in jobs)
            if not token or statistics.total >= MAX_JOBS_READ:
                break
        return pb.GetJobStatisticsResponse(
            start_time=_timestamp(window.start_ms),
            end_time=_timestamp(window.end_ms),
            total_jobs=statistics.total,
            states=[
                pb.StateCount(state=state, count=count)  # type: ignore[arg-type]  # an int that is a JobState
                for state, count in sorted(statistics.states.items())
            ],
            stage_durations=[
                pb.StageDuration(
                    stage=stage.stage,  # type: ignore[arg-type]  # an int that is a JobStage
                    samples=stage.samples,
                    p50_seconds=stage.p50,
                    p95_seconds=stage.p95,
                    max_seconds=stage.max,
                )
                for stage in statistics.stages()
            ],
            failures=[
                pb.FailureReasonCount(reason=f.reason, count=f.count, example_message=f.example_message)
                for f in statistics.failures()
            ],
            truncated=bool(token),
            tenants=[
                pb.TenantJobCount(tenant=name, count=count)
                for name, count in sorted(per_tenant.items(), key=lambda item: (-item[1], item[0]))
            ]
            if tenant is ALL_TENANTS
            else [],
        )

    async def RetryJob(self, request: pb.RetryJobRequest, context: grpc.aio.ServicerContext) -> pb.RetryJobResponse:
        tenant = _owner(request.tenant, context)
        job = await self._retrier.retry(request.name, password=request.password, tenant=tenant)
        return pb.RetryJobResponse(job=job)

    async def BatchRetryJobs(
        self, request: pb.BatchRetryJobsRequest, context: grpc.aio.ServicerContext
    ) -> pb.BatchRetryJobsResponse:
        tenant = _scope(request.all_tenants, context)
        batch = new_batch_filter(
            reason=request.reason,
            after_ms=_millis(request, "create_time_after"),
            before_ms=_millis(request, "create_time_before"),
            max_jobs=request.max_jobs,
        )
        result = await self._retrier.retry_failed(batch, tenant=tenant)
        return pb.BatchRetryJobsResponse(
            retried_count=len(result.retried),
            retried_jobs=result.retried,
            failures=[
                pb.RetryFailure(job=job, reason=reason, message=message) for job, reason, message in result.failures
            ],
            more=result.more,
        )

    async def GetQueueStatus(
        self, request: pb.GetQueueStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetQueueStatusResponse:
        return pb.GetQueueStatusResponse(queues=await self._queues.statuses())

    async def GetSystemHealth(
        self, request: pb.GetSystemHealthRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSystemHealthResponse:
        components = await self._health.check()
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        return pb.GetSystemHealthResponse(status=_overall(components), components=components, check_time=now)

    async def GetUsage(self, request: pb.GetUsageRequest, context: grpc.aio.ServicerContext) -> pb.GetUsageResponse:
        if not request.all_tenants:
            return await self._usage.usage(tenant_from_metadata(context.invocation_metadata()))
        require_platform_admin(context.invocation_metadata(), domain=DOMAIN)
        limit = TENANT_PAGES.clamp(request.page_size, domain=DOMAIN)
        after = decode_page_token(request.page_token, _USAGE_TOKEN, domain=DOMAIN)
        last = str((after or {}).get("t", ""))
        remaining = [tenant for tenant in await self._usage.tenants() if tenant > last]
        page = remaining[:limit]
        usages = await asyncio.gather(*(self._usage.usage(tenant) for tenant in page))
        more = len(remaining) > limit and page
        return pb.GetUsageResponse(
            tenants=usages,
            next_page_token=encode_page_token(_USAGE_TOKEN, {"t": page[-1]}) if more else "",
        )
