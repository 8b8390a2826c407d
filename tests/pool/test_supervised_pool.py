"""SupervisedPool with real worker processes and real faults: hangs, exits, segfaults, MemoryError."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import pickle
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import pytest_asyncio

from mivaa_pool import (
    ItemTimeout,
    MemoryLimitExceeded,
    PoolClosed,
    SupervisedPool,
    TotalTimeout,
    WorkerCrashed,
    WorkerError,
    WorkerStartFailed,
)
from tests.pool import pool_faults as faults

MB = 1024 * 1024


async def collect(pool: SupervisedPool, fn, *args, **timeouts) -> list:
    async with contextlib.aclosing(pool.stream(fn, *args, **timeouts)) as items:
        return [item async for item in items]


async def collect_until_failure(pool: SupervisedPool, fn, *args, **timeouts) -> tuple[list, BaseException]:
    received: list = []
    with pytest.raises(Exception) as failure:
        async with contextlib.aclosing(pool.stream(fn, *args, **timeouts)) as items:
            async for item in items:
                received.append(item)
    return received, failure.value


def process_state(pid: int) -> str | None:
    """The /proc state letter (Z: zombie), or None once the process is gone and reaped."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


async def wait_until_reaped(pid: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_state(pid) is None:
            return True
        await asyncio.sleep(0.02)
    return False


async def only_pid(pool: SupervisedPool) -> int:
    return (await collect(pool, faults.pid))[0]


@pytest_asyncio.fixture(scope="module")
async def pool():
    """Two workers shared by the tests that leave the pool healthy."""
    pool = SupervisedPool(2, item_timeout=5.0)
    await pool.warm_up()
    yield pool
    await pool.aclose()


@pytest_asyncio.fixture(scope="module")
async def single():
    """One worker: every task lands on the same slot, so replacement and leaks are visible."""
    pool = SupervisedPool(1, item_timeout=5.0)
    await pool.warm_up()
    yield pool
    await pool.aclose()


# ---- streaming -----------------------------------------------------------------------


async def test_items_stream_in_order_as_they_are_produced(pool):
    arrivals = []
    async with contextlib.aclosing(pool.stream(faults.timed_items, 5, 0.1)) as items:
        async for index, produced_at in items:
            arrivals.append((index, produced_at, time.monotonic()))
    assert [index for index, _, _ in arrivals] == [0, 1, 2, 3, 4]
    # The first item reached the parent before the worker had even produced the last one.
    assert arrivals[0][2] < arrivals[-1][1]


async def test_call_returns_the_value_and_plain_exceptions_come_back(pool):
    assert await pool.call(faults.square, 7) == 49
    with pytest.raises(KeyError) as failure:
        await pool.call(faults.fail_plain, "missing")
    assert failure.value.items_done == 0
    with pytest.raises(ItemTimeout):
        await pool.call(faults.sleep_then_return, 5.0, timeout=0.3)
    assert await pool.call(faults.square, 3) == 9


async def test_warm_up_starts_every_worker(pool):
    await pool.warm_up()
    pids = pool.worker_pids()
    assert len(pids) == 2 and len(set(pids)) == 2
    assert all(process_state(pid) not in (None, "Z") for pid in pids)


# ---- failures ------------------------------------------------------------------------


async def test_hang_gives_item_timeout_kills_the_worker_and_the_pool_serves_on(single):
    before = await only_pid(single)
    started = time.monotonic()
    received, error = await collect_until_failure(single, faults.hang_at, 2, item_timeout=0.5)
    elapsed = time.monotonic() - started
    assert received == [0, 1]
    assert type(error) is ItemTimeout and error.items_done == 2 and error.timeout == 0.5
    assert 0.45 < elapsed < 2.0
    assert await wait_until_reaped(before, timeout=1.0), "the hung worker was not killed and reaped"
    assert await collect(single, faults.count, 3) == [0, 1, 2]
    assert await only_pid(single) != before


async def test_os_exit_gives_worker_crashed(single):
    received, error = await collect_until_failure(single, faults.exit_at, 2, 3)
    assert received == [0, 1]
    assert isinstance(error, WorkerCrashed) and error.items_done == 2 and error.exitcode == 3
    assert await collect(single, faults.count, 2) == [0, 1]


async def test_segfault_gives_worker_crashed(single):
    received, error = await collect_until_failure(single, faults.segfault_at, 1)
    assert received == [0]
    assert isinstance(error, WorkerCrashed) and error.items_done == 1 and error.exitcode == -11
    assert "SIGSEGV" in str(error)
    assert await collect(single, faults.count, 2) == [0, 1]


async def test_allocation_beyond_the_limit_gives_memory_limit_exceeded():
    async with SupervisedPool(1, item_timeout=10.0, memory_limit_bytes=600 * MB) as limited:
        before = await only_pid(limited)
        started = time.monotonic()
        received, error = await collect_until_failure(limited, faults.allocate_at, 1, 2048 * MB)
        assert time.monotonic() - started < 5.0
        assert received == [0]
        assert type(error) is MemoryLimitExceeded and error.items_done == 1
        assert await wait_until_reaped(before), "the worker did not exit after MemoryError"
        # A fresh worker serves the next task, under the same limit.
        assert await collect(limited, faults.allocate_at, 0, 50 * MB) == [50 * MB]
        assert await only_pid(limited) != before


async def test_ordinary_exception_comes_back_as_itself_and_the_worker_survives(single):
    before = await only_pid(single)
    received, error = await collect_until_failure(single, faults.raise_at, 3, "bad page")
    assert received == [0, 1, 2]
    assert type(error) is ValueError and str(error) == "bad page"
    assert error.items_done == 3
    assert "raise_at" in str(error.__cause__)  # the worker's traceback
    assert await only_pid(single) == before


async def test_exception_that_does_not_unpickle_becomes_worker_error(single):
    before = await only_pid(single)
    received, error = await collect_until_failure(single, faults.raise_unrebuildable)
    assert received == [1]
    assert type(error) is WorkerError and error.items_done == 1
    assert error.type_name.endswith("Unrebuildable") and error.message == "left/right"
    assert await only_pid(single) == before


async def test_an_item_that_does_not_pickle_fails_the_task_not_the_worker(single):
    before = await only_pid(single)
    received, error = await collect_until_failure(single, faults.unpicklable_item)
    assert received == ["fine"]
    assert type(error) is TypeError and "pickle" in str(error) and error.items_done == 1
    assert await only_pid(single) == before


async def test_total_timeout_bounds_the_whole_task(single):
    started = time.monotonic()
    received, error = await collect_until_failure(single, faults.count, 100, 0.1, total_timeout=0.5)
    elapsed = time.monotonic() - started
    assert isinstance(error, TotalTimeout) and isinstance(error, ItemTimeout)
    assert error.items_done == len(received) and 2 <= len(received) <= 5
    assert received == list(range(len(received)))
    assert 0.45 < elapsed < 2.0


async def test_errors_pickle():
    for error in (
        ItemTimeout(2, 0.5),
        TotalTimeout(3, 1.0),
        WorkerCrashed(1, -9),
        MemoryLimitExceeded(4, 10),
        WorkerError(5, "T", "m"),
        PoolClosed(),
    ):
        clone = pickle.loads(pickle.dumps(error))
        assert type(clone) is type(error) and str(clone) == str(error)
        assert getattr(clone, "items_done", None) == getattr(error, "items_done", None)


# ---- recycling -----------------------------------------------------------------------


async def test_recycling_after_n_tasks():
    async with SupervisedPool(1, item_timeout=5.0, recycle_after_tasks=2) as recycling:
        pids = [await only_pid(recycling) for _ in range(4)]
        assert pids[0] == pids[1] and pids[2] == pids[3] and pids[0] != pids[2]
        assert await wait_until_reaped(pids[0])


async def test_recycling_above_rss():
    async with SupervisedPool(1, item_timeout=5.0, recycle_above_rss_bytes=150 * MB) as recycling:
        lean = await only_pid(recycling)
        assert await only_pid(recycling) == lean  # well under the threshold: kept
        fat = (await collect(recycling, faults.hoard, 200 * MB))[0]
        assert fat == lean
        assert await only_pid(recycling) != fat
        assert await wait_until_reaped(fat)


# ---- scheduling ----------------------------------------------------------------------


async def test_two_workers_run_at_most_two_tasks_at_once(pool):
    started = time.monotonic()
    results = await asyncio.gather(*(collect(pool, faults.interval, tag, 0.3) for tag in range(6)))
    elapsed = time.monotonic() - started
    runs = [result[0] for result in results]
    assert sorted(tag for tag, _, _, _ in runs) == list(range(6))
    events = sorted([(start, 1) for _, _, start, _ in runs] + [(end, -1) for _, _, _, end in runs])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak == 2
    assert len({pid for _, pid, _, _ in runs}) == 2
    assert elapsed > 0.85


async def test_waiting_callers_are_served_in_order(single):
    order: list[int] = []

    async def run(tag: int) -> None:
        async for _ in single.stream(faults.count, 1, 0.05):
            order.append(tag)

    tasks = []
    for tag in range(5):
        tasks.append(asyncio.create_task(run(tag)))
        await asyncio.sleep(0)  # each caller queues before the next one is created
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_slow_consumer_does_not_trip_the_item_timeout():
    async with SupervisedPool(1, item_timeout=0.3, max_buffered_items=2) as pool:
        received = []
        async for item in pool.stream(faults.count, 4):
            received.append(item)
            await asyncio.sleep(0.4)  # the worker waits for credit meanwhile; that is not its fault
        assert received == [0, 1, 2, 3]


# ---- cancellation --------------------------------------------------------------------


async def test_closing_the_consumer_early_leaks_nothing_into_the_next_task(single):
    before = await only_pid(single)
    async with contextlib.aclosing(single.stream(faults.count, 100_000)) as items:
        async for item in items:
            if item == 2:
                break
    following = await collect(single, faults.tagged, "next", 3)
    assert [(tag, index) for tag, index, _ in following] == [("next", 0), ("next", 1), ("next", 2)]
    assert {pid for _, _, pid in following} == {before}  # the worker dropped the task and lived on


async def test_cancelling_the_consuming_task_leaks_nothing(single):
    got_first = asyncio.Event()

    async def consume() -> None:
        async for _ in single.stream(faults.slow_after_first, 0.3):
            got_first.set()

    consumer = asyncio.create_task(consume())
    await got_first.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    following = await collect(single, faults.tagged, "after-cancel", 2)
    assert [(tag, index) for tag, index, _ in following] == [("after-cancel", 0), ("after-cancel", 1)]


async def test_breaking_out_without_aclosing_still_frees_the_worker(single):
    before = await only_pid(single)
    async for item in single.stream(faults.count, 100_000):
        if item == 1:
            break  # the loop's async-generator finalizer closes the stream soon after
    following = await asyncio.wait_for(collect(single, faults.tagged, "next", 2), timeout=5.0)
    assert [(tag, index, pid) for tag, index, pid in following] == [("next", 0, before), ("next", 1, before)]


async def test_a_cancelled_task_that_hangs_is_killed_after_item_timeout(single):
    before = await only_pid(single)
    async with contextlib.aclosing(single.stream(faults.hang_at, 1, item_timeout=0.4)) as items:
        assert await anext(items) == 0
    assert await collect(single, faults.count, 2) == [0, 1]  # waited for the kill, then a fresh worker
    assert await wait_until_reaped(before)


# ---- the event loop ------------------------------------------------------------------


async def test_the_loop_stays_responsive_while_a_20_mb_item_arrives(pool):
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            before = loop.time()
            await asyncio.sleep(0.005)
            gaps.append(loop.time() - before)

    ticking = asyncio.create_task(ticker())
    try:
        for _ in range(2):
            items = await collect(pool, faults.big_item, 20 * MB)
            assert len(items) == 1 and len(items[0]) == 20 * MB
    finally:
        stop.set()
        await ticking
    assert len(gaps) > 5
    assert max(gaps) < 0.1, f"the event loop stalled for {max(gaps) * 1000:.0f} ms"


# ---- start and shutdown --------------------------------------------------------------


async def test_initializer_runs_once_in_each_worker():
    async with SupervisedPool(1, item_timeout=5.0, initializer=faults.set_initialized) as pool:
        marker = await pool.call(faults.initialized_by)
        assert marker == f"initializer in {pool.worker_pids()[0]}"


async def test_a_failing_initializer_fails_the_task_with_worker_start_failed():
    async with SupervisedPool(1, item_timeout=5.0, initializer=faults.broken_initializer) as pool:
        with pytest.raises(WorkerStartFailed) as failure:
            await pool.call(faults.square, 2)
        assert isinstance(failure.value.__cause__, RuntimeError)
        assert "initializer is broken" in str(failure.value.__cause__)


async def test_close_kills_and_reaps_every_worker():
    threads_before = threading.active_count()
    pool = SupervisedPool(2, item_timeout=30.0)
    await pool.warm_up()
    pids = pool.worker_pids()
    assert len(pids) == 2

    async def hang() -> None:
        async for _ in pool.stream(faults.hang_at, 0):
            pass

    running = asyncio.create_task(hang())
    await asyncio.sleep(0.2)
    pool.close()
    with pytest.raises(PoolClosed):
        await running
    assert not {child.pid for child in multiprocessing.active_children()} & set(pids)
    assert all(process_state(pid) is None for pid in pids), "a worker is still running or a zombie"
    assert threading.active_count() == threads_before
    with pytest.raises(PoolClosed):
        pool.stream(faults.count, 1)
    with pytest.raises(PoolClosed):
        await pool.call(faults.square, 1)
    pool.close()  # idempotent


async def test_aclose_fails_waiting_callers_and_reaps():
    pool = SupervisedPool(1, item_timeout=30.0)
    await pool.warm_up()
    pids = pool.worker_pids()

    async def hang() -> None:
        async for _ in pool.stream(faults.hang_at, 0):
            pass

    running = asyncio.create_task(hang())
    waiting = asyncio.create_task(pool.call(faults.square, 2))
    await asyncio.sleep(0.2)
    await pool.aclose()
    for task in (running, waiting):
        with pytest.raises(PoolClosed):
            await task
    assert all(process_state(pid) is None for pid in pids)


def test_a_pool_outlives_its_first_event_loop():
    pool = SupervisedPool(1, item_timeout=5.0)
    first_loop = asyncio.new_event_loop()
    try:
        first_pid = first_loop.run_until_complete(only_pid(pool))
    finally:
        first_loop.close()
    second_loop = asyncio.new_event_loop()
    try:
        assert second_loop.run_until_complete(collect(pool, faults.count, 2)) == [0, 1]
        assert process_state(first_pid) is None  # the first loop's worker was killed and reaped
        second_pid = pool.worker_pids()[0]
    finally:
        pool.close()
        second_loop.close()
    assert process_state(second_pid) is None


def test_workers_exit_when_their_parent_dies():
    script = textwrap.dedent(
        """
        import asyncio, os, signal
        from mivaa_pool import SupervisedPool

        async def main():
            pool = SupervisedPool(2, item_timeout=5.0)
            await pool.warm_up()
            print(" ".join(map(str, pool.worker_pids())), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert parent.wait(timeout=10) == -9
        assert len(pids) == 2
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(process_state(pid) not in (None, "Z") for pid in pids):
            time.sleep(0.05)
        assert all(process_state(pid) in (None, "Z") for pid in pids), "orphaned workers kept running"
    finally:
        parent.kill()
        parent.communicate(timeout=10)
