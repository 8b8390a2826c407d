"""Batches through the real mesh and Envoy: uploads join a batch, its progress is watched to DONE with
the right counts (a refused file counted as failed with its reason), and only its tenant sees it."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa_cli.client import MeshClient
from mivaa_platform.grpc_errors import error_reason
from tests.support.pdfs import make_pdf

BROKEN_PDF = b"%PDF-1.7\n" + b"this is not a PDF body\n" * 200


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def tenant_client(mesh, tenant: str, scopes=("read", "write")) -> MeshClient:
    token = mesh.token(tenant=tenant, scopes=scopes)
    return MeshClient(mesh.gateway_address, token=token, ca=mesh.ca_path.read_bytes())


async def failure_of(call) -> grpc.aio.AioRpcError:
    """The error `call` (an awaitable, or an async iterable for streams) fails with."""
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        if hasattr(call, "__aiter__"):
            [item async for item in call]
        else:
            await call
    return failure.value


async def expect(call, code: grpc.StatusCode, reason: str) -> None:
    error = await failure_of(call)
    assert (error.code(), error_reason(error)) == (code, reason), error


async def create_batch(client: MeshClient, **fields) -> job_pb2.Batch:
    request = extractor_pb.CreateBatchRequest(**fields)
    return (await client.extractor.CreateBatch(request, timeout=30)).batch


async def watch_batch(client: MeshClient, name: str) -> list[job_pb2.Batch]:
    call = client.extractor.WatchBatch(extractor_pb.WatchBatchRequest(name=name), timeout=600)
    return [response.batch async for response in call]


async def test_a_batch_is_watched_to_done_with_its_failures_counted(mesh):
    tenant, other = unique("batcher"), unique("outsider")
    async with tenant_client(mesh, tenant) as owner, tenant_client(mesh, other) as outsider:
        batch = await create_batch(owner, display_name="Nightly manuals", labels=["nightly"], expected_documents=3)
        assert batch.name.startswith("batches/") and batch.tenant == tenant
        assert batch.state == job_pb2.BATCH_STATE_OPEN and batch.progress.documents_total == 0
        watching = asyncio.create_task(watch_batch(owner, batch.name))
        tag = unique("batchdoc").replace("-", "")
        first = await owner.upload_bytes(make_pdf(tag + "a", 2), "a.pdf", labels=["own"], batch=batch.name)
        second = await owner.upload_bytes(make_pdf(tag + "b", 3), "b.pdf", batch=batch.name)
        await expect(
            owner.upload_bytes(BROKEN_PDF, "broken.pdf", batch=batch.name),
            grpc.StatusCode.INVALID_ARGUMENT,
            "PDF_UNREADABLE",
        )
        assert first.job.batch == batch.name and set(first.job.labels) == {"nightly", "own"}
        updates = await asyncio.wait_for(watching, timeout=600)

        assert updates[0].state == job_pb2.BATCH_STATE_OPEN
        done = updates[-1]
        assert done.state == job_pb2.BATCH_STATE_DONE, done
        assert all(u.state != job_pb2.BATCH_STATE_DONE for u in updates[:-1])
        progress = done.progress
        assert (progress.documents_total, progress.documents_succeeded, progress.documents_failed) == (3, 2, 1)
        assert progress.documents_queued == progress.documents_running == 0
        assert (progress.pages_done, progress.pages_total) == (5, 5) and progress.chunks_indexed > 0
        assert progress.eta_seconds == 0 and progress.pages_per_second > 0
        [failure] = progress.failures
        assert (failure.filename, failure.error.reason, failure.job) == ("broken.pdf", "PDF_UNREADABLE", "")
        totals = [u.progress.documents_total for u in updates]
        assert totals == sorted(totals), totals  # uploads joining show up, none is lost

        got = (await owner.extractor.GetBatch(extractor_pb.GetBatchRequest(name=batch.name), timeout=30)).batch
        assert got.state == job_pb2.BATCH_STATE_DONE and got.progress.documents_succeeded == 2
        listed = await owner.extractor.ListBatches(extractor_pb.ListBatchesRequest(), timeout=30)
        assert [b.name for b in listed.batches] == [batch.name] and listed.batches[0].display_name == "Nightly manuals"
        jobs = await owner.extractor.ListJobs(extractor_pb.ListJobsRequest(batch=batch.name), timeout=30)
        assert {j.name for j in jobs.jobs} == {first.job.name, second.job.name}
        assert all(j.batch == batch.name and "nightly" in j.labels for j in jobs.jobs)

        # Another tenant: the batch does not exist for it, in any call.
        get = outsider.extractor.GetBatch(extractor_pb.GetBatchRequest(name=batch.name), timeout=30)
        await expect(get, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")
        watch = outsider.extractor.WatchBatch(extractor_pb.WatchBatchRequest(name=batch.name), timeout=30)
        await expect(watch, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")
        upload = outsider.upload_bytes(make_pdf(tag + "c", 1), "c.pdf", batch=batch.name)
        await expect(upload, grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")
        assert not (await outsider.extractor.ListBatches(extractor_pb.ListBatchesRequest(), timeout=30)).batches
        foreign_jobs = await outsider.extractor.ListJobs(extractor_pb.ListJobsRequest(batch=batch.name), timeout=30)
        assert not foreign_jobs.jobs


async def test_batches_list_newest_first_in_pages(mesh):
    async with tenant_client(mesh, unique("lister")) as owner:
        names = [(await create_batch(owner, display_name=f"batch {i}")).name for i in range(3)]
        first = await owner.extractor.ListBatches(extractor_pb.ListBatchesRequest(page_size=2), timeout=30)
        assert [b.name for b in first.batches] == names[::-1][:2] and first.next_page_token
        request = extractor_pb.ListBatchesRequest(page_size=2, page_token=first.next_page_token)
        rest = await owner.extractor.ListBatches(request, timeout=30)
        assert [b.name for b in rest.batches] == names[:1] and not rest.next_page_token
        # An empty batch with no expected count waits for its first upload.
        assert all(b.state == job_pb2.BATCH_STATE_OPEN for b in [*first.batches, *rest.batches])


async def test_a_read_only_token_cannot_create_a_batch(mesh):
    tenant = unique("reader")
    async with tenant_client(mesh, tenant, scopes=("read",)) as reader:
        error = await failure_of(reader.extractor.CreateBatch(extractor_pb.CreateBatchRequest(), timeout=30))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        # Reading is allowed: the answer is the service's own.
        missing = extractor_pb.GetBatchRequest(name="batches/0000000000000000000a")
        await expect(reader.extractor.GetBatch(missing, timeout=30), grpc.StatusCode.NOT_FOUND, "BATCH_NOT_FOUND")


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (extractor_pb.CreateBatchRequest(display_name="x" * 201), "DISPLAY_NAME_TOO_LONG"),
        (extractor_pb.CreateBatchRequest(labels=[f"l{i}" for i in range(33)]), "TOO_MANY_LABELS"),
        (extractor_pb.CreateBatchRequest(labels=["a" * 65]), "LABEL_TOO_LONG"),
        (extractor_pb.CreateBatchRequest(expected_documents=-1), "INVALID_EXPECTED_DOCUMENTS"),
        (extractor_pb.CreateBatchRequest(expected_documents=10_001), "INVALID_EXPECTED_DOCUMENTS"),
        (extractor_pb.ListBatchesRequest(page_token="not-a-token"), "INVALID_PAGE_TOKEN"),
        (extractor_pb.ListBatchesRequest(page_size=-1), "INVALID_PAGE_SIZE"),
        (extractor_pb.GetBatchRequest(name="batches/../jobs"), "INVALID_BATCH_NAME"),
        (extractor_pb.WatchBatchRequest(name="jobs/0000000000000000000a"), "INVALID_BATCH_NAME"),
        (extractor_pb.ListJobsRequest(batch="batch-1"), "INVALID_BATCH_NAME"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
async def test_bad_batch_input_is_invalid_argument_with_a_reason(client, request_, reason):
    method = {
        "CreateBatchRequest": client.extractor.CreateBatch,
        "ListBatchesRequest": client.extractor.ListBatches,
        "GetBatchRequest": client.extractor.GetBatch,
        "WatchBatchRequest": client.extractor.WatchBatch,
        "ListJobsRequest": client.extractor.ListJobs,
    }[type(request_).__name__]
    await expect(method(request_, timeout=30), grpc.StatusCode.INVALID_ARGUMENT, reason)


async def test_the_cli_ingests_a_folder_as_one_batch(mesh, monkeypatch, capsys, tmp_path):
    from mivaa_cli.main import main as cli_main

    tenant = unique("cli-batch")
    monkeypatch.setenv("MIVAA_TOKEN", mesh.token(subject="cli-batch", tenant=tenant))
    monkeypatch.setenv("MIVAA_CA", str(mesh.ca_path))
    folder = tmp_path / "manuals"
    (folder / "nested").mkdir(parents=True)
    tag = unique("clibatch").replace("-", "")
    (folder / "one.pdf").write_bytes(make_pdf(tag + "a", 1))
    (folder / "nested" / "two.pdf").write_bytes(make_pdf(tag + "b", 2))
    (folder / "broken.pdf").write_bytes(BROKEN_PDF)
    (folder / "notes.txt").write_text("not a PDF, not uploaded")

    async def mivaa(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = await asyncio.to_thread(cli_main, ["--address", mesh.gateway_address, *args])
        return code, capsys.readouterr().out

    code, out = await mivaa("ingest", str(folder), "--label", "cli")
    assert code == 1, out  # one file failed
    assert "3/3 documents  1 failed  3/3 pages" in out and "done" in out, out
    assert "failed:" in out and "broken.pdf:" in out and "(PDF_UNREADABLE)" in out, out
    name = out.split("batch ", 1)[1].split()[0]
    code, listed = await mivaa("batches", "list")
    assert code == 0 and name in listed and "manuals" in listed and "2/3 done, 1 failed" in listed, listed
    code, shown = await mivaa("batches", "get", name)
    assert code == 0 and "labels: cli" in shown and "broken.pdf" in shown, shown
