"""The upload door, through the real gateway as authenticated users: what an upload may carry and what a
refused or failed upload leaves behind (nothing). Work items and workers: test_upload_work_items.py."""

from __future__ import annotations

import hashlib
import os
import unicodedata
import uuid

import grpc
import nats
import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa.search.v1 import search_service_pb2_grpc
from mivaa_platform import limits
from mivaa_platform.grpc_errors import error_info
from mivaa_platform.messaging import JOBS_BUCKET, WORK_SUBJECT_EXTRACT, OriginalsStore
from mivaa_platform.tenancy import tenant_metadata
from tests.security.upload_state import DONE, ops_nats, store_counts, unique
from tests.support.pdfs import make_pdf

MiB = 1 << 20


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
    from mivaa_extractor.adapters.job_store import JobStore
    from mivaa_extractor.jobs import new_job_id
    from mivaa_platform.errors import InvalidArgument

    nc = await ops_nats(mesh)
    try:
        assert nc.max_payload // 2 >= limits.MAX_BUS_RECORD_BYTES, nc.max_payload
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
            document = search_pb.Document(
                **{"filename": "x.pdf", "job": "jobs/0", **fields}, sha256=os.urandom(32).hex()
            )
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
    from mivaa_search.store import NewDocument, SearchStore

    store = await SearchStore.open(mesh.postgres.dsn, 384, max_size=1)
    try:
        with pytest.raises(InvalidArgument) as refused:
            await store.documents.create(
                NewDocument("x.pdf", "t", [os.urandom(4000).hex()], os.urandom(32).hex(), 1, 1, "jobs/0"),
                tenant=unique("rowlimit"),
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
    from mivaa_extractor.adapters.job_store import JobStore
    from mivaa_extractor.adapters.search import SearchCatalog
    from mivaa_extractor.adapters.work_queue import NatsWorkQueue
    from mivaa_extractor.api.ingest import Ingestor, UploadLimits, UploadPorts, new_upload_request
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
            UploadPorts(
                jobs=jobs,
                originals=originals,
                catalog=SearchCatalog(channel),
                work=NatsWorkQueue(_WorkQueueDown(js)),
                task_sealer=TaskSealer(os.urandom(32)),
            ),
            UploadLimits(max_bytes=8 * MiB, max_pages=100),
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
            assert (
                await client.search.GetDocument(search_pb.GetDocumentRequest(name=kept.document.name))
            ).document.state == (search_pb.DOCUMENT_STATE_READY)
        finally:
            ingestor.close()
            await nc.close()
