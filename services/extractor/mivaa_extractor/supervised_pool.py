"""A pool of supervised worker processes that stream a generator's items to asyncio code.

Why not concurrent.futures.ProcessPoolExecutor: it cannot stop one hanging
task, has no memory limit, returns a task's result only when the whole task is
done, and a single dead worker breaks the whole pool. PDF parsing needs all
four: MuPDF can loop forever or segfault on a hostile file, a page can ask for
gigabytes, and a 600-page document should show progress page by page.

Design
------
Slots. The pool has ``workers`` slots. A task holds one slot from the moment
it is dispatched until both ends are done with it: the worker has finished
(or been killed) *and* the consumer has stopped reading. Callers that find no
free slot wait in a queue and a released slot is handed straight to a waiter,
so no newcomer can overtake one: FIFO per fairness key (say a tenant), a key
that holds no slot before one that does, else round-robin across keys, so one
key's long queue of tasks cannot hold another key's back (`starved` tells a
long stream to make way). Each slot owns at most one
worker process, created lazily (or by `warm_up`) and replaced lazily after it
died, was killed or was recycled.

Wire. Parent and worker talk over one socket pair per worker, in frames: a
fixed binary header (body length, task id, frame kind) followed by a pickle.
Every frame carries its task id, so frames from a task the parent has given up
on (cancelled, timed out) are recognised and dropped without even unpickling
them: the next task on that worker can never see a previous task's items.

Parent side. Entirely event-driven on the running loop, no threads:
``loop.add_reader`` on the (non-blocking) socket, reading at most a few MiB
per callback so a 20 MB item arrives in slices between other callbacks, and on
the process sentinel, which becomes readable when the worker exits and is how
deaths are detected and every process reaped (no zombies). Deadlines are loop
timers; when one passes, the worker gets SIGKILL at once.

Worker side. Plain blocking code: read a task, run ``fn(*args)``, send each
item as it is produced. Between items it polls the socket for control frames,
which gives three things: flow control (the parent grants credit for
``max_buffered_items`` items at a time, so a slow consumer pauses the producer
instead of piling items up in the parent; time spent waiting for credit does
not count against ``item_timeout``), cancellation (a CANCEL frame makes the
worker close the generator and answer END; a worker that does not answer
within ``item_timeout`` is killed), and parent-death detection (EOF).

Failures come back as the exception classes below, each with ``items_done``:
the number of items delivered before the failure, so a caller can resume after
the failing item. Exceptions raised by ``fn`` itself come back as themselves
(with an ``items_done`` attribute and the worker's traceback as ``__cause__``)
and the worker lives on; MemoryError means the worker's heap is in an unknown
state, so that worker exits and is replaced.

Orphans. A worker exits when the parent dies: PR_SET_PDEATHSIG (Linux) kills
it outright even if it is stuck in C code, and otherwise it sees EOF on its
socket while idle or between items, or EPIPE when it writes.

Threading: the pool belongs to the event loop it is first used on; call its
methods from that loop's thread (``close()`` may also be called after the loop
has stopped). Workers are started from that thread, and PR_SET_PDEATHSIG ties
them to it: if a loop runs in a thread that ends, its workers end with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import math
import mmap
import multiprocessing
import os
import pickle
import select
import signal
import struct
import sys
import traceback
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger("mivaa.extractor.pool")

__all__ = [
    "ItemTimeout",
    "MemoryLimitExceeded",
    "PoolClosed",
    "SupervisedPool",
    "SupervisedPoolError",
    "TaskFailed",
    "TotalTimeout",
    "WorkerCrashed",
    "WorkerError",
    "WorkerStartFailed",
]


# ---- errors --------------------------------------------------------------------------
# Every class pickles (explicit __reduce__), so callers may pass them on across processes.


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


# ---- wire format ---------------------------------------------------------------------

# Body length, task id (0 for frames about the worker itself), frame kind.
_HEADER = struct.Struct("!QQB")
# TASK body prefix: mode, credit window (0: unlimited); the pickled (fn, args) follows.
_TASK_PREFIX = struct.Struct("!BQ")
# CREDIT body: the total number of items the worker may have produced for the task.
_CREDIT_BODY = struct.Struct("!Q")

# Frame kinds, parent to worker.
_TASK = 1
_CREDIT = 2
_CANCEL = 3
# Frame kinds, worker to parent.
_READY = 10
_INIT_FAILED = 11
_ITEM = 12
_END = 13
_ERROR = 14
_MEMORY = 15

# Task modes: iterate what fn returns, or send fn's return value as the one item.
_MODE_STREAM = 0
_MODE_CALL = 1


def _dumps(obj: object) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


# ---- worker process side -------------------------------------------------------------


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
    _exit_with_parent(expected_parent_pid)
    channel = _WorkerChannel(conn.fileno())
    try:
        try:
            if memory_limit_bytes is not None:
                _limit_address_space(memory_limit_bytes)
            if initializer is not None:
                initializer()
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the waiting task
            channel.send(0, _INIT_FAILED, _error_body(exc))
            return
        channel.send(0, _READY)
        while True:
            task_id, kind, body = channel.receive()
            if kind == _TASK and not _run_task(channel, task_id, body):
                return
            # CREDIT and CANCEL frames that arrive after their task ended need nothing.
    except _ParentGone:
        return
    finally:
        conn.close()


def _exit_with_parent(expected_parent_pid: int | None) -> None:
    """Makes the kernel SIGKILL this process when the parent dies, even while it is stuck in C code."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - exotic libc; EOF detection still works
            pass
    # The parent may have died before prctl took effect.
    if expected_parent_pid is not None and os.getppid() != expected_parent_pid:
        os._exit(0)


