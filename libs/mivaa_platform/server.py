"""gRPC server bootstrap shared by every service.

`GrpcService` builds a grpc.aio server with the shared interceptors, the
standard health service (NOT_SERVING until the service says it is ready),
server reflection for every public mivaa API, and graceful shutdown on
SIGTERM/SIGINT. Services add their servicers and decide when they are ready.

With `health_port` set, the same health servicer is also served alone, in plaintext, on that
port: probes that cannot present a client certificate (kubelet's) can check a service whose
main port requires mTLS, and see the statuses the service sets, while nothing else is reachable
without a certificate.

Dependencies: `watch_dependencies` re-checks what the service cannot work without (NATS,
PostgreSQL) every few seconds once it is ready, and reports NOT_SERVING while any check fails and
SERVING again when all pass, so a balancer sends no calls it would fail and a supervisor sees it.
`fail(reason)` ends the process with a non-zero status instead (a dependency that can never come
back, like a NATS connection closed for good), so the supervisor starts a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mivaa.answer.v1 import answer_service_pb2
from mivaa.embedder.v1 import embedder_service_pb2
from mivaa.extractor.v1 import extractor_service_pb2
from mivaa.ocr.v1 import ocr_service_pb2
from mivaa.search.v1 import search_service_pb2
from mivaa_platform.config import ServerSettings
from mivaa_platform.health_servicer import HealthServicer, dependency_entry
from mivaa_platform.interceptors import ServiceInterceptor
from mivaa_platform.telemetry import initialize_rpc_series
from mivaa_platform.tls import server_credentials

log = logging.getLogger("mivaa.server")

# Every public API. Each service's reflection lists all of them, so a gateway
# can route reflection to any one service and `grpcurl list` shows the mesh.
PUBLIC_SERVICES: tuple[str, ...] = (
    extractor_service_pb2.DESCRIPTOR.services_by_name["ExtractorService"].full_name,
    embedder_service_pb2.DESCRIPTOR.services_by_name["EmbedderService"].full_name,
    search_service_pb2.DESCRIPTOR.services_by_name["SearchService"].full_name,
    ocr_service_pb2.DESCRIPTOR.services_by_name["OcrService"].full_name,
    answer_service_pb2.DESCRIPTOR.services_by_name["AnswerService"].full_name,
)

MAX_MESSAGE_BYTES = 32 * 1024 * 1024

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

# A dependency check: True while the dependency is usable. It must not raise or hang; the
# watcher bounds it by DEPENDENCY_CHECK_SECONDS and counts an exception or timeout as False.
DependencyCheck = Callable[[], Awaitable[bool]]
DEPENDENCY_CHECK_SECONDS = 3.0


CONNECTION_AGE_SECONDS = 300


class GrpcService:
    def __init__(self, label: str, settings: ServerSettings, *, max_receive_message_bytes: int | None = None):
        """max_receive_message_bytes: the largest request message accepted (MAX_MESSAGE_BYTES unless
        a service takes bigger ones, like the embedder's one-image-per-message EmbedImages)."""
        self.label = label
        self.settings = settings
        self.max_receive_message_bytes = int(max_receive_message_bytes or MAX_MESSAGE_BYTES)
        # Read now, so a bad TLS configuration stops start-up before anything else happens.
        self.credentials = server_credentials(settings, label.upper().replace("-", "_"))
        self.server = grpc.aio.server(
            interceptors=[ServiceInterceptor(label, settings.max_rpc_seconds, settings.max_stream_seconds)],
            options=[
                ("grpc.max_receive_message_length", self.max_receive_message_bytes),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
                # Callers dial every replica behind a name (round_robin over dns:///) and re-resolve
                # only when a connection ends: ageing connections lets them find pods added by a
                # scale-up. Calls in flight get as long as the longest stream may last anyway.
                ("grpc.max_connection_age_ms", CONNECTION_AGE_SECONDS * 1000),
                ("grpc.max_connection_age_grace_ms", int(settings.max_stream_seconds * 1000)),
            ],
        )
        self.health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.health_server: grpc.aio.Server | None = None
        if settings.health_port:
            self.health_server = grpc.aio.server()
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self.health_server)
        self._service_names: list[str] = []
        self.port = 0
        self.health_port = 0
        self._stop = asyncio.Event()
        self.stopping = False
        self.exit_code = 0
        self._watcher: asyncio.Task | None = None

    def add(self, register: Callable[[object, grpc.aio.Server], None], servicer: object, service_name: str) -> None:
        register(servicer, self.server)
        self._service_names.append(service_name)
        initialize_rpc_series(self.label, service_name)

    async def start(self) -> int:
        names = sorted({*self._service_names, *PUBLIC_SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME})
        reflection.enable_server_reflection(names, self.server)
        address = f"{self.settings.host}:{self.settings.port}"
        if self.credentials is None:
            self.port = self.server.add_insecure_port(address)
        else:
            self.port = self.server.add_secure_port(address, self.credentials)
        if self.port == 0:
            raise RuntimeError(f"{self.label}: could not bind {self.settings.host}:{self.settings.port}")
        if self.health_server is not None:
            self.health_port = self.health_server.add_insecure_port(f"{self.settings.host}:{self.settings.health_port}")
            if self.health_port == 0:
                raise RuntimeError(f"{self.label}: could not bind {self.settings.host}:{self.settings.health_port}")
        await self.set_serving(False)
        await self.server.start()
        if self.health_server is not None:
            await self.health_server.start()
        log.info(
            "listening",
            extra={
                "fields": {
                    "port": self.port,
                    "health_port": self.health_port,
                    "services": self._service_names,
                    "mtls": self.credentials is not None,
                }
            },
        )
        return self.port

    async def set_serving(self, serving: bool) -> None:
        status = SERVING if serving else NOT_SERVING
        for name in ("", *self._service_names):
            await self.health.set(name, status)

    async def set_dependency(self, name: str, ready: bool) -> None:
        """Reports a dependency that is loaded once rather than watched (a model, an engine):
        its own health entry only; the service's own status is still set by set_serving."""
        await self.health.set(dependency_entry(name), SERVING if ready else NOT_SERVING)

    def watch_dependencies(self, checks: Mapping[str, DependencyCheck], interval: float = 2.0) -> None:
        """Once ready: SERVING while every check passes, NOT_SERVING while one fails, re-checked
        every `interval` seconds. Replaces a plain set_serving(True) at the end of start-up."""
        self._watcher = asyncio.create_task(self._watch(dict(checks), interval))

    async def _watch(self, checks: dict[str, DependencyCheck], interval: float) -> None:
        serving: bool | None = None
        passing: dict[str, bool] = {}
        while not self.stopping:
            results = {name: await _passes(check) for name, check in checks.items()}
            for name, passes in results.items():
                if passing.get(name) != passes and not self.stopping:
                    await self.set_dependency(name, passes)
            passing = results
            failing = [name for name, passes in results.items() if not passes]
            if (not failing) != serving and not self.stopping:
                serving = not failing
                await self.set_serving(serving)
                if failing:
                    log.warning("dependency unreachable: NOT_SERVING", extra={"fields": {"failing": failing}})
                else:
                    log.info("dependencies reachable: SERVING")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=interval)

    def fail(self, reason: str) -> None:
        """Stops the process with exit status 1 (unless it is already stopping on purpose)."""
        if self.stopping:
            return
        log.critical(
            "cannot go on; exiting so the supervisor restarts the service", extra={"fields": {"reason": reason}}
        )
        self.exit_code = 1
        self._stop.set()

    async def stop(self) -> None:
        self.stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.health.enter_graceful_shutdown()
        servers = [self.server] if self.health_server is None else [self.server, self.health_server]
        await asyncio.gather(*(server.stop(self.settings.grace_seconds) for server in servers))

    async def run_until_signalled(self, on_shutdown: Callable[[], Awaitable[None]] | None = None) -> int:
        """Blocks until SIGTERM/SIGINT or `fail`, then drains: health first, then calls, then
        `on_shutdown`. Returns the process's exit status (1 after `fail`)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        await self._stop.wait()
        log.info("shutting down")
        await self.stop()
        if on_shutdown is not None:
            await on_shutdown()
        return self.exit_code


async def _passes(check: DependencyCheck) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), timeout=DEPENDENCY_CHECK_SECONDS))
    except Exception:  # noqa: BLE001 - an unreachable dependency is a failed check, whatever it raised
        return False
