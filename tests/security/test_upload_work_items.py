"""The upload door's far side: what a work item carries (no secret in the clear) and what a worker believes
(only tasks that match the catalog), and ListJobs' consistency. Through the real mesh."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_extractor.adapters.job_keys import job_key
from mivaa_platform.messaging import JOBS_BUCKET, ORIGINALS_BUCKET, WORK_STREAM, WORK_SUBJECT_EXTRACT
from tests.security.upload_state import DONE, ops_nats, store_counts, unique
from tests.support.pdfs import make_pdf, page_phrase
from tests.support.tenants import as_tenant

# -- what a work item carries and what a worker believes ------------------------------------------------


async def test_no_plain_password_on_the_work_stream(mesh, client):
    """Door: the work stream. An encrypted PDF's password crosses the bus sealed: its bytes are in no work
    item, job record or job event, and the worker still opens and extracts the document."""
    password = f"pw-{uuid.uuid4().hex[:24]}"
    tag = unique("sealed")
    nc = await ops_nats(mesh)
    seen: list = []

    async def collect(message) -> None:
        seen.append(message)

    try:
        work = await nc.subscribe(WORK_SUBJECT_EXTRACT, cb=collect)
        events = await nc.subscribe("mivaa.jobs.>", cb=collect)
        await nc.flush()
        response = await client.upload_bytes(make_pdf(tag, 2, password=password), "sealed.pdf", password=password)
        final = await client.wait_for_job(response.job.name, timeout=120)
        assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
        await work.unsubscribe()
        await events.unsubscribe()
        kv = await nc.jetstream().key_value(JOBS_BUCKET)
        key = job_key(final.tenant, response.job.name.removeprefix("jobs/"))
        record = (await kv.get(key, validate_keys=False)).value
    finally:
        await nc.close()
    tasks = [job_pb2.ExtractTask.FromString(m.data) for m in seen if m.subject == WORK_SUBJECT_EXTRACT]
    [task] = [task for task in tasks if task.job == response.job.name]
    assert task.sealed_password, "the password travels, sealed"
    secret = password.encode()
    for message in seen:
        assert secret not in message.data and secret not in repr(message.headers).encode()
    assert secret not in record
    hits = (await client.search_chunks(page_phrase(tag, 2), top_k=1, documents=[response.document.name])).hits
    assert hits and hits[0].page_start <= 2 <= hits[0].page_end


def _rejections(log_path) -> int:
    return sum('"TASK_REJECTED"' in line for line in log_path.read_text(errors="replace").splitlines())


async def test_a_forged_work_item_is_rejected_and_writes_nothing(mesh, client):
    """Door: the work stream, written by someone holding bus credentials. Work items (and a job record, and a
    stored original) that do not match the catalog are dropped with TASK_REJECTED; tenant A's document is untouched."""
    from mivaa_extractor.jobs import new_job_id

    async with as_tenant(mesh, client, unique("acme")) as a, as_tenant(mesh, client, unique("globex")) as b:
        tag_a, tag_b = unique("forgea"), unique("forgeb")
        bytes_a, bytes_b = make_pdf(tag_a, 2), make_pdf(tag_b, 2)
        up_a, up_b = await a.upload(bytes_a, "a.pdf"), await b.upload(bytes_b, "b.pdf")
        assert (await a.watch(up_a.job.name))[-1].state in DONE
        assert (await b.watch(up_b.job.name))[-1].state in DONE
        doc_a, sha_a, sha_b = up_a.document.name, up_a.document.sha256, up_b.document.sha256
        document_before = await a.get_document(doc_a)
        hits_before = (await a.search_chunks(page_phrase(tag_a, 2), top_k=5)).hits
        counts_before = await store_counts(mesh)

        worker_log = mesh.processes["worker-0"].log_path
        rejected_before = _rejections(worker_log)
        nc = await ops_nats(mesh)
        try:
            js = nc.jetstream()
            kv = await js.key_value(JOBS_BUCKET)
            objects = await js.object_store(ORIGINALS_BUCKET)
            job_a_key = job_key(a.tenant, up_a.job.name.removeprefix("jobs/"))
            job_a_record = (await kv.get(job_a_key, validate_keys=False)).value
            forged_job = f"jobs/{new_job_id()}"
            await kv.put(
                job_key(a.tenant, forged_job.removeprefix("jobs/")),
                job_pb2.Job(
                    name=forged_job, document=doc_a, tenant=a.tenant, state=job_pb2.JOB_STATE_QUEUED
                ).SerializeToString(),
            )
            forged = [
                # Tenant B's document, claimed by tenant A.
                job_pb2.ExtractTask(job=up_b.job.name, document=up_b.document.name, sha256=sha_b, tenant=a.tenant),
                # A's document and job with B's file.
                job_pb2.ExtractTask(job=up_a.job.name, document=doc_a, sha256=sha_b, tenant=a.tenant),
                # A forged job record for A's document, with B's file.
                job_pb2.ExtractTask(job=forged_job, document=doc_a, sha256=sha_b, tenant=a.tenant),
                # A garbage sealed password on A's own task.
                job_pb2.ExtractTask(
                    job=up_a.job.name,
                    document=doc_a,
                    sha256=sha_a,
                    tenant=a.tenant,
                    sealed_password=b"\x01" + os.urandom(40),
                ),
            ]
            for task in forged:
                await js.publish(WORK_SUBJECT_EXTRACT, task.SerializeToString())
            await _wait_for(
                lambda: _rejections(worker_log) >= rejected_before + len(forged), "the forged tasks are rejected"
            )

            # A's own job re-opened and A's stored original replaced by B's bytes: the file does not hash to its name.
            reopened = job_pb2.Job.FromString(job_a_record)
            reopened.state, reopened.stage = job_pb2.JOB_STATE_QUEUED, job_pb2.JOB_STAGE_QUEUED
            await kv.put(job_a_key, reopened.SerializeToString(), validate_keys=False)
            await objects.put(sha_a, bytes_b)
            try:
                await js.publish(
                    WORK_SUBJECT_EXTRACT,
                    job_pb2.ExtractTask(
                        job=up_a.job.name, document=doc_a, sha256=sha_a, tenant=a.tenant
                    ).SerializeToString(),
                )
                await _wait_for(
                    lambda: _rejections(worker_log) >= rejected_before + len(forged) + 1, "the swapped file is rejected"
                )
            finally:
                await objects.put(sha_a, bytes_a)
                await kv.put(job_a_key, job_a_record, validate_keys=False)
            await kv.delete(job_key(a.tenant, forged_job.removeprefix("jobs/")), validate_keys=False)
            await _wait_for(lambda: _work_queue_empty(js), "the work queue drained")
        finally:
            await nc.close()

        document_after = await a.get_document(doc_a)
        assert (document_after.state, document_after.chunk_count, document_after.update_time) == (
            document_before.state,
            document_before.chunk_count,
            document_before.update_time,
        ), "tenant A's document was written"
        assert [(h.chunk_index, h.text) for h in (await a.search_chunks(page_phrase(tag_a, 2), top_k=5)).hits] == [
            (h.chunk_index, h.text) for h in hits_before
        ]
        a_chunks = (await a.search_chunks(page_phrase(tag_b, 2), top_k=50, documents=[doc_a])).hits
        assert a_chunks and not [hit for hit in a_chunks if tag_b in hit.text], "B's file went into A's document"
        assert (await b.get_document(up_b.document.name)).state == search_pb.DOCUMENT_STATE_READY
        counts_after = await store_counts(mesh)
        assert (counts_after["documents"], counts_after["chunks"]) == (
            counts_before["documents"],
            counts_before["chunks"],
        )


