"""Durable job records in the NATS KV bucket, and their events.

A job's current state lives under its id in `mivaa-jobs`; every change is a
compare-and-set on the key's revision (so a cancel and a worker never
overwrite each other) and is published as a JobEvent on
`mivaa.jobs.<tenant>.<job_id>.<stage>` for any consumer: the tenant in the
subject lets NATS permissions give each consumer its own tenant's events
(`mivaa.jobs.acme.>`); a '.' in a tenant name is written `%2E` there. Job ids start with the creation
time in hex, so key order is creation order and ListJobs pages need no index.

Every job belongs to a tenant (Job.tenant; empty in jobs made before tenancy,
which belong to the default tenant). The calls made for a caller (get, list,
watch, cancel with `tenant=`) treat another tenant's job exactly like a missing
one; the worker's own calls (no tenant) see every job.
"""

from __future__ import annotations

import base64
import logging
import os
import time
from collections.abc import AsyncIterator, Callable

from google.protobuf import timestamp_pb2
from nats.js import JetStreamContext, api
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from mivaa.jobs.v1 import job_pb2
from mivaa_platform.errors import FailedPrecondition, InvalidArgument, NotFound
from mivaa_platform.limits import check_bus_record
from mivaa_platform.messaging import EVENTS_SUBJECT_PREFIX, JOBS_BUCKET, tenant_subject_token
from mivaa_platform.tenancy import DEFAULT_TENANT
from mivaa_platform.telemetry import inject_trace_headers

log = logging.getLogger("mivaa.extractor.jobs")

DOMAIN = "extractor.mivaa"
TERMINAL_STATES = frozenset(
    {
        job_pb2.JOB_STATE_SUCCEEDED,
        job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED,
        job_pb2.JOB_STATE_FAILED,
        job_pb2.JOB_STATE_CANCELLED,
    }
)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# Most job records one ListJobs page reads looking for the caller's tenant's jobs;
# past it the page comes back short (even empty) with a token to go on from.
MAX_KEYS_SCANNED_PER_PAGE = 2000
# What a job event adds around its job record (sequence, time, framing), for the size check.
_EVENT_OVERHEAD_BYTES = 64
_KEY_READ_BATCH = 1000


def new_job_id() -> str:
    """Time-ordered id: 12 hex digits of milliseconds, then 8 random hex digits."""
    return f"{int(time.time() * 1000):012x}{os.urandom(4).hex()}"


def job_id_from_name(name: str) -> str:
    prefix, _, job_id = name.partition("/")
    if prefix != "jobs" or not job_id or not all(c in "0123456789abcdef" for c in job_id) or len(job_id) > 64:
        raise InvalidArgument("INVALID_JOB_NAME", "A job name looks like 'jobs/{id}'.", domain=DOMAIN, metadata={"name": name[:100]})
    return job_id


def now_timestamp() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


def subject_token(tenant: str) -> str:
    """A tenant as one NATS subject token (the same rule grants NATS permissions: bus_access)."""
    return tenant_subject_token(tenant)


def event_subject(job: job_pb2.Job) -> str:
    stage = job_pb2.JobStage.Name(job.stage).removeprefix("JOB_STAGE_").lower()
    return f"{EVENTS_SUBJECT_PREFIX}.{subject_token(job_tenant(job))}.{job.name.removeprefix('jobs/')}.{stage}"


def is_terminal(job: job_pb2.Job) -> bool:
    return job.state in TERMINAL_STATES


def job_tenant(job: job_pb2.Job) -> str:
    return job.tenant or DEFAULT_TENANT


def _record(job: job_pb2.Job) -> bytes:
    """The job as stored; refused (JOB_RECORD_TOO_LARGE) before it could reach the bus's payload limit."""
    data = job.SerializeToString()
    check_bus_record(len(data) + _EVENT_OVERHEAD_BYTES, what="job record", domain=DOMAIN)
    return data


def _job_not_found(job_id: str) -> NotFound:
    return NotFound("JOB_NOT_FOUND", "No such job.", domain=DOMAIN, metadata={"job": f"jobs/{job_id}"})


