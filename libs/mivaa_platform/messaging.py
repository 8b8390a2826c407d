"""The mesh's NATS JetStream topology, declared once and shared by every process.

- Work queue stream MIVAA_WORK on `mivaa.work.>`: each task is delivered to one
  worker and removed when acked (WorkQueue retention), so replicas share it.
- Event stream MIVAA_JOB_EVENTS on `mivaa.jobs.>`: every job change, kept for
  a week so any consumer (dashboards, the CLI, other services) can replay.
- KV bucket `mivaa-jobs`: the current state of every job, durable on disk.
- KV bucket `mivaa-batches`: batches of uploads (their jobs' ids), durable on disk.
- KV buckets `mivaa-webhooks` (tenants' subscriptions) and `mivaa-webhook-deliveries` (their
  delivery attempts, kept a week); the extractor API's durable consumer `webhooks` reads the events.
- Object store `mivaa-originals`: uploaded PDFs, keyed by their sha256.
- Work subject `mivaa.work.pages` (same stream, its own consumer `page-ranges`) and object store
  `mivaa-page-spool`: ranges of a long document's pages, extracted by any worker and left in the
  spool for the worker assembling the document; spooled ranges expire after a day if nobody reads them.

Every declaration is idempotent, so any process may call `ensure_topology`
at start in any order. Each stream and bucket keeps `replicas` copies (<PREFIX>_NATS_STREAM_REPLICAS,
1 by default: a single server; 3 on a clustered NATS, deploy/k8s/components/nats-cluster).

Connections authenticate (user + password file) over TLS verified with the mesh's CA, each with a
private inbox prefix; what each user may touch is in mivaa_platform.bus_access.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import hashlib
import json
import logging
import pathlib
import ssl
import uuid
from collections.abc import Callable

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, BadRequestError, NotFoundError, ObjectNotFoundError

from mivaa_platform.config import ConfigError, load_config
from mivaa_platform.errors import NotFound, Unavailable

log = logging.getLogger("mivaa.messaging")

WORK_STREAM = "MIVAA_WORK"
WORK_SUBJECT_EXTRACT = "mivaa.work.extract"
WORK_CONSUMER = "extractors"  # the workers' shared durable pull consumer
WORK_SUBJECT_PAGES = "mivaa.work.pages"
PAGES_CONSUMER = "page-ranges"  # the workers' shared durable pull consumer of page ranges
PAGE_SPOOL_BUCKET = "mivaa-page-spool"
PAGE_SPOOL_STREAM = f"OBJ_{PAGE_SPOOL_BUCKET}"
PAGE_SPOOL_TTL_SECONDS = 24 * 3600
EVENTS_STREAM = "MIVAA_JOB_EVENTS"
EVENTS_SUBJECT_PREFIX = "mivaa.jobs"
JOBS_BUCKET = "mivaa-jobs"
BATCHES_BUCKET = "mivaa-batches"
WEBHOOKS_BUCKET = "mivaa-webhooks"
WEBHOOK_DELIVERIES_BUCKET = "mivaa-webhook-deliveries"
WEBHOOK_CONSUMER = "webhooks"  # the extractor API's durable pull consumer of job events
ORIGINALS_BUCKET = "mivaa-originals"
ORIGINALS_STREAM = f"OBJ_{ORIGINALS_BUCKET}"  # the object store's stream (nats-py's naming)
EVENT_RETENTION_SECONDS = 7 * 24 * 3600
MAX_STREAM_REPLICAS = 5  # JetStream's own limit on a stream's replicas
_CHUNK_BYTES = 128 * 1024  # as nats-py's object store writes them
_WRONG_LAST_SEQUENCE = 10071  # JetStream: the subject's last sequence was not the one expected


def inbox_prefix(user: str) -> str:
    """Each user's replies (and JetStream deliveries to inboxes) on subjects only it may subscribe to."""
    return f"_INBOX_{user}" if user else "_INBOX"


def tenant_subject_token(tenant: str) -> str:
    """A tenant as one NATS subject token ('.' separates tokens; tenants may contain it, never '%')."""
    return tenant.replace(".", "%2E")


