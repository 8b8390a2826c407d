"""Batch records in the `mivaa-batches` NATS KV bucket, summarized from their jobs' records.

A batch's key is `<tenant>.<batch_id>` (the tenant written as in job keys, adapters.job_keys),
so listing a tenant's batches reads its own subtree only. Every change (an upload joining or
refused) is a compare-and-set on the key's revision. Progress is computed from the jobs at each
read (mivaa_extractor.batches.summarize); a watch follows both the batch's key and the tenant's
job keys, and re-summarizes at every change of a job in the batch.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import time
from collections.abc import AsyncIterator, Callable

from nats.js import JetStreamContext
from nats.js.errors import KeyWrongLastSequenceError

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor import batches
from mivaa_extractor.adapters.job_keys import job_id_of_key, job_key, page_after_id, read_entry
from mivaa_extractor.adapters.job_store import JobStore
from mivaa_extractor.batches import batch_id_from_name, batch_not_found
from mivaa_extractor.job_filter import id_time_ms
from mivaa_extractor.jobs import DOMAIN, is_terminal, job_tenant, now_timestamp
from mivaa_platform.errors import NotFound
from mivaa_platform.kv_keys import live_keys
from mivaa_platform.limits import check_bus_record
from mivaa_platform.messaging import BATCHES_BUCKET, JOBS_BUCKET, tenant_subject_token
from mivaa_platform.pagination import PageSizes, decode_page_token, encode_page_token

BATCH_PAGES = PageSizes(default=50, maximum=500)
_STREAM = f"KV_{BATCHES_BUCKET}"
_KEY_PREFIX = f"$KV.{BATCHES_BUCKET}."
# Jobs read at once when a batch is summarized.
_CONCURRENT_READS = 32


def _now_ms() -> int:
    return int(time.time() * 1000)


class BatchStore:
    def __init__(self, js: JetStreamContext, jobs: JobStore):
        self._js = js
        self._jobs = jobs
        self._kv = None

    async def _bucket(self):
        if self._kv is None:
            self._kv = await self._js.key_value(BATCHES_BUCKET)
        return self._kv

    async def create(self, new: batches.NewBatch) -> job_pb2.Batch:
        batch_id = batches.new_batch_id()
        record = job_pb2.BatchRecord(
            batch=job_pb2.Batch(
                name=f"batches/{batch_id}",
                display_name=new.display_name,
                labels=new.labels,
                expected_documents=new.expected_documents,
                tenant=new.tenant,
                create_time=now_timestamp(),
                options=new.options,
            )
        )
        record.batch.update_time.CopyFrom(record.batch.create_time)
        kv = await self._bucket()
        await kv.create(job_key(new.tenant, batch_id), _stored(record), validate_keys=False)
        return batches.summarize(record, {}, now_ms=_now_ms())

    async def record(self, name: str, *, tenant: str) -> job_pb2.BatchRecord:
        """The stored record; BATCH_NOT_FOUND for a batch outside `tenant` (or none)."""
        found = await self._read(job_key(tenant, batch_id_from_name(name)))
        if found is None or found[0].batch.tenant != tenant:
            raise batch_not_found(name)
        return found[0]

    async def _read(self, key: str) -> tuple[job_pb2.BatchRecord, int] | None:
        found = await read_entry(await self._bucket(), key)
        return None if found is None else (_parsed(found[0]), found[1])

    async def change(
        self, name: str, change: Callable[[job_pb2.BatchRecord], bool | None], *, tenant: str
    ) -> job_pb2.BatchRecord:
        """Applies `change` to the record with compare-and-set, retrying on a concurrent write;
        False from `change` skips the write."""
        key = job_key(tenant, batch_id_from_name(name))
        kv = await self._bucket()
        while True:
            found = await self._read(key)
            if found is None or found[0].batch.tenant != tenant:
                raise batch_not_found(name)
            record, revision = found
            if change(record) is False:
                return record
            record.batch.update_time.CopyFrom(now_timestamp())
            try:
                await kv.update(key, _stored(record), last=revision, validate_keys=False)
            except KeyWrongLastSequenceError:
                continue
            return record

    async def get(self, name: str, *, tenant: str) -> job_pb2.Batch:
        record = await self.record(name, tenant=tenant)
        return batches.summarize(record, await self._read_jobs(record, tenant), now_ms=_now_ms())

    async def _read_jobs(self, record: job_pb2.BatchRecord, tenant: str) -> dict[str, job_pb2.Job]:
        """The batch's jobs that still exist (retention may have removed finished ones)."""
        limit = asyncio.Semaphore(_CONCURRENT_READS)

        async def read(job_id: str) -> job_pb2.Job | None:
            async with limit:
                with contextlib.suppress(NotFound):
                    return await self._jobs.get(f"jobs/{job_id}", tenant=tenant)
                return None

        job_ids = list(dict.fromkeys(record.job_ids))  # a job joined twice (the same bytes) is read once
        found = await asyncio.gather(*(read(job_id) for job_id in job_ids))
        return {job_id: job for job_id, job in zip(job_ids, found, strict=True) if job is not None}

    async def list(self, page_size: int, page_token: str, *, tenant: str) -> tuple[builtins.list[job_pb2.Batch], str]:
        """The tenant's batches, newest first, with their progress; the next page's token ("" at the end)."""
        page_size = BATCH_PAGES.clamp(page_size, domain=DOMAIN)
        scope = f"tenant:{tenant}"
        after = _after_id(decode_page_token(page_token, "batches", scope=scope, domain=DOMAIN))
        ids = sorted((job_id_of_key(key) for key in await self._tenant_keys(tenant)), reverse=True)
        if after:
            ids = [batch_id for batch_id in ids if batch_id < after]
        page: builtins.list[job_pb2.Batch] = []
        for batch_id in ids[:page_size]:
            found = await self._read(job_key(tenant, batch_id))
            if found is not None and found[0].batch.tenant == tenant:
                record = found[0]
                page.append(batches.summarize(record, await self._read_jobs(record, tenant), now_ms=_now_ms()))
        more = len(ids) > page_size
        return page, encode_page_token("batches", {"k": ids[page_size - 1]}, scope=scope) if more else ""

    async def _tenant_keys(self, tenant: str) -> builtins.list[str]:
        await self._bucket()  # the bucket (and its stream) exists
        return await live_keys(self._js, f"{_KEY_PREFIX}{tenant_subject_token(tenant)}.>", bucket=BATCHES_BUCKET)

    async def expire(self, retention_seconds: float, *, tenant: str, now: float | None = None) -> int:
        """Removes the tenant's batches unchanged for `retention_seconds` whose every job finished that
        long ago (or was removed by job retention); how many."""
        cutoff_ms = int(((time.time() if now is None else now) - retention_seconds) * 1000)
        removed = 0
        for key in await self._tenant_keys(tenant):
            id_ms = id_time_ms(job_id_of_key(key))
            if id_ms is not None and id_ms >= cutoff_ms:
                continue
            found = await self._read(key)
            if found is None or found[0].batch.update_time.ToMilliseconds() >= cutoff_ms:
                continue
            jobs = await self._read_jobs(found[0], tenant)
            if all(is_terminal(job) and job.update_time.ToMilliseconds() < cutoff_ms for job in jobs.values()):
                await self._js.purge_stream(_STREAM, subject=f"{_KEY_PREFIX}{key}")
                removed += 1
        return removed

    async def tenants(self) -> set[str]:
        """The tenants that hold batches (for the retention sweep), as their key tokens decode."""
        await self._bucket()
        keys = await live_keys(self._js, f"{_KEY_PREFIX}>", bucket=BATCHES_BUCKET)
        return {key.rpartition(".")[0].replace("%2E", ".") for key in keys}

    async def watch(self, name: str, idle_timeout: float = 3600.0, *, tenant: str) -> AsyncIterator[job_pb2.Batch]:
        """The batch as it is, then after every change of it or of one of its jobs, ending once DONE."""
        record = await self.record(name, tenant=tenant)  # NOT_FOUND before any stream starts
        key = job_key(tenant, batch_id_from_name(name))
        updates: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        batch_watcher = await (await self._bucket()).watch(key)
        jobs_kv = await self._js.key_value(JOBS_BUCKET)
        jobs_watcher = await jobs_kv.watch(f"{tenant_subject_token(tenant)}.>")
        pumps = [
            asyncio.create_task(_pump(w, kind, updates))
            for w, kind in ((batch_watcher, "batch"), (jobs_watcher, "job"))
        ]
        jobs: dict[str, job_pb2.Job] = {}
        members = set(record.job_ids)
        initial_pending = 2
        last: bytes | None = None
        try:
            while True:
                try:
                    kind, value = await asyncio.wait_for(updates.get(), timeout=idle_timeout)
                except TimeoutError:
                    return
                if kind == "error":
                    raise value  # type: ignore[misc]
                if value is None:
                    initial_pending -= 1
                elif kind == "batch":
                    record = _parsed(value)  # type: ignore[arg-type]
                    members = set(record.job_ids)
                    await self._read_missing(record, jobs, tenant)
                else:
                    job = job_pb2.Job()
                    job.ParseFromString(value)  # type: ignore[arg-type]
                    job_id = job.name.removeprefix("jobs/")
                    if job_id not in members or job_tenant(job) != tenant:
                        continue
                    jobs[job_id] = job
                if initial_pending > 0:
                    continue
                batch = batches.summarize(record, jobs, now_ms=_now_ms())
                shown = _without_rates(batch)
                if shown != last:
                    last = shown
                    yield batch
                if batches.is_done(batch):
                    return
        finally:
            for pump in pumps:
                pump.cancel()
            for watcher in (batch_watcher, jobs_watcher):
                with contextlib.suppress(Exception):
                    await watcher.stop()

    async def _read_missing(self, record: job_pb2.BatchRecord, jobs: dict[str, job_pb2.Job], tenant: str) -> None:
        """Reads the jobs that joined before the job watch delivered them (two streams, no common order)."""
        missing = job_pb2.BatchRecord(job_ids=[job_id for job_id in record.job_ids if job_id not in jobs])
        if missing.job_ids:
            jobs.update(await self._read_jobs(missing, tenant))


