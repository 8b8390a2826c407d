"""The OCR gRPC service for real, in-process on a free port: health gating, the three RPCs, errors."""

from __future__ import annotations

import asyncio

import grpc
import pytest
import pytest_asyncio

from mivaa.ocr.v1 import ocr_service_pb2 as pb
from mivaa.ocr.v1 import ocr_service_pb2_grpc
from mivaa_ocr.main import SERVICE
from mivaa_ocr.pool import OcrPool
from mivaa_ocr.servicer import OcrServicer
from mivaa_platform.channels import create_channel, wait_until_serving
from mivaa_platform.config import ServerSettings
from mivaa_platform.grpc_errors import error_info
from mivaa_platform.server import GrpcService
from tests.ocr.conftest import require_engine
from tests.ocr.groundtruth import PARAGRAPHS, cer, render_text_page, rotate_clockwise, to_jpeg, to_png
from tests.support.inprocess import NOT_SERVING, health_status, serving


@pytest_asyncio.fixture(scope="module")
async def stub(ocr_pool):
    service = GrpcService("ocr-test", ServerSettings(port=0))
    service.add(ocr_service_pb2_grpc.add_OcrServiceServicer_to_server, OcrServicer(ocr_pool), SERVICE)
    port = await service.start()
    await service.set_serving(True)
    channel = create_channel(f"127.0.0.1:{port}")
    try:
        await wait_until_serving(channel, SERVICE, timeout=10)
        yield ocr_service_pb2_grpc.OcrServiceStub(channel)
    finally:
        await channel.close()
        await service.stop()


def _page(i: int, degrees: int = 0) -> pb.PageImage:
    image = rotate_clockwise(render_text_page([PARAGRAPHS[i % 3]], dpi=150), degrees)
    data = to_jpeg(image, 80) if i % 2 else to_png(image)
    return pb.PageImage(page_id=f"page-{i}", image=data, dpi=150)


async def test_not_serving_until_the_engines_are_loaded():
    require_engine("tesseract")
    pool = OcrPool(("tesseract",), processes=1)
    try:
        async with serving(
            "ocr-health-test", ocr_service_pb2_grpc.add_OcrServiceServicer_to_server, OcrServicer(pool), SERVICE
        ) as (service, channel):
            assert await health_status(channel, SERVICE) == NOT_SERVING
            stub = ocr_service_pb2_grpc.OcrServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await stub.ListEngines(pb.ListEnginesRequest())
            assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
            assert error_info(failure.value).reason == "ENGINES_LOADING"

            await pool.start()
            await service.set_serving(True)
            await wait_until_serving(channel, SERVICE, timeout=10)
            engines = (await stub.ListEngines(pb.ListEnginesRequest())).engines
            assert [(e.name, e.device, e.is_default) for e in engines] == [("tesseract", "cpu", True)]
    finally:
        await pool.close()


async def test_list_engines(stub):
    engines = {engine.name: engine for engine in (await stub.ListEngines(pb.ListEnginesRequest())).engines}
    require_engine("tesseract")
    assert engines["tesseract"].is_default and engines["tesseract"].device == "cpu"
    assert "eng" in engines["tesseract"].languages
    require_engine("easyocr")
    assert "en" in engines["easyocr"].languages and not engines["easyocr"].is_default
    assert engines["easyocr"].device in ("cpu", "cuda")


async def test_recognize_text(stub):
    require_engine("tesseract")
    page = _page(0, degrees=180)
    response = await stub.RecognizeText(
        pb.RecognizeTextRequest(page=page, options=pb.OcrOptions(correct_orientation=True))
    )
    result = response.result
    assert result.page_id == "page-0" and result.engine == "tesseract"
    assert result.rotation_degrees == 180
    assert cer(PARAGRAPHS[0], result.text) <= 0.01
    assert result.lines and result.lines[0].words and 0 < result.confidence <= 1
    assert result.width > 0 and result.height > 0 and result.seconds > 0
    # boxes are in the image as sent (upside down): the first line is near the bottom
    assert result.lines[0].box.y0 > result.height / 2


