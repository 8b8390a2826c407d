"""Each service's health through the real Envoy, for the admin screen: grpc.health Check with the
x-mivaa-health-service header goes to that service and needs the admin scope; without the header
Check stays open for probes."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.gateway.test_gateway_security import bearer, gateway, keys, token

__all__ = ["gateway", "keys"]  # the security tests' fixtures: one Envoy for this module too

HEADER = "x-mivaa-health-service"


async def check(channel, metadata) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    response = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), metadata=metadata, timeout=10
    )
    return response.status


@pytest.mark.parametrize("service", ["extractor", "search", "embedder"])
async def test_an_admin_reads_each_services_health(gateway, keys, service):
    _, _, channel = gateway
    admin = bearer(token(keys, subject=f"admin-{service}", scopes=["admin"]))
    assert await check(channel, [*admin, (HEADER, service)]) == health_pb2.HealthCheckResponse.SERVING


async def test_a_named_services_health_needs_the_admin_scope(gateway, keys):
    _, _, channel = gateway
    cases = [
        ([], grpc.StatusCode.UNAUTHENTICATED),
        (bearer(token(keys, subject="health-reader", scopes=["read", "write"])), grpc.StatusCode.PERMISSION_DENIED),
    ]
    for metadata, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await check(channel, [*metadata, (HEADER, "search")])
        assert refused.value.code() == code
    # Without the header, Check is the probes' open one.
    assert await check(channel, []) == health_pb2.HealthCheckResponse.SERVING


async def test_an_unknown_service_name_is_not_answered_by_another_service(gateway, keys):
    _, _, channel = gateway
    admin = bearer(token(keys, subject="health-admin", scopes=["admin"]))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await check(channel, [*admin, (HEADER, "postgres")])
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
