"""SearchService's retention RPCs (admin-only at the gateway): protos in, Retention, protos out."""

from __future__ import annotations

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa.search.v1 import search_service_pb2_grpc
from mivaa_platform.errors import FailedPrecondition, InvalidArgument
from mivaa_platform.tenancy import tenant_from_metadata
from mivaa_search.names import DOMAIN
from mivaa_search.store import RetentionRecord
from mivaa_search.usecases.retention import Retention

POLICY_NAME = "retentionPolicy"


def _policy(record: RetentionRecord | None) -> pb.RetentionPolicy:
    policy = pb.RetentionPolicy(name=POLICY_NAME)
    if record is not None:
        policy.max_age.FromSeconds(record.max_age_seconds)
        policy.update_time.FromDatetime(record.update_time)
    return policy


def _check_name(name: str, field: str) -> None:
    if name != POLICY_NAME:
        raise InvalidArgument(
            "INVALID_NAME", f"{field} must be \"{POLICY_NAME}\" (the caller's tenant's policy).", domain=DOMAIN
        )


class RetentionMethods(search_service_pb2_grpc.SearchServiceServicer):
    """Mixed into SearchServicer; `_retention` is set by its constructor (None: not offered)."""

    _retention: Retention | None

    def _require_retention(self) -> Retention:
        if self._retention is None:
            raise FailedPrecondition("RETENTION_UNAVAILABLE", "This search service runs no retention.", domain=DOMAIN)
        return self._retention

    async def GetRetentionPolicy(self, request: pb.GetRetentionPolicyRequest, context) -> pb.GetRetentionPolicyResponse:
        _check_name(request.name, "name")
        tenant = tenant_from_metadata(context.invocation_metadata())
        record = await self._require_retention().get(tenant=tenant)
        return pb.GetRetentionPolicyResponse(retention_policy=_policy(record))

    async def UpdateRetentionPolicy(
        self, request: pb.UpdateRetentionPolicyRequest, context
    ) -> pb.UpdateRetentionPolicyResponse:
        _check_name(request.retention_policy.name, "retention_policy.name")
        max_age = request.retention_policy.max_age
        if max_age.nanos:
            raise InvalidArgument("RETENTION_NOT_WHOLE_SECONDS", "max_age must be whole seconds.", domain=DOMAIN)
        tenant = tenant_from_metadata(context.invocation_metadata())
        record = await self._require_retention().set(max_age.seconds, tenant=tenant)
        return pb.UpdateRetentionPolicyResponse(retention_policy=_policy(record))
