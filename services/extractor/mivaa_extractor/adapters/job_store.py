"""Durable job records in the NATS KV bucket, and their events.

A job's current state lives under its id in `mivaa-jobs`; every change is a
compare-and-set on the key's revision (so a cancel and a worker never
overwrite each other) and is published as a JobEvent on
`mivaa.jobs.<tenant>.<job_id>.<stage>` for any consumer: the tenant in the
subject lets NATS permissions give each consumer its own tenant's events
(`mivaa.jobs.acme.>`); a '.' in a tenant name is written `%2E` there. Job ids start with the creation
time in hex, so key order is creation order and ListJobs pages need no index.

Every job belongs to a tenant (Job.tenant). Records in the KV bucket cannot be
migrated in place cheaply, so a job written before tenancy (empty tenant) is read as
the default tenant's (job_tenant), on every read. Every call names its tenant scope:
a caller's tenant, for which another tenant's job is exactly like a missing one, or
ALL_TENANTS, said out loud by the worker, which acts on any tenant's job.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import AsyncIterator, Callable, Sequence

from nats.js import JetStreamContext, api
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.jobs import DOMAIN, is_terminal, job_id_from_name, job_tenant, now_timestamp
from mivaa_platform.errors import FailedPrecondition, InvalidArgument, NotFound
from mivaa_platform.limits import check_bus_record
from mivaa_platform.messaging import EVENTS_SUBJECT_PREFIX, JOBS_BUCKET, tenant_subject_token
from mivaa_platform.pagination import PageSizes, decode_page_token, encode_page_token, invalid_page_token
from mivaa_platform.telemetry import inject_trace_headers
from mivaa_platform.tenancy import ALL_TENANTS, TenantScope, in_scope

log = logging.getLogger("mivaa.extractor.jobs")

JOB_PAGES = PageSizes(default=50, maximum=500)
# Most job records one ListJobs page reads looking for the caller's tenant's jobs;
# past it the page comes back short (even empty) with a token to go on from.
MAX_KEYS_SCANNED_PER_PAGE = 2000
# What a job event adds around its job record (sequence, time, framing), for the size check.
_EVENT_OVERHEAD_BYTES = 64
_KEY_READ_BATCH = 1000


def subject_token(tenant: str) -> str:
    """A tenant as one NATS subject token (the same rule grants NATS permissions: bus_access)."""
    return tenant_subject_token(tenant)


def event_subject(job: job_pb2.Job) -> str:
    stage = job_pb2.JobStage.Name(job.stage).removeprefix("JOB_STAGE_").lower()
    return f"{EVENTS_SUBJECT_PREFIX}.{subject_token(job_tenant(job))}.{job.name.removeprefix('jobs/')}.{stage}"


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
        except Exception:
            log.warning("could not publish job event", extra={"fields": {"job": job.name}}, exc_info=True)

    async def create(self, job: job_pb2.Job) -> job_pb2.Job:
        kv = await self._bucket()
        job.create_time.CopyFrom(now_timestamp())
        job.update_time.CopyFrom(job.create_time)
        revision = await kv.create(job.name.removeprefix("jobs/"), _record(job))
        await self._publish(job, revision)
        return job

    async def delete(self, name: str, *, tenant: TenantScope) -> None:
        """Removes a job record (an upload undone before its job ever ran)."""
        await self.get(name, tenant=tenant)
        kv = await self._bucket()
        await kv.delete(job_id_from_name(name))

    async def get(self, name: str, *, tenant: TenantScope) -> job_pb2.Job:
        """The job; a job outside `tenant` is JOB_NOT_FOUND."""
        job_id = job_id_from_name(name)
        job, _ = await self._get_with_revision(job_id)
        if not in_scope(job_tenant(job), tenant):
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

    async def update(
        self, name: str, change: Callable[[job_pb2.Job], bool | None], *, tenant: TenantScope
    ) -> job_pb2.Job:
        """Applies `change` with compare-and-set, retrying on a concurrent write.

        `change` mutates the job in place; returning False means "nothing to
        do" and skips the write. Terminal jobs are never changed; a job outside
        `tenant` is JOB_NOT_FOUND.
        """
        job_id = job_id_from_name(name)
        kv = await self._bucket()
        while True:
            job, revision = await self._get_with_revision(job_id)
            if not in_scope(job_tenant(job), tenant):
                raise _job_not_found(job_id)
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

    async def cancel(self, name: str, *, tenant: TenantScope) -> job_pb2.Job:
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

        return await self.update(name, mark_cancelled, tenant=tenant)

    async def list(
        self, page_size: int, page_token: str, *, tenant: TenantScope, states: Sequence[int] = ()
    ) -> tuple[list[job_pb2.Job], str]:
        """Newest first, only the jobs in `tenant` (and in one of `states`, when given); the token of the next page ("" at the end)."""
        page_size = JOB_PAGES.clamp(page_size, domain=DOMAIN)
        wanted = _checked_states(states)
        scope = _token_scope(tenant) + (f"/states:{','.join(map(str, sorted(wanted)))}" if wanted else "")
        after = _after_key(decode_page_token(page_token, "jobs", scope=scope, domain=DOMAIN))
        keys = await self._all_keys()
        keys = sorted(keys, reverse=True)  # newest first
        if after:
            keys = [key for key in keys if key < after]
        jobs: list[job_pb2.Job] = []
        last = ""
        for scanned, key in enumerate(keys, start=1):
            if len(jobs) == page_size or scanned > MAX_KEYS_SCANNED_PER_PAGE:
                break
            last = key
            try:
                job, _ = await self._get_with_revision(key)
            except NotFound:
                continue  # deleted between listing and reading
            if in_scope(job_tenant(job), tenant) and (not wanted or job.state in wanted):
                jobs.append(job)
        more = bool(keys) and last != keys[-1]
        next_token = encode_page_token("jobs", {"k": last}, scope=scope) if more else ""
        return jobs, next_token

    async def _all_keys(self) -> builtins.list[str]:  # `list` here is JobStore.list
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
            remaining = (await subscription.consumer_info()).num_pending or 0
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
        self, name: str, idle_timeout: float = 3600.0, *, tenant: TenantScope
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


def _checked_states(states: Sequence[int]) -> frozenset[int]:
    """The states a listing keeps; an unknown or UNSPECIFIED one is INVALID_ARGUMENT JOB_STATE_INVALID."""
    known = set(job_pb2.JobState.values()) - {job_pb2.JOB_STATE_UNSPECIFIED}
    unknown = [state for state in states if state not in known]
    if unknown:
        raise InvalidArgument(
            "JOB_STATE_INVALID",
            f"states must name job states (QUEUED ... CANCELLED); got {unknown[0]}.",
            domain=DOMAIN,
            metadata={"state": str(unknown[0])},
        )
    return frozenset(states)


def _token_scope(tenant: TenantScope) -> str:
    """A page token works only for the scope it was issued in ("*" cannot be a tenant id)."""
    return "*" if tenant is ALL_TENANTS else f"tenant:{tenant}"


def _after_key(after: dict[str, object] | None) -> str:
    if after is None:
        return ""
    key = after.get("k")
    try:
        if not isinstance(key, str):
            raise InvalidArgument("INVALID_JOB_NAME", "not a job id", domain=DOMAIN)
        job_id_from_name(f"jobs/{key}")
    except InvalidArgument:
        raise invalid_page_token("The page token is not one this service issued.", DOMAIN) from None
    return key
