"""Server interceptors written once for every service: metrics, error mapping, deadlines.

Each wraps the handler's behaviour for all four RPC shapes. Errors raised by
domain code (MivaaError) become canonical statuses with an ErrorInfo; anything
else is logged with its traceback and reaches the caller as INTERNAL with a
generic message, never the raw exception text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from mivaa_platform.errors import Internal, MivaaError
from mivaa_platform.grpc_errors import status_code_for, to_rpc_status
from mivaa_platform.telemetry import RPC_DURATION, RPC_ERRORS

log = logging.getLogger("mivaa.rpc")


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


def _unexpected(method: str, exc: BaseException) -> MivaaError:
    log.exception("unhandled error in %s", method, exc_info=exc)
    return Internal("INTERNAL_ERROR", "The service hit an unexpected error; it has been logged.")


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    """Metrics + error mapping + a server-side ceiling on unary call time."""

    def __init__(self, service_label: str, max_unary_seconds: float):
        self.service_label = service_label
        self.max_unary_seconds = max_unary_seconds

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        full_method = handler_call_details.method
        _, method = _split_method(full_method)
        labels = (self.service_label, method)

        def observe(started: float, outcome: _CallOutcome) -> None:
            RPC_DURATION.labels(*labels, outcome.code.name).observe(time.perf_counter() - started)
            if outcome.code is not grpc.StatusCode.OK:
                RPC_ERRORS.labels(*labels, outcome.code.name, outcome.reason).inc()

        async def run_unary(behavior, request_or_iterator, context):
            started, outcome = time.perf_counter(), _CallOutcome()
            try:
                timeout = self.max_unary_seconds
                remaining = context.time_remaining()
                if remaining is not None:
                    timeout = min(timeout, remaining)
                return await asyncio.wait_for(behavior(request_or_iterator, context), timeout)
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
            finally:
                observe(started, outcome)

        async def run_streaming(behavior, request_or_iterator, context) -> AsyncIterator:
            started, outcome = time.perf_counter(), _CallOutcome()
            try:
                async for response in behavior(request_or_iterator, context):
                    yield response
            except MivaaError as error:
                await _fail(context, error, outcome)
            except (asyncio.CancelledError, grpc.aio.AbortError):
                outcome.code = context.code() or grpc.StatusCode.CANCELLED
                raise
            except Exception as exc:  # noqa: BLE001
                await _fail(context, _unexpected(full_method, exc), outcome)
            finally:
                observe(started, outcome)

        # grpc.aio decides how to drive a handler from its function type, so each
        # wrapper must itself be a coroutine function or an async generator function.
        if handler.unary_unary:
            unary_behavior = handler.unary_unary

            async def unary_unary(request, context):
                return await run_unary(unary_behavior, request, context)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            stream_unary_behavior = handler.stream_unary

            async def stream_unary(request_iterator, context):
                return await run_unary(stream_unary_behavior, request_iterator, context)

            return grpc.stream_unary_rpc_method_handler(
                stream_unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            unary_stream_behavior = handler.unary_stream

            async def unary_stream(request, context):
                async for response in run_streaming(unary_stream_behavior, request, context):
                    yield response

            return grpc.unary_stream_rpc_method_handler(
                unary_stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        stream_stream_behavior = handler.stream_stream

        async def stream_stream(request_iterator, context):
            async for response in run_streaming(stream_stream_behavior, request_iterator, context):
                yield response

        return grpc.stream_stream_rpc_method_handler(
            stream_stream,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
