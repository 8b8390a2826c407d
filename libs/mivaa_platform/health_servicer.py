"""The standard gRPC health service, with the `List` method grpcio's aio servicer leaves
unimplemented, and one entry per dependency a service watches.

A plain `Check("")` says whether a service can take calls; it cannot say why not. Each dependency
of `GrpcService.watch_dependencies` also gets its own entry (`mivaa.dependency.postgres`, ...), so
`List` answers "search: NOT_SERVING because postgres is" in one call (`mivaa status` prints it).
"""

from __future__ import annotations

from typing import Any

from grpc_health.v1 import health, health_pb2

DEPENDENCY_PREFIX = "mivaa.dependency."

# types-grpcio-health-checking predates List: its stubs lack the List messages and method.
health_messages: Any = health_pb2


def dependency_entry(name: str) -> str:
    return DEPENDENCY_PREFIX + name


class HealthServicer(health.aio.HealthServicer):
    async def List(self, request: Any, context: Any) -> Any:
        # _server_status is the servicer's one table of statuses (Check reads it too).
        table: dict[str, int] = self._server_status  # type: ignore[attr-defined]  # not in the stub
        statuses = {name: health_pb2.HealthCheckResponse(status=status) for name, status in table.items()}
        return health_messages.HealthListResponse(statuses=statuses)


def dependency_statuses(response: Any) -> dict[str, int]:
    """The dependency entries of a List answer, by dependency name."""
    return {
        name.removeprefix(DEPENDENCY_PREFIX): entry.status
        for name, entry in sorted(response.statuses.items())
        if name.startswith(DEPENDENCY_PREFIX)
    }
