"""Bulk model runs on background threads, so a document's chunks yield the cores to queries.

A search query waits in person; a document's chunks do not. On a few shared cores (the local
mesh on a laptop) the chunks' model runs took every core at normal priority, so a query's own
run, and the search service, Envoy and PostgreSQL around it, queued behind them. Bulk runs go
to threads of their own instead, each running one model call at a time on a single-threaded
session, at a lower scheduling priority (Linux sets a nice value per thread): with the cores
idle they use every core as before; when a query comes in, its work runs first.

Domain code: no grpc.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
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


class BulkRunner:
    """`threads` background threads at a lower priority that run model calls side by side."""

    def __init__(self, threads: int, *, nice: int = BULK_NICE, name: str = "bulk-model"):
        self.threads = max(1, int(threads))
        self._pool = concurrent.futures.ThreadPoolExecutor(
            self.threads, thread_name_prefix=name, initializer=lower_this_thread, initargs=(nice,)
        )

    def map(self, fn: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
        """fn over items on the bulk threads; results in the items' order, the first error raised."""
        return list(self._pool.map(fn, items))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