async def test_stream_recognize_text_matches_pages_by_id(stub, ocr_pool, monkeypatch):
    require_engine("tesseract")
    pages = [_page(i, degrees=(0, 90, 180, 270)[i % 4]) for i in range(6)]
    busy = peak = 0
    original = ocr_pool.recognize

    async def counting(*args, **kwargs):
        nonlocal busy, peak
        busy += 1
        peak = max(peak, busy)
        try:
            return await original(*args, **kwargs)
        finally:
            busy -= 1

    monkeypatch.setattr(ocr_pool, "recognize", counting)

    async def requests():
        for i, page in enumerate(pages):
            options = pb.OcrOptions(engine="tesseract", languages=["eng"], correct_orientation=True) if i == 0 else None
            yield pb.StreamRecognizeTextRequest(options=options, page=page)

    results = {}
    async for response in stub.StreamRecognizeText(requests()):
        results[response.result.page_id] = response.result
    assert sorted(results) == sorted(page.page_id for page in pages)
    for i in range(6):
        result = results[f"page-{i}"]
        assert result.rotation_degrees == (0, 90, 180, 270)[i % 4]
        assert cer(PARAGRAPHS[i % 3], result.text) <= 0.01, result.text
    assert 1 <= peak <= ocr_pool.max_in_flight


async def test_bad_image_is_image_unreadable_and_fails_alone_in_a_stream(stub):
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.RecognizeText(pb.RecognizeTextRequest(page=pb.PageImage(page_id="x", image=b"%PDF-1.7 nope")))
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(failure.value)
    assert (info.reason, info.domain, info.metadata["page_id"]) == ("IMAGE_UNREADABLE", "ocr.mivaa", "x")

    async def requests():
        yield pb.StreamRecognizeTextRequest(page=_page(0))
        yield pb.StreamRecognizeTextRequest(page=pb.PageImage(page_id="bad", image=b"\x00\x01"))

    # In a stream the bad page is reported alone and the good one is still read.
    answers = {a.result.page_id or a.error.page_id: a async for a in stub.StreamRecognizeText(requests())}
    assert sorted(answers) == ["bad", "page-0"]
    assert answers["bad"].error.reason == "IMAGE_UNREADABLE" and not answers["bad"].HasField("result")
    assert cer(PARAGRAPHS[0], answers["page-0"].result.text) <= 0.01


async def test_unknown_language_is_language_not_available(stub):
    require_engine("tesseract")
    request = pb.RecognizeTextRequest(page=_page(0), options=pb.OcrOptions(engine="tesseract", languages=["klingon"]))
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.RecognizeText(request)
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(failure.value)
    assert info.reason == "LANGUAGE_NOT_AVAILABLE"
    assert info.metadata["languages"] == "klingon" and "eng" in info.metadata["installed"].split(",")

    async def requests():
        yield pb.StreamRecognizeTextRequest(options=pb.OcrOptions(languages=["klingon"]), page=_page(1))

    with pytest.raises(grpc.aio.AioRpcError) as failure:
        async for _ in stub.StreamRecognizeText(requests()):
            pass
    assert error_info(failure.value).reason == "LANGUAGE_NOT_AVAILABLE"


async def test_unknown_engine(stub):
    request = pb.RecognizeTextRequest(page=_page(0), options=pb.OcrOptions(engine="abbyy"))
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.RecognizeText(request)
    info = error_info(failure.value)
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION and info.reason == "ENGINE_NOT_AVAILABLE"


async def test_easyocr_through_the_service(stub):
    require_engine("easyocr")
    page = pb.PageImage(page_id="e", image=to_png(render_text_page([PARAGRAPHS[1]], dpi=150)), dpi=150)
    result = (
        await stub.RecognizeText(pb.RecognizeTextRequest(page=page, options=pb.OcrOptions(engine="easyocr")))
    ).result
    assert result.engine == "easyocr" and cer(PARAGRAPHS[1], result.text) <= 0.03, result.text


async def test_empty_stream(stub):
    async def requests():
        return
        yield  # pragma: no cover

    assert [r async for r in stub.StreamRecognizeText(requests())] == []
    await asyncio.sleep(0)
