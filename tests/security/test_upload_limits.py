"""The upload door, through the real gateway as authenticated users: what an upload may carry, what a
refused upload leaves behind (nothing), what a work item carries (no secret), and what a worker believes
(only tasks that match the catalog)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import unicodedata
import uuid

import grpc
import nats
import psycopg
import pytest
from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa.search.v1 import search_service_pb2_grpc
from mivaa_platform import limits
from mivaa_platform.grpc_errors import error_info
from mivaa_platform.messaging import (
    JOBS_BUCKET,
    ORIGINALS_BUCKET,
    WORK_STREAM,
    WORK_SUBJECT_EXTRACT,
    OriginalsStore,
)
from mivaa_platform.tenancy import tenant_metadata

from tests.support.pdfs import make_pdf, page_phrase
from tests.support.tenants import as_tenant

MiB = 1 << 20
DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def ops_nats(mesh) -> nats.NATS:
    """The operator's connection to the mesh's NATS: the mesh's own helper where it has one (NATS auth)."""
    for helper in ("connect_nats", "nats_connect"):
        if callable(getattr(mesh, helper, None)):
            return await getattr(mesh, helper)()
    return await nats.connect(mesh.nats_url)


async def store_counts(mesh) -> dict:
    """Everything an upload can write: database rows, job records, stored originals, work items published."""
    async with await psycopg.AsyncConnection.connect(mesh.postgres.dsn) as conn:
        documents = (await (await conn.execute("SELECT count(*) FROM documents")).fetchone())[0]
        chunks = (await (await conn.execute("SELECT count(*) FROM chunks")).fetchone())[0]
    nc = await ops_nats(mesh)
    try:
        js = nc.jetstream()
        jobs = (await js.stream_info(f"KV_{JOBS_BUCKET}")).state
        originals = (await js.stream_info(f"OBJ_{ORIGINALS_BUCKET}")).state
        work = (await js.stream_info(WORK_STREAM)).state
    finally:
        await nc.close()
    return {
        "documents": documents,
        "chunks": chunks,
        "job_records": (jobs.messages, jobs.last_seq),
        "originals": (originals.messages, originals.last_seq),
        "work_items_published": work.last_seq,
    }


REFUSED_FIELDS = [
    pytest.param({"filename": "a" * MiB + ".pdf"}, "FILENAME_TOO_LONG", id="filename-1MiB"),
    pytest.param({"filename": "é" * 128}, "FILENAME_TOO_LONG", id="filename-256-bytes"),
    pytest.param({"filename": "bad\x00.pdf"}, "CONTROL_CHARACTERS", id="filename-NUL"),
    pytest.param({"filename": "bad\x1b[31m.pdf"}, "CONTROL_CHARACTERS", id="filename-escape"),
    pytest.param({"filename": "../../etc/passwd.pdf"}, "FILENAME_INVALID", id="filename-path"),
    pytest.param({"title": "t" * (limits.MAX_TITLE_CHARS + 1)}, "TITLE_TOO_LONG", id="title-1001"),
    pytest.param({"title": "t" * (3 * MiB)}, "TITLE_TOO_LONG", id="title-3MiB"),
    pytest.param({"title": "a\x00b"}, "CONTROL_CHARACTERS", id="title-NUL"),
    pytest.param({"labels": [f"l{i}" for i in range(limits.MAX_LABELS + 1)]}, "TOO_MANY_LABELS", id="labels-33"),
    pytest.param({"labels": [f"l{i}" for i in range(100_000)]}, "TOO_MANY_LABELS", id="labels-100000"),
    pytest.param({"labels": ["x" * (limits.MAX_LABEL_CHARS + 1)]}, "LABEL_TOO_LONG", id="label-65"),
    pytest.param({"labels": ["x" * 3000]}, "LABEL_TOO_LONG", id="label-over-btree-row"),
    pytest.param({"labels": ["a\x00b"]}, "LABEL_INVALID", id="label-NUL"),
    pytest.param({"labels": ["drop;table"]}, "LABEL_INVALID", id="label-charset"),
    pytest.param({"password": "p" * (limits.MAX_PASSWORD_BYTES + 1)}, "PASSWORD_TOO_LONG", id="password-long"),
]


