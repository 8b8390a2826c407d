"""Pulls page ranges (`mivaa.work.pages`) from the work queue, one at a time, beside the document tasks.

Every worker process runs one, on the shared durable consumer `page-ranges`,
so each range goes to one worker. It runs apart from the document slots: a
worker whose slots all wait on their documents' ranges still reads ranges,
so documents waiting on each other's ranges can never deadlock. A range is
acked once its outcome is spooled (or it was dropped as stale); a worker
killed meanwhile leaves it unacked, and JetStream gives it to another worker
after `ack_wait`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext, api

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.jobs import is_retryable
from mivaa_extractor.worker.range_reader import RangeReader
from mivaa_platform.errors import MivaaError
from mivaa_platform.messaging import PAGES_CONSUMER, WORK_STREAM, WORK_SUBJECT_PAGES

log = logging.getLogger("mivaa.extractor.pages")


class RangeConsumer:
    def __init__(
        self, js: JetStreamContext, reader: RangeReader, *, ack_wait_seconds: float = 30.0, max_deliver: int = 5
    ):
        self._js = js
        self._reader = reader
        self.ack_wait_seconds = ack_wait_seconds
        self.max_deliver = max_deliver
        self.ranges_done = 0

    async def run(self, stop: asyncio.Event) -> None:
        subscription = await self._js.pull_subscribe(
            WORK_SUBJECT_PAGES,
            durable=PAGES_CONSUMER,
            stream=WORK_STREAM,
            config=api.ConsumerConfig(
                ack_policy=api.AckPolicy.EXPLICIT,
                ack_wait=self.ack_wait_seconds,
                max_deliver=self.max_deliver,
                max_ack_pending=1000,
            ),
        )
        while not stop.is_set():
            try:
                messages = await subscription.fetch(1, timeout=2)
            except (TimeoutError, NatsTimeoutError):
                continue
            except Exception:
                log.warning("fetching a page range failed", exc_info=True)
                await asyncio.sleep(1)
                continue
            for message in messages:
                await self._handle(message)

    async def _handle(self, message: Msg) -> None:
        work = job_pb2.PageRangeTask()
        try:
            work.ParseFromString(message.data)
        except Exception:  # noqa: BLE001 - a malformed range can never be read
            log.error("dropping malformed page range")
            await message.term()
            return
        beating = asyncio.create_task(self._beat(message))
        try:
            await self._reader.handle(work)
        except Exception as error:
            delivered = message.metadata.num_delivered
            retry = not isinstance(error, MivaaError) or is_retryable(error)
            if retry and delivered < self.max_deliver:
                log.warning("page range will be retried", exc_info=not isinstance(error, MivaaError))
                await message.nak(delay=min(2**delivered, 30))
            else:
                # The assembling worker reads the range itself once it stops waiting for it.
                log.error("page range given up", extra={"fields": {"job": work.task.job[:100]}})
                await message.term()
            return
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        await message.ack_sync()
        self.ranges_done += 1

    async def _beat(self, message: Msg) -> None:
        """Tells JetStream the range is being read, every third of ack_wait."""
        while True:
            await asyncio.sleep(self.ack_wait_seconds / 3)
            with contextlib.suppress(Exception):
                await message.in_progress()
