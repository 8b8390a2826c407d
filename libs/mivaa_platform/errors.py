"""Domain errors: what went wrong, in words a caller can act on.

Domain code raises these and never imports grpc; the shared error-mapping
interceptor (mivaa_platform.grpc_errors) turns them into a canonical status
code plus a google.rpc.Status with exactly one ErrorInfo (AIP-193).
"""

from __future__ import annotations

import enum


class ErrorKind(enum.Enum):
    """Canonical error classes, mirrored one to one by gRPC status codes."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    UNAVAILABLE = "UNAVAILABLE"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    CANCELLED = "CANCELLED"
    INTERNAL = "INTERNAL"


class MivaaError(Exception):
    """An error with a stable UPPER_SNAKE_CASE reason and a safe message.

    `message` is shown to callers, so it must never carry raw exception text
    from a library; `metadata` holds small string facts (limits, names).
    """

    kind: ErrorKind = ErrorKind.INTERNAL

    def __init__(self, reason: str, message: str, *, domain: str = "mivaa", metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.domain = domain
        self.metadata = dict(metadata or {})

    def __reduce__(self):
        # Domain errors cross process boundaries (extraction workers), so they must pickle.
        return (_rebuild, (type(self), self.reason, self.message, self.domain, self.metadata))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, {self.message!r})"


class InvalidArgument(MivaaError):
    kind = ErrorKind.INVALID_ARGUMENT


class NotFound(MivaaError):
    kind = ErrorKind.NOT_FOUND


class AlreadyExists(MivaaError):
    kind = ErrorKind.ALREADY_EXISTS


class FailedPrecondition(MivaaError):
    kind = ErrorKind.FAILED_PRECONDITION


class PermissionDenied(MivaaError):
    kind = ErrorKind.PERMISSION_DENIED


class ResourceExhausted(MivaaError):
    kind = ErrorKind.RESOURCE_EXHAUSTED


class Unavailable(MivaaError):
    kind = ErrorKind.UNAVAILABLE


class Internal(MivaaError):
    kind = ErrorKind.INTERNAL


def _rebuild(cls: type[MivaaError], reason: str, message: str, domain: str, metadata: dict[str, str]) -> MivaaError:
    return cls(reason, message, domain=domain, metadata=metadata)
