"""Servers age their connections, so round_robin callers re-resolve and find new replicas, without
cutting a call in flight."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mivaa_platform import server as server_module
from mivaa_platform.channels import create_channel
from mivaa_platform.config import ServerSettings
from mivaa_platform.server import GrpcService

PEER = "/test.Peer/Who"


def _peer_handler() -> grpc.GenericRpcHandler:
    async def who(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return context.peer().encode()

    handler = grpc.unary_unary_rpc_method_handler(who)
    return grpc.method_handlers_generic_handler("test.Peer", {"Who": handler})


async def test_connections_age_and_calls_in_flight_go_on(monkeypatch):
    monkeypatch.setattr(server_module, "CONNECTION_AGE_SECONDS", 1)
    service = GrpcService("age-test", ServerSettings(port=0, grace_seconds=0.1))
    service.server.add_generic_rpc_handlers((_peer_handler(),))
    port = await service.start()
    await service.set_serving(True)
    channel = create_channel(f"127.0.0.1:{port}")
    try:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=""), timeout=30)
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING

        who = channel.unary_unary(PEER)
        peers = set()
        for _ in range(30):  # 3 s: about three connection lifetimes
            peers.add(await who(b"", timeout=5))
            await asyncio.sleep(0.1)
        assert len(peers) >= 2, peers  # the client reconnected from a new port: the connection aged

        # The stream opened on the first connection is still open and answers a change.
        await service.set_serving(False)
        changed = await asyncio.wait_for(watch.read(), timeout=5)
        assert changed.status == health_pb2.HealthCheckResponse.NOT_SERVING
        watch.cancel()
    finally:
        await channel.close()
        await service.stop()
