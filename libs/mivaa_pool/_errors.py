"""The errors the pool raises, and how a worker's exception travels back to the parent.

Every class pickles (explicit __reduce__), so callers may pass them on across processes.
"""

from __future__ import annotations

import contextlib
import pickle
import signal
import traceback
from typing import Any

from mivaa_pool._wire import _dumps


class SupervisedPoolError(Exception):
    """Base class of the errors the pool itself raises."""


class PoolClosed(SupervisedPoolError):
    """The pool was closed: before the call, or while the task waited or ran."""

    def __init__(self, message: str = "The worker pool is closed.") -> None:
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self),))


class TaskFailed(SupervisedPoolError):
    """A task ended early; exactly ``items_done`` items were delivered before this was raised."""

    def __init__(self, items_done: int, message: str) -> None:
        super().__init__(message)
        self.items_done = items_done

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.items_done, str(self)))


class ItemTimeout(TaskFailed):
    """No item (or end) came within ``timeout`` seconds; the worker was killed."""

    def __init__(self, items_done: int, timeout: float | None = None) -> None:
        self.timeout = timeout
        after = f"item {items_done}" if items_done else "the task started"
        within = f" within {timeout:g} s" if timeout is not None else ""
        super().__init__(items_done, f"The worker produced nothing{within} after {after}; it was stopped.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.items_done, self.timeout))


class TotalTimeout(ItemTimeout):
    """The whole task took longer than its ``total_timeout``; the worker was killed.

    A subclass of ItemTimeout so that ``except ItemTimeout`` covers every deadline.
    """

    def __init__(self, items_done: int, timeout: float | None = None) -> None:
        super().__init__(items_done, timeout)
        within = f"{timeout:g} s" if timeout is not None else "its time limit"
        self.args = (f"The task did not finish within {within} ({items_done} items done); it was stopped.",)


class WorkerCrashed(TaskFailed):
    """The worker process died during the task (signal, os._exit, the OOM killer...)."""

    def __init__(self, items_done: int, exitcode: int | None) -> None:
        self.exitcode = exitcode
        super().__init__(items_done, f"The worker process died ({_describe_exit(exitcode)}) after {items_done} items.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.items_done, self.exitcode))


class MemoryLimitExceeded(TaskFailed):
    """The task raised MemoryError in the worker (usually: it hit ``memory_limit_bytes``); the worker was replaced."""

    def __init__(self, items_done: int, limit_bytes: int | None = None) -> None:
        self.limit_bytes = limit_bytes
        limit = f" of {limit_bytes} bytes" if limit_bytes else ""
        super().__init__(items_done, f"The task ran out of memory (limit{limit}) after {items_done} items.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.items_done, self.limit_bytes))


class WorkerError(TaskFailed):
    """The task raised an exception that could not be sent back as itself (it does not pickle)."""

    def __init__(self, items_done: int, type_name: str, message: str) -> None:
        self.type_name = type_name
        self.message = message
        super().__init__(items_done, f"{type_name}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.items_done, self.type_name, self.message))


class WorkerStartFailed(TaskFailed):
    """A worker process could not be started: the initializer raised, it died or did not report in time.

    When the initializer raised, its exception (or a WorkerError standing in
    for it) is the ``__cause__``.
    """

    def __init__(self, reason: str, exitcode: int | None = None) -> None:
        self.reason = reason
        self.exitcode = exitcode
        super().__init__(0, f"A worker process could not be started: {reason}.")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.exitcode))


class _RemoteTraceback(Exception):
    """Carries the worker's formatted traceback; attached as ``__cause__`` of a re-raised error."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def _describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "exit status unknown"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def _error_body(exc: BaseException) -> bytes:
    """The exception itself when it survives a pickle round trip, plus its type, text and traceback."""
    try:
        dumped = _dumps(exc)
        pickle.loads(dumped)  # some exceptions pickle but cannot be rebuilt (custom __init__ signatures)
        pickled: bytes | None = dumped
    except Exception:  # noqa: BLE001
        pickled = None
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001
        message = "<exception message unavailable>"
    try:
        remote_traceback = "".join(traceback.format_exception(exc))
    except Exception:  # noqa: BLE001
        remote_traceback = f"{_qualified_name(type(exc))}: {message}"
    return _dumps((pickled, _qualified_name(type(exc)), message, remote_traceback))


def _qualified_name(cls: type) -> str:
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _rebuild_error(body: bytes | bytearray, items_done: int) -> BaseException:
    """The exception an ERROR or INIT_FAILED frame describes, ready to raise in the parent."""
    try:
        pickled, type_name, message, remote_traceback = pickle.loads(body)
    except Exception as exc:  # noqa: BLE001 - a broken error report is still an error
        return WorkerError(items_done, type(exc).__name__, f"the worker's error report could not be read: {exc}")
    error: BaseException | None = None
    if pickled is not None:
        try:
            error = pickle.loads(pickled)
        except Exception:  # noqa: BLE001 - e.g. its class is importable in the worker only
            error = None
    if not isinstance(error, BaseException):
        error = WorkerError(items_done, type_name, message)
    else:
        with contextlib.suppress(Exception):
            error.items_done = items_done  # type: ignore[attr-defined]
    error.__cause__ = _RemoteTraceback(remote_traceback)
    return error
