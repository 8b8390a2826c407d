"""One task as the parent sees it (buffered items, outcome, deadlines, credit), and slot and worker states."""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import pickle
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mivaa_pool._errors import (
    ItemTimeout,
    MemoryLimitExceeded,
    TotalTimeout,
    WorkerCrashed,
    WorkerError,
    _qualified_name,
    _rebuild_error,
)
from mivaa_pool._wire import _CREDIT_BODY, Frame

if TYPE_CHECKING:
    from mivaa_pool._pool import SupervisedPool
    from mivaa_pool._process import _Worker

log = logging.getLogger("mivaa.pool")


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
            self.worker.send(self.id, Frame.CANCEL)
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
        self.worker.send(self.id, Frame.CREDIT, _CREDIT_BODY.pack(self.granted))
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
            self.fail(
                WorkerError(
                    self.received, _qualified_name(type(exc)), f"item {self.received + 1} could not be unpickled: {exc}"
                )
            )
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
            log.warning(
                "a cancelled task did not stop in time; killing its worker", extra={"fields": {"pid": self.worker.pid}}
            )
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
