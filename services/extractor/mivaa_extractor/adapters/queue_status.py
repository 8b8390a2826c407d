"""The JetStream work queue as an admin sees it: waiting, in flight, redelivered, lag, workers."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from google.protobuf import duration_pb2
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from mivaa.admin.v1 import admin_service_pb2 as admin_pb
from mivaa_extractor import metrics
from mivaa_extractor.jobs import DOMAIN
from mivaa_platform.bus_errors import bus_errors
from mivaa_platform.errors import MivaaError
from mivaa_platform.messaging import (
    PAGES_CONSUMER,
    WORK_CONSUMER,
    WORK_STREAM,
    WORK_SUBJECT_EXTRACT,
    WORK_SUBJECT_PAGES,
)

# The queues the mesh works from: (stream, durable consumer, its subject): documents' tasks and long
# documents' page ranges, both on the work stream. OCR is called over gRPC, not queued.
WORK_QUEUES = (
    (WORK_STREAM, WORK_CONSUMER, WORK_SUBJECT_EXTRACT),
    (WORK_STREAM, PAGES_CONSUMER, WORK_SUBJECT_PAGES),
)
log = logging.getLogger(__name__)


class WorkQueueInspector:
    def __init__(self, js: JetStreamContext):
        self._js = js

    async def statuses(self) -> list[admin_pb.QueueStatus]:
        # Each JetStream request has nats-py's own timeout; a lost bus is NATS_UNAVAILABLE.
        with bus_errors(domain=DOMAIN):
            return [await self._status(*queue) for queue in WORK_QUEUES]

    async def _status(self, stream: str, consumer: str, subject: str) -> admin_pb.QueueStatus:
        stream_info = await self._js.stream_info(stream, subjects_filter=subject)
        waiting = (stream_info.state.subjects or {}).get(subject, 0)
        status = admin_pb.QueueStatus(stream=stream, consumer=consumer, stream_messages=waiting)
        try:
            info = await self._js.consumer_info(stream, consumer)
        except NotFoundError:
            # No worker has ever connected: everything on the subject is waiting.
            status.pending = waiting
            first = stream_info.state.first_seq if waiting else 0
        else:
            status.pending = info.num_pending or 0
            status.in_flight = info.num_ack_pending or 0
            status.redelivered = info.num_redelivered or 0
            status.consumers_connected = info.num_waiting or 0
            delivered = info.delivered.stream_seq if info.delivered and info.delivered.stream_seq else 0
            first = delivered + 1 if status.pending else 0
        if first:
            status.oldest_pending_age.CopyFrom(await self._age_of_first_from(stream, first, subject))
        return status

    async def _age_of_first_from(self, stream: str, seq: int, subject: str) -> duration_pb2.Duration:
        """How long the first message on `subject` at or after `seq` has waited (zero when there is none)."""
        age = duration_pb2.Duration()
        try:
            message = await self._js.get_msg(stream, seq=seq, subject=subject, next=True)
        except NotFoundError:
            return age
        if message.time is not None:
            waited = dt.datetime.now(dt.UTC) - message.time
            age.FromTimedelta(max(waited, dt.timedelta(0)))
        return age


# How often the API reads the work queue's state into its metrics (a scrape then reads the last).
QUEUE_METRICS_SECONDS = 5.0


async def export_queue_metrics(inspector: WorkQueueInspector, stop: asyncio.Event) -> None:
    """Keeps mivaa_queue_* (pending, ack-pending, redelivered, oldest age per consumer) current until `stop`."""
    while not stop.is_set():
        try:
            for status in await inspector.statuses():
                labels = (status.stream, status.consumer)
                metrics.QUEUE.labels(*labels, "pending").set(status.pending)
                metrics.QUEUE.labels(*labels, "ack_pending").set(status.in_flight)
                metrics.QUEUE.labels(*labels, "redelivered").set(status.redelivered)
                metrics.QUEUE_OLDEST.labels(*labels).set(status.oldest_pending_age.ToTimedelta().total_seconds())
        except MivaaError:
            log.debug("work queue state unavailable; metrics keep their last values", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=QUEUE_METRICS_SECONDS)
