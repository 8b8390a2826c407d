"""Server interceptors written once for every service: metrics, error mapping, deadlines.

Each wraps the handler's behaviour for all four RPC shapes. Errors raised by
domain code (MivaaError) become canonical statuses with an ErrorInfo; anything
else is logged with its traceback and reaches the caller as INTERNAL with a
generic message, never the raw exception text.

Requests are read and parsed here, not by grpc: every handler is served as one taking a
stream of raw messages. grpc.aio's own unary-request path never finishes a call whose
request stream ends without a message (it returns without a status, so the caller waits
for its deadline), and answers a message that does not parse with UNKNOWN naming the
Python exception class. Here both are INVALID_ARGUMENT at once: REQUEST_MISSING and
REQUEST_MALFORMED.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from mivaa_platform.errors import Internal, InvalidArgument, MivaaError
from mivaa_platform.grpc_errors import status_code_for, to_rpc_status
from mivaa_platform.telemetry import RPC_DURATION, RPC_ERRORS

log = logging.getLogger("mivaa.rpc")
_END = object()  # a response stream's end


def _split_method(full_method: str) -> tuple[str, str]:
    _, service, method = full_method.split("/", 2) if full_method.count("/") >= 2 else ("", "", full_method)
    return service, method


class _CallOutcome:
    """Records how a call ended, for the metrics interceptor."""

    __slots__ = ("code", "reason")

    def __init__(self) -> None:
        self.code = grpc.StatusCode.OK
        self.reason = ""


async def _fail(context: grpc.aio.ServicerContext, error: MivaaError, outcome: _CallOutcome) -> None:
    outcome.code = status_code_for(error)
    outcome.reason = error.reason
    await context.abort_with_status(to_rpc_status(error))


def _parse(raw: bytes, deserialize: Callable[[bytes], object] | None) -> object:
    if deserialize is None:
        return raw
    try:
        return deserialize(raw)
    except Exception:  # noqa: BLE001 - DecodeError and kin; their text names library internals
        raise InvalidArgument("REQUEST_MALFORMED", "The request message could not be parsed.") from None


async def _single_request(raw_requests: AsyncIterator[bytes], deserialize) -> object:
    """The one request message of a unary-request call (a second one, if any, is not read)."""
    async for raw in raw_requests:
        return _parse(raw, deserialize)
    raise InvalidArgument("REQUEST_MISSING", "The call carried no request message.")


async def _parsed_requests(raw_requests: AsyncIterator[bytes], deserialize) -> AsyncIterator[object]:
    async for raw in raw_requests:
        yield _parse(raw, deserialize)


def _unexpected(method: str, exc: BaseException) -> MivaaError:
    log.exception("unhandled error in %s", method, exc_info=exc)
    return Internal("INTERNAL_ERROR", "The service hit an unexpected error; it has been logged.")


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Metrics + error mapping + request parsing + server-side ceilings on call time.

    max_unary_seconds bounds a call with one request and one response; max_stream_seconds one
    that streams either way (uploads, chunk streams, watches, exports), whatever deadline the
    caller asked for. A client stream lasts as long as its sender takes to produce the data (a
    619-page document's chunks took over two minutes on a busy machine), so it gets the stream
    ceiling; the caller's own deadline still bounds it.
    """

    def __init__(self, service_label: str, max_unary_seconds: float, max_stream_seconds: float = 3600.0):
        self.service_label = service_label
        self.max_unary_seconds = max_unary_seconds
        self.max_stream_seconds = max_stream_seconds

    def _deadline(self, context: grpc.aio.ServicerContext, ceiling: float) -> float:
        remaining = context.time_remaining()
        return asyncio.get_running_loop().time() + (ceiling if remaining is None else min(ceiling, remaining))

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        full_method = handler_call_details.method
        _, method = _split_method(full_method)
        labels = (self.service_label, method)
        deserialize = handler.request_deserializer

        def observe(started: float, outcome: _CallOutcome) -> None:
            RPC_DURATION.labels(*labels, outcome.code.name).observe(time.perf_counter() - started)
            if outcome.code is not grpc.StatusCode.OK:
                RPC_ERRORS.labels(*labels, outcome.code.name, outcome.reason).inc()

        async def request_of(raw_requests):
            """What the handler takes: its one parsed message, or a stream of them."""
            if handler.unary_unary or handler.unary_stream:
                return await _single_request(raw_requests, deserialize)
            return _parsed_requests(raw_requests, deserialize)

        async def guarded(run, context, outcome: _CallOutcome):
            """Runs `run()` with the error mapping, as the last line of defence."""
            try:
                return await run()
            except MivaaError as error:
                await _fail(context, error, outcome)
            except TimeoutError:
                outcome.code = grpc.StatusCode.DEADLINE_EXCEEDED
                await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "The call ran past its deadline.")
            except (asyncio.CancelledError, grpc.aio.AbortError):
                outcome.code = context.code() or grpc.StatusCode.CANCELLED
                raise
            except Exception as exc:  # noqa: BLE001 - the last line of defence
                await _fail(context, _unexpected(full_method, exc), outcome)

        async def run_unary(raw_requests, context):
            started, outcome = time.perf_counter(), _CallOutcome()
            behavior = handler.unary_unary or handler.stream_unary
            ceiling = self.max_unary_seconds if handler.unary_unary else self.max_stream_seconds
            try:

                async def run():
                    async with asyncio.timeout_at(self._deadline(context, ceiling)):
                        return await behavior(await request_of(raw_requests), context)

                return await guarded(run, context, outcome)
            finally:
                observe(started, outcome)

        async def run_generator(raw_requests, context) -> AsyncIterator:
            started, outcome = time.perf_counter(), _CallOutcome()
            behavior = handler.unary_stream or handler.stream_stream
            responses = None
            try:
                deadline = self._deadline(context, self.max_stream_seconds)

                async def start():
                    async with asyncio.timeout_at(deadline):
                        return behavior(await request_of(raw_requests), context)

                responses = await guarded(start, context, outcome)
                if not inspect.isasyncgen(responses):
                    # A handler that writes with context.write (grpc's health Watch): a
                    # coroutine, run here; this wrapper yields nothing itself.
                    writer, responses = responses, None  # not an async generator to close

                    async def write():
                        async with asyncio.timeout_at(deadline):
                            await writer

                    await guarded(write, context, outcome)
                    return
                while True:
                    # The ceiling covers the handler's work between messages; the time the
                    # transport takes to send one is grpc's (flow control, keepalive).
                    async def step():
                        async with asyncio.timeout_at(deadline):
                            return await anext(responses, _END)

                    response = await guarded(step, context, outcome)
                    if response is _END:
                        return
                    yield response
            finally:
                if responses is not None:
                    await responses.aclose()
                observe(started, outcome)

        # grpc.aio decides how to drive a handler from its function type, so each wrapper
        # must itself be a coroutine function or an async generator function; all take the
        # raw request stream (no request_deserializer: parsed above). Response streams are
        # always async generators: OpenTelemetry's server interceptor, outside this one,
        # iterates every streaming handler.
        if handler.unary_unary or handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(run_unary, response_serializer=handler.response_serializer)
        return grpc.stream_stream_rpc_method_handler(run_generator, response_serializer=handler.response_serializer)
