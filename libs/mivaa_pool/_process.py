"""The parent's handle on one worker process: its socket, frames, state, exit and reaping.

Entirely event-driven on the running loop, no threads: ``loop.add_reader`` on
the (non-blocking) socket, reading at most a few MiB per callback so a 20 MB
item arrives in slices between other callbacks, and on the process sentinel,
which becomes readable when the worker exits and is how deaths are detected
and every process reaped (no zombies).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import mmap
import os
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

from mivaa_pool._errors import _rebuild_error
from mivaa_pool._task import _mark_retrieved, _resolve, _Slot, _State, _Task, log
from mivaa_pool._wire import _HEADER, _TASK_PREFIX, Frame

if TYPE_CHECKING:
    from mivaa_pool._pool import SupervisedPool

# Bytes read from one worker per loop callback: the loop gets control back between slices.
_READ_CHUNK = 256 * 1024
_READ_BUDGET = 4 * 1024 * 1024
# How long a worker told to exit (retired, out of memory, socket closed) may take before SIGKILL.
_EXIT_GRACE_SECONDS = 5.0
# Waiting for a SIGKILLed process to be reaped; it is gone in milliseconds unless the host is in trouble.
_REAP_TIMEOUT_SECONDS = 10.0
# Polling for the exit status once the sentinel fired: every 10 ms, SIGKILL after half a second.
_REAP_POLL_SECONDS = 0.01
_REAP_ATTEMPTS_BEFORE_KILL = 50
_PAGE_SIZE = mmap.PAGESIZE


class _Worker:
    """The parent's handle on one worker process: its socket, frames, state and current task."""

    def __init__(self, pool: SupervisedPool, slot: _Slot, process: BaseProcess, conn: Connection) -> None:
        self._pool = pool
        self._loop = pool._loop_or_fail()
        self.slot = slot
        self.process = process
        self.pid: int = process.pid  # type: ignore[assignment]
        self.state = _State.STARTING
        self.task: _Task | None = None
        self.tasks_run = 0
        self.kill_reason: str | None = None
        self.start_error: BaseException | None = None
        self.ready: asyncio.Future[None] = self._loop.create_future()
        self.ready.add_done_callback(_mark_retrieved)
        self.exited: asyncio.Future[int | None] = self._loop.create_future()
        self._conn: Connection | None = conn
        self._fd = conn.fileno()
        os.set_blocking(self._fd, False)
        self._sentinel: int = process.sentinel
        self._inbox = bytearray()
        # A frame too large for the inbox is read straight into a buffer of its size: (task id, kind, body).
        self._large: tuple[int, int, bytearray] | None = None
        self._large_filled = 0
        self._outbox: deque[memoryview] = deque()
        self._writing = False
        self._reading = True
        # Start deadline or grace period before SIGKILL; and polling for the exit status.
        self._timer: asyncio.TimerHandle | None = None
        self._reap_timer: asyncio.TimerHandle | None = None
        self._loop.add_reader(self._fd, self._on_readable)
        self._loop.add_reader(self._sentinel, self._on_exit)

    @property
    def usable(self) -> bool:
        return self.state in (_State.STARTING, _State.IDLE, _State.BUSY)

    def start_timer(self, seconds: float) -> None:
        self._set_timer(seconds, self._start_timed_out)

    def run(self, task: _Task, mode: int, payload: bytes) -> None:
        self.state = _State.BUSY
        self.task = task
        self.send(task.id, Frame.TASK, _TASK_PREFIX.pack(mode, task.window or 0), payload)
        task.arm_deadline()

    # -- control --

    def kill(self, reason: str) -> None:
        """SIGKILL now; the sentinel callback reaps the process."""
        if self.state is _State.DEAD:
            return
        if self.kill_reason is None:
            self.kill_reason = reason
        self.state = _State.STOPPING
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()  # no-op once reaped, so never signals a recycled pid

    def retire(self) -> None:
        """Lets an idle worker exit on its own: it reads EOF and returns. SIGKILL if it lingers."""
        self.state = _State.STOPPING
        self._close_socket()
        self._set_timer(_EXIT_GRACE_SECONDS, lambda: self.kill("did not exit after being retired"))

    def expect_exit(self) -> None:
        """The worker said it is exiting (after MemoryError); make sure it does."""
        self.state = _State.STOPPING
        self._set_timer(_EXIT_GRACE_SECONDS, lambda: self.kill("did not exit after MemoryError"))

    def rss_bytes(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE_SIZE
        except (OSError, ValueError, IndexError):
            return None

    def reap_now(self) -> None:
        """Kills and reaps synchronously (close() and loop changes, where no callback will run)."""
        self.kill("pool closed")
        self.process.join(_REAP_TIMEOUT_SECONDS)
        self._finalize()

    # -- writing --

    def send(self, task_id: int, kind: int, *parts: bytes) -> None:
        """Queues a frame; written without blocking, the rest when the socket is writable."""
        if self._conn is None:
            return
        length = sum(len(part) for part in parts)
        self._outbox.append(memoryview(_HEADER.pack(length, task_id, kind)))
        self._outbox.extend(memoryview(part) for part in parts if len(part))
        if not self._writing:
            self._flush()

    def _flush(self) -> None:
        while self._outbox and self._conn is not None:
            try:
                written = os.writev(self._fd, list(itertools.islice(self._outbox, 64)))
            except BlockingIOError:
                break
            except OSError:
                # EPIPE/ECONNRESET: the worker is gone; its sentinel reports that.
                self._outbox.clear()
                break
            while written:
                head = self._outbox[0]
                if written >= len(head):
                    written -= len(head)
                    self._outbox.popleft()
                else:
                    self._outbox[0] = head[written:]
                    written = 0
        wants_writer = bool(self._outbox) and self._conn is not None
        if wants_writer and not self._writing:
            self._loop.add_writer(self._fd, self._flush)
        elif not wants_writer and self._writing:
            self._loop.remove_writer(self._fd)
        self._writing = wants_writer

    # -- reading --

    def _on_readable(self, budget: float = _READ_BUDGET) -> None:
        try:
            self._read_frames(budget)
        except Exception:  # noqa: BLE001 - a corrupt stream (or a bug) must not spin the loop
            log.exception("unreadable data from a worker process; killing it", extra={"fields": {"pid": self.pid}})
            self._stop_reading()
            self.kill("sent unreadable data")

    def _read_frames(self, budget: float) -> None:
        while budget > 0 and self._reading:
            if self._large is not None:
                task_id, kind, body = self._large
                try:
                    count = os.readv(self._fd, [memoryview(body)[self._large_filled :]])
                except BlockingIOError:
                    return
                except OSError:
                    count = 0
                if count == 0:
                    self._on_eof()
                    return
                budget -= count
                self._large_filled += count
                if self._large_filled == len(body):
                    self._large = None
                    self._dispatch(task_id, kind, body)
                continue
            try:
                chunk = os.read(self._fd, _READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._on_eof()
                return
            budget -= len(chunk)
            self._inbox += chunk
            self._parse_inbox()

    def _parse_inbox(self) -> None:
        inbox = self._inbox
        while self._reading and len(inbox) >= _HEADER.size:
            length, task_id, kind = _HEADER.unpack_from(inbox)
            end = _HEADER.size + length
            if len(inbox) >= end:
                body = inbox[_HEADER.size : end]
                del inbox[:end]
                self._dispatch(task_id, kind, body)
            elif length > _READ_CHUNK:
                # Read the rest straight into a buffer of the final size: no repeated copying.
                body = bytearray(length)
                have = len(inbox) - _HEADER.size
                body[:have] = inbox[_HEADER.size :]
                inbox.clear()
                self._large = (task_id, kind, body)
                self._large_filled = have
                return
            else:
                return

    def _on_eof(self) -> None:
        """The worker closed its end: it is exiting. Its sentinel does the rest; SIGKILL if it lingers."""
        self._stop_reading()
        if self.state is not _State.DEAD:
            self._set_timer(1.0, lambda: self.kill("closed its socket"))

    def _dispatch(self, task_id: int, kind: int, body: bytearray) -> None:
        if kind == Frame.READY:
            if self.state is _State.STARTING:
                self.state = _State.IDLE
                self._cancel_timer()
                _resolve(self.ready, None)
            return
        if kind == Frame.INIT_FAILED:
            self.start_error = _rebuild_error(body, 0)
            return
        task = self.task
        if task is None or task.id != task_id:
            return  # a task this parent gave up on (killed, timed out): stale
        if kind == Frame.ITEM:
            task.on_item(body)
        elif kind == Frame.END:
            self._task_finished()
            task.on_end()
        elif kind == Frame.ERROR:
            self._task_finished()
            task.on_error(body)
        elif kind == Frame.MEMORY:
            self.task = None
            self.expect_exit()
            task.on_memory_error()

    def _task_finished(self) -> None:
        self.task = None
        self.tasks_run += 1
        if self.state is _State.BUSY:
            self.state = _State.IDLE

    # -- exit --

    def _on_exit(self) -> None:
        """The sentinel is readable: the process has exited, or is in its last steps of exiting."""
        self._loop.remove_reader(self._sentinel)
        if self._reading and self._conn is not None:
            self._on_readable(budget=math.inf)  # frames it wrote before it died, e.g. MEMORY
        self._reap()

    def _reap(self, attempt: int = 0) -> None:
        # join(0) only polls (WNOHANG): the kernel closes descriptors before the process
        # becomes reapable, and a task that closed every fd may even still be running.
        self.process.join(0)
        if self.process.exitcode is not None:
            self._finalize()
            return
        if attempt == _REAP_ATTEMPTS_BEFORE_KILL:
            self.kill("closed its descriptors but kept running")
        # A timer of its own: the kill timers (set on EOF, for instance) must not cancel reaping.
        self._reap_timer = self._loop.call_later(_REAP_POLL_SECONDS, self._reap, attempt + 1)

    def _finalize(self) -> None:
        if self.state is _State.DEAD:
            return
        exitcode = self.process.exitcode
        self.state = _State.DEAD
        self._cancel_timer()
        if self._reap_timer is not None:
            self._reap_timer.cancel()
            self._reap_timer = None
        self._close_socket()
        if not self._loop.is_closed():
            self._loop.remove_reader(self._sentinel)
        if exitcode is not None:
            self.process.close()  # releases the sentinel descriptor
        self._pool._on_worker_exit(self, exitcode)
        _resolve(self.exited, exitcode)

    def _stop_reading(self) -> None:
        if self._reading:
            self._reading = False
            if self._conn is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._fd)

    def _close_socket(self) -> None:
        self._stop_reading()
        if self._conn is None:
            return
        if self._writing and not self._loop.is_closed():
            self._loop.remove_writer(self._fd)
        self._writing = False
        self._outbox.clear()
        self._conn.close()
        self._conn = None

    def _start_timed_out(self) -> None:
        if self.state is _State.STARTING:
            self.kill(f"it did not report ready within {self._pool.start_timeout:g} s")

    def _set_timer(self, seconds: float, callback: Callable[[], None]) -> None:
        self._cancel_timer()
        self._timer = self._loop.call_later(seconds, callback)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
