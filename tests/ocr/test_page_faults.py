"""A page that hangs or crashes its worker, through the real gRPC service: that page is reported, the rest go on.

The fault is injected (tests/ocr/faults.py: a real hang and a real SIGSEGV in a
real worker process, on chosen page ids); every other page is recognized by
Tesseract for real, and the service is the real OcrServicer on a free port.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest

from mivaa.ocr.v1 import ocr_service_pb2 as pb
from mivaa.ocr.v1 import ocr_service_pb2_grpc
from mivaa_ocr.main import SERVICE
from mivaa_ocr.pool import OcrPool
from mivaa_ocr.servicer import OcrServicer
from mivaa_platform.grpc_errors import error_info
from tests.ocr import faults
from tests.ocr.conftest import require_engine
from tests.ocr.groundtruth import render_text_page, to_png
from tests.support.inprocess import serving

PAGE_TIMEOUT = 3.0


async def test_a_hung_and_a_crashing_page_are_reported_in_the_stream_and_the_others_are_read():
    require_engine("tesseract")
    image = to_png(render_text_page(["Every other page of this stream is read."], dpi=100))
    pool = OcrPool(("tesseract",), processes=2, page_timeout=PAGE_TIMEOUT)
    pool.recognize_function = faults.recognize_with_faults
    try:
        async with serving(
            "ocr-faults-test", ocr_service_pb2_grpc.add_OcrServiceServicer_to_server, OcrServicer(pool), SERVICE
        ) as (service, channel):
            await pool.start()
            await service.set_serving(True)
            stub = ocr_service_pb2_grpc.OcrServiceStub(channel)
            ids = ["1", faults.HANG, "2", faults.CRASH, "3", "4"]

            async def requests():
                for page_id in ids:
                    yield pb.StreamRecognizeTextRequest(page=pb.PageImage(page_id=page_id, image=image, dpi=100))

            answers = [answer async for answer in stub.StreamRecognizeText(requests(), timeout=120)]
            read = {a.result.page_id: a.result for a in answers if a.HasField("result")}
            failed = {a.error.page_id: a.error for a in answers if a.HasField("error")}
            assert sorted(read) == ["1", "2", "3", "4"], answers
            assert all("stream is read" in result.text for result in read.values()), read
            assert failed[faults.HANG].reason == "OCR_PAGE_TIMEOUT"
            assert dict(failed[faults.HANG].metadata) == {"timeout_seconds": f"{PAGE_TIMEOUT:g}"}
            assert "took longer than the 3 s limit" in failed[faults.HANG].message
            assert failed[faults.CRASH].reason == "OCR_WORKER_CRASHED"
            assert set(failed) == {faults.HANG, faults.CRASH}

            # The unary call reports the same fault as the call's status; the lost workers were replaced.
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await stub.RecognizeText(
                    pb.RecognizeTextRequest(page=pb.PageImage(page_id=faults.CRASH, image=image, dpi=100)), timeout=60
                )
            assert failure.value.code() == grpc.StatusCode.INTERNAL
            assert error_info(failure.value).reason == "OCR_WORKER_CRASHED"
            after = await stub.RecognizeText(
                pb.RecognizeTextRequest(page=pb.PageImage(page_id="5", image=image, dpi=100)), timeout=60
            )
            assert "stream is read" in after.result.text
            for _ in range(300):  # the worker lost to the last crash is being started again
                if len(pool.worker_pids()) == 2:
                    break
                await asyncio.sleep(0.1)
            assert len(pool.worker_pids()) == 2
    finally:
        await pool.close()