@dataclasses.dataclass(frozen=True)
class NatsSettings:
    """How a process reaches NATS, read from <PREFIX>_NATS_URL, _USER, _PASSWORD_FILE, _CA_FILE and
    _STREAM_REPLICAS.

    url: nats://host:port, or tls://host:port (TLS is on whenever ca_file is set). password_file
    holds the password alone (a mounted Secret; never an environment variable, which `ps e` and
    crash dumps show). ca_file: the CA that signed the server's certificate; the name in the URL
    is checked against it. stream_replicas: how many servers keep each stream and bucket the
    process declares (ensure_topology); more than the cluster has servers fails the declaration.
    """

    url: str
    user: str = ""
    password_file: str = ""
    ca_file: str = ""
    stream_replicas: int = 1

    @classmethod
    def from_env(cls, prefix: str, environ=None) -> NatsSettings:
        settings = load_config(cls, f"{prefix}_NATS", environ)
        if bool(settings.user) != bool(settings.password_file):
            raise ConfigError(f"{prefix}_NATS_USER and {prefix}_NATS_PASSWORD_FILE go together")
        if not 1 <= settings.stream_replicas <= MAX_STREAM_REPLICAS:
            raise ConfigError(
                f"{prefix}_NATS_STREAM_REPLICAS must be between 1 and {MAX_STREAM_REPLICAS},"
                f" got {settings.stream_replicas}"
            )
        return settings

    def connect_options(self) -> dict:
        """Keyword arguments of nats.connect for these settings (also used by tools and tests)."""
        options: dict = {"servers": [self.url], "inbox_prefix": inbox_prefix(self.user)}
        if self.user:
            try:
                password = pathlib.Path(self.password_file).read_text().strip()
            except OSError as error:
                raise ConfigError(f"NATS password file {self.password_file}: {error.strerror or error}") from None
            options |= {"user": self.user, "password": password}
        if self.ca_file:
            try:
                options["tls"] = ssl.create_default_context(cafile=self.ca_file)
            except (OSError, ssl.SSLError) as error:
                raise ConfigError(f"NATS CA file {self.ca_file}: {error}") from None
        return options


async def connect(settings: NatsSettings, name: str, *, on_closed: Callable[[], None] | None = None) -> NatsClient:
    """Connects with reconnects forever: NATS restarting must not kill a service.

    A connection can still end for good (the server rejected a protocol violation such as an
    oversized message, or authentication changed): nats-py then never reconnects, so every later
    call would fail. `on_closed` runs then (and on a deliberate close or drain); a service passes
    GrpcService.dependency_lost, which stops the process with a failure status unless it is
    already shutting down, so its supervisor replaces it.
    """

    async def closed() -> None:
        if on_closed is not None:
            on_closed()

    async def disconnected() -> None:
        log.warning("NATS disconnected; reconnecting")

    async def reconnected() -> None:
        log.info("NATS reconnected")

    async def error(exc: Exception) -> None:
        log.warning("NATS error", extra={"fields": {"error": str(exc) or type(exc).__name__}})

    client = await nats.connect(
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        closed_cb=closed,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
        error_cb=error,
        **settings.connect_options(),
    )
    return client


