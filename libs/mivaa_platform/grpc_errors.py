"""Maps domain errors to gRPC statuses (AIP-193) and reads them back on the client side."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from mivaa_platform.errors import ErrorKind, MivaaError

_CODES: dict[ErrorKind, grpc.StatusCode] = {kind: getattr(grpc.StatusCode, kind.value) for kind in ErrorKind}


def status_code_for(error: MivaaError) -> grpc.StatusCode:
    return _CODES[error.kind]


def to_rpc_status(error: MivaaError) -> grpc.Status:
    """A google.rpc.Status with exactly one ErrorInfo, ready for context.abort_with_status."""
    code = status_code_for(error)
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=error.domain, metadata=error.metadata)
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=error.message, details=[detail])
    return rpc_status.to_status(status)


def error_info(exc: grpc.RpcError | grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo carried by a failed call, or None when there is none."""
    # The stub wants a sync grpc.Call, but from_call reads only code(), details() and
    # trailing_metadata(), which AioRpcError has too.
    status = rpc_status.from_call(exc) if hasattr(exc, "trailing_metadata") else None  # type: ignore[arg-type]
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def as_aio_error(exc: grpc.RpcError) -> grpc.aio.AioRpcError:
    """A failed call of the synchronous API as the AioRpcError an asyncio caller expects, status
    details kept."""
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc
    call: grpc.Call = exc  # type: ignore[assignment]
    return grpc.aio.AioRpcError(
        call.code(),
        grpc.aio.Metadata(*(call.initial_metadata() or ())),
        grpc.aio.Metadata(*(call.trailing_metadata() or ())),
        details=call.details(),
        debug_error_string=exc.debug_error_string() if hasattr(exc, "debug_error_string") else None,
    )


def error_reason(exc: grpc.RpcError) -> str:
    info = error_info(exc)
    return info.reason if info else ""


_TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    }
)


def from_rpc_error(exc: grpc.aio.AioRpcError, peer: str) -> MivaaError:
    """A failed call to a peer service as a domain error, keeping the peer's reason.

    Transient codes become Unavailable (worth retrying later); the rest keep
    their class so callers can tell "bad input" from "peer down".
    """
    from mivaa_platform import errors

    info = error_info(exc)
    code = exc.code()
    if code in _TRANSIENT:
        return errors.Unavailable(
            f"{peer.upper()}_UNAVAILABLE", f"The {peer} service did not answer in time.", metadata={"code": code.name}
        )
    kind_by_code = {kind_code: kind for kind, kind_code in _CODES.items()}
    error_class = {
        ErrorKind.INVALID_ARGUMENT: errors.InvalidArgument,
        ErrorKind.NOT_FOUND: errors.NotFound,
        ErrorKind.ALREADY_EXISTS: errors.AlreadyExists,
        ErrorKind.FAILED_PRECONDITION: errors.FailedPrecondition,
    }.get(kind_by_code.get(code, ErrorKind.INTERNAL), errors.Internal)
    reason = info.reason if info else f"{peer.upper()}_{code.name}"
    return error_class(
        reason,
        exc.details() or f"The {peer} service failed.",
        domain=info.domain if info else "mivaa",
        metadata=dict(info.metadata) if info else None,
    )