async def _pump(watcher, kind: str, updates: asyncio.Queue) -> None:
    """Moves a KV watcher's entries onto the shared queue: None marks the end of its initial values."""
    try:
        while True:
            entry = await watcher.updates(timeout=None)
            if entry is None:
                await updates.put((kind, None))
            elif entry.value:
                await updates.put((kind, entry.value))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - the watch raises it, whatever NATS raised
        await updates.put(("error", exc))


def _without_rates(batch: job_pb2.Batch) -> bytes:
    """What a watcher is shown a change of: everything but the rate and ETA, which move with the clock."""
    copy = job_pb2.Batch()
    copy.CopyFrom(batch)
    copy.progress.ClearField("pages_per_second")
    copy.progress.ClearField("eta_seconds")
    copy.ClearField("update_time")
    return copy.SerializeToString(deterministic=True)


def _stored(record: job_pb2.BatchRecord) -> bytes:
    """The record as stored: progress is never stored, and the bus record limit holds (BATCH_RECORD_TOO_LARGE)."""
    record.batch.ClearField("progress")
    record.batch.ClearField("state")
    data = record.SerializeToString()
    check_bus_record(len(data), what="batch record", domain=DOMAIN)
    return data


def _parsed(value: bytes) -> job_pb2.BatchRecord:
    record = job_pb2.BatchRecord()
    record.ParseFromString(value)
    return record


def _after_id(after: dict[str, object] | None) -> str:
    return page_after_id(after, lambda key: batch_id_from_name(f"batches/{key}"), domain=DOMAIN)
