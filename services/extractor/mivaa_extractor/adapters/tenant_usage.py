"""A tenant's usage: what search stores for it (its internal GetTenantUsage) and its job records."""

from __future__ import annotations

import grpc

from mivaa.admin.v1 import admin_service_pb2 as admin_pb
from mivaa.search.v1 import search_service_pb2, search_service_pb2_grpc
from mivaa_extractor.adapters.job_store import JobStore
from mivaa_extractor.jobs import DOMAIN
from mivaa_platform.bus_errors import bus_errors
from mivaa_platform.grpc_errors import from_rpc_error
from mivaa_platform.tenancy import tenant_metadata

USAGE_SECONDS = 10.0


class TenantUsageReader:
    def __init__(self, search_channel: grpc.aio.Channel, jobs: JobStore):
        self._search = search_service_pb2_grpc.SearchServiceStub(search_channel)
        self._jobs = jobs

    async def tenants(self) -> list[str]:
        """Every tenant with job records, in order (what a platform admin's usage listing pages through)."""
        with bus_errors(domain=DOMAIN):
            return await self._jobs.tenants()

    async def usage(self, tenant: str) -> admin_pb.GetUsageResponse:
        try:
            stored = await self._search.GetTenantUsage(
                search_service_pb2.GetTenantUsageRequest(), metadata=tenant_metadata(tenant), timeout=USAGE_SECONDS
            )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error, "search") from error
        with bus_errors(domain=DOMAIN):
            jobs = await self._jobs.count(tenant=tenant)
        return admin_pb.GetUsageResponse(
            tenant=tenant,
            documents=stored.documents,
            pages=stored.pages,
            original_bytes=stored.original_bytes,
            chunks=stored.chunks,
            vectors=stored.vectors,
            images=stored.images,
            jobs=jobs,
        )