def _limit_address_space(limit_bytes: int) -> None:
    """Caps this process's address space, so a huge allocation raises MemoryError instead of swapping the host."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit_bytes = min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, hard))


def _run_task(channel: _WorkerChannel, task_id: int, body: bytearray) -> bool:
    """Runs one task, sending ITEM frames then END, ERROR or MEMORY. Returns whether to keep serving."""
    iterator: Iterator[Any] | None = None
    try:
        mode, window = _TASK_PREFIX.unpack_from(body)
        fn, args = pickle.loads(memoryview(body)[_TASK_PREFIX.size :])
        if mode == _MODE_CALL:
            channel.send(task_id, _ITEM, _dumps(fn(*args)))
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
                channel.send(task_id, _ITEM, payload)
                del payload
                produced += 1
    except MemoryError:
        # The heap may be fragmented or nearly full: report with an empty body, then exit.
        iterator = None
        channel.send(task_id, _MEMORY)
        return False
    except Exception as exc:  # noqa: BLE001 - every failure of the task goes back to the parent
        with contextlib.suppress(Exception):
            _close_iterator(iterator)
        iterator = None
        channel.send(task_id, _ERROR, _error_body(exc))
        return True
    channel.send(task_id, _END)
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
        if kind == _CANCEL:
            return False
        if kind == _CREDIT and credit.granted is not None:
            credit.granted = max(credit.granted, _CREDIT_BODY.unpack(body)[0])


def _close_iterator(iterator: object) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def _error_body(exc: BaseException) -> bytes:
    """The exception itself when it survives a pickle round trip, plus its type, text and traceback."""
    try:
        pickled: bytes | None = _dumps(exc)
        pickle.loads(pickled)  # some exceptions pickle but cannot be rebuilt (custom __init__ signatures)
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


# ---- parent side ---------------------------------------------------------------------

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


class _State(enum.Enum):
    STARTING = "starting"  # spawned, READY not received yet
    IDLE = "idle"
    BUSY = "busy"  # running a task (possibly one whose consumer left: draining)
    STOPPING = "stopping"  # killed, retired or exiting after MemoryError: never used again
    DEAD = "dead"  # exited and reaped


@dataclass(eq=False)
class _Slot:
    index: int
    worker: _Worker | None = None
    holder: Hashable = None  # the fair_key of the task that holds it


# Returned by _Task.next_item when the task ended normally.
_FINISHED: Any = object()


class _Task:
    """One stream's state on the parent side: buffered items, outcome, deadlines and credit.

    The task settles (gives its slot back) once the worker is done with it
    (END, ERROR, MEMORY, death or kill) and the consumer has stopped reading.
    """

    def __init__(
        self,
        pool: SupervisedPool,
        task_id: int,
        slot: _Slot,
        worker: _Worker,
        item_timeout: float,
        total_timeout: float | None,
        window: int | None,
    ) -> None:
        self.pool = pool
        self.id = task_id
        self.slot = slot
        self.worker = worker
        self.item_timeout = item_timeout
        self.total_timeout = total_timeout
        self.window = window
        self._loop = pool._loop_or_fail()
        self.items: deque[Any] = deque()
        self.received = 0
        self.consumed = 0
        self.granted: int | None = window
        # _FINISHED, or the exception the consumer gets once the buffered items are delivered.
        self.outcome: Any = None
        self.worker_done = False
        self.consumer_done = False
        self.settled = False
        self._waiter: asyncio.Future[None] | None = None
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._drain_timer: asyncio.TimerHandle | None = None
        self.started = self._loop.time()
        # The last time the worker was seen making progress, or was given credit after waiting for it.
        self.last_progress = self.started

    # -- consumer side --

    async def next_item(self) -> Any:
        """The next item, _FINISHED at the end, or raises the task's failure."""
        while True:
            if self.items:
                self.consumed += 1
                item = self.items.popleft()
                self._grant_credit()
                return item
            if self.outcome is _FINISHED:
                return _FINISHED
            if self.outcome is not None:
                raise self.outcome
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def consumer_gone(self) -> None:
        """The consumer stopped reading (finished, failed, closed early or cancelled)."""
        if self.consumer_done:
            return
        self.consumer_done = True
        self.items.clear()
        if not self.worker_done:
            # Let the worker drop the task at its next item; kill it if that takes longer
            # than an item may take anyway.
            self._cancel_deadline()
            self.worker.send(self.id, _CANCEL)
            if math.isfinite(self.item_timeout):
                self._drain_timer = self._loop.call_later(self.item_timeout, self._drain_expired)
        self._maybe_settle()

    def _grant_credit(self) -> None:
        if self.granted is None or self.window is None or self.worker_done:
            return
        if self.granted - self.consumed > self.window // 2:
            return  # batch the grants: one CREDIT frame per half window
        was_waiting = self.received >= self.granted
        self.granted = self.consumed + self.window
        self.worker.send(self.id, _CREDIT, _CREDIT_BODY.pack(self.granted))
        if was_waiting:
            # The worker sat idle waiting for this credit: the item clock restarts now.
            self.last_progress = self._loop.time()
            self.arm_deadline()

    # -- worker side (called from the worker's frame dispatch) --

    def on_item(self, body: bytearray) -> None:
        if self.outcome is not None or self.consumer_done:
            return  # nobody will read it
        try:
            item = pickle.loads(body)
        except Exception as exc:  # noqa: BLE001 - e.g. a class that exists in the worker only
            self.fail(WorkerError(self.received, _qualified_name(type(exc)), f"item {self.received + 1} could not be unpickled: {exc}"))
            return
        self.items.append(item)
        self.received += 1
        self.last_progress = self._loop.time()
        self._wake()

    def on_end(self) -> None:
        self.worker_done = True
        if self.outcome is None:
            self.outcome = _FINISHED
        self._wake()
        self._maybe_settle()

    def on_error(self, body: bytearray) -> None:
        self.worker_done = True
        self.fail(_rebuild_error(body, self.received))
        self._maybe_settle()

    def on_memory_error(self) -> None:
        self.worker_done = True
        self.fail(MemoryLimitExceeded(self.received, self.pool.memory_limit_bytes))
        self._maybe_settle()

    def on_worker_exit(self, exitcode: int | None) -> None:
        self.worker_done = True
        self.fail(WorkerCrashed(self.received, exitcode))
        self._maybe_settle()

    def abandon(self, error: BaseException) -> None:
        """The worker is being killed for a reason outside this task (pool closed)."""
        self.worker_done = True
        self.fail(error)
        self._maybe_settle()

    def fail(self, error: BaseException) -> None:
        if self.outcome is None:
            self.outcome = error
        self._cancel_deadline()
        self._wake()

    # -- deadlines --

    def arm_deadline(self) -> None:
        self._cancel_deadline()
        deadline = self._deadline()
        if math.isfinite(deadline) and not self.worker_done and self.outcome is None:
            self._deadline_timer = self._loop.call_at(deadline, self._on_deadline)

    def _deadline(self) -> float:
        deadline = math.inf
        if self.total_timeout is not None:
            deadline = self.started + self.total_timeout
        waiting_for_credit = self.granted is not None and self.received >= self.granted
        if not waiting_for_credit:
            deadline = min(deadline, self.last_progress + self.item_timeout)
        return deadline

    def _on_deadline(self) -> None:
        self._deadline_timer = None
        if self.worker_done or self.outcome is not None:
            return
        now = self._loop.time()
        # Items that arrived since the timer was set moved the deadline; call_at may also fire a hair early.
        if now < self._deadline() - 0.001:
            self.arm_deadline()
            return
        total_passed = self.total_timeout is not None and now >= self.started + self.total_timeout - 0.001
        if total_passed:
            error: ItemTimeout = TotalTimeout(self.received, self.total_timeout)
        else:
            error = ItemTimeout(self.received, self.item_timeout)
        log.warning(
            "worker task timed out; killing the worker",
            extra={"fields": {"pid": self.worker.pid, "items_done": self.received, "total": total_passed}},
        )
        self._stop_worker("task timed out")
        self.fail(error)
        self._maybe_settle()

    def _drain_expired(self) -> None:
        self._drain_timer = None
        if not self.worker_done:
            log.warning("a cancelled task did not stop in time; killing its worker", extra={"fields": {"pid": self.worker.pid}})
            self._stop_worker("cancelled task did not stop")
            self._maybe_settle()

    def _stop_worker(self, reason: str) -> None:
        """Kills the worker and stops listening to it for this task."""
        self.worker_done = True
        if self.worker.task is self:
            self.worker.task = None
        self.worker.kill(reason)

    def _cancel_deadline(self) -> None:
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None

    # -- bookkeeping --

    def _wake(self) -> None:
        if self._waiter is not None:
            _resolve(self._waiter, None)

    def _maybe_settle(self) -> None:
        if self.settled or not (self.worker_done and self.consumer_done):
            return
        self.settled = True
        self._cancel_deadline()
        if self._drain_timer is not None:
            self._drain_timer.cancel()
            self._drain_timer = None
        self.pool._settle(self)


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
        self.send(task.id, _TASK, _TASK_PREFIX.pack(mode, task.window or 0), payload)
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
        if kind == _READY:
            if self.state is _State.STARTING:
                self.state = _State.IDLE
                self._cancel_timer()
                _resolve(self.ready, None)
            return
        if kind == _INIT_FAILED:
            self.start_error = _rebuild_error(body, 0)
            return
        task = self.task
        if task is None or task.id != task_id:
            return  # a task this parent gave up on (killed, timed out): stale
        if kind == _ITEM:
            task.on_item(body)
        elif kind == _END:
            self._task_finished()
            task.on_end()
        elif kind == _ERROR:
            self._task_finished()
            task.on_error(body)
        elif kind == _MEMORY:
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


