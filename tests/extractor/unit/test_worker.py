"""The task consumer against a fake work stream: acks, retries, give-ups, malformed tasks and fairness."""

from __future__ import annotations

import asyncio
import datetime
from collections import deque
from dataclasses import dataclass, field
from types import SimpleNamespace

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.jobs import DOMAIN
from mivaa_extractor.worker.consumer import ExtractWorker
from mivaa_extractor.worker.pipeline import Heartbeat
from mivaa_platform.errors import InvalidArgument, MivaaError, Unavailable


@dataclass(eq=False)
class FakeMessage:
    data: bytes
    delivered: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    outcome: str = ""  # "ack", "nak", "term"
    nak_delay: float | None = None
    beats: int = 0

    @property
    def metadata(self):
        return SimpleNamespace(num_delivered=self.delivered, timestamp=datetime.datetime.now(datetime.UTC))

    async def ack_sync(self) -> None:
        self.outcome = "ack"

    async def nak(self, delay: float | None = None) -> None:
        self.outcome, self.nak_delay = "nak", delay

    async def term(self) -> None:
        self.outcome = "term"

    async def in_progress(self) -> None:
        self.beats += 1


class FakeSubscription:
    def __init__(self, messages: list[FakeMessage]):
        self.messages = deque(messages)

    async def fetch(self, batch: int, timeout: float) -> list[FakeMessage]:
        if not self.messages:
            await asyncio.sleep(0.01)
            raise TimeoutError
        return [self.messages.popleft() for _ in range(min(batch, len(self.messages)))]


class FakeStream:
    """The part of a JetStreamContext the worker uses."""

    def __init__(self, messages: list[FakeMessage]):
        self.subscription = FakeSubscription(messages)

    async def pull_subscribe(self, subject: str, **options) -> FakeSubscription:
        return self.subscription


class FakeRunner:
    """TaskRunner: runs a task by waiting for the test's word (`release`), or failing with `failure`."""

    def __init__(self, failure: Exception | None = None, hold: bool = False):
        self.failure = failure
        self.started: list[str] = []
        self.given_up: list[tuple[str, str]] = []
        self.release = asyncio.Event()
        if not hold:
            self.release.set()

    async def run(self, task: job_pb2.ExtractTask, heartbeat: Heartbeat) -> job_pb2.Job:
        self.started.append(task.job)
        await heartbeat()
        await self.release.wait()
        if self.failure is not None:
            raise self.failure
        return job_pb2.Job(name=task.job, state=job_pb2.JOB_STATE_SUCCEEDED)

    async def give_up(self, task: job_pb2.ExtractTask, error: MivaaError) -> job_pb2.Job:
        self.given_up.append((task.job, error.reason))
        return job_pb2.Job(name=task.job, state=job_pb2.JOB_STATE_FAILED)


def message(job: str, tenant: str = "acme", delivered: int = 1) -> FakeMessage:
    task = job_pb2.ExtractTask(job=job, document="documents/d", sha256="0" * 64, tenant=tenant)
    return FakeMessage(task.SerializeToString(), delivered=delivered)


async def until(condition, timeout: float = 5.0) -> None:
    """Returns once `condition()` holds; fails after `timeout` seconds."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the worker never got there")


async def run_until(worker: ExtractWorker, done) -> None:
    """Runs the worker until `done()` holds, then stops it."""
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await until(done)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=5)


async def test_a_task_is_run_and_acked_once_its_job_is_done():
    delivery = message("jobs/01")
    runner = FakeRunner()
    worker = ExtractWorker(FakeStream([delivery]), runner)  # type: ignore[arg-type]
    await run_until(worker, lambda: worker.tasks_done == 1)
    assert runner.started == ["jobs/01"] and delivery.outcome == "ack"


async def test_a_malformed_task_is_dropped_for_good():
    garbage = FakeMessage(b"\xff\xff not a task")
    worker = ExtractWorker(FakeStream([garbage]), FakeRunner())  # type: ignore[arg-type]
    await run_until(worker, lambda: garbage.outcome == "term")


async def test_a_peer_outage_is_retried_later_while_deliveries_remain_then_given_up():
    outage = Unavailable("SEARCH_UNAVAILABLE", "Down.", domain=DOMAIN)
    early, last = message("jobs/02", delivered=2), message("jobs/03", delivered=5)
    runner = FakeRunner(failure=outage)
    worker = ExtractWorker(FakeStream([early, last]), runner, max_deliver=5)  # type: ignore[arg-type]
    await run_until(worker, lambda: early.outcome and last.outcome)
    assert (early.outcome, early.nak_delay) == ("nak", 4)
    assert last.outcome == "ack" and runner.given_up == [("jobs/03", "SEARCH_UNAVAILABLE")]


async def test_bad_input_is_given_up_at_once():
    refusal = InvalidArgument("TASK_REJECTED", "Forged.", domain=DOMAIN)
    delivery = message("jobs/04", delivered=1)
    runner = FakeRunner(failure=refusal)
    worker = ExtractWorker(FakeStream([delivery]), runner)  # type: ignore[arg-type]
    await run_until(worker, lambda: delivery.outcome == "ack")
    assert runner.given_up == [("jobs/04", "TASK_REJECTED")]


async def test_a_tenants_second_task_waits_while_another_tenant_gets_the_free_slot():
    first, second, other = message("jobs/a1", "acme"), message("jobs/a2", "acme"), message("jobs/b1", "globex")
    runner = FakeRunner(hold=True)
    worker = ExtractWorker(FakeStream([first, second, other]), runner, concurrent_tasks=2)  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: len(runner.started) == 2)
        assert runner.started == ["jobs/a1", "jobs/b1"], "one task per tenant while another tenant waits"
        runner.release.set()
        await until(lambda: worker.tasks_done == 3)
        assert runner.started[2] == "jobs/a2"
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=5)
    assert {first.outcome, second.outcome, other.outcome} == {"ack"}
