"""Whether a mesh process serves: the standard gRPC health check, polled until SERVING, and
the health a service reports for each of its dependencies (`mivaa status`)."""

from __future__ import annotations

import time
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mivaa_cli.localmesh.processes import ManagedProcess
from mivaa_platform.health_servicer import dependency_statuses, health_messages

STATUS_NAMES = health_pb2.HealthCheckResponse.ServingStatus
GRPC_SERVICES = ("extractor", "search", "embedder", "ocr", "answer")


def serves_health(process_name: str) -> bool:
    """The mesh processes that serve the gRPC health service: the services and extraction workers."""
    return process_name in GRPC_SERVICES or process_name.startswith("worker-")


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


def describe_health(address: str, credentials: grpc.ChannelCredentials | None = None) -> str:
    """ "SERVING (postgres SERVING)", "NOT_SERVING (nats NOT_SERVING)", or UNREACHABLE: the
    service's own status and each dependency it reports, from one List call."""
    channel = grpc.secure_channel(address, credentials) if credentials else grpc.insecure_channel(address)
    with channel:
        try:
            stub: Any = health_pb2_grpc.HealthStub(channel)  # typed Any: the stub omits List
            response = stub.List(health_messages.HealthListRequest(), timeout=2)
        except grpc.RpcError as error:
            return "UNREACHABLE" if error.code() == grpc.StatusCode.UNAVAILABLE else f"UNKNOWN ({error.code().name})"
    overall = response.statuses.get("")
    text = STATUS_NAMES.Name(overall.status) if overall is not None else "UNKNOWN"
    dependencies = dependency_statuses(response)
    if dependencies:
        text += " (" + ", ".join(f"{name} {STATUS_NAMES.Name(status)}" for name, status in dependencies.items()) + ")"
    return text