async def _work_queue_empty(js) -> bool:
    return (await js.stream_info(WORK_STREAM)).state.messages == 0


async def _wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        outcome = condition()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.2)


# -- ListJobs is consistent ------------------------------------------------------------------------------


async def test_list_jobs_always_sees_the_jobs_that_exist(mesh, client):
    """Door: ListJobs under concurrent calls. It read the keys through a watcher that could report "no keys"
    while they were still on their way; every call must now list every job of the tenant."""
    async with as_tenant(mesh, client, unique("lister")) as tenant:
        names = set()
        for index in range(3):
            response = await tenant.upload(make_pdf(unique("listed"), 1), f"listed-{index}.pdf")
            names.add(response.job.name)

        async def listed() -> set[str]:
            request = extractor_pb.ListJobsRequest(page_size=50)
            response = await tenant.extractor.ListJobs(request, metadata=tenant.metadata, timeout=30)
            return {job.name for job in response.jobs}

        for _ in range(6):
            results = await asyncio.gather(*(listed() for _ in range(10)))
            assert all(result == names for result in results), [len(result) for result in results]


def test_a_sealed_password_opens_only_for_its_own_task():
    """Door: a sealed password copied into another work item (another job, document, tenant or file) does not open."""
    from mivaa_extractor.task_seal import TaskSealer
    from mivaa_platform.errors import MivaaError

    sealer = TaskSealer(os.urandom(32))
    task = job_pb2.ExtractTask(job="jobs/0a", document=f"documents/{uuid.uuid4()}", sha256="a" * 64, tenant="acme")
    task.sealed_password = sealer.seal_password("s3cret", task)
    assert b"s3cret" not in task.SerializeToString()
    assert sealer.open_password(task) == "s3cret"
    for field, value in (
        ("job", "jobs/0b"),
        ("document", f"documents/{uuid.uuid4()}"),
        ("tenant", "globex"),
        ("sha256", "b" * 64),
    ):
        moved = job_pb2.ExtractTask()
        moved.CopyFrom(task)
        setattr(moved, field, value)
        with pytest.raises(MivaaError) as refused:
            sealer.open_password(moved)
        assert refused.value.reason == "TASK_REJECTED", field
    with pytest.raises(MivaaError):
        TaskSealer(os.urandom(32)).open_password(task)  # another key


def test_another_local_user_cannot_read_the_task_key(mesh):
    """Door: the task key file on the local machine. Made 0600 by the mesh: another local account reads nothing."""
    from tests.security.other_user import as_other_user

    key_file = mesh._service_env("extractor")["EXTRACTOR_TASK_KEY_FILE"]
    assert os.stat(key_file).st_mode & 0o077 == 0
    outcome = as_other_user(
        f"""
        import json
        try:
            open({key_file!r}, "rb").read()
            print(json.dumps({{"read": True}}))
        except OSError as error:
            print(json.dumps({{"read": False, "error": type(error).__name__}}))
        """
    )
    assert outcome == {"read": False, "error": "PermissionError"}
