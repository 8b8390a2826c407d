"""The shared server bootstrap: health gating, error mapping to google.rpc.Status, deadlines, metrics."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from prometheus_client import REGISTRY

from mivaa.embedder.v1 import embedder_service_pb2 as pb
from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa.extractor.v1 import extractor_service_pb2, extractor_service_pb2_grpc
from mivaa_embedder.registry import ModelRegistry
from mivaa_embedder.servicer import EmbedderServicer
from mivaa_platform.channels import wait_until_serving
from mivaa_platform.config import ServerSettings
from mivaa_platform.errors import InvalidArgument
from mivaa_platform.grpc_errors import error_info
from tests.support.inprocess import NOT_SERVING, health_status, serving

SERVICE = "mivaa.embedder.v1.EmbedderService"


async def test_embedder_is_not_serving_until_its_model_is_loaded(model_dir):
    registry = ModelRegistry(model_dir.parent, (model_dir.name,), max_batch_texts=64, max_wait_ms=2, threads=None)
    try:
        async with serving(
            "embedder-test",
            embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server,
            EmbedderServicer(registry),
            SERVICE,
        ) as (service, channel):
            assert await health_status(channel, SERVICE) == NOT_SERVING
            stub = embedder_service_pb2_grpc.EmbedderServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await stub.ListModels(pb.ListModelsRequest())
            assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
            assert error_info(failure.value).reason == "MODEL_LOADING"

            await registry.load()
            await service.set_serving(True)
            await wait_until_serving(channel, SERVICE, timeout=5)
            models = (await stub.ListModels(pb.ListModelsRequest())).models
            assert models[0].name == "all-MiniLM-L6-v2" and models[0].dimension == 384
            assert models[0].device.startswith("CPUExecutionProvider") or models[0].device.startswith("CUDA")

            # Domain errors become a canonical code plus exactly one ErrorInfo.
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await stub.EmbedTexts(pb.EmbedTextsRequest(texts=["x"] * 300))
            assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            info = error_info(failure.value)
            assert (info.reason, info.domain, info.metadata["max_texts"]) == ("TOO_MANY_TEXTS", "embedder.mivaa", "256")

            # The shared interceptor counted the calls with their codes.
            count = REGISTRY.get_sample_value(
                "mivaa_rpc_errors_total",
                {
                    "service": "embedder-test",
                    "method": "EmbedTexts",
                    "code": "INVALID_ARGUMENT",
                    "reason": "TOO_MANY_TEXTS",
                },
            )
            assert count == 1
            assert (
                REGISTRY.get_sample_value(
                    "mivaa_rpc_duration_seconds_count",
                    {"service": "embedder-test", "method": "ListModels", "code": "OK"},
                )
                >= 1
            )
    finally:
        await registry.close()


class _SlowServicer(embedder_service_pb2_grpc.EmbedderServiceServicer):
    async def ListModels(self, request, context):
        await asyncio.sleep(5)
        return pb.ListModelsResponse()

    async def EmbedTexts(self, request, context):
        raise RuntimeError("secret internal detail /etc/passwd")

    async def StreamEmbedTexts(self, request_iterator, context):
        async for _ in request_iterator:
            raise InvalidArgument("STREAM_REJECTED", "No streams today.", domain="test.mivaa")
            yield  # pragma: no cover


async def test_deadlines_and_unexpected_errors():
    async with serving(
        "deadline-test",
        embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server,
        _SlowServicer(),
        SERVICE,
        ServerSettings(port=0, max_rpc_seconds=0.5),
        unary_seconds=10,
    ) as (_, channel):
        stub = embedder_service_pb2_grpc.EmbedderServiceStub(channel)
        # The server's ceiling ends a call that runs too long, even when the caller allowed more.
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await stub.ListModels(pb.ListModelsRequest())
        assert failure.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # The caller's own deadline is honoured.
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await stub.ListModels(pb.ListModelsRequest(), timeout=0.1)
        assert failure.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # An unexpected exception is INTERNAL with a generic message: nothing leaks.
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await stub.EmbedTexts(pb.EmbedTextsRequest(texts=["x"]))
        assert failure.value.code() == grpc.StatusCode.INTERNAL
        assert "passwd" not in failure.value.details() and "RuntimeError" not in failure.value.details()
        assert error_info(failure.value).reason == "INTERNAL_ERROR"
        # Streaming handlers are mapped too.
        call = stub.StreamEmbedTexts(iter([pb.StreamEmbedTextsRequest(texts=["a"])]))
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            async for _ in call:
                pass
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_info(failure.value).reason == "STREAM_REJECTED"


def test_config_reports_every_problem_at_once():
    from dataclasses import dataclass

    from mivaa_platform.config import ConfigError, load_config

    @dataclass(frozen=True)
    class Settings:
        database_url: str
        port: int = 0
        roles: tuple[str, ...] = ("api",)

    with pytest.raises(ConfigError) as failure:
        load_config(Settings, "DEMO", {"DEMO_PORT": "eighty"})
    message = str(failure.value)
    assert "DEMO_DATABASE_URL is required" in message and "DEMO_PORT" in message
    settings = load_config(Settings, "DEMO", {"DEMO_DATABASE_URL": "postgresql://x", "DEMO_ROLES": "api, worker"})
    assert settings.roles == ("api", "worker") and settings.port == 0


class _SlowReceiver(extractor_service_pb2_grpc.ExtractorServiceServicer):
    """Takes its time over a client stream, as the search service does over a long chunk stream."""

    async def UploadDocument(self, request_iterator, context):
        async for _ in request_iterator:
            await asyncio.sleep(0.4)
        return extractor_service_pb2.UploadDocumentResponse(created=True)


async def test_a_client_stream_gets_the_stream_ceiling_not_the_unary_one():
    """A chunk stream lasts as long as its sender takes: the unary ceiling (0.5 s here, 120 s by
    default) must not end it, while the caller's own deadline still does."""
    async with serving(
        "client-stream-test",
        extractor_service_pb2_grpc.add_ExtractorServiceServicer_to_server,
        _SlowReceiver(),
        "mivaa.extractor.v1.ExtractorService",
        ServerSettings(port=0, max_rpc_seconds=0.5, max_stream_seconds=30),
    ) as (_, channel):
        stub = extractor_service_pb2_grpc.ExtractorServiceStub(channel)
        pieces = [extractor_service_pb2.UploadDocumentRequest(chunk=b"x") for _ in range(4)]
        response = await stub.UploadDocument(iter(pieces), timeout=20)
        assert response.created
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await stub.UploadDocument(iter(pieces), timeout=0.6)
        assert failure.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
