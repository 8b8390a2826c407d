"""The webhook dispatcher: a durable pull consumer of job events that delivers finished jobs.

Consumer `webhooks` on MIVAA_JOB_EVENTS (shared by every API replica, so each event is handled
once) sees every job change; a job that ended SUCCEEDED, PARTIALLY_SUCCEEDED or FAILED is sent to
each of its tenant's webhooks subscribed to that outcome. An event is acked once every webhook
has its outcome (delivered, or failed after the last attempt); while deliveries back off the
message is kept ours (in_progress). A process that dies mid-way leaves the event unacked, so it is
delivered again: receivers deduplicate by X-Mivaa-Event-Id.
"""

from __future__ import annotations

import asyncio
import logging

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext, api

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.adapters.webhook_store import WebhookStore
from mivaa_extractor.jobs import job_tenant
from mivaa_extractor.webhooks.delivery import Deliverer, WebhookEvent
from mivaa_extractor.webhooks.subscriptions import event_type_of
from mivaa_platform.messaging import EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, WEBHOOK_CONSUMER

log = logging.getLogger("mivaa.extractor.webhooks")
_FETCH_BATCH = 16


class WebhookDispatcher:
    def __init__(self, js: JetStreamContext, store: WebhookStore, deliverer: Deliverer, *, concurrent_events: int = 16):
        self._js = js
        self._store = store
        self._deliverer = deliverer
        self._slots = asyncio.Semaphore(concurrent_events)
        self._running: set[asyncio.Task] = set()

    def _ack_wait_seconds(self) -> float:
        """Longer than one attempt plus the longest backoff: in_progress runs between attempts."""
        retry = self._deliverer.retry
        return retry.timeout_seconds + retry.max_backoff_seconds + 30.0

    async def run(self, stop: asyncio.Event) -> None:
        subscription = await self._js.pull_subscribe(
            f"{EVENTS_SUBJECT_PREFIX}.>",
            durable=WEBHOOK_CONSUMER,
            stream=EVENTS_STREAM,
            config=api.ConsumerConfig(
                # Subscriptions hear about what happens after the dispatcher first started, not a week of replay.
                deliver_policy=api.DeliverPolicy.NEW,
                ack_policy=api.AckPolicy.EXPLICIT,
                ack_wait=self._ack_wait_seconds(),
                max_deliver=3,
                max_ack_pending=1000,
            ),
        )
        try:
            while not stop.is_set():
                try:
                    messages = await subscription.fetch(_FETCH_BATCH, timeout=2)
                except (TimeoutError, NatsTimeoutError):
                    continue
                except Exception:
                    log.warning("webhook event fetch failed", exc_info=True)
                    await asyncio.sleep(1)
                    continue
                for message in messages:
                    await self._slots.acquire()
                    task = asyncio.create_task(self._handle(message))
                    self._running.add(task)
                    task.add_done_callback(self._finished)
        finally:
            for task in list(self._running):
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)

    def _finished(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._slots.release()

    async def _handle(self, message) -> None:
        try:
            event = job_pb2.JobEvent.FromString(message.data)
        except Exception:  # noqa: BLE001 - not a job event: nothing to deliver, ever
            await message.term()
            return
        try:
            await self._deliver(event, message)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("webhook dispatch failed", extra={"fields": {"job": event.job.name}}, exc_info=True)
            return
        await message.ack()

    async def _deliver(self, event: job_pb2.JobEvent, message) -> None:
        event_type = event_type_of(event.job)
        if event_type is None:
            return
        subscribers = [
            record
            for record in await self._store.subscribers(job_tenant(event.job))
            if event_type in record.webhook.event_types
        ]
        if not subscribers:
            return
        webhook_event = WebhookEvent(
            event_id=f"{event.job.name.removeprefix('jobs/')}-{event.sequence}",
            event_type=event_type,
            job=event.job,
            event_time=event.event_time,
        )
        await asyncio.gather(
            *(self._deliverer.deliver(record, webhook_event, keep_alive=message.in_progress) for record in subscribers)
        )