@pytest.mark.parametrize(("fields", "reason"), REFUSED_FIELDS)
async def test_each_upload_field_over_its_limit_is_refused_and_stores_nothing(mesh, client, fields, reason):
    """Door: UploadDocument's metadata. Each field over its limit is INVALID_ARGUMENT with its reason,
    before any store is written (rows, job records, originals, work items all as they were)."""
    upload = {"filename": "fine.pdf", **fields}
    data = make_pdf(unique("limits"), 1)
    before = await store_counts(mesh)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await client.upload_bytes(data, **upload)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT, failure.value
    info = error_info(failure.value)
    assert info is not None and info.reason == reason and info.domain == "extractor.mivaa", info
    assert len(failure.value.details() or "") < 300, "the refusal must not echo the value"
    assert await store_counts(mesh) == before, "a refused upload changed a store"


async def test_fields_at_their_limits_are_accepted(mesh, client):
    """The limits are far from what a real user types: values at each limit upload and extract."""
    tag = unique("atlimit")
    name = ("n" * (limits.MAX_FILENAME_BYTES - 4)) + ".pdf"
    labels = [f"label {i}:é/x-{tag}"[: limits.MAX_LABEL_CHARS] for i in range(limits.MAX_LABELS)]
    response = await client.upload_bytes(
        make_pdf(tag, 1), name, title="T" * limits.MAX_TITLE_CHARS, labels=labels, password=""
    )
    final = await client.wait_for_job(response.job.name, timeout=120)
    assert final.state in DONE, final
    document = (await client.search.GetDocument(search_pb.GetDocumentRequest(name=response.document.name))).document
    assert document.filename == name and len(document.title) == limits.MAX_TITLE_CHARS
    assert sorted(document.labels) == sorted(labels)


async def test_a_pdfs_own_title_is_cleaned_before_it_is_stored(mesh, client):
    """Door: the PDF's own metadata, which the uploader controls as much as the upload fields. With no title
    given, the document's title is the PDF's, without control characters and cut to the title limit."""
    import pymupdf

    tag = unique("owntitle")
    document = pymupdf.open(stream=make_pdf(tag, 1), filetype="pdf")
    document.set_metadata({"title": "Own\x07 title\x1b " + "w" * 5000})
    data = document.tobytes()
    document.close()
    response = await client.upload_bytes(data, "own-title.pdf")
    assert (await client.wait_for_job(response.job.name, timeout=120)).state in DONE
    title = (await client.search.GetDocument(search_pb.GetDocumentRequest(name=response.document.name))).document.title
    assert title.startswith("Own") and len(title) <= limits.MAX_TITLE_CHARS, title[:40]
    assert not [c for c in title if unicodedata.category(c) in ("Cc", "Cf")], title[:40]


