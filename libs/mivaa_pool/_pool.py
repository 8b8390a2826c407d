"""SupervisedPool: slots, workers started and replaced on demand, tasks streamed to asyncio code.

See the package docstring for the design. The pool belongs to the event loop
it is first used on; call its methods from that loop's thread (``close()``
may also be called after the loop has stopped).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
from collections.abc import AsyncGenerator, Callable, Hashable, Iterable
from typing import Any

from mivaa_pool._errors import PoolClosed, WorkerStartFailed, _describe_exit
from mivaa_pool._process import _REAP_TIMEOUT_SECONDS, _Worker
from mivaa_pool._slots import _SlotQueue
from mivaa_pool._task import _FINISHED, _reject, _Slot, _State, _Task
from mivaa_pool._wire import Mode, _dumps
from mivaa_pool._worker import _worker_main

log = logging.getLogger("mivaa.pool")


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
        # Two literal calls, not get_context(mp_context): each names its context type (a plain str gives BaseContext).
        self._context = (
            multiprocessing.get_context("spawn") if mp_context == "spawn" else multiprocessing.get_context("forkserver")
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue = _SlotQueue(workers)
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
    ) -> AsyncGenerator[Any, None]:
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
            Mode.STREAM,
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
        async with contextlib.aclosing(self._run(Mode.CALL, payload, limit, timeout, fair_key)) as items:
            async for item in items:
                results.append(item)
        return results[0]

    async def warm_up(self) -> None:
        """Starts every worker now (and waits until each is ready), so the first tasks do not pay for it."""
        self._bind_loop()
        self._check_open()
        for slot in self._queue.slots:
            if slot.worker is None or not slot.worker.usable:
                self._spawn(slot)
        starting = [
            slot.worker.ready
            for slot in self._queue.slots
            if slot.worker is not None and slot.worker.state is _State.STARTING
        ]
        if starting:
            await asyncio.gather(*(asyncio.shield(ready) for ready in starting))

    def worker_pids(self) -> list[int]:
        """The pids of the current workers (started or starting), in slot order."""
        return [slot.worker.pid for slot in self._queue.slots if slot.worker is not None and slot.worker.usable]

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
    ) -> AsyncGenerator[Any, None]:
        self._bind_loop()
        self._check_open()
        slot = await self._queue.acquire(fair_key, self._loop_or_fail())
        task: _Task | None = None
        try:
            worker = await self._ready_worker(slot)
            self._check_open()
            window = None if mode == Mode.CALL else self.max_buffered_items
            task = _Task(self, next(self._task_ids), slot, worker, item_timeout, total_timeout, window)
            worker.run(task, mode, payload)
            while True:
                item = await task.next_item()
                if item is _FINISHED:
                    return
                yield item
        finally:
            if task is None:
                self._queue.release(slot)
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
        self._queue.release(slot)

    def _recycle_reason(self, worker: _Worker) -> str | None:
        if self.recycle_after_tasks is not None and worker.tasks_run >= self.recycle_after_tasks:
            return f"ran {worker.tasks_run} tasks"
        if self.recycle_above_rss_bytes is not None:
            rss = worker.rss_bytes()
            if rss is not None and rss > self.recycle_above_rss_bytes:
                return f"resident set of {rss} bytes"
        return None

    def starved(self, fair_key: Hashable) -> bool:
        """Whether a caller of another fair_key waits for a slot while that key holds none.

        A long stream can then end early at an item boundary and queue again
        behind it (streams of a key that already has a slot do not count, so
        two busy keys never take turns item by item).
        """
        return self._queue.starved(fair_key)

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
                    "its initializer raised"
                    if worker.start_error is not None
                    else f"it exited ({_describe_exit(exitcode)})"
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
                    extra={
                        "fields": {"pid": worker.pid, "exit": _describe_exit(exitcode), "items_done": task.received}
                    },
                )
                task.on_worker_exit(exitcode)

    # ---- lifecycle ----

    def _begin_close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.close()
        for worker in list(self._live_workers):
            worker.kill("pool closed")
            task = worker.task
            if task is not None:
                worker.task = None
                if not (self._loop is not None and self._loop.is_closed()):
                    task.abandon(PoolClosed())
        for slot in self._queue.slots:
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
            self._queue.reset(self.workers)
        self._loop = loop

    def _loop_or_fail(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the pool is not bound to an event loop yet")
        return self._loop


def _check_positive(name: str, value: float) -> None:
    if not value > 0:  # also rejects NaN
        raise ValueError(f"{name} must be positive")
