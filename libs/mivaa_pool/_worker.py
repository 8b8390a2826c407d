"""The worker process side: plain blocking code that serves tasks from its socket.

Read a task, run ``fn(*args)``, send each item as it is produced. Between
items the worker polls its socket for control frames: flow control (CREDIT),
cancellation (CANCEL) and parent death (EOF).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from mivaa_pool._errors import _error_body
from mivaa_pool._limits import exit_with_parent, limit_address_space
from mivaa_pool._wire import _CREDIT_BODY, _HEADER, _TASK_PREFIX, Frame, Mode, _dumps


class _ParentGone(BaseException):
    """The parent's end of the socket is closed (it died, or retired this worker).

    A BaseException so that the task code's ``except Exception`` cannot swallow it.
    """


class _WorkerChannel:
    """Blocking frame I/O on the worker's end of the socket."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN)

    def send(self, task_id: int, kind: int, *parts: bytes) -> None:
        length = sum(len(part) for part in parts)
        views = [memoryview(_HEADER.pack(length, task_id, kind))]
        views += [memoryview(part) for part in parts if len(part)]
        try:
            while views:
                written = os.writev(self._fd, views)
                while written:
                    if written >= len(views[0]):
                        written -= len(views.pop(0))
                    else:
                        views[0] = views[0][written:]
                        written = 0
        except (BrokenPipeError, ConnectionResetError):
            raise _ParentGone from None

    def receive(self) -> tuple[int, int, bytearray]:
        """The next frame (task id, kind, body); blocks until it is there."""
        length, task_id, kind = _HEADER.unpack(self._read_exactly(_HEADER.size))
        return task_id, kind, self._read_exactly(length)

    def has_input(self) -> bool:
        """Whether a frame (or EOF) is waiting; never blocks."""
        return bool(self._poller.poll(0))

    def _read_exactly(self, size: int) -> bytearray:
        buffer = bytearray(size)
        view = memoryview(buffer)
        filled = 0
        while filled < size:
            try:
                count = os.readv(self._fd, [view[filled:]])
            except ConnectionResetError:
                count = 0
            if count == 0:
                raise _ParentGone
            filled += count
        return buffer


def _worker_main(
    conn: Connection,
    expected_parent_pid: int | None,
    memory_limit_bytes: int | None,
    initializer: Callable[[], None] | None,
) -> None:
    """Entry point of a worker process: set up, report READY, then serve tasks until EOF."""
    # Ctrl-C in a terminal signals the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(expected_parent_pid)
    channel = _WorkerChannel(conn.fileno())
    try:
        try:
            if memory_limit_bytes is not None:
                limit_address_space(memory_limit_bytes)
            if initializer is not None:
                initializer()
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the waiting task
            channel.send(0, Frame.INIT_FAILED, _error_body(exc))
            return
        channel.send(0, Frame.READY)
        while True:
            task_id, kind, body = channel.receive()
            if kind == Frame.TASK and not _run_task(channel, task_id, body):
                return
            # CREDIT and CANCEL frames that arrive after their task ended need nothing.
    except _ParentGone:
        return
    finally:
        conn.close()


def _run_task(channel: _WorkerChannel, task_id: int, body: bytearray) -> bool:
    """Runs one task, sending ITEM frames then END, ERROR or MEMORY. Returns whether to keep serving."""
    iterator: Iterator[Any] | None = None
    try:
        mode, window = _TASK_PREFIX.unpack_from(body)
        fn, args = pickle.loads(memoryview(body)[_TASK_PREFIX.size :])
        if mode == Mode.CALL:
            channel.send(task_id, Frame.ITEM, _dumps(fn(*args)))
        else:
            iterator = iter(fn(*args))
            credit = _Credit(window or None)
            produced = 0
            while True:
                if not _await_credit(channel, task_id, credit, produced):
                    _close_iterator(iterator)  # cancelled: run the generator's finally blocks
                    break
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                payload = _dumps(item)
                del item
                channel.send(task_id, Frame.ITEM, payload)
                del payload
                produced += 1
    except MemoryError:
        # The heap may be fragmented or nearly full: report with an empty body, then exit.
        iterator = None
        channel.send(task_id, Frame.MEMORY)
        return False
    except Exception as exc:  # noqa: BLE001 - every failure of the task goes back to the parent
        with contextlib.suppress(Exception):
            _close_iterator(iterator)
        iterator = None
        channel.send(task_id, Frame.ERROR, _error_body(exc))
        return True
    channel.send(task_id, Frame.END)
    return True


@dataclass
class _Credit:
    granted: int | None  # items the worker may have produced for this task; None: no limit


def _await_credit(channel: _WorkerChannel, task_id: int, credit: _Credit, produced: int) -> bool:
    """Handles pending control frames, waiting while credit is used up. False when the task was cancelled."""
    while True:
        exhausted = credit.granted is not None and produced >= credit.granted
        if not exhausted and not channel.has_input():
            return True
        frame_task, kind, body = channel.receive()
        if frame_task != task_id:
            continue  # a late frame about an earlier task
        if kind == Frame.CANCEL:
            return False
        if kind == Frame.CREDIT and credit.granted is not None:
            credit.granted = max(credit.granted, _CREDIT_BODY.unpack(body)[0])


def _close_iterator(iterator: object) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()
