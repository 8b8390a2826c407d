"""Fair shares of an extraction worker: tasks by tenant (FairQueue) and page processes by tenant (the pool)."""

from __future__ import annotations

import asyncio
import datetime
import time
from pathlib import Path

import pytest

from mivaa_extractor.extraction.text_extraction import PageExtractor
from mivaa_extractor.worker.scheduling import FairQueue
from tests.support.pdfs import make_pdf


def test_one_task_per_tenant_while_another_tenant_waits():
    queue: FairQueue[str] = FairQueue(slots=2)
    for name in ("a1", "a2", "a3"):
        queue.add("a", name)
    assert queue.take() == ("a", "a1")
    assert queue.take() is None  # a's second task would leave no slot for a tenant yet to come
    assert queue.needs_work()  # a slot is free and nothing held may take it: fetch more
    queue.add("b", "b1")
    assert queue.take() == ("b", "b1")
    assert queue.take() is None and not queue.needs_work()
    queue.done("a")
    assert queue.take() == ("a", "a2")


def test_tenants_take_turns_in_the_order_they_were_last_served():
    queue: FairQueue[str] = FairQueue(slots=1)
    for tenant, count in (("a", 3), ("b", 2), ("c", 1)):
        for index in range(count):
            queue.add(tenant, f"{tenant}{index}")
    order = []
    while (taken := queue.take()) is not None:
        order.append(taken[1])
        queue.done(taken[0])
    assert order == ["a0", "b0", "c0", "a1", "b1", "a2"]


def test_more_slots_let_a_tenant_run_several_but_keep_one_free():
    queue: FairQueue[int] = FairQueue(slots=4)
    for index in range(6):
        queue.add("a", index)
    assert [queue.take() for _ in range(4)] == [("a", 0), ("a", 1), ("a", 2), None]
    queue.add("b", 100)
    assert queue.take() == ("b", 100)
    assert queue.running_count == 4 and queue.waiting_count == 3


def test_a_waiting_task_can_be_taken_back():
    queue: FairQueue[str] = FairQueue(slots=1)
    queue.add("a", "x")
    queue.add("a", "y")
    assert queue.remove("a", "y") and not queue.remove("a", "y")
    assert list(queue.waiting()) == ["x"]


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        FairQueue(slots=0)
    with pytest.raises(ValueError):
        FairQueue(slots=2, per_tenant=0)


async def test_a_short_document_gets_a_page_process_while_a_long_one_holds_them_all(tmp_path: Path):
    """One page process; tenant a's 24 slow pages hold it. Tenant b's one page waits for one page of a's, not for all."""
    from tests.extractor import page_faults

    long_pdf, short_pdf = tmp_path / "long.pdf", tmp_path / "short.pdf"
    long_pdf.write_bytes(make_pdf("longdoc", 24))
    short_pdf.write_bytes(make_pdf("shortdoc", 1))
    extractor = PageExtractor(workers=1, page_time_limit=20)
    extractor.analyze_function = page_faults.slow_pages
    finished: dict[str, float] = {}

    async def extract(path: Path, pages: int, owner: str) -> list[int]:
        numbers = []
        async for batch in extractor.iter_pages(path, None, pages, batch_pages=24, owner=owner):
            numbers.extend(page.number for page in batch if page.error is None)
        finished[owner] = time.monotonic()
        return numbers

    try:
        await extractor.warm_up()
        started = time.monotonic()
        long_task = asyncio.create_task(extract(long_pdf, 24, "a"))
        await asyncio.sleep(1.0)  # a's pages are under way
        assert await extract(short_pdf, 1, "b") == [1]
        assert await long_task == list(range(1, 25))  # the long document loses nothing by making way
        assert finished["b"] < finished["a"] - 2.0, (finished["b"] - started, finished["a"] - started)
    finally:
        await extractor.aclose()


class _FakeMessage:
    """A JetStream delivery that records what the worker did with it."""

    def __init__(self, task):
        from types import SimpleNamespace

        self.data = task.SerializeToString()
        self.headers = None
        self.metadata = SimpleNamespace(num_delivered=1, timestamp=datetime.datetime.now(datetime.UTC))
        self.calls: list[str] = []

    async def in_progress(self):
        self.calls.append("in_progress")

    async def ack_sync(self):
        self.calls.append("ack")

    async def nak(self, delay=None):
        self.calls.append("nak")

    async def term(self):
        self.calls.append("term")


class _FakeSubscription:
    def __init__(self, messages):
        self.messages = list(messages)

    async def fetch(self, batch, timeout):
        if not self.messages:
            await asyncio.sleep(timeout)
            raise TimeoutError
        taken, self.messages = self.messages[:batch], self.messages[batch:]
        return taken


class _FakeJetStream:
    def __init__(self, subscription):
        self.subscription = subscription

    async def pull_subscribe(self, *args, **kwargs):
        return self.subscription


class _GatedPipeline:
    """Each job runs until the test releases it; records the order jobs started in."""

    def __init__(self):
        self.started: list[str] = []
        self.release: dict[str, asyncio.Event] = {}

    def gate(self, job: str) -> asyncio.Event:
        return self.release.setdefault(job, asyncio.Event())

    async def run(self, task, heartbeat):
        from mivaa.jobs.v1 import job_pb2

        self.started.append(task.job)
        await self.gate(task.job).wait()
        return job_pb2.Job(name=task.job, state=job_pb2.JOB_STATE_SUCCEEDED)


async def test_the_worker_runs_another_tenant_first_and_keeps_the_waiting_task_alive_without_naks():
    """Against fakes of JetStream and the pipeline: the scheduling and the acks, nothing else."""
    from mivaa.jobs.v1 import job_pb2
    from mivaa_extractor.worker.consumer import ExtractWorker

    tasks = [job_pb2.ExtractTask(job=job, tenant=tenant) for job, tenant in (("a1", "a"), ("a2", "a"), ("b1", "b"))]
    messages = {task.job: _FakeMessage(task) for task in tasks}
    pipeline = _GatedPipeline()
    worker = ExtractWorker(
        _FakeJetStream(_FakeSubscription(messages.values())), pipeline, ack_wait_seconds=0.3, concurrent_tasks=2
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))

    async def until(condition) -> None:
        async with asyncio.timeout(10):
            while not condition():  # noqa: ASYNC110 - the fakes' state changes set no event
                await asyncio.sleep(0.02)

    try:
        await until(lambda: pipeline.started == ["a1", "b1"])  # a2 waits: a runs one while b waits
        await asyncio.sleep(0.5)
        assert pipeline.started == ["a1", "b1"]
        assert messages["a2"].calls and set(messages["a2"].calls) == {"in_progress"}  # alive, never nak'd
        pipeline.gate("a1").set()
        await until(lambda: pipeline.started == ["a1", "b1", "a2"])
        pipeline.gate("a2").set()
        pipeline.gate("b1").set()
        await until(lambda: worker.tasks_done == 3)
        assert all(message.calls[-1] == "ack" and "nak" not in message.calls for message in messages.values())
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
