"""OcrService: translates between protos and the OCR pool, nothing more."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from mivaa.ocr.v1 import ocr_service_pb2 as pb
from mivaa.ocr.v1 import ocr_service_pb2_grpc
from mivaa_ocr import metrics
from mivaa_ocr.engines.base_engine import Box
from mivaa_ocr.errors import DOMAIN, engines_loading
from mivaa_ocr.pool import OcrPool, PageResult, RecognizeOptions
from mivaa_platform.errors import ErrorKind, InvalidArgument, MivaaError
from mivaa_platform.streams import END, read_ahead


def _options(options: pb.OcrOptions) -> RecognizeOptions:
    return RecognizeOptions(
        engine=options.engine,
        languages=tuple(language.strip() for language in options.languages if language.strip()),
        correct_orientation=options.correct_orientation,
    )


def _box(box: Box) -> pb.BoundingBox:
    return pb.BoundingBox(x0=box.x0, y0=box.y0, x1=box.x1, y1=box.y1)


def _to_proto(result: PageResult) -> pb.PageResult:
    metrics.page_recognized(result)  # every page answered goes through here
    return pb.PageResult(
        page_id=result.page_id,
        text=result.text,
        lines=[
            pb.Line(
                text=line.text,
                box=_box(line.box),
                confidence=line.confidence,
                words=[pb.Word(text=w.text, box=_box(w.box), confidence=w.confidence) for w in line.words],
            )
            for line in result.lines
        ],
        confidence=result.confidence,
        rotation_degrees=result.rotation_degrees,
        skew_degrees=result.skew_degrees,
        engine=result.engine,
        seconds=result.seconds,
        width=result.width,
        height=result.height,
        detected_script=result.detected_script,
        script_confidence=result.script_confidence,
        script_detection_method=result.script_method,
        languages=list(result.languages),
        flag_reason=result.flag_reason,
    )


# Errors that concern one page of a stream (its image, its time, its worker); the others (an
# unknown engine or language, the service going down) concern every page and end the stream.
_PAGE_ERROR_KINDS = frozenset({ErrorKind.INVALID_ARGUMENT, ErrorKind.RESOURCE_EXHAUSTED, ErrorKind.INTERNAL})


def _page_error(page_id: str, error: MivaaError) -> pb.StreamRecognizeTextResponse:
    metadata = {key: value for key, value in error.metadata.items() if key != "page_id"}
    return pb.StreamRecognizeTextResponse(
        error=pb.PageError(page_id=page_id, reason=error.reason, message=error.message, metadata=metadata)
    )


def _page(page: pb.PageImage) -> tuple[str, bytes, int]:
    if page.dpi < 0:
        raise InvalidArgument("INVALID_DPI", "dpi must be 0 (unknown) or positive.", domain=DOMAIN)
    return page.page_id, page.image, page.dpi


class OcrServicer(ocr_service_pb2_grpc.OcrServiceServicer):
    def __init__(self, pool: OcrPool):
        self._pool = pool

    async def RecognizeText(self, request: pb.RecognizeTextRequest, context) -> pb.RecognizeTextResponse:
        page_id, image, dpi = _page(request.page)
        result = await self._pool.recognize(page_id, image, dpi, _options(request.options))
        return pb.RecognizeTextResponse(result=_to_proto(result))

    async def StreamRecognizeText(
        self, request_iterator: AsyncIterator[pb.StreamRecognizeTextRequest], context
    ) -> AsyncIterator[pb.StreamRecognizeTextResponse]:
        """Reads pages only while fewer than the pool's capacity are pending; yields each as it finishes,
        a page that failed alone (timed out, crashed its worker, unreadable) as its PageError."""
        slots = asyncio.Semaphore(self._pool.max_in_flight)
        finished: asyncio.Queue = asyncio.Queue()
        pending: set[asyncio.Task] = set()

        def done(task: asyncio.Task) -> None:
            pending.discard(task)
            slots.release()
            finished.put_nowait(task)

        options = None
        pages: dict[asyncio.Task, str] = {}

        async def admit(request: pb.StreamRecognizeTextRequest) -> None:
            nonlocal options
            if options is None:
                options = _options(request.options)
                self._pool.check(options)  # fail fast on an unknown engine or language
            page_id, image, dpi = _page(request.page)
            await slots.acquire()
            task = asyncio.create_task(self._pool.recognize(page_id, image, dpi, options))
            pages[task] = page_id
            pending.add(task)
            task.add_done_callback(done)

        reader = asyncio.create_task(read_ahead(request_iterator, admit, finished))
        reading = True
        try:
            while reading or pending or not finished.empty():
                item = await finished.get()
                if item is END:
                    reading = False
                    continue
                if isinstance(item, BaseException):
                    raise item
                page_id = pages.pop(item)
                failure = item.exception()
                if isinstance(failure, MivaaError) and failure.kind in _PAGE_ERROR_KINDS:
                    yield _page_error(page_id, failure)  # this page alone failed: the others go on
                elif failure is not None:
                    raise failure
                else:
                    yield pb.StreamRecognizeTextResponse(result=_to_proto(item.result()))
        finally:
            reader.cancel()
            for task in list(pending):
                task.cancel()

    async def ListEngines(self, request: pb.ListEnginesRequest, context) -> pb.ListEnginesResponse:
        if not self._pool.ready:
            raise engines_loading()
        return pb.ListEnginesResponse(
            engines=[
                pb.Engine(
                    name=info.name,
                    languages=list(info.languages),
                    device=info.device,
                    is_default=info.name == self._pool.default_engine,
                )
                for info in self._pool.engines()
            ]
        )