class JobStore:
    def __init__(self, js: JetStreamContext):
        self._js = js
        self._kv = None

    async def _bucket(self):
        if self._kv is None:
            self._kv = await self._js.key_value(JOBS_BUCKET)
        return self._kv

    async def _publish(self, job: job_pb2.Job, revision: int) -> None:
        event = job_pb2.JobEvent(job=job, sequence=revision, event_time=now_timestamp())
        try:
            await self._js.publish(event_subject(job), event.SerializeToString(), headers=inject_trace_headers())
        except Exception:  # noqa: BLE001 - the KV already holds the truth; an event lost here is logged
            log.warning("could not publish job event", extra={"fields": {"job": job.name}}, exc_info=True)

    async def create(self, job: job_pb2.Job) -> job_pb2.Job:
        kv = await self._bucket()
        job.create_time.CopyFrom(now_timestamp())
        job.update_time.CopyFrom(job.create_time)
        revision = await kv.create(job.name.removeprefix("jobs/"), _record(job))
        await self._publish(job, revision)
        return job

    async def delete(self, name: str) -> None:
        """Removes a job record (an upload undone before its job ever ran)."""
        kv = await self._bucket()
        await kv.delete(job_id_from_name(name))

    async def get(self, name: str, *, tenant: str | None = None) -> job_pb2.Job:
        """The job; with `tenant`, another tenant's job is JOB_NOT_FOUND."""
        job_id = job_id_from_name(name)
        job, _ = await self._get_with_revision(job_id)
        if tenant is not None and job_tenant(job) != tenant:
            raise _job_not_found(job_id)
        return job

    async def _get_with_revision(self, job_id: str) -> tuple[job_pb2.Job, int]:
        kv = await self._bucket()
        try:
            entry = await kv.get(job_id)
        except KeyNotFoundError as exc:
            raise _job_not_found(job_id) from exc
        if entry.value is None:
            raise _job_not_found(job_id)
        job = job_pb2.Job()
        job.ParseFromString(entry.value)
        return job, entry.revision

    async def update(self, name: str, change: Callable[[job_pb2.Job], bool | None]) -> job_pb2.Job:
        """Applies `change` with compare-and-set, retrying on a concurrent write.

        `change` mutates the job in place; returning False means "nothing to
        do" and skips the write. Terminal jobs are never changed.
        """
        job_id = job_id_from_name(name)
        kv = await self._bucket()
        while True:
            job, revision = await self._get_with_revision(job_id)
            if is_terminal(job):
                return job
            if change(job) is False:
                return job
            job.update_time.CopyFrom(now_timestamp())
            try:
                new_revision = await kv.update(job_id, _record(job), last=revision)
            except KeyWrongLastSequenceError:
                continue
            await self._publish(job, new_revision)
            return job

    async def cancel(self, name: str, *, tenant: str | None = None) -> job_pb2.Job:
        job = await self.get(name, tenant=tenant)
        if is_terminal(job):
            raise FailedPrecondition(
                "JOB_ALREADY_FINISHED",
                "The job has already finished and cannot be cancelled.",
                domain=DOMAIN,
                metadata={"state": job_pb2.JobState.Name(job.state)},
            )

        def mark_cancelled(job: job_pb2.Job) -> None:
            job.state = job_pb2.JOB_STATE_CANCELLED
            job.stage = job_pb2.JOB_STAGE_DONE

        return await self.update(name, mark_cancelled)

    async def list(
        self, page_size: int, page_token: str, *, tenant: str | None = None
    ) -> tuple[list[job_pb2.Job], str]:
        """Newest first; with `tenant`, only that tenant's jobs."""
        if page_size < 0:
            raise InvalidArgument("INVALID_PAGE_SIZE", "page_size must not be negative.", domain=DOMAIN)
        page_size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = ""
        if page_token:
            try:
                after = base64.urlsafe_b64decode(page_token.encode()).decode()
                job_id_from_name(f"jobs/{after}")
            except (ValueError, InvalidArgument) as exc:
                raise InvalidArgument("INVALID_PAGE_TOKEN", "page_token is not one this service issued.", domain=DOMAIN) from exc
        keys = await self._all_keys()
        keys = sorted(keys, reverse=True)  # newest first
        if after:
            keys = [key for key in keys if key < after]
        jobs = []
        last = ""
        for scanned, key in enumerate(keys, start=1):
            if len(jobs) == page_size or scanned > MAX_KEYS_SCANNED_PER_PAGE:
                break
            last = key
            try:
                job, _ = await self._get_with_revision(key)
            except NotFound:
                continue  # deleted between listing and reading
            if tenant is None or job_tenant(job) == tenant:
                jobs.append(job)
        more = bool(keys) and last != keys[-1]
        next_token = base64.urlsafe_b64encode(last.encode()).decode() if more else ""
        return jobs, next_token

    async def _all_keys(self) -> list[str]:
        """Every live job id, read from the bucket's stream by a pull consumer of its own.

        Not kv.keys(): its watcher decides "no more keys" from the consumer's pending count
        while the first keys may still be on their way to the client, so under load it
        returned an empty list for a full bucket. A pull consumer receives nothing before it
        asks, so its pending count is exact and every key is read.
        """
        await self._bucket()  # the bucket (and its stream) exists
        prefix = f"$KV.{JOBS_BUCKET}."
        subscription = await self._js.pull_subscribe(
            f"{prefix}>",
            stream=f"KV_{JOBS_BUCKET}",
            config=api.ConsumerConfig(
                deliver_policy=api.DeliverPolicy.LAST_PER_SUBJECT,
                ack_policy=api.AckPolicy.NONE,
                headers_only=True,
                mem_storage=True,
                inactive_threshold=30.0,
            ),
        )
        live: set[str] = set()
        try:
            remaining = (await subscription.consumer_info()).num_pending
            while remaining > 0:
                for message in await subscription.fetch(min(remaining, _KEY_READ_BATCH), timeout=5):
                    remaining = message.metadata.num_pending
                    operation = (message.headers or {}).get("KV-Operation")
                    if operation not in ("DEL", "PURGE"):
                        live.add(message.subject.removeprefix(prefix))
        finally:
            await subscription.unsubscribe()
        return list(live)

    async def watch(
        self, name: str, idle_timeout: float = 3600.0, *, tenant: str | None = None
    ) -> AsyncIterator[job_pb2.JobEvent]:
        """The current state first, then every change, ending after the terminal state."""
        job_id = job_id_from_name(name)
        await self.get(name, tenant=tenant)  # NOT_FOUND before any stream starts
        kv = await self._bucket()
        watcher = await kv.watch(job_id)
        try:
            while True:
                try:
                    entry = await watcher.updates(timeout=idle_timeout)
                except Exception as exc:  # nats TimeoutError: nothing changed for an hour
                    if type(exc).__name__ == "TimeoutError":
                        return
                    raise
                if entry is None or entry.value is None:
                    continue  # end-of-initial-values marker, or a delete
                job = job_pb2.Job()
                job.ParseFromString(entry.value)
                yield job_pb2.JobEvent(job=job, sequence=entry.revision, event_time=job.update_time)
                if is_terminal(job):
                    return
        finally:
            await watcher.stop()
