"""GrpcService.watch_dependencies and fail: health follows what a service cannot work without, and a
dependency that can never come back ends the process with a failure status."""

from __future__ import annotations

import asyncio

from grpc_health.v1 import health_pb2, health_pb2_grpc

from mivaa_platform.channels import create_channel
from mivaa_platform.config import ServerSettings
from mivaa_platform.health_servicer import dependency_statuses
from mivaa_platform.server import GrpcService

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _status(channel) -> int:
    return (
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
    ).status


async def _dependencies(channel) -> dict[str, int]:
    listed = await health_pb2_grpc.HealthStub(channel).List(health_pb2.HealthListRequest(), timeout=2)
    assert "" in listed.statuses  # the service's own entry is listed beside its dependencies
    return dependency_statuses(listed)


async def _until(channel, wanted: int, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while await _status(channel) != wanted:
        assert asyncio.get_running_loop().time() < deadline, f"health never became {wanted}"
        await asyncio.sleep(0.05)


async def test_health_follows_the_dependency_checks(monkeypatch):
    service = GrpcService("deps-test", ServerSettings(port=0, grace_seconds=0.1))
    port = await service.start()
    channel = create_channel(f"127.0.0.1:{port}")
    reachable = {"bus": True, "database": True}

    async def bus() -> bool:
        return reachable["bus"]

    async def database() -> bool:
        if not reachable["database"]:
            raise ConnectionError("refused")  # a check that raises counts as failing
        return True

    hung_calls = []

    async def hangs() -> bool:
        hung_calls.append(1)
        await asyncio.sleep(3600)
        return True

    try:
        assert await _status(channel) == NOT_SERVING  # not ready yet
        service.watch_dependencies({"bus": bus, "database": database}, interval=0.05)
        await _until(channel, SERVING)
        reachable["bus"] = False
        await _until(channel, NOT_SERVING)
        reachable["bus"] = True
        await _until(channel, SERVING)
        assert await _dependencies(channel) == {"bus": SERVING, "database": SERVING}
        reachable["database"] = False
        await _until(channel, NOT_SERVING)
        # List names the failing dependency, so an operator sees why, not only that.
        assert await _dependencies(channel) == {"bus": SERVING, "database": NOT_SERVING}
        reachable["database"] = True
        await _until(channel, SERVING)
        assert await _dependencies(channel) == {"bus": SERVING, "database": SERVING}
    finally:
        await channel.close()
        await service.stop()
    # A check that hangs is cut at DEPENDENCY_CHECK_SECONDS, counts as failing, and the watcher goes on.
    monkeypatch.setattr("mivaa_platform.server.DEPENDENCY_CHECK_SECONDS", 0.1)
    hanging = GrpcService("deps-hang", ServerSettings(port=0, grace_seconds=0.1))
    port = await hanging.start()
    channel = create_channel(f"127.0.0.1:{port}")
    try:
        hanging.watch_dependencies({"hangs": hangs}, interval=0.05)
        await asyncio.sleep(0.8)
        assert await _status(channel) == NOT_SERVING
        assert len(hung_calls) >= 3
    finally:
        await channel.close()
        await hanging.stop()


async def test_fail_ends_the_service_with_status_1_but_not_a_deliberate_stop():
    service = GrpcService("fail-test", ServerSettings(port=0, grace_seconds=0.1))
    await service.start()
    service.fail("the NATS connection closed for good")
    assert await asyncio.wait_for(service.run_until_signalled(), timeout=5) == 1

    stopped = GrpcService("stop-test", ServerSettings(port=0, grace_seconds=0.1))
    await stopped.start()
    await stopped.stop()
    stopped.fail("closed while shutting down on purpose")  # e.g. the connection's drain at shutdown
    assert stopped.exit_code == 0


async def test_a_dependency_loaded_once_has_its_own_entry():
    """Models and OCR engines are loaded at start, not watched: set_dependency reports them."""
    service = GrpcService("loaded-test", ServerSettings(port=0, grace_seconds=0.1))
    port = await service.start()
    channel = create_channel(f"127.0.0.1:{port}")
    try:
        await service.set_dependency("models", False)
        assert await _dependencies(channel) == {"models": NOT_SERVING}
        await service.set_dependency("models", True)
        await service.set_serving(True)
        assert await _dependencies(channel) == {"models": SERVING}
        assert await _status(channel) == SERVING
    finally:
        await channel.close()
        await service.stop()
