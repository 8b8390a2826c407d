"""Durable job records in the NATS KV bucket, and their events.

A job's current state lives in `mivaa-jobs` under `<tenant>.<job_id>` (adapters.job_keys:
one subtree per tenant, so a tenant's listing reads only its own keys); every change is a
compare-and-set on the key's revision (so a cancel and a worker never
overwrite each other) and is published as a JobEvent on
`mivaa.jobs.<tenant>.<job_id>.<stage>` for any consumer: the tenant in the
subject lets NATS permissions give each consumer its own tenant's events
(`mivaa.jobs.acme.>`); a '.' in a tenant name is written `%2E` there. Job ids start with the creation
time in hex, so id order is creation order and ListJobs pages need no index.

Every job belongs to a tenant (Job.tenant). Records in the KV bucket cannot be
migrated in place cheaply, so a job written before tenancy (empty tenant) is read as
the default tenant's (job_tenant), on every read. Every call names its tenant scope:
a caller's tenant, for which another tenant's job is exactly like a missing one, or
ALL_TENANTS, said out loud by the worker, which acts on any tenant's job.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import AsyncIterator, Callable

from nats.js import JetStreamContext
from nats.js.errors import KeyWrongLastSequenceError, NotFoundError

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor import metrics
from mivaa_extractor.adapters.job_keys import (
    KEY_SUBJECT_PREFIX,
    KV_STREAM,
    any_tenant_subject,
    job_id_of_key,
    job_key,
    page_after_id,
    read_entry,
    scope_filters,
    tenant_of_key,
)
from mivaa_extractor.job_filter import EVERY_JOB, JobFilter, id_time_ms
from mivaa_extractor.jobs import DOMAIN, is_terminal, job_id_from_name, job_tenant, now_timestamp
from mivaa_platform.errors import FailedPrecondition, NotFound
from mivaa_platform.kv_keys import live_keys
from mivaa_platform.limits import check_bus_record
from mivaa_platform.messaging import EVENTS_SUBJECT_PREFIX, JOBS_BUCKET, tenant_subject_token
from mivaa_platform.pagination import PageSizes, decode_page_token, encode_page_token
from mivaa_platform.telemetry import inject_trace_headers
from mivaa_platform.tenancy import ALL_TENANTS, TenantScope, in_scope

log = logging.getLogger("mivaa.extractor.jobs")

JOB_PAGES = PageSizes(default=50, maximum=500)
# Most job records one ListJobs page reads looking for the caller's tenant's jobs;
# past it the page comes back short (even empty) with a token to go on from.
MAX_KEYS_SCANNED_PER_PAGE = 2000
# What a job event adds around its job record (sequence, time, framing), for the size check.
_EVENT_OVERHEAD_BYTES = 64


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
        key = job_key(job_tenant(job), job_id_from_name(job.name))
        revision = await kv.create(key, _record(job), validate_keys=False)
        metrics.job_changed(None, job)
        await self._publish(job, revision)
        return job

    async def delete(self, name: str, *, tenant: TenantScope) -> None:
        """Removes a job record (an upload undone before its job ever ran)."""
        key, _, _ = await self._locate(job_id_from_name(name), tenant)
        kv = await self._bucket()
        await kv.delete(key, validate_keys=False)

    async def get(self, name: str, *, tenant: TenantScope) -> job_pb2.Job:
        """The job; a job outside `tenant` is JOB_NOT_FOUND."""
        _, job, _ = await self._locate(job_id_from_name(name), tenant)
        return job

    async def _locate(self, job_id: str, tenant: TenantScope) -> tuple[str, job_pb2.Job, int]:
        """The job's key, record and revision: under the tenant's key, else under the key of the
        layout before per-tenant keys (adapters.job_keys); JOB_NOT_FOUND outside `tenant`."""
        if tenant is ALL_TENANTS:
            key = await self._any_tenant_key(job_id)
        else:
            key = job_key(tenant, job_id)
        found = await self._read(key) if key else None
        if found is None:
            key = job_id
            found = await self._read(key)
        if found is None or not in_scope(job_tenant(found[0]), tenant):
            raise _job_not_found(job_id)
        return key, *found

    async def _any_tenant_key(self, job_id: str) -> str:
        """The key of the job in whichever tenant has it ("" when none): one last-message get."""
        try:
            message = await self._js.get_last_msg(KV_STREAM, any_tenant_subject(job_id))
        except NotFoundError:
            return ""
        return (message.subject or "").removeprefix(KEY_SUBJECT_PREFIX)

    async def _read(self, key: str) -> tuple[job_pb2.Job, int] | None:
        found = await read_entry(await self._bucket(), key)
        if found is None:
            return None
        job = job_pb2.Job()
        job.ParseFromString(found[0])
        return job, found[1]

    async def update(
        self, name: str, change: Callable[[job_pb2.Job], bool | None], *, tenant: TenantScope
    ) -> job_pb2.Job:
        """Applies `change` with compare-and-set, retrying on a concurrent write.

        `change` mutates the job in place; returning False means "nothing to
        do" and skips the write. Terminal jobs are never changed; a job outside
        `tenant` is JOB_NOT_FOUND.
        """
        return await self._compare_and_set(name, change, tenant, finished_too=False)

    async def reopen(
        self, name: str, change: Callable[[job_pb2.Job], bool | None], *, tenant: TenantScope
    ) -> job_pb2.Job:
        """Applies `change` to a finished job too (an admin's retry), with compare-and-set: the job it
        is given is the record as it is now, so a check in `change` holds when the write lands.
        False from `change` skips the write. The only write that moves a job out of a terminal state."""
        return await self._compare_and_set(name, change, tenant, finished_too=True)

    async def _compare_and_set(
        self, name: str, change: Callable[[job_pb2.Job], bool | None], tenant: TenantScope, *, finished_too: bool
    ) -> job_pb2.Job:
        job_id = job_id_from_name(name)
        kv = await self._bucket()
        while True:
            key, job, revision = await self._locate(job_id, tenant)
            if is_terminal(job) and not finished_too:
                return job
            before = job.state
            if change(job) is False:
                return job
            job.update_time.CopyFrom(now_timestamp())
            try:
                new_revision = await kv.update(key, _record(job), last=revision, validate_keys=False)
            except KeyWrongLastSequenceError:
                continue
            metrics.job_changed(before, job)
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
        self, page_size: int, page_token: str, *, tenant: TenantScope, where: JobFilter = EVERY_JOB
    ) -> tuple[list[job_pb2.Job], str]:
        """Newest first, only the jobs in `tenant` that `where` keeps; the token of the next page ("" at the end).

        Reads the keys of the tenant's subtree (and the few of the old layout), never another
        tenant's; a key whose id is outside the filter's time window is not read at all.
        """
        page_size = JOB_PAGES.clamp(page_size, domain=DOMAIN)
        scope = f"{_token_scope(tenant)}|{where.fingerprint()}"
        after = _after_id(decode_page_token(page_token, "jobs", scope=scope, domain=DOMAIN))
        keys = [key for key in await self._scope_keys(tenant) if where.may_hold(job_id_of_key(key))]
        keys.sort(key=job_id_of_key, reverse=True)  # newest first
        if after:
            keys = [key for key in keys if job_id_of_key(key) < after]
        jobs: list[job_pb2.Job] = []
        last = ""
        for scanned, key in enumerate(keys, start=1):
            if len(jobs) == page_size or scanned > MAX_KEYS_SCANNED_PER_PAGE:
                break
            last = key
            found = await self._read(key)  # None: deleted between listing and reading
            if found is not None and in_scope(job_tenant(found[0]), tenant) and where.matches(found[0]):
                jobs.append(found[0])
        more = bool(keys) and last != keys[-1]
        next_token = encode_page_token("jobs", {"k": job_id_of_key(last)}, scope=scope) if more else ""
        return jobs, next_token

    async def count(self, *, tenant: TenantScope) -> int:
        """How many job records `tenant` has (keys only: no record is read)."""
        return len(await self._scope_keys(tenant))

    async def tenants(self) -> builtins.list[str]:
        """The tenants with job records, in order (keys only: no record is read).

        For a platform admin's view across tenants; a record still under the old bare-id
        layout names no tenant in its key and adds none.
        """
        tenants = {tenant_of_key(key) for key in await self._scope_keys(ALL_TENANTS)}
        return sorted(tenant for tenant in tenants if tenant)

    async def _scope_keys(self, tenant: TenantScope) -> builtins.list[str]:  # `list` here is JobStore.list
        await self._bucket()  # the bucket (and its stream) exists
        keys: builtins.list[str] = []
        for subject_filter in scope_filters(tenant):
            keys += await live_keys(self._js, subject_filter, bucket=JOBS_BUCKET)
        return keys

    async def expire(self, retention_seconds: float, *, tenant: TenantScope, now: float | None = None) -> int:
        """Removes the finished jobs in `tenant` that finished more than `retention_seconds` ago; how many.

        A job that has not finished is never removed. Finished records never change (update()
        leaves terminal jobs alone), so purging the key's subject loses no write, and it leaves
        no delete marker behind that listings would have to walk past.
        """
        cutoff_ms = int(((time.time() if now is None else now) - retention_seconds) * 1000)
        removed = 0
        for key in await self._scope_keys(tenant):
            id_ms = id_time_ms(job_id_of_key(key))
            if id_ms is not None and id_ms >= cutoff_ms:
                continue  # created after the cutoff: cannot have finished before it
            found = await self._read(key)
            if found is None or not in_scope(job_tenant(found[0]), tenant):
                continue
            job = found[0]
            if is_terminal(job) and job.update_time.ToMilliseconds() < cutoff_ms:
                await self._js.purge_stream(KV_STREAM, subject=f"{KEY_SUBJECT_PREFIX}{key}")
                removed += 1
        return removed

    async def watch(
        self, name: str, idle_timeout: float = 3600.0, *, tenant: TenantScope
    ) -> AsyncIterator[job_pb2.JobEvent]:
        """The current state first, then every change, ending after the terminal state."""
        key, _, _ = await self._locate(job_id_from_name(name), tenant)  # NOT_FOUND before any stream starts
        kv = await self._bucket()
        watcher = await kv.watch(key)
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


def _token_scope(tenant: TenantScope) -> str:
    """A page token works only for the scope it was issued in ("*" cannot be a tenant id)."""
    return "*" if tenant is ALL_TENANTS else f"tenant:{tenant}"


def _after_id(after: dict[str, object] | None) -> str:
    return page_after_id(after, lambda key: job_id_from_name(f"jobs/{key}"), domain=DOMAIN)
