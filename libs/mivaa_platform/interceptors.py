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

        if handler.unary_unary:
            behavior = handler.unary_unary
            return grpc.unary_unary_rpc_method_handler(
                lambda req, ctx: run_unary(behavior, req, ctx),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            behavior = handler.stream_unary
            return grpc.stream_unary_rpc_method_handler(
                lambda it, ctx: run_unary(behavior, it, ctx),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            behavior = handler.unary_stream
            return grpc.unary_stream_rpc_method_handler(
                lambda req, ctx: run_streaming(behavior, req, ctx),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        behavior = handler.stream_stream
        return grpc.stream_stream_rpc_method_handler(
            lambda it, ctx: run_streaming(behavior, it, ctx),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