async def test_no_job_record_can_reach_the_bus_payload_limit(mesh):
    """Door: the job record on the bus. The largest record legal fields make is a few KB, the size check sits
    well under the server's max_payload, and a record over it is refused before anything is published."""
    from mivaa_extractor.jobs import JobStore, new_job_id
    from mivaa_platform.errors import InvalidArgument

    nc = await ops_nats(mesh)
    try:
        assert limits.MAX_BUS_RECORD_BYTES <= nc.max_payload // 2, nc.max_payload
        largest = job_pb2.Job(
            name=f"jobs/{new_job_id()}",
            document=f"documents/{uuid.uuid4()}",
            filename="é" * (limits.MAX_FILENAME_BYTES // 2),
            tenant="t" * 64,
            page_errors=[job_pb2.JobError(reason="OCR_NOT_CONFIGURED", message="m" * 120, page=p) for p in range(1001)],
        )
        assert largest.ByteSize() < limits.MAX_BUS_RECORD_BYTES
        js = nc.jetstream()
        before = (await js.stream_info(f"KV_{JOBS_BUCKET}")).state.last_seq
        oversized = job_pb2.Job(name=f"jobs/{new_job_id()}", filename="f" * MiB)
        with pytest.raises(InvalidArgument) as refused:
            await JobStore(js).create(oversized)
        assert refused.value.reason == "JOB_RECORD_TOO_LARGE"
        assert (await js.stream_info(f"KV_{JOBS_BUCKET}")).state.last_seq == before
        assert nc.is_connected, "the connection survived"
    finally:
        await nc.close()


async def test_a_value_the_database_refuses_is_invalid_argument_never_unavailable(mesh):
    """Door: SearchService.CreateDocument (internal, mTLS). A value PostgreSQL cannot store (NUL in text) is
    the caller's error, INVALID_ARGUMENT, not UNAVAILABLE "retry later"; the upload limits hold there too."""
    async with grpc.aio.secure_channel(mesh.address("search"), mesh.ops_credentials()) as channel:
        stub = search_service_pb2_grpc.SearchServiceStub(channel)
        before = await store_counts(mesh)

        async def refusal(**fields) -> grpc.aio.AioRpcError:
            document = search_pb.Document(**{"filename": "x.pdf", "job": "jobs/0", **fields}, sha256=os.urandom(32).hex())
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await stub.CreateDocument(
                    search_pb.CreateDocumentRequest(document=document), metadata=tenant_metadata("default"), timeout=30
                )
            return failure.value

        for fields, reason in (
            # No field rule covers the job name: the database itself refuses the NUL.
            ({"job": "jobs/\x00"}, "VALUE_NOT_STORABLE"),
            ({"labels": ["x" * 3000]}, "LABEL_TOO_LONG"),
            ({"title": "a\x00b"}, "CONTROL_CHARACTERS"),
            ({"filename": "a\x00b"}, "CONTROL_CHARACTERS"),
            ({"labels": [f"l{i}" for i in range(1000)]}, "TOO_MANY_LABELS"),
        ):
            refused = await refusal(**fields)
            assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT, (fields.keys(), refused)
            assert error_info(refused).reason == reason
        assert await store_counts(mesh) == before


async def test_a_database_limit_is_invalid_argument_at_the_store(mesh):
    """Door: the document store under the servicer's limits. A label over the index row limit (the audit's
    ~2.7 KB label, which answered UNAVAILABLE "retry later") is INVALID_ARGUMENT by its cause."""
    from mivaa_platform.errors import InvalidArgument
    from mivaa_search.store import DocumentStore

    store = await DocumentStore.open(mesh.postgres.dsn, 384, max_size=1)
    try:
        with pytest.raises(InvalidArgument) as refused:
            await store.create_document(
                "x.pdf", "t", [os.urandom(4000).hex()], os.urandom(32).hex(), 1, 1, "jobs/0", tenant=unique("rowlimit")
            )
        assert refused.value.reason == "VALUE_NOT_STORABLE"
        assert refused.value.metadata["sqlstate"] == "54000"  # program_limit_exceeded
    finally:
        await store.close()


# -- nothing left behind ----------------------------------------------------------------------------


class _WorkQueueDown:
    """The mesh's JetStream, except that publishing a work item fails: the one injected fault."""

    def __init__(self, js):
        self._js = js

    def __getattr__(self, name):
        return getattr(self._js, name)

    async def publish(self, subject, payload=b"", **kwargs):
        if subject == WORK_SUBJECT_EXTRACT:
            raise nats.errors.ConnectionClosedError()
        return await self._js.publish(subject, payload, **kwargs)


async def test_an_upload_failing_after_the_catalog_accepted_it_leaves_nothing(mesh, client):
    """Door: a failure late in an upload (the bus connection lost while publishing the work item, after the
    document, the original and the job were written). The caller gets UNAVAILABLE and the upload is undone: no document row, no job, no original, unless another
    tenant's document still has the same bytes, whose original then stays."""
    from mivaa_extractor.clients import SearchCatalog
    from mivaa_extractor.ingest import Ingestor, UploadLimits, new_upload_request
    from mivaa_extractor.jobs import JobStore
    from mivaa_extractor.task_seal import TaskSealer
    from mivaa_platform.errors import Unavailable

    shared = make_pdf(unique("undoshared"), 1)
    kept = await client.upload_bytes(shared, "kept.pdf")  # tenant "default" keeps these bytes
    assert (await client.wait_for_job(kept.job.name, timeout=120)).state in DONE
    nc = await ops_nats(mesh)
    async with grpc.aio.secure_channel(mesh.address("search"), mesh.ops_credentials()) as channel:
        js = nc.jetstream()
        jobs, originals = JobStore(js), OriginalsStore(js)
        ingestor = Ingestor(
            js=_WorkQueueDown(js),
            jobs=jobs,
            originals=originals,
            catalog=SearchCatalog(channel),
            limits=UploadLimits(max_bytes=8 * MiB, max_pages=100),
            task_sealer=TaskSealer(os.urandom(32)),
        )
        tenant = unique("undo")
        try:
            for data in (make_pdf(unique("undofresh"), 1), shared):
                sha256 = hashlib.sha256(data).hexdigest()
                before = await store_counts(mesh)
                request = new_upload_request(filename="late.pdf", title="", labels=["x"], password="", tenant=tenant)
                with pytest.raises(Unavailable) as failure:
                    await ingestor.upload(request, data)
                assert failure.value.reason == "NATS_UNAVAILABLE", "a lost bus is UNAVAILABLE, by its cause"
                after = await store_counts(mesh)
                assert after["documents"] == before["documents"], "the document row was left behind"
                assert after["work_items_published"] == before["work_items_published"]
                assert await originals.exists(sha256) == (data is shared)
                tenant_jobs, _ = await jobs.list(500, "", tenant=tenant)
                assert tenant_jobs == [], "a job record was left behind"
            assert (await client.search.GetDocument(search_pb.GetDocumentRequest(name=kept.document.name))).document.state == (
                search_pb.DOCUMENT_STATE_READY
            )
        finally:
            ingestor.close()
            await nc.close()


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
        record = (await kv.get(response.job.name.removeprefix("jobs/"))).value
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
            job_a_id = up_a.job.name.removeprefix("jobs/")
            job_a_record = (await kv.get(job_a_id)).value
            forged_job = f"jobs/{new_job_id()}"
            await kv.put(
                forged_job.removeprefix("jobs/"),
                job_pb2.Job(name=forged_job, document=doc_a, tenant=a.tenant, state=job_pb2.JOB_STATE_QUEUED).SerializeToString(),
            )
            forged = [
                # Tenant B's document, claimed by tenant A.
                job_pb2.ExtractTask(job=up_b.job.name, document=up_b.document.name, sha256=sha_b, tenant=a.tenant),
                # A's document and job with B's file.
                job_pb2.ExtractTask(job=up_a.job.name, document=doc_a, sha256=sha_b, tenant=a.tenant),
                # A forged job record for A's document, with B's file.
                job_pb2.ExtractTask(job=forged_job, document=doc_a, sha256=sha_b, tenant=a.tenant),
                # A garbage sealed password on A's own task.
                job_pb2.ExtractTask(job=up_a.job.name, document=doc_a, sha256=sha_a, tenant=a.tenant, sealed_password=b"\x01" + os.urandom(40)),
            ]
            for task in forged:
                await js.publish(WORK_SUBJECT_EXTRACT, task.SerializeToString())
            await _wait_for(lambda: _rejections(worker_log) >= rejected_before + len(forged), "the forged tasks are rejected")

            # A's own job re-opened and A's stored original replaced by B's bytes: the file does not hash to its name.
            reopened = job_pb2.Job.FromString(job_a_record)
            reopened.state, reopened.stage = job_pb2.JOB_STATE_QUEUED, job_pb2.JOB_STAGE_QUEUED
            await kv.put(job_a_id, reopened.SerializeToString())
            await objects.put(sha_a, bytes_b)
            try:
                await js.publish(
                    WORK_SUBJECT_EXTRACT,
                    job_pb2.ExtractTask(job=up_a.job.name, document=doc_a, sha256=sha_a, tenant=a.tenant).SerializeToString(),
                )
                await _wait_for(lambda: _rejections(worker_log) >= rejected_before + len(forged) + 1, "the swapped file is rejected")
            finally:
                await objects.put(sha_a, bytes_a)
                await kv.put(job_a_id, job_a_record)
            await kv.delete(forged_job.removeprefix("jobs/"))
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
        assert (counts_after["documents"], counts_after["chunks"]) == (counts_before["documents"], counts_before["chunks"])


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
    for field, value in (("job", "jobs/0b"), ("document", f"documents/{uuid.uuid4()}"), ("tenant", "globex"), ("sha256", "b" * 64)):
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
