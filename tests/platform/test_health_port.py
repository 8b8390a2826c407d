"""<PREFIX>_HEALTH_PORT: grpc.health.v1 alone, in plaintext, beside a main port that requires mTLS.

What kubelet's gRPC probes need: they cannot present a client certificate.
"""

from __future__ import annotations

import contextlib
import pathlib
import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from mivaa.embedder.v1 import embedder_service_pb2 as pb
from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa_platform.config import ServerSettings, load_config
from mivaa_platform.server import GrpcService
from mivaa_platform.tls import client_credentials, service_env
from tests.support.certs import make_certs

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICE = "mivaa.embedder.v1.EmbedderService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("certs")
    make_certs.make_certs(out, ("embedder",))
    return out


def free_port() -> int:
    # 0 means "no health port", so the test picks one itself.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Models(embedder_service_pb2_grpc.EmbedderServiceServicer):
    async def ListModels(self, request, context):
        return pb.ListModelsResponse(models=[pb.Model(name="m", dimension=3)])


@contextlib.asynccontextmanager
async def mtls_service_with_health_port(certs: pathlib.Path):
    env = {**service_env("EMBEDDER", certs, "embedder"), "EMBEDDER_HEALTH_PORT": str(free_port())}
    service = GrpcService("embedder", load_config(ServerSettings, "EMBEDDER", env))
    service.add(embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server, _Models(), SERVICE)
    port = await service.start()
    try:
        yield service, port
    finally:
        await service.stop()


async def check(channel: grpc.aio.Channel, service: str = "") -> int:
    response = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=5
    )
    return response.status


async def test_health_answers_in_plaintext_while_the_main_port_requires_mtls(certs):
    async with mtls_service_with_health_port(certs) as (service, port):
        assert service.credentials is not None and service.health_port == service.settings.health_port != port
        await service.set_serving(True)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.health_port}") as probe:
            assert await check(probe) == SERVING
            assert await check(probe, SERVICE) == SERVING
        # The main port still refuses plaintext, and serves a client with a certificate.
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as plain:
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await check(plain)
            assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", client_credentials(certs)) as channel:
            assert await check(channel, SERVICE) == SERVING
            models = await embedder_service_pb2_grpc.EmbedderServiceStub(channel).ListModels(
                pb.ListModelsRequest(), timeout=5
            )
            assert models.models[0].name == "m"


async def test_nothing_but_health_is_reachable_on_the_health_port(certs):
    async with mtls_service_with_health_port(certs) as (service, _):
        await service.set_serving(True)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{service.health_port}") as probe:
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await embedder_service_pb2_grpc.EmbedderServiceStub(probe).ListModels(pb.ListModelsRequest(), timeout=5)
            assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED
            # Not even reflection: what the mesh serves is no business of an unauthenticated caller.
            reflection = reflection_pb2_grpc.ServerReflectionStub(probe).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
            )
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                async for _ in reflection:
                    pass
            assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED
        # TLS on the health port is no way in either: it is plaintext only.
        async with grpc.aio.secure_channel(f"127.0.0.1:{service.health_port}", client_credentials(certs)) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await check(channel)
            assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_both_ports_report_the_same_statuses(certs):
    async def statuses(probe, channel) -> set[tuple[int, int]]:
        return {(await check(probe, name), await check(channel, name)) for name in ("", SERVICE)}

    async with mtls_service_with_health_port(certs) as (service, port):
        health_port = service.health_port
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{health_port}") as probe,
            grpc.aio.secure_channel(f"127.0.0.1:{port}", client_credentials(certs)) as channel,
        ):
            assert await statuses(probe, channel) == {(NOT_SERVING, NOT_SERVING)}  # not ready yet
            await service.set_serving(True)
            assert await statuses(probe, channel) == {(SERVING, SERVING)}
            await service.set_serving(False)
            assert await statuses(probe, channel) == {(NOT_SERVING, NOT_SERVING)}
            # An unknown service is unknown on both.
            for target in (probe, channel):
                with pytest.raises(grpc.aio.AioRpcError) as failure:
                    await check(target, "mivaa.nope.v1.Nope")
                assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    # Stopping the service closes the health port too.
    async with grpc.aio.insecure_channel(f"127.0.0.1:{health_port}") as probe:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await check(probe)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_no_health_port_unless_asked():
    settings = load_config(ServerSettings, "EMBEDDER", {})
    assert settings.health_port == 0
    service = GrpcService("embedder", settings)
    assert service.health_server is None
    await service.start()
    try:
        assert service.health_port == 0
    finally:
        await service.stop()
