"""Pulls extraction tasks from the JetStream work queue and runs the pipeline.

Several worker processes share one durable pull consumer, so each task goes to
one of them. A task is acked only when its job reached a terminal state; while
it runs the worker tells JetStream it is still alive, so a killed worker's
task is redelivered after `ack_wait` and another (or the restarted) worker
finishes it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext, api
from opentelemetry import trace

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.pipeline import DocumentPipeline, is_retryable
from mivaa_platform.errors import Internal, MivaaError
from mivaa_platform.messaging import WORK_CONSUMER, WORK_STREAM, WORK_SUBJECT_EXTRACT
from mivaa_platform.telemetry import extract_trace_context

log = logging.getLogger("mivaa.extractor.worker")
tracer = trace.get_tracer("mivaa.extractor.worker")

CONSUMER = WORK_CONSUMER


class ExtractWorker:
    def __init__(
        self,
        js: JetStreamContext,
        pipeline: DocumentPipeline,
        *,
        ack_wait_seconds: float = 30.0,
        max_deliver: int = 5,
    ):
        self._js = js
        self._pipeline = pipeline
        self.ack_wait_seconds = ack_wait_seconds
        self.max_deliver = max_deliver
        self.tasks_done = 0

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
        log.info("worker started", extra={"fields": {"consumer": CONSUMER}})
        while not stop.is_set():
            try:
                messages = await subscription.fetch(1, timeout=2)
            except (NatsTimeoutError, asyncio.TimeoutError):
                continue
            except Exception:  # noqa: BLE001 - NATS reconnecting; try again shortly
                log.warning("fetch failed", exc_info=True)
                await asyncio.sleep(1)
                continue
            for message in messages:
                try:
                    await self._handle(message)
                except Exception:  # noqa: BLE001 - e.g. an ack lost while NATS restarts
                    # The task stays unacked, so JetStream redelivers it after ack_wait and a
                    # redelivery of a finished job is acked at once. The loop must go on.
                    log.warning("handling a task failed; it will be redelivered", exc_info=True)

    async def _handle(self, message) -> None:
        task = job_pb2.ExtractTask()
        try:
            task.ParseFromString(message.data)
        except Exception:  # noqa: BLE001 - a malformed task can never succeed
            log.error("dropping malformed task")
            await message.term()
            return
        delivered = message.metadata.num_delivered
        last_beat = time.monotonic()

        async def heartbeat() -> None:
            nonlocal last_beat
            if time.monotonic() - last_beat >= self.ack_wait_seconds / 3:
                last_beat = time.monotonic()
                await message.in_progress()

        context = extract_trace_context(dict(message.headers or {}))
        with tracer.start_as_current_span("extract document", context=context) as span:
            span.set_attribute("mivaa.job", task.job)
            span.set_attribute("mivaa.document", task.document)
            span.set_attribute("mivaa.tenant", task.tenant or "default")
            span.set_attribute("messaging.delivery_count", delivered)
            try:
                job = await self._pipeline.run(task, heartbeat)
            except Exception as error:  # noqa: BLE001
                await self._retry_or_give_up(message, task, error, delivered)
                return
            span.set_attribute("mivaa.job_state", job_pb2.JobState.Name(job.state))
        await message.ack_sync()
        self.tasks_done += 1
        log.info(
            "job finished",
            extra={"fields": {"job": task.job, "state": job_pb2.JobState.Name(job.state), "chunks": job.chunks_indexed}},
        )

    async def _retry_or_give_up(self, message, task: job_pb2.ExtractTask, error: Exception, delivered: int) -> None:
        domain_error = error if isinstance(error, MivaaError) else None
        if domain_error is None:
            log.error("unexpected pipeline error", exc_info=error, extra={"fields": {"job": task.job}})
            domain_error = Internal("INTERNAL_ERROR", "Processing hit an unexpected error; it has been logged.")
        if delivered < self.max_deliver and (is_retryable(domain_error) or not isinstance(error, MivaaError)):
            delay = min(2 ** delivered, 30)
            log.warning(
                "job will be retried",
                extra={"fields": {"job": task.job, "reason": domain_error.reason, "delay_s": delay, "delivery": delivered}},
            )
            await message.nak(delay=delay)
            return
        await self._pipeline.give_up(task, domain_error)
        await message.ack_sync()