def _resolve(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done() and not future.get_loop().is_closed():
        future.set_result(result)


def _reject(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done() and not future.get_loop().is_closed():
        future.set_exception(error)


def _mark_retrieved(future: asyncio.Future[Any]) -> None:
    """Readiness failures reach whoever waits; nobody waiting is fine, not an 'exception never retrieved'."""
    if not future.cancelled():
        future.exception()


class SupervisedPool:
    """Runs generator functions in supervised worker processes and streams their items.

    ``item_timeout`` bounds the time from a task's dispatch to its first item,
    between items and from the last item to the end; ``total_timeout`` (per
    call) bounds the whole task. Both clocks start when the task reaches an
    idle, started worker: waiting for a free worker or for a worker to start
    does not count, and neither does time the worker spends waiting for the
    consumer (see ``max_buffered_items``). A worker that passes a deadline is
    killed at once.

    A consumer that stops early (closed generator, cancelled task) releases
    its worker once the worker has dropped the task at its next item, or has
    been killed for not doing so within ``item_timeout``.

    ``memory_limit_bytes`` caps each worker's whole address space
    (RLIMIT_AS), the interpreter and its libraries included, so leave room
    for them. ``recycle_after_tasks`` and ``recycle_above_rss_bytes`` retire
    a worker after a task once it has run that many tasks or its resident set
    has grown past that size. ``max_buffered_items`` is how far a worker may
    run ahead of its consumer (None: no limit). ``start_timeout`` bounds a
    worker's start, initializer included. Workers are started with
    ``mp_context``: "spawn" or "forkserver" ("fork" is unsafe next to threads
    and an event loop).

    Items are unpickled on the event loop as they arrive; for a large bytes
    item that is about one memory copy (a few ms for 20 MB).
    """

    def __init__(
        self,
        workers: int,
        *,
        item_timeout: float,
        memory_limit_bytes: int | None = None,
        recycle_after_tasks: int | None = None,
        recycle_above_rss_bytes: int | None = None,
        initializer: Callable[[], None] | None = None,
        mp_context: str = "spawn",
        max_buffered_items: int | None = 16,
        start_timeout: float = 60.0,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        _check_positive("item_timeout", item_timeout)
        _check_positive("start_timeout", start_timeout)
        for name, value in (
            ("memory_limit_bytes", memory_limit_bytes),
            ("recycle_after_tasks", recycle_after_tasks),
            ("recycle_above_rss_bytes", recycle_above_rss_bytes),
            ("max_buffered_items", max_buffered_items),
        ):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be positive or None")
        if mp_context not in ("spawn", "forkserver"):
            raise ValueError("mp_context must be 'spawn' or 'forkserver'")
        if initializer is not None:
            _dumps(initializer)  # fail here rather than in every worker start
        self.workers = workers
        self.item_timeout = float(item_timeout)
        self.memory_limit_bytes = memory_limit_bytes
        self.recycle_after_tasks = recycle_after_tasks
        self.recycle_above_rss_bytes = recycle_above_rss_bytes
        self.max_buffered_items = max_buffered_items
        self.start_timeout = float(start_timeout)
        self._initializer = initializer
        self._mp_context_name = mp_context
        self._context = multiprocessing.get_context(mp_context)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = [_Slot(index) for index in range(workers)]
        self._free_slots: list[_Slot] = list(self._slots)
        # Callers waiting for a slot, FIFO per fairness key; keys are served round-robin.
        self._slot_waiters: OrderedDict[Hashable, deque[asyncio.Future[_Slot]]] = OrderedDict()
        self._slots_held: Counter[Hashable] = Counter()  # by fair_key
        # Every process not yet reaped, including ones already detached from their slot.
        self._live_workers: set[_Worker] = set()
        self._task_ids = itertools.count(1)
        self._closed = False

    # ---- public API ----

    def stream(
        self,
        fn: Callable[..., Iterable[Any]],
        *args: Any,
        item_timeout: float | None = None,
        total_timeout: float | None = None,
        fair_key: Hashable = None,
    ) -> AsyncIterator[Any]:
        """Runs ``fn(*args)`` (a top-level generator function) in a worker and yields its items as they come.

        Use ``async with contextlib.aclosing(pool.stream(...)) as items`` when
        the loop may stop early, so the worker is released at once rather than
        when the generator is garbage collected. Raises PoolClosed at once when
        the pool is closed, and pickling errors at once when fn or args do not pickle.

        ``fair_key``: when slots are short, waiting callers are served
        round-robin across keys (FIFO within one), so one caller with many
        tasks queued (a long document) cannot hold the others back.
        """
        self._check_open()
        if item_timeout is not None:
            _check_positive("item_timeout", item_timeout)
        if total_timeout is not None:
            _check_positive("total_timeout", total_timeout)
        payload = _dumps((fn, args))
        return self._run(
            _MODE_STREAM,
            payload,
            self.item_timeout if item_timeout is None else float(item_timeout),
            total_timeout,
            fair_key,
        )

    async def call(
        self, fn: Callable[..., Any], *args: Any, timeout: float | None = None, fair_key: Hashable = None
    ) -> Any:
        """Runs the plain top-level function ``fn(*args)`` in a worker and returns its result.

        ``timeout`` (default: the pool's item_timeout) bounds the call; failures and ``fair_key`` are as for stream().
        """
        self._check_open()
        if timeout is not None:
            _check_positive("timeout", timeout)
        payload = _dumps((fn, args))
        limit = self.item_timeout if timeout is None else float(timeout)
        results: list[Any] = []
        async with contextlib.aclosing(self._run(_MODE_CALL, payload, limit, timeout, fair_key)) as items:
            async for item in items:
                results.append(item)
        return results[0]

    async def warm_up(self) -> None:
        """Starts every worker now (and waits until each is ready), so the first tasks do not pay for it."""
        self._bind_loop()
        self._check_open()
        for slot in self._slots:
            if slot.worker is None or not slot.worker.usable:
                self._spawn(slot)
        starting = [slot.worker.ready for slot in self._slots if slot.worker is not None and slot.worker.state is _State.STARTING]
        if starting:
            await asyncio.gather(*(asyncio.shield(ready) for ready in starting))

    def worker_pids(self) -> list[int]:
        """The pids of the current workers (started or starting), in slot order."""
        return [slot.worker.pid for slot in self._slots if slot.worker is not None and slot.worker.usable]

    def close(self) -> None:
        """Kills every worker and reaps it; running and waiting tasks get PoolClosed. Idempotent.

        Blocks for as long as the kernel takes to tear killed processes down
        (milliseconds); aclose() waits for that without blocking the loop.
        """
        self._begin_close()
        for worker in list(self._live_workers):
            worker.reap_now()

    async def aclose(self) -> None:
        """close() without blocking the event loop."""
        self._begin_close()
        exits = [worker.exited for worker in self._live_workers if not worker.exited.get_loop().is_closed()]
        if exits:
            await asyncio.wait(exits, timeout=_REAP_TIMEOUT_SECONDS)
        for worker in list(self._live_workers):
            worker.reap_now()

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> SupervisedPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ---- tasks ----

    async def _run(
        self, mode: int, payload: bytes, item_timeout: float, total_timeout: float | None, fair_key: Hashable
    ) -> AsyncIterator[Any]:
        self._bind_loop()
        slot = await self._acquire_slot(fair_key)
        task: _Task | None = None
        try:
            worker = await self._ready_worker(slot)
            self._check_open()
            window = None if mode == _MODE_CALL else self.max_buffered_items
            task = _Task(self, next(self._task_ids), slot, worker, item_timeout, total_timeout, window)
            worker.run(task, mode, payload)
            while True:
                item = await task.next_item()
                if item is _FINISHED:
                    return
                yield item
        finally:
            if task is None:
                self._release_slot(slot)
            else:
                task.consumer_gone()

    async def _ready_worker(self, slot: _Slot) -> _Worker:
        """The slot's idle worker, started first when the slot has none (or a dead or retired one)."""
        for _attempt in range(2):
            worker = slot.worker
            if worker is None or not worker.usable:
                worker = self._spawn(slot)
            if worker.state is _State.STARTING:
                await asyncio.shield(worker.ready)
            if worker.state is _State.IDLE and slot.worker is worker:
                return worker
            self._check_open()
        # It died between reporting ready and getting the task, twice: something is badly wrong.
        raise WorkerStartFailed("workers keep dying right after they start")

    def _settle(self, task: _Task) -> None:
        """Both ends are done with a task: recycle its worker if due, then free the slot."""
        worker, slot = task.worker, task.slot
        if worker.state is _State.IDLE and not self._closed:
            reason = self._recycle_reason(worker)
            if reason is not None:
                log.info("recycling a worker process", extra={"fields": {"pid": worker.pid, "reason": reason}})
                worker.retire()
        if worker.state is not _State.IDLE and slot.worker is worker:
            slot.worker = None
        self._release_slot(slot)

    def _recycle_reason(self, worker: _Worker) -> str | None:
        if self.recycle_after_tasks is not None and worker.tasks_run >= self.recycle_after_tasks:
            return f"ran {worker.tasks_run} tasks"
        if self.recycle_above_rss_bytes is not None:
            rss = worker.rss_bytes()
            if rss is not None and rss > self.recycle_above_rss_bytes:
                return f"resident set of {rss} bytes"
        return None

    # ---- slots ----

    async def _acquire_slot(self, fair_key: Hashable = None) -> _Slot:
        self._check_open()
        self._drop_gone_waiters()
        if self._free_slots and not self._slot_waiters:
            return self._hold(self._take_free_slot(), fair_key)
        waiter: asyncio.Future[_Slot] = self._loop_or_fail().create_future()
        self._slot_waiters.setdefault(fair_key, deque()).append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._release_slot(waiter.result())  # handed over just as we were cancelled: pass it on
            raise

    def _take_free_slot(self) -> _Slot:
        # Prefer a slot whose worker is up, then one whose worker is starting, over starting a new one.
        rank = {_State.IDLE: 0, _State.STARTING: 1}
        best = min(self._free_slots, key=lambda slot: rank.get(slot.worker.state, 2) if slot.worker else 2)
        self._free_slots.remove(best)
        return best

    def starved(self, fair_key: Hashable) -> bool:
        """Whether a caller of another fair_key waits for a slot while that key holds none.

        A long stream can then end early at an item boundary and queue again
        behind it (streams of a key that already has a slot do not count, so
        two busy keys never take turns item by item).
        """
        self._drop_gone_waiters()
        return any(key != fair_key and not self._slots_held[key] for key in self._slot_waiters)

    def _hold(self, slot: _Slot, fair_key: Hashable) -> _Slot:
        slot.holder = fair_key
        self._slots_held[fair_key] += 1
        return slot

    def _release_slot(self, slot: _Slot) -> None:
        if self._slots_held[slot.holder] > 0:
            self._slots_held[slot.holder] -= 1
        if not self._slots_held[slot.holder]:
            del self._slots_held[slot.holder]
        if self._closed:
            return
        while self._slot_waiters:
            # A key that holds no slot first, else the one served least recently; then its longest waiter.
            key = next((key for key in self._slot_waiters if not self._slots_held[key]), None)
            if key is None:
                key = next(iter(self._slot_waiters))
            waiters = self._slot_waiters[key]
            waiter = waiters.popleft()
            if waiters:
                self._slot_waiters.move_to_end(key)
            else:
                del self._slot_waiters[key]
            if not waiter.done():
                waiter.set_result(self._hold(slot, key))  # straight to a waiter: no overtaking by a newcomer
                return
        self._free_slots.append(slot)

    def _drop_gone_waiters(self) -> None:
        """Forgets waiters that were cancelled, so an empty queue means nobody waits."""
        for key in list(self._slot_waiters):
            waiters = self._slot_waiters[key]
            while waiters and waiters[0].done():
                waiters.popleft()
            if not waiters:
                del self._slot_waiters[key]

    # ---- workers ----

    def _spawn(self, slot: _Slot) -> _Worker:
        parent_conn, child_conn = self._context.Pipe(duplex=True)
        expected_parent = os.getpid() if self._mp_context_name == "spawn" else None
        process = self._context.Process(
            target=_worker_main,
            args=(child_conn, expected_parent, self.memory_limit_bytes, self._initializer),
            name=f"supervised-pool-worker-{slot.index}",
            daemon=True,  # multiprocessing's atexit handler stops it if close() is never called
        )
        try:
            process.start()
        except BaseException:
            parent_conn.close()
            raise
        finally:
            child_conn.close()  # only the child may hold its end, or its death would not show as EOF
        worker = _Worker(self, slot, process, parent_conn)
        worker.start_timer(self.start_timeout)
        slot.worker = worker
        self._live_workers.add(worker)
        log.debug("worker process started", extra={"fields": {"pid": worker.pid, "slot": slot.index}})
        return worker

    def _on_worker_exit(self, worker: _Worker, exitcode: int | None) -> None:
        self._live_workers.discard(worker)
        if worker.slot.worker is worker:
            worker.slot.worker = None
        if not worker.ready.done():
            if self._closed:
                _reject(worker.ready, PoolClosed())
            else:
                reason = worker.kill_reason or (
                    "its initializer raised" if worker.start_error is not None else f"it exited ({_describe_exit(exitcode)})"
                )
                error = WorkerStartFailed(reason, exitcode)
                error.__cause__ = worker.start_error
                _reject(worker.ready, error)
        task = worker.task
        if task is not None:
            worker.task = None
            if self._closed:
                task.abandon(PoolClosed())
            else:
                log.warning(
                    "worker process died during a task",
                    extra={"fields": {"pid": worker.pid, "exit": _describe_exit(exitcode), "items_done": task.received}},
                )
                task.on_worker_exit(exitcode)

    # ---- lifecycle ----

    def _begin_close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for waiter in itertools.chain.from_iterable(self._slot_waiters.values()):
            _reject(waiter, PoolClosed())
        self._slot_waiters.clear()
        self._free_slots.clear()
        for worker in list(self._live_workers):
            worker.kill("pool closed")
            task = worker.task
            if task is not None:
                worker.task = None
                if not (self._loop is not None and self._loop.is_closed()):
                    task.abandon(PoolClosed())
        for slot in self._slots:
            slot.worker = None

    def _check_open(self) -> None:
        if self._closed:
            raise PoolClosed()

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        if self._loop is not None and not self._loop.is_closed():
            raise RuntimeError("a SupervisedPool serves the event loop it was first used on")
        if self._loop is not None:
            # The previous loop is gone, and with it every callback watching the workers.
            for worker in list(self._live_workers):
                worker.reap_now()
            self._slots = [_Slot(index) for index in range(self.workers)]
            self._free_slots = list(self._slots)
            self._slot_waiters.clear()
            self._slots_held.clear()
        self._loop = loop

    def _loop_or_fail(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the pool is not bound to an event loop yet")
        return self._loop


def _check_positive(name: str, value: float) -> None:
    if not value > 0:  # also rejects NaN
        raise ValueError(f"{name} must be positive")