async def _ensure_stream(js: JetStreamContext, config: api.StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError:
        # Exists with other settings: bring it to the declared ones.
        await js.update_stream(config)


async def ensure_topology(js: JetStreamContext, replicas: int = 1) -> None:
    """Declares every stream and bucket with `replicas` copies. An existing stream is updated to
    them (JetStream moves a stream between replica counts in place); an existing bucket is kept
    as it is (docs/operations.md, Running NATS clustered, says how to move one)."""
    await _ensure_stream(
        js,
        api.StreamConfig(
            name=WORK_STREAM,
            subjects=["mivaa.work.>"],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            duplicate_window=120,
            num_replicas=replicas,
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
            num_replicas=replicas,
        ),
    )
    with contextlib.suppress(BadRequestError):
        await js.create_key_value(bucket=JOBS_BUCKET, history=1, storage=api.StorageType.FILE, replicas=replicas)
    with contextlib.suppress(BadRequestError):
        await js.create_key_value(bucket=BATCHES_BUCKET, history=1, storage=api.StorageType.FILE, replicas=replicas)
    with contextlib.suppress(BadRequestError):
        await js.create_key_value(bucket=WEBHOOKS_BUCKET, history=1, storage=api.StorageType.FILE, replicas=replicas)
    with contextlib.suppress(BadRequestError):
        await js.create_key_value(
            bucket=WEBHOOK_DELIVERIES_BUCKET,
            history=1,
            storage=api.StorageType.FILE,
            ttl=EVENT_RETENTION_SECONDS,
            replicas=replicas,
        )
    with contextlib.suppress(BadRequestError):
        await js.create_object_store(bucket=ORIGINALS_BUCKET, storage=api.StorageType.FILE, replicas=replicas)
    with contextlib.suppress(BadRequestError):
        await js.create_object_store(
            bucket=PAGE_SPOOL_BUCKET,
            config=api.ObjectStoreConfig(ttl=PAGE_SPOOL_TTL_SECONDS, storage=api.StorageType.FILE, replicas=replicas),
        )


@dataclasses.dataclass(frozen=True)
class StoredObject:
    name: str  # the sha256 of the original
    size: int
    stored: datetime.datetime | None  # None when the metadata carries no time


def _object_time(mtime: str | None) -> datetime.datetime | None:
    """The object store's RFC 3339 time (nanoseconds, 'Z') as an aware datetime."""
    if not mtime:
        return None
    text = mtime.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python reads at most microseconds
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


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
        """Stores the bytes unless a live object has them already, and never replaces one: nats-py's
        put would purge the chunks a reader may be fetching (its get then waits for them forever).
        The chunks go on a subject of their own first; the metadata is published only while the
        name's metadata is still the one read (expected last subject sequence). Two uploads of the
        same bytes at once: one wins, the other purges its chunks and keeps the winner's object."""
        meta_subject = original_meta_subject(sha256)
        for _ in range(3):
            sequence, info = await self._meta(meta_subject)
            if info is not None and not info.deleted:
                return
            nuid = uuid.uuid4().hex
            chunk_subject = f"$O.{ORIGINALS_BUCKET}.C.{nuid}"
            try:
                for start in range(0, len(data), _CHUNK_BYTES):
                    await self._js.publish(chunk_subject, data[start : start + _CHUNK_BYTES])
                meta = api.ObjectInfo(
                    name=sha256,
                    bucket=ORIGINALS_BUCKET,
                    nuid=nuid,
                    size=len(data),
                    chunks=-(-len(data) // _CHUNK_BYTES),
                    mtime=datetime.datetime.now(datetime.UTC).isoformat(),
                    digest="SHA-256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode(),
                )
                await self._js.publish(
                    meta_subject,
                    json.dumps(meta.as_dict()).encode(),
                    headers={api.Header.ROLLUP: "sub", api.Header.EXPECTED_LAST_SUBJECT_SEQUENCE: str(sequence)},
                )
                return
            except APIError as exc:
                await self._js.purge_stream(ORIGINALS_STREAM, subject=chunk_subject)
                if exc.err_code != _WRONG_LAST_SEQUENCE:
                    raise
            except BaseException:
                await self._js.purge_stream(ORIGINALS_STREAM, subject=chunk_subject)
                raise
        raise Unavailable("ORIGINAL_CONTENTION", "The stored original changed concurrently; retry.")

    async def _meta(self, meta_subject: str) -> tuple[int, api.ObjectInfo | None]:
        """The name's last metadata message: its stream sequence (0: none) and the object info."""
        try:
            message = await self._js.get_last_msg(ORIGINALS_STREAM, meta_subject, direct=True)
        except NotFoundError:
            return 0, None
        return message.seq or 0, api.ObjectInfo.from_response(json.loads(message.data or b""))

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
        """Marks the object deleted and purges its chunks, as nats-py's ObjectStore.delete does, but
        reads only the object's metadata, by a direct get on its meta subject: search deletes
        originals and its NATS user may not read them (bus_access), which a stream message get
        (any subject) or a consumer would allow."""
        meta_subject = original_meta_subject(sha256)
        try:
            message = await self._js.get_last_msg(ORIGINALS_STREAM, meta_subject, direct=True)
        except NotFoundError:
            return
        # A direct get always carries the body (nats-py types it optional for header-only reads).
        info = api.ObjectInfo.from_response(json.loads(message.data or b""))
        if info.deleted or not info.nuid:
            return
        info.deleted, info.size, info.chunks, info.digest, info.mtime = True, 0, 0, "", ""
        try:
            await self._js.publish(
                meta_subject, json.dumps(info.as_dict()).encode(), headers={api.Header.ROLLUP: "sub"}
            )
        finally:
            await self._js.purge_stream(ORIGINALS_STREAM, subject=f"$O.{ORIGINALS_BUCKET}.C.{info.nuid}")

    async def list_objects(self) -> list[StoredObject]:
        """Every live object (name, size, time stored), from its metadata only: the stream's subject
        list (stream info, one reply: up to about 100,000 objects per call) and a direct get of each
        meta subject, so search, which may read no original, can list them for the orphan sweep."""
        info = await self._js.stream_info(ORIGINALS_STREAM, subjects_filter=f"$O.{ORIGINALS_BUCKET}.M.>")
        found = []
        for subject in sorted((info.state.subjects or {}).keys()):
            try:
                message = await self._js.get_last_msg(ORIGINALS_STREAM, subject, direct=True)
            except NotFoundError:
                continue
            meta = api.ObjectInfo.from_response(json.loads(message.data or b""))
            if not meta.deleted and meta.name:
                found.append(StoredObject(meta.name, meta.size or 0, _object_time(meta.mtime)))
        return found


def original_meta_subject(sha256: str) -> str:
    return f"$O.{ORIGINALS_BUCKET}.M.{base64.urlsafe_b64encode(sha256.encode()).decode()}"
