"""GetSystemHealth's checks: each service's gRPC health, NATS, PostgreSQL (through search), disk
and the embedder's models, all at once, each under its own short deadline.

A check never raises: whatever goes wrong (a refused connection, a deadline, a NATS error) is
that component's DOWN with a sentence saying what was seen, so one dead peer cannot turn the
whole answer into an error or keep it waiting.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nats.aio.client import Client as NatsClient

from mivaa.admin.v1 import admin_service_pb2 as admin_pb
from mivaa.embedder.v1 import embedder_service_pb2, embedder_service_pb2_grpc
from mivaa_platform.messaging import ORIGINALS_STREAM

log = logging.getLogger("mivaa.extractor.health")

UP = admin_pb.HEALTH_STATUS_UP
DEGRADED = admin_pb.HEALTH_STATUS_DEGRADED
DOWN = admin_pb.HEALTH_STATUS_DOWN
NOT_CONFIGURED = admin_pb.HEALTH_STATUS_NOT_CONFIGURED
CHECK_SECONDS = 2.0
# Free space on the scratch volume below which the disk is DEGRADED.
LOW_DISK_FRACTION = 0.10
LOW_DISK_BYTES = 1 << 30


@dataclass(frozen=True)
class HealthTargets:
    """What to check: a channel per peer service (None: not part of this mesh)."""

    services: Mapping[str, grpc.aio.Channel | None]
    nats: NatsClient
    scratch_dir: str


class SystemHealth:
    def __init__(self, targets: HealthTargets):
        self._targets = targets

    async def check(self) -> list[admin_pb.ComponentHealth]:
        names = list(self._targets.services)
        service_checks = [self._service(name, channel) for name, channel in self._targets.services.items()]
        results = await asyncio.gather(*service_checks, self._nats(), self._models(), _timed("disk", self._disk))
        components = [_self_health(), *results]
        search = results[names.index("search")] if "search" in names else None
        components.insert(len(service_checks) + 2, _postgres_from(search))
        return components

    async def _service(self, name: str, channel: grpc.aio.Channel | None) -> admin_pb.ComponentHealth:
        if channel is None:
            return admin_pb.ComponentHealth(
                component=name, status=NOT_CONFIGURED, message="Not part of this mesh (no address configured)."
            )

        async def probe() -> tuple[admin_pb.HealthStatus, str]:
            stub = health_pb2_grpc.HealthStub(channel)
            check = stub.Check  # type: ignore[attr-defined]  # set in HealthStub.__init__
            # wait_for_ready: a peer that just came back is reached as soon as the channel reconnects
            # (within the deadline), not reported down while the channel sits out its backoff.
            response = await check(health_pb2.HealthCheckRequest(), timeout=CHECK_SECONDS, wait_for_ready=True)
            if response.status == health_pb2.HealthCheckResponse.SERVING:
                return UP, "Serving."
            return DOWN, "Running but not serving (a dependency it needs is unreachable)."

        return await _timed(name, probe)

    async def _nats(self) -> admin_pb.ComponentHealth:
        nc = self._targets.nats

        async def probe() -> tuple[admin_pb.HealthStatus, str]:
            if not nc.is_connected:
                return DOWN, "Not connected to NATS."
            js = nc.jetstream()
            info = await asyncio.wait_for(js.account_info(), CHECK_SECONDS)
            originals = await asyncio.wait_for(js.stream_info(ORIGINALS_STREAM), CHECK_SECONDS)
            limit = info.limits.max_storage if info.limits and info.limits.max_storage else -1
            stored = f"stored originals take {_size(originals.state.bytes)}; JetStream holds {_size(info.storage)}"
            if limit > 0:
                stored += f" of its {_size(limit)} limit"
                if info.storage > limit * (1 - LOW_DISK_FRACTION):
                    return DEGRADED, f"Connected, JetStream nearly full: {stored}."
            return UP, f"Connected, JetStream answers: {stored}."

        return await _timed("nats", probe)

    async def _models(self) -> admin_pb.ComponentHealth:
        channel = self._targets.services.get("embedder")
        if channel is None:
            return admin_pb.ComponentHealth(component="models", status=NOT_CONFIGURED, message="No embedder.")

        async def probe() -> tuple[admin_pb.HealthStatus, str]:
            stub = embedder_service_pb2_grpc.EmbedderServiceStub(channel)
            response = await stub.ListModels(embedder_service_pb2.ListModelsRequest(), timeout=CHECK_SECONDS)
            text = [m for m in response.models if m.modality == embedder_service_pb2.MODALITY_TEXT]
            listed = ", ".join(
                f"{m.name} ({embedder_service_pb2.Modality.Name(m.modality).removeprefix('MODALITY_').lower()},"
                f" {m.dimension} dimensions, {m.device or 'unknown device'})"
                for m in response.models
            )
            if not text:
                return DOWN, f"No text model loaded; documents cannot be embedded. Loaded: {listed or 'none'}."
            return UP, f"Loaded: {listed}."

        return await _timed("models", probe)

    async def _disk(self) -> tuple[admin_pb.HealthStatus, str]:
        folder = self._targets.scratch_dir or tempfile.gettempdir()
        usage = await asyncio.to_thread(shutil.disk_usage, folder)
        free = f"{_size(usage.free)} free of {_size(usage.total)} where uploads are opened and extracted"
        if usage.free < LOW_DISK_BYTES or usage.free < usage.total * LOW_DISK_FRACTION:
            return DEGRADED, f"Low on space: {free}."
        return UP, f"{free[0].upper()}{free[1:]}."


def _self_health() -> admin_pb.ComponentHealth:
    return admin_pb.ComponentHealth(component="extractor", status=UP, message="Serving (it answered this call).")


def _postgres_from(search: admin_pb.ComponentHealth | None) -> admin_pb.ComponentHealth:
    """Search is the only service with the main database and reports NOT_SERVING while it cannot reach it."""
    if search is None or search.status == NOT_CONFIGURED:
        return admin_pb.ComponentHealth(component="postgresql", status=NOT_CONFIGURED, message="No search service.")
    if search.status == UP:
        status, message = UP, "Reachable (the search service's own check passes)."
    elif search.message.startswith("Running but not serving"):
        status, message = DOWN, "The search service cannot reach PostgreSQL."
    else:
        status, message = DOWN, "Unknown: the search service, which checks it, does not answer."
    return admin_pb.ComponentHealth(component="postgresql", status=status, latency=search.latency, message=message)


async def _timed(
    component: str, probe: Callable[[], Awaitable[tuple[admin_pb.HealthStatus, str]]]
) -> admin_pb.ComponentHealth:
    started = time.monotonic()
    try:
        status, message = await asyncio.wait_for(probe(), CHECK_SECONDS + 1.0)
    except TimeoutError:
        status, message = DOWN, f"No answer within {CHECK_SECONDS:g} seconds."
    except grpc.aio.AioRpcError as error:
        status, message = DOWN, _rpc_failure(error)
    except Exception:
        log.warning("health check failed", extra={"fields": {"component": component}}, exc_info=True)
        status, message = DOWN, "The check failed; see the extractor's log."
    health = admin_pb.ComponentHealth(component=component, status=status, message=message)
    health.latency.FromNanoseconds(int((time.monotonic() - started) * 1e9))
    return health


def _rpc_failure(error: grpc.aio.AioRpcError) -> str:
    if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"No answer within {CHECK_SECONDS:g} seconds."
    if error.code() == grpc.StatusCode.UNAVAILABLE:
        return "Unreachable (connection refused or lost)."
    return f"The health check failed with {error.code().name}."


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
