"""EmbedImages / EmbedTexts / ListModels over real gRPC, on the tiny random-weight CLIP export."""

from __future__ import annotations

import asyncio

import grpc
import numpy as np
import pytest

from mivaa.embedder.v1 import embedder_service_pb2 as pb
from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa_embedder.registry import ModelRegistry
from mivaa_embedder.servicer import MAX_IMAGE_BYTES, MAX_REQUEST_MESSAGE_BYTES, EmbedderServicer
from mivaa_platform.config import ServerSettings
from mivaa_platform.grpc_errors import error_info
from mivaa_platform.server import GrpcService
from tests.embedder.clip_support import (
    SERVICE,
    TEXT_MODEL_DIR,
    models_dir_with,
    scene,
)
from tests.support.inprocess import serving
from tests.support.pictures import encode


def stub_for(channel) -> embedder_service_pb2_grpc.EmbedderServiceStub:
    return embedder_service_pb2_grpc.EmbedderServiceStub(channel)


async def collect(call) -> list[pb.EmbedImagesResponse]:
    return [response async for response in call]


def requests(images: list[bytes], *, model: str = "tiny-clip", prefix: str = "img"):
    for i, image in enumerate(images):
        yield pb.EmbedImagesRequest(model=model if i == 0 else "", image=image, id=f"{prefix}-{i}")


async def test_embed_images_over_grpc(tmp_path, clip_dir, clip, images):
    root = models_dir_with(tmp_path, clip_dir)
    text_models = (TEXT_MODEL_DIR.name,) if (root / TEXT_MODEL_DIR.name).exists() else ()
    registry = ModelRegistry(root, text_models, image_models=None, max_batch_texts=64, max_wait_ms=5, threads=None)
    servicer = EmbedderServicer(registry)
    async with serving(
        "embedder-clip-test", embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server, servicer, SERVICE
    ) as (
        _,
        channel,
    ):
        stub = stub_for(channel)
        # Before the models are loaded the service says so.
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await collect(stub.EmbedImages(requests(images[:1])))
        assert (
            failure.value.code() == grpc.StatusCode.UNAVAILABLE and error_info(failure.value).reason == "MODEL_LOADING"
        )
        await registry.load()
        try:
            # One response per image, in order, ids echoed, the model named on the first.
            responses = await collect(stub.EmbedImages(requests(images)))
            assert [r.id for r in responses] == [f"img-{i}" for i in range(len(images))]
            assert responses[0].model == "tiny-clip" and all(r.model == "" for r in responses[1:])
            direct = clip.embed_images(images).vectors
            np.testing.assert_allclose(np.array([r.embedding.values for r in responses]), direct, atol=1e-5)

            # Two streams at once, the default image model (no name): each gets its own vectors, in order.
            first, second = await asyncio.gather(
                collect(stub.EmbedImages(requests(images[:10], model="", prefix="a"))),
                collect(stub.EmbedImages(requests(images[10:][::-1], model="", prefix="b"))),
            )
            np.testing.assert_allclose(np.array([r.embedding.values for r in first]), direct[:10], atol=1e-5)
            np.testing.assert_allclose(np.array([r.embedding.values for r in second]), direct[10:][::-1], atol=1e-5)
            assert [r.id for r in second] == [f"b-{i}" for i in range(10)]

            # A bad image: the images before it are answered, then the stream fails naming it.
            bad = [images[0], images[1], b"\x89PNG\r\n\x1a\n truncated", images[2]]
            call = stub.EmbedImages(requests(bad))
            received = []
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                async for response in call:
                    received.append(response.id)
            assert received == ["img-0", "img-1"]
            assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            info = error_info(failure.value)
            assert (info.reason, info.domain, info.metadata["index"], info.metadata["id"]) == (
                "IMAGE_UNREADABLE",
                "embedder.mivaa",
                "2",
                "img-2",
            )

            # A caller that walks away mid-stream costs nothing lasting: the next stream is served.
            call = stub.EmbedImages(requests(images))
            async for _ in call:
                break
            call.cancel()
            await asyncio.sleep(0.05)
            assert len(await collect(stub.EmbedImages(requests(images[:3])))) == 3

            # An unknown model name.
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await collect(stub.EmbedImages(requests(images[:1], model="no-such-model")))
            assert failure.value.code() == grpc.StatusCode.NOT_FOUND

            # EmbedTexts with the CLIP name uses its text tower; the default stays the text model.
            texts = ["a photo of a cat", "a chart showing revenue by quarter"]
            response = await stub.EmbedTexts(pb.EmbedTextsRequest(texts=texts, model="tiny-clip"))
            assert response.model == "tiny-clip"
            np.testing.assert_allclose(
                np.array([e.values for e in response.embeddings]), clip.embed_texts(texts).vectors, atol=1e-5
            )
            assert [e.token_count for e in response.embeddings] == clip.count_tokens(texts)
            default = await stub.EmbedTexts(pb.EmbedTextsRequest(texts=texts))
            if text_models:
                assert default.model == "all-MiniLM-L6-v2" and len(default.embeddings[0].values) == 384

            # ListModels: the CLIP model is an image model that embeds text and images.
            models = {m.name: m for m in (await stub.ListModels(pb.ListModelsRequest())).models}
            tiny = models["tiny-clip"]
            assert tiny.modality == pb.MODALITY_IMAGE
            assert list(tiny.input_modalities) == [pb.MODALITY_TEXT, pb.MODALITY_IMAGE]
            assert (tiny.dimension, tiny.max_tokens, tiny.device) == (32, 77, "CPUExecutionProvider/fp32")
            assert tiny.source == clip.source != ""
            if text_models:
                text = models["all-MiniLM-L6-v2"]
                assert text.modality == pb.MODALITY_TEXT and list(text.input_modalities) == [pb.MODALITY_TEXT]
        finally:
            await registry.close()


