"""PageRangeExchange over JetStream: ranges on the work queue, their outcomes in the page spool.

The spool is an object store (`mivaa-page-spool`) whose objects expire on their
own after a day, so outcomes nobody reads (a worker died while assembling) do
not pile up; the assembling worker removes each one as soon as it has read it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.jobs import DOMAIN
from mivaa_platform.bus_errors import bus_errors
from mivaa_platform.limits import check_bus_record
from mivaa_platform.messaging import PAGE_SPOOL_BUCKET, WORK_SUBJECT_PAGES
from mivaa_platform.telemetry import inject_trace_headers

_GET_SECONDS = 60.0


class NatsPageRanges:
    def __init__(self, js: JetStreamContext):
        self._js = js
        self._store: ObjectStore | None = None

    async def _spool(self) -> ObjectStore:
        if self._store is None:
            self._store = await self._js.object_store(PAGE_SPOOL_BUCKET)
        return self._store

    async def submit(self, ranges: Sequence[job_pb2.PageRangeTask]) -> None:
        with bus_errors(domain=DOMAIN):
            for work in ranges:
                payload = work.SerializeToString()
                check_bus_record(len(payload), what="page range", domain=DOMAIN)
                # The same range of the same attempt queued twice (a retried submit) is one work item;
                # an admin's retry starts counting attempts again, so the run is part of the id (else
                # the server drops the retried run's ranges as duplicates for two minutes).
                msg_id = f"{work.task.job}#{work.run}.{work.attempt}#{work.first_page}"
                await self._js.publish(
                    WORK_SUBJECT_PAGES, payload, headers=inject_trace_headers({"Nats-Msg-Id": msg_id})
                )

    async def result(self, name: str) -> bytes | None:
        with bus_errors(domain=DOMAIN):
            spool = await self._spool()
            try:
                info = await spool.get_info(name)
            except (ObjectNotFoundError, NotFoundError):
                return None
            if info.deleted:
                return None
            try:
                # A get racing a rewrite of the same name (a range read twice) can wait for purged
                # chunks forever: give up and let the caller look again.
                async with asyncio.timeout(_GET_SECONDS):
                    return (await spool.get(name)).data
            except (ObjectNotFoundError, NotFoundError, TimeoutError):
                return None

    async def put(self, name: str, data: bytes) -> None:
        with bus_errors(domain=DOMAIN):
            await (await self._spool()).put(name, data)

    async def discard(self, names: Sequence[str]) -> None:
        with bus_errors(domain=DOMAIN):
            spool = await self._spool()
            for name in names:
                with contextlib.suppress(ObjectNotFoundError, NotFoundError):
                    await spool.delete(name)
