"""Pulls extraction tasks from the JetStream work queue and runs the pipeline.

Several worker processes share one durable pull consumer, so each task goes to
one of them. A task is acked only when its job reached a terminal state; while
it is held (running or waiting for a slot) the worker tells JetStream it is
still alive, so a killed worker's task is redelivered after `ack_wait` and
another (or the restarted) worker finishes it.

Fairness. A worker runs up to `concurrent_tasks` documents at once, tenants in
turn (scheduling.FairQueue: one running per tenant with the default two
slots). It fetches a task only when a slot is free and nothing it holds may
take it, so a tenant's backlog stays in JetStream instead of in one worker,
and keeps the tasks it fetched for a busy tenant in a small local queue
(at most `held_tasks` in all), heartbeating them, never nak'ing them: a nak
would count as a delivery and burn the task's `max_deliver`. The documents
that run at once share the page process pool, which hands its processes to
tenants in turn as well (SupervisedPool's fair_key), so another tenant's
one-page upload waits for a page batch, not for a whole heavy document.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext, api
from opentelemetry import trace

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.jobs import is_retryable, task_tenant
from mivaa_extractor.worker.pipeline import Heartbeat
from mivaa_extractor.worker.scheduling import FairQueue
from mivaa_platform.errors import Internal, MivaaError
from mivaa_platform.messaging import WORK_CONSUMER, WORK_STREAM, WORK_SUBJECT_EXTRACT
from mivaa_platform.telemetry import extract_trace_context

log = logging.getLogger("mivaa.extractor.worker")
tracer = trace.get_tracer("mivaa.extractor.worker")

CONSUMER = WORK_CONSUMER


class TaskRunner(Protocol):
    """What runs a task (worker.pipeline.DocumentPipeline in the service)."""

    async def run(self, task: job_pb2.ExtractTask, heartbeat: Heartbeat) -> job_pb2.Job:
        """The job in a terminal state, or a raised error (retryable or not: see jobs.is_retryable)."""
        ...

    async def give_up(self, task: job_pb2.ExtractTask, error: MivaaError) -> job_pb2.Job: ...


@dataclass(eq=False)
class _Held:
    """A task this worker holds, and the delivery to ack (a redelivery replaces it)."""

    message: Msg
    task: job_pb2.ExtractTask
    tenant: str
    last_beat: float


class ExtractWorker:
    def __init__(
        self,
        js: JetStreamContext,
        pipeline: TaskRunner,
        *,
        ack_wait_seconds: float = 30.0,
        max_deliver: int = 5,
        concurrent_tasks: int = 2,
        held_tasks: int | None = None,
    ):
        if concurrent_tasks < 1:
            raise ValueError("concurrent_tasks must be at least 1")
        self._js = js
        self._pipeline = pipeline
        self.ack_wait_seconds = ack_wait_seconds
        self.max_deliver = max_deliver
        self.concurrent_tasks = concurrent_tasks
        # Few: a task held here waiting for its tenant's turn is one another worker process cannot run.
        self.held_tasks = max(held_tasks or 2 * concurrent_tasks, concurrent_tasks)
        self.tasks_done = 0
        self._queue: FairQueue[_Held] = FairQueue(concurrent_tasks)
        self._held: dict[str, _Held] = {}  # by job name
        self._running: set[asyncio.Task] = set()
        self._changed = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        subscription = await self._js.pull_subscribe(
            WORK_SUBJECT_EXTRACT,
            durable=CONSUMER,
            stream=WORK_STREAM,
            config=api.ConsumerConfig(
                ack_policy=api.AckPolicy.EXPLICIT,
                ack_wait=self.ack_wait_seconds,
                max_deliver=self.max_deliver,
                max_ack_pending=1000,
            ),
        )
        log.info(
            "worker started",
            extra={"fields": {"consumer": CONSUMER, "concurrent_tasks": self.concurrent_tasks}},
        )
        heartbeats = asyncio.create_task(self._beat_while_held())
        try:
            while not stop.is_set():
                self._changed.clear()
                self._start_what_may_start()
                if not self._queue.needs_work() or len(self._held) >= self.held_tasks:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), timeout=1)
                    continue
                try:
                    messages = await subscription.fetch(1, timeout=2)
                except (TimeoutError, NatsTimeoutError):
                    continue
                except Exception:
                    log.warning("fetch failed", exc_info=True)
                    await asyncio.sleep(1)
                    continue
                for message in messages:
                    await self._accept(message)
        finally:
            heartbeats.cancel()
            await self._release_waiting()
            # Running documents finish (main() bounds the wait); cancelled, they stay unacked and come back.
            try:
                if self._running:
                    await asyncio.gather(*self._running, return_exceptions=True)
            finally:
                for running in self._running:
                    running.cancel()

    async def _accept(self, message: Msg) -> None:
        task = job_pb2.ExtractTask()
        try:
            task.ParseFromString(message.data)
        except Exception:  # noqa: BLE001 - a malformed task can never succeed
            log.error("dropping malformed task")
            await message.term()
            return
        held = self._held.get(task.job)
        if held is not None:
            # A redelivery of a task this worker already holds (a heartbeat was lost): ack the newest delivery.
            held.message = message
            return
        held = _Held(message, task, task_tenant(task), time.monotonic())
        self._held[task.job] = held
        self._queue.add(held.tenant, held)

    def _start_what_may_start(self) -> None:
        while (taken := self._queue.take()) is not None:
            _, held = taken
            running = asyncio.create_task(self._run_held(held), name=f"extract {held.task.job}")
            self._running.add(running)

    async def _run_held(self, held: _Held) -> None:
        try:
            await self._handle(held)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The task stays unacked, so JetStream redelivers it after ack_wait and a
            # redelivery of a finished job is acked at once. The worker goes on.
            log.warning("handling a task failed; it will be redelivered", exc_info=True)
        finally:
            self._held.pop(held.task.job, None)
            self._queue.done(held.tenant)
            self._running.discard(asyncio.current_task())
            self._changed.set()

    async def _beat_while_held(self) -> None:
        """Tells JetStream every held task (waiting or running) is alive, every third of ack_wait."""
        interval = self.ack_wait_seconds / 3
        while True:
            await asyncio.sleep(min(interval, 1.0))
            now = time.monotonic()
            for held in list(self._held.values()):
                if now - held.last_beat >= interval:
                    held.last_beat = now
                    try:
                        await held.message.in_progress()
                    except Exception:  # noqa: BLE001 - NATS reconnecting; a lost beat may mean a redelivery
                        log.warning("heartbeat failed", extra={"fields": {"job": held.task.job}})

    async def _release_waiting(self) -> None:
        """On shutdown: tasks not started go back to the queue at once, for another worker."""
        for held in list(self._queue.waiting()):
            self._queue.remove(held.tenant, held)
            self._held.pop(held.task.job, None)
            with contextlib.suppress(Exception):
                await held.message.nak()

    async def _handle(self, held: _Held) -> None:
        message, task = held.message, held.task
        delivered = message.metadata.num_delivered

        async def heartbeat() -> None:
            if time.monotonic() - held.last_beat >= self.ack_wait_seconds / 3:
                held.last_beat = time.monotonic()
                await held.message.in_progress()

        context = extract_trace_context(dict(message.headers or {}))
        # The time the task waited (on the stream, then held here for a slot), from the stream's timestamp.
        queued_ns = int(message.metadata.timestamp.timestamp() * 1e9)
        tracer.start_span("wait in queue", context, attributes={"mivaa.job": task.job}, start_time=queued_ns).end()
        with tracer.start_as_current_span("extract document", context=context) as span:
            span.set_attribute("mivaa.job", task.job)
            span.set_attribute("mivaa.document", task.document)
            span.set_attribute("mivaa.tenant", held.tenant)
            span.set_attribute("messaging.delivery_count", delivered)
            try:
                job = await self._pipeline.run(task, heartbeat)
            except Exception as error:  # noqa: BLE001
                await self._retry_or_give_up(held.message, task, error, delivered)
                return
            span.set_attribute("mivaa.job_state", job_pb2.JobState.Name(job.state))
        await held.message.ack_sync()
        self.tasks_done += 1
        log.info(
            "job finished",
            extra={
                "fields": {"job": task.job, "state": job_pb2.JobState.Name(job.state), "chunks": job.chunks_indexed}
            },
        )

    async def _retry_or_give_up(self, message, task: job_pb2.ExtractTask, error: Exception, delivered: int) -> None:
        domain_error = error if isinstance(error, MivaaError) else None
        if domain_error is None:
            log.error("unexpected pipeline error", exc_info=error, extra={"fields": {"job": task.job}})
            domain_error = Internal("INTERNAL_ERROR", "Processing hit an unexpected error; it has been logged.")
        if delivered < self.max_deliver and (is_retryable(domain_error) or not isinstance(error, MivaaError)):
            delay = min(2**delivered, 30)
            log.warning(
                "job will be retried",
                extra={
                    "fields": {
                        "job": task.job,
                        "reason": domain_error.reason,
                        # For a peer's failure: the gRPC code behind it (DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED...).
                        **domain_error.metadata,
                        "delay_s": delay,
                        "delivery": delivered,
                    }
                },
            )
            await message.nak(delay=delay)
            return
        await self._pipeline.give_up(task, domain_error)
        await message.ack_sync()
