"""A service on the shared bootstrap, served in-process on a free port, with a channel to it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mivaa_platform.channels import create_channel
from mivaa_platform.config import ServerSettings
from mivaa_platform.server import GrpcService


@contextlib.asynccontextmanager
async def serving(
    label: str,
    register: Callable[[object, grpc.aio.Server], None],
    servicer: object,
    service_name: str,
    settings: ServerSettings | None = None,
    **channel_options,
) -> AsyncIterator[tuple[GrpcService, grpc.aio.Channel]]:
    service = GrpcService(label, settings or ServerSettings(port=0))
    service.add(register, servicer, service_name)
    port = await service.start()
    channel = create_channel(f"127.0.0.1:{port}", **channel_options)
    try:
        yield service, channel
    finally:
        await channel.close()
        await service.stop()


async def health_status(channel: grpc.aio.Channel, service_name: str) -> int:
    response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service_name))
    return response.status


NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
