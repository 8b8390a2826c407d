"""Whether a mesh process serves: the standard gRPC health check, polled until SERVING."""

from __future__ import annotations

import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mivaa_cli.localmesh.processes import ManagedProcess


def health_status(address: str, service: str = "", credentials: grpc.ChannelCredentials | None = None) -> int:
    channel = grpc.secure_channel(address, credentials) if credentials else grpc.insecure_channel(address)
    with channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(  # type: ignore[attr-defined]  # the stub omits Check
                health_pb2.HealthCheckRequest(service=service), timeout=2
            )
        except grpc.RpcError:
            return health_pb2.HealthCheckResponse.UNKNOWN
        return response.status


def wait_serving(
    process: ManagedProcess,
    address: str,
    service: str = "",
    timeout: float = 120.0,
    credentials: grpc.ChannelCredentials | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health_status(address, service, credentials) == health_pb2.HealthCheckResponse.SERVING:
            return
        if not process.alive():
            raise RuntimeError(f"{process.name} exited during start-up:\n{process.log_tail()}")
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} was not SERVING after {timeout:.0f}s:\n{process.log_tail()}")