async def test_image_search_texts_count_as_queries_and_label_texts_do_not(tmp_path, clip_dir):
    from mivaa_embedder.bulk_runs import QueryPressure
    from mivaa_platform.embedder_client import ImageEmbedderClient

    registry = ModelRegistry(
        models_dir_with(tmp_path, clip_dir), (), image_models=None, max_batch_texts=8, max_wait_ms=1, threads=1
    )
    registry.pressure = QueryPressure(bulk_cores=0.1)
    await registry.load()
    try:
        async with serving(
            "embedder-clip-pressure-test",
            embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server,
            EmbedderServicer(registry),
            SERVICE,
        ) as (_, channel):
            # A worker's label texts: no sign of someone waiting.
            model, vectors = await ImageEmbedderClient(channel).embed_texts(["a chart of revenue"])
            assert model == "tiny-clip" and len(vectors[0]) == 32
            assert not registry.pressure.busy()
            # Image search by text (the search service's client): the embedder's bulk runs pace themselves.
            _, searched = await ImageEmbedderClient(channel, interactive=True).embed_texts(["a chart of revenue"])
            assert registry.pressure.busy()
            np.testing.assert_allclose(searched, vectors, atol=1e-6)
    finally:
        await registry.close()


async def test_embed_images_without_an_image_model_says_how_to_get_one(tmp_path):
    if not (TEXT_MODEL_DIR / "manifest.json").is_file():
        pytest.skip(f"text model not exported at {TEXT_MODEL_DIR}: run `make models`")
    registry = ModelRegistry(
        TEXT_MODEL_DIR.parent, (TEXT_MODEL_DIR.name,), image_models=(), max_batch_texts=8, max_wait_ms=1, threads=1
    )
    await registry.load()
    try:
        async with serving(
            "embedder-noimage-test",
            embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server,
            EmbedderServicer(registry),
            SERVICE,
        ) as (
            _,
            channel,
        ):
            stub = stub_for(channel)
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await collect(stub.EmbedImages(requests([encode(scene(32, 32, 1))])))
            assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert error_info(failure.value).reason == "IMAGE_MODEL_UNAVAILABLE"
            assert "mivaa models export-clip" in failure.value.details()
            # The text model is untouched.
            response = await stub.EmbedTexts(pb.EmbedTextsRequest(texts=["still here"]))
            assert response.model == "all-MiniLM-L6-v2"
            (only,) = (await stub.ListModels(pb.ListModelsRequest())).models
            assert only.modality == pb.MODALITY_TEXT
            # What the extractor and search services use: the same reason, before any image is sent,
            # so documents are still indexed (without image vectors) and image search says why it cannot answer.
            from mivaa_platform.embedder_client import ImageEmbedderClient
            from mivaa_platform.errors import FailedPrecondition

            with pytest.raises(FailedPrecondition) as unavailable:
                await ImageEmbedderClient(channel).embed_images([encode(scene(32, 32, 1))])
            assert unavailable.value.reason == "IMAGE_MODEL_UNAVAILABLE"
            with pytest.raises(FailedPrecondition):
                await ImageEmbedderClient(channel).embed_texts(["a red bicycle"])
    finally:
        await registry.close()


async def test_one_image_of_32_mib_fits_in_a_message(tmp_path, clip_dir, clip):
    """The embedder's server takes a 32 MiB image plus its id (the shared default stops at 32 MiB)."""
    side = int(np.sqrt((MAX_IMAGE_BYTES - 1024) / 3)) // 4 * 4
    bmp = encode(scene(400, 400, 7).resize((side, side)), "BMP")
    big = bmp + b"\0" * (MAX_IMAGE_BYTES - len(bmp))  # BMP readers ignore trailing bytes
    assert len(big) == MAX_IMAGE_BYTES
    registry = ModelRegistry(
        models_dir_with(tmp_path, clip_dir, text=False),
        (),
        image_models=None,
        max_batch_texts=8,
        max_wait_ms=1,
        threads=None,
    )
    await registry.load()
    service = GrpcService(
        "embedder-big-test", ServerSettings(port=0), max_receive_message_bytes=MAX_REQUEST_MESSAGE_BYTES
    )
    service.add(embedder_service_pb2_grpc.add_EmbedderServiceServicer_to_server, EmbedderServicer(registry), SERVICE)
    port = await service.start()
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]
    )
    try:
        stub = stub_for(channel)
        request = pb.EmbedImagesRequest(model="tiny-clip", image=big, id="x" * 1000)
        assert request.ByteSize() > 32 * 1024 * 1024
        (response,) = await collect(stub.EmbedImages(iter([request]), timeout=120))
        assert response.id == "x" * 1000
        np.testing.assert_allclose(response.embedding.values, clip.embed_images([bmp]).vectors[0], atol=1e-5)
        # Over the per-image limit (but within the message limit): a clear error, not a transport one.
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await collect(stub.EmbedImages(iter([pb.EmbedImagesRequest(image=big + b"\0")]), timeout=120))
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        info = error_info(failure.value)
        assert (info.reason, info.metadata["index"], info.metadata["max_bytes"]) == (
            "IMAGE_TOO_LARGE",
            "0",
            str(MAX_IMAGE_BYTES),
        )
    finally:
        await channel.close()
        await service.stop()
        await registry.close()
