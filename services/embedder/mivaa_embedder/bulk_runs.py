"""Bulk model runs on background threads, so a document's chunks yield the cores to queries.

A search query waits in person; a document's chunks do not. On a few shared cores (the local
mesh on a laptop) the chunks' model runs took every core at normal priority, so a query's own
run, and the search service, Envoy and PostgreSQL around it, queued behind them. Bulk runs go
to threads of their own instead, each running one model call at a time on a single-threaded
session, at a lower scheduling priority (Linux sets a nice value per thread): with the cores
idle they use every core as before; when a query comes in, its work runs first.

A lower priority only orders threads inside this process: Envoy, the search service and
PostgreSQL answer the same query from processes of their own, which the scheduler shares the
cores with as equals. So while queries keep arriving (QueryPressure), bulk runs also pace
themselves to a few tenths of a core, resting after each run in proportion to the CPU time it
took: documents go on being embedded, more slowly, and the query path gets the cores back.

Domain code: no grpc.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

log = logging.getLogger(__name__)

# How much lower than the service's own threads bulk runs are scheduled (nice 0..19).
BULK_NICE = 10

Item = TypeVar("Item")
Result = TypeVar("Result")


def lower_this_thread(nice: int) -> None:
    """Lowers the calling thread's priority by `nice` (Linux: a thread id is a process id for
    setpriority); elsewhere, or where it is refused, the thread keeps its priority."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(19, current + nice))
    except (OSError, AttributeError) as exc:
        log.debug("bulk thread keeps its priority: %s", exc)


class QueryPressure:
    """Whether queries are arriving now, and how long a bulk run rests for while they are.

    note_query() is called for every interactive request; for `window_s` after the last one the
    mesh counts as busy with people. While it is, bulk runs together use at most `bulk_cores`
    cores: a thread that spent c CPU seconds on a run rests c * (threads / bulk_cores - 1)
    seconds (in slices, so it resumes at full speed as soon as the queries stop). bulk_cores of
    0 or less turns the pacing off.
    """

    REST_SLICE_S = 0.02

    def __init__(
        self,
        *,
        bulk_cores: float,
        window_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        on_rest: Callable[[float], None] | None = None,
    ):
        """on_rest: told each rest's seconds (the service counts them in a metric)."""
        self.bulk_cores = float(bulk_cores)
        self._on_rest = on_rest
        self.window_s = float(window_s)
        self._clock = clock
        self._last_query = -float("inf")

    @property
    def paces(self) -> bool:
        """Whether bulk runs ever rest (False when the pacing is off)."""
        return self.bulk_cores > 0

    def note_query(self) -> None:
        self._last_query = self._clock()

    def busy(self) -> bool:
        return self.paces and self._clock() - self._last_query < self.window_s

    def rest_for(self, cpu_seconds: float, threads: int) -> float:
        """Seconds a bulk thread rests after a run of `cpu_seconds` (0 when no query is arriving)."""
        if not self.busy() or self.bulk_cores >= threads:
            return 0.0
        return cpu_seconds * (threads / self.bulk_cores - 1)

    def rest(self, cpu_seconds: float, threads: int) -> None:
        remaining = self.rest_for(cpu_seconds, threads)
        if remaining <= 0:
            return
        started = time.monotonic()
        while remaining > 0 and self.busy():
            time.sleep(min(self.REST_SLICE_S, remaining))
            remaining -= self.REST_SLICE_S
        if self._on_rest is not None:
            self._on_rest(time.monotonic() - started)


class BulkRunner:
    """`threads` background threads at a lower priority that run model calls side by side,
    paced by `pressure` (when given) while queries arrive."""

    def __init__(
        self,
        threads: int,
        *,
        nice: int = BULK_NICE,
        name: str = "bulk-model",
        pressure: QueryPressure | None = None,
    ):
        self.threads = max(1, int(threads))
        self.pressure = pressure
        self._pool = concurrent.futures.ThreadPoolExecutor(
            self.threads, thread_name_prefix=name, initializer=lower_this_thread, initargs=(nice,)
        )

    def map(self, fn: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
        """fn over items on the bulk threads; results in the items' order, the first error raised."""
        pressure = self.pressure
        if pressure is None or not pressure.paces:  # no thread CPU clock read for nothing
            return list(self._pool.map(fn, items))

        def paced(item: Item) -> Result:
            cpu_before = time.thread_time()
            result = fn(item)
            pressure.rest(time.thread_time() - cpu_before, self.threads)
            return result

        return list(self._pool.map(paced, items))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
