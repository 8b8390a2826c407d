"""Our supervised pool (mivaa_pool) beside pebble's ProcessPool, in the same run, on the same tasks.

    .venv/bin/python bench/pool_overhead.py [--workers 2] [--tasks 1000] [--latency-calls 200] [--rounds 5]

Both pools are set up alike: "spawn" workers, an address-space limit set in
each worker (ours: ``memory_limit_bytes``; pebble: an initializer calling
mivaa_pool.limit_address_space), recycling after 200 tasks (ours:
``recycle_after_tasks``; pebble: ``max_tasks``) and a per-task timeout. Both
are started and warmed before anything is timed. Printed, per pool:

- throughput: --tasks trivial calls submitted at once, tasks/s;
- latency: a 1 ms task called --latency-calls times one after another,
  median and 95th percentile of the time each call takes, and the overhead
  over the 1 ms (what the pool adds to every call);
- recovery from a hung task: a one-worker pool, a task that sleeps for an
  hour under a 0.5 s timeout, then a trivial task: how late after the 0.5 s
  the caller learns of the timeout, and how long until the next task's result
  (a new worker is started);
- recovery from a crash: a one-worker pool, a task that SIGSEGVs, then a
  trivial task: how long until the caller learns of the crash, and until the
  next result.
Recovery is the median of --rounds rounds.

pebble (pip install pebble, the "bench" extra) returns concurrent.futures,
wrapped here with asyncio.wrap_future, as a service on an event loop would.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import pebble

from mivaa_pool import ItemTimeout, SupervisedPool, WorkerCrashed, limit_address_space

MEMORY_LIMIT = 2 << 30
RECYCLE_AFTER = 200
HANG_TIMEOUT = 0.5


def noop() -> None:
    return None


def sleep_ms(ms: float) -> None:
    time.sleep(ms / 1000)


def hang() -> None:
    time.sleep(3600)


def crash() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


# ---- the two pools behind one small face ----------------------------------------------


class Ours:
    name = "mivaa_pool.SupervisedPool"

    def __init__(self, workers: int) -> None:
        self.pool = SupervisedPool(
            workers, item_timeout=30.0, memory_limit_bytes=MEMORY_LIMIT, recycle_after_tasks=RECYCLE_AFTER
        )

    async def start(self) -> None:
        await self.pool.warm_up()

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Awaitable[Any]:
        return self.pool.call(fn, *args, timeout=timeout)

    timeout_error: tuple[type[BaseException], ...] = (ItemTimeout,)
    crash_error: tuple[type[BaseException], ...] = (WorkerCrashed,)

    async def close(self) -> None:
        await self.pool.aclose()


class Pebble:
    name = "pebble.ProcessPool"

    def __init__(self, workers: int) -> None:
        import multiprocessing

        self.workers = workers
        self.pool = pebble.ProcessPool(
            max_workers=workers,
            max_tasks=RECYCLE_AFTER,
            initializer=limit_address_space,
            initargs=(MEMORY_LIMIT,),
            context=multiprocessing.get_context("spawn"),
        )

    async def start(self) -> None:
        # pebble starts its workers with the pool; wait until each has answered once.
        await asyncio.gather(*(self.call(sleep_ms, 50) for _ in range(self.workers)))

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Awaitable[Any]:
        return asyncio.wrap_future(self.pool.schedule(fn, args, timeout=timeout))

    timeout_error = (FutureTimeout, TimeoutError)
    crash_error = (pebble.ProcessExpired,)

    async def close(self) -> None:
        self.pool.stop()
        await asyncio.to_thread(self.pool.join, 10)


# ---- measurements ---------------------------------------------------------------------


async def throughput(pool: Ours | Pebble, tasks: int) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(pool.call(noop) for _ in range(tasks)))
    return tasks / (time.perf_counter() - started)


async def latency(pool: Ours | Pebble, calls: int) -> tuple[float, float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        await pool.call(sleep_ms, 1.0)
        times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


async def recovery(
    pool: Ours | Pebble, fault: Callable[[], None], expected: tuple[type[BaseException], ...]
) -> tuple[float, float]:
    """Seconds until the caller sees the failure, and until the next task's result."""
    started = time.perf_counter()
    try:
        await pool.call(fault, timeout=HANG_TIMEOUT)
    except expected:
        pass
    else:
        raise AssertionError(f"{pool.name}: {fault.__name__} did not fail")
    failed = time.perf_counter()
    await pool.call(noop)
    return failed - started, time.perf_counter() - failed


async def measure(kind: type[Ours | Pebble], args: argparse.Namespace) -> dict[str, float]:
    figures: dict[str, float] = {}
    pool = kind(args.workers)
    await pool.start()
    try:
        await throughput(pool, 50)  # warm the paths
        figures["tasks/s"] = max([await throughput(pool, args.tasks) for _ in range(3)])
        figures["1 ms p50"], figures["1 ms p95"] = await latency(pool, args.latency_calls)
    finally:
        await pool.close()
    for label, fault, errors in (
        ("hang", hang, kind.timeout_error),
        ("crash", crash, kind.crash_error),
    ):
        detect, recover = [], []
        for _ in range(args.rounds):
            single = kind(1)
            await single.start()
            try:
                seen, next_result = await recovery(single, fault, errors)
            finally:
                await single.close()
            detect.append(seen)
            recover.append(next_result)
        figures[f"{label}: failure seen after"] = statistics.median(detect)
        figures[f"{label}: next result after"] = statistics.median(recover)
    return figures


def report(results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    names = list(results)
    print(
        f"{args.workers} workers, {args.tasks} trivial tasks, {args.latency_calls} calls of 1 ms, "
        f"recovery: median of {args.rounds} rounds on a one-worker pool, hang timeout {HANG_TIMEOUT:g} s"
    )
    print(f"{'':34s}" + "".join(f"{name:>28s}" for name in names))
    for key in results[names[0]]:
        cells = []
        for name in names:
            value = results[name][key]
            cells.append(f"{value:>24.0f}    " if key == "tasks/s" else f"{value * 1000:>24.2f} ms ")
        print(f"{key:34s}" + "".join(cells))
    for name in names:
        overhead = (results[name]["1 ms p50"] - 0.001) * 1e6
        print(f"{name}: per-call overhead over the 1 ms task, median: {overhead:.0f} us")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--latency-calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> None:
    logging.getLogger("mivaa.pool").setLevel(logging.ERROR)  # the kills below are on purpose
    results = {}
    for kind in (Ours, Pebble):
        results[kind.name] = await measure(kind, args)
    report(results, args)


if __name__ == "__main__":
    asyncio.run(amain(parse_args()))
    sys.exit(0)
