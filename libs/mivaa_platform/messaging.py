"""The mesh's NATS JetStream topology, declared once and shared by every process.

- Work queue stream MIVAA_WORK on `mivaa.work.>`: each task is delivered to one
  worker and removed when acked (WorkQueue retention), so replicas share it.
- Event stream MIVAA_JOB_EVENTS on `mivaa.jobs.>`: every job change, kept for
  a week so any consumer (dashboards, the CLI, other services) can replay.
- KV bucket `mivaa-jobs`: the current state of every job, durable on disk.
- Object store `mivaa-originals`: uploaded PDFs, keyed by their sha256.

Every declaration is idempotent, so any process may call `ensure_topology`
at start in any order.
"""

from __future__ import annotations

import contextlib
import logging

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError, ObjectNotFoundError

from mivaa_platform.errors import NotFound

log = logging.getLogger("mivaa.messaging")

WORK_STREAM = "MIVAA_WORK"
WORK_SUBJECT_EXTRACT = "mivaa.work.extract"
EVENTS_STREAM = "MIVAA_JOB_EVENTS"
EVENTS_SUBJECT_PREFIX = "mivaa.jobs"
JOBS_BUCKET = "mivaa-jobs"
ORIGINALS_BUCKET = "mivaa-originals"
EVENT_RETENTION_SECONDS = 7 * 24 * 3600


async def connect(url: str, name: str) -> NatsClient:
    """Connects with reconnects forever: NATS restarting must not kill a service."""
    return await nats.connect(
        servers=[url],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
    )


async def _ensure_stream(js: JetStreamContext, config: api.StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError:
        # Exists with other settings: bring it to the declared ones.
        await js.update_stream(config)


async def ensure_topology(js: JetStreamContext) -> None:
    await _ensure_stream(
        js,
        api.StreamConfig(
            name=WORK_STREAM,
            subjects=["mivaa.work.>"],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            duplicate_window=120,
        ),
    )
    await _ensure_stream(
        js,
        api.StreamConfig(
            name=EVENTS_STREAM,
            subjects=[f"{EVENTS_SUBJECT_PREFIX}.>"],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            max_age=EVENT_RETENTION_SECONDS,
        ),
    )
    with contextlib.suppress(BadRequestError):
        await js.create_key_value(bucket=JOBS_BUCKET, history=1, storage=api.StorageType.FILE)
    with contextlib.suppress(BadRequestError):
        await js.create_object_store(bucket=ORIGINALS_BUCKET, storage=api.StorageType.FILE)


class OriginalsStore:
    """Uploaded files in the JetStream object store, content-addressed by sha256."""

    def __init__(self, js: JetStreamContext):
        self._js = js
        self._store = None

    async def _bucket(self):
        if self._store is None:
            self._store = await self._js.object_store(ORIGINALS_BUCKET)
        return self._store

    async def put(self, sha256: str, data: bytes) -> None:
        store = await self._bucket()
        if await self.exists(sha256):
            return
        await store.put(sha256, data)

    async def exists(self, sha256: str) -> bool:
        store = await self._bucket()
        try:
            info = await store.get_info(sha256)
        except (ObjectNotFoundError, NotFoundError):
            return False
        return not info.deleted

    async def get(self, sha256: str) -> bytes:
        store = await self._bucket()
        try:
            result = await store.get(sha256)
        except (ObjectNotFoundError, NotFoundError) as exc:
            raise NotFound("ORIGINAL_NOT_FOUND", "The stored original of this document is missing.") from exc
        return result.data

    async def delete(self, sha256: str) -> None:
        store = await self._bucket()
        with contextlib.suppress(ObjectNotFoundError, NotFoundError):
            await store.delete(sha256)
