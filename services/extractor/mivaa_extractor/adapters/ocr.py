"""PageRecognizer over OcrService."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import grpc

from mivaa.ocr.v1 import ocr_service_pb2, ocr_service_pb2_grpc
from mivaa_extractor.ports import RecognizedPage
from mivaa_platform.grpc_errors import from_rpc_error


class OcrClient:
    """PageRecognizer over OcrService: one bidirectional stream per batch of pages."""

    def __init__(self, channel: grpc.aio.Channel, *, engine: str = "", languages: tuple[str, ...] = ()):
        self._stub = ocr_service_pb2_grpc.OcrServiceStub(channel)
        self._options = ocr_service_pb2.OcrOptions(engine=engine, languages=list(languages), correct_orientation=True)

    async def recognize(
        self, pages: Sequence[tuple[int, bytes]], dpi: int, *, languages: Sequence[str] = ()
    ) -> dict[int, RecognizedPage]:
        options = self._options
        if languages:  # the document's own (its processing options) win over the configured ones
            options = ocr_service_pb2.OcrOptions()
            options.CopyFrom(self._options)
            options.languages[:] = list(languages)

        async def requests() -> AsyncIterator[ocr_service_pb2.StreamRecognizeTextRequest]:
            for index, (number, png) in enumerate(pages):
                yield ocr_service_pb2.StreamRecognizeTextRequest(
                    options=options if index == 0 else None,
                    page=ocr_service_pb2.PageImage(page_id=str(number), image=png, dpi=dpi),
                )

        results: dict[int, RecognizedPage] = {}
        try:
            async for response in self._stub.StreamRecognizeText(requests()):
                if response.HasField("error"):
                    failed = response.error
                    number = int(failed.page_id)
                    results[number] = RecognizedPage(number, "", 0.0, failed.reason, failed.message)
                    continue
                result = response.result
                number = int(result.page_id)
                results[number] = RecognizedPage(
                    number=number,
                    text=result.text,
                    confidence=result.confidence,
                    flag_reason=result.flag_reason,
                    detected_script=result.detected_script,
                )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "ocr") from exc
        return results
