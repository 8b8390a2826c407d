"""Supervised worker processes that stream a generator's items to asyncio code.

Used by upload validation, page extraction (services/extractor) and OCR
(services/ocr): every place where untrusted input meets native code that can
hang, crash or ask for gigabytes (MuPDF, Tesseract, torch).

Why not concurrent.futures.ProcessPoolExecutor: it cannot stop one hanging
task, has no memory limit, returns a task's result only when the whole task
is done, and a single dead worker breaks the whole pool. Why not pebble's
ProcessPool, which does stop a hanging task (per-task timeout), survives a
crash and recycles workers after ``max_tasks``. Measured side by side
(bench/pool_overhead.py, three runs on 2 busy cores) the two are alike for
plain calls: 0.3-0.8 ms of overhead per call and 600-1000 trivial tasks/s
either way, a hung task noticed at its deadline and the next result 0.2-0.6 s
later (a new worker); ours sees a crash sooner (the process sentinel: 6-18 ms
against ~70 ms) and has the lower 95th-percentile latency. But pebble cannot

- stream: a task's items (a document's pages) reach the caller one by one,
  with flow control (a slow consumer pauses the worker) and a per-item
  deadline, and a stream can stop early at an item boundary;
- recycle a worker by its resident memory (``recycle_above_rss_bytes``),
  only by task count;
- share processes fairly between tenants (``fair_key``: waiting callers
  served round-robin across keys, a key with no process first, and
  ``starved(key)`` tells a long stream to make way);
- tell a MemoryError (the RLIMIT_AS limit, worker replaced) from a crash
  from a timeout, with the number of items delivered before the failure;
- run on the event loop without a manager thread per pool.

Design
------
Slots (_slots.py). The pool has ``workers`` slots. A task holds one slot from
the moment it is dispatched until both ends are done with it: the worker has
finished (or been killed) *and* the consumer has stopped reading. Each slot
owns at most one worker process, created lazily (or by ``warm_up``) and
replaced lazily after it died, was killed or was recycled.

Wire (_wire.py). Parent and worker talk over one socket pair per worker, in
frames tagged with their task id, so frames from a task the parent has given
up on (cancelled, timed out) are dropped without being unpickled: the next
task on that worker never sees a previous task's items.

Parent side (_pool.py, _task.py, _process.py). Event-driven on the running
loop, no threads. Deadlines are loop timers; when one passes, the worker gets
SIGKILL at once.

Worker side (_worker.py, _limits.py). Plain blocking code. Flow control: the
parent grants credit for ``max_buffered_items`` items at a time (time spent
waiting for credit does not count against ``item_timeout``); cancellation: a
CANCEL frame makes the worker close the generator (one that does not answer
within ``item_timeout`` is killed); parent death: PR_SET_PDEATHSIG (Linux)
kills a worker outright even in C code, and otherwise it sees EOF or EPIPE.

Sizing (_sizing.py). ``count_workers`` gives one worker per core, fewer
where the memory available (the cgroup limit included) cannot hold that many
at the resident size a worker is expected to reach.

Failures come back as the exception classes below, each with ``items_done``
(items delivered before the failure, so a caller can resume after the failing
item). Exceptions raised by ``fn`` itself come back as themselves (with an
``items_done`` attribute and the worker's traceback as ``__cause__``) and the
worker lives on; MemoryError means the worker's heap is in an unknown state,
so that worker exits and is replaced.
"""

from mivaa_pool._errors import (
    ItemTimeout,
    MemoryLimitExceeded,
    PoolClosed,
    SupervisedPoolError,
    TaskFailed,
    TotalTimeout,
    WorkerCrashed,
    WorkerError,
    WorkerStartFailed,
)
from mivaa_pool._limits import limit_address_space
from mivaa_pool._pool import SupervisedPool
from mivaa_pool._sizing import WorkerCount, available_cores, available_memory_bytes, count_workers

__all__ = [
    "ItemTimeout",
    "MemoryLimitExceeded",
    "PoolClosed",
    "SupervisedPool",
    "SupervisedPoolError",
    "TaskFailed",
    "TotalTimeout",
    "WorkerCrashed",
    "WorkerCount",
    "WorkerError",
    "WorkerStartFailed",
    "available_cores",
    "available_memory_bytes",
    "count_workers",
    "limit_address_space",
]
