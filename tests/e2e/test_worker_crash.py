"""A worker killed mid-job: the task is redelivered, the job completes, nothing is duplicated."""

from __future__ import annotations

import asyncio

import psycopg

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from tests.support.hits import normalise
from tests.support.pdfs import make_pdf, page_phrase


async def test_killed_worker_job_completes_after_restart(client, mesh):
    pages = 150
    response = await client.upload_bytes(make_pdf("phoenix", pages, filler_sentences=24), "phoenix.pdf")

    # Wait until the worker is visibly in the middle of the job, then SIGKILL it.
    async for update in client.watch(response.job.name, timeout=300):
        job = update.event.job
        if job.state == job_pb2.JOB_STATE_RUNNING and job.pages_done > 0:
            break
    assert job.state == job_pb2.JOB_STATE_RUNNING
    mesh.processes["worker-0"].kill()
    await asyncio.sleep(1)
    during = (await client.extractor.GetJob(extractor_pb.GetJobRequest(name=response.job.name))).job
    assert during.state == job_pb2.JOB_STATE_RUNNING, "a killed worker must not finish or fail the job"

    await asyncio.to_thread(mesh.start_service, "worker-0")
    final = await client.wait_for_job(response.job.name, timeout=600)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    assert final.attempts >= 2, "the task was redelivered"
    assert final.pages_done == pages

    document_id = response.document.name.removeprefix("documents/")
    with psycopg.connect(mesh.postgres.dsn) as connection:
        rows, distinct, top = connection.execute(
            "SELECT count(*), count(DISTINCT chunk_index), max(chunk_index) FROM chunks WHERE document_id = %s",
            (document_id,),
        ).fetchone()
        (chunk_count,) = connection.execute(
            "SELECT chunk_count FROM documents WHERE id = %s", (document_id,)
        ).fetchone()
        chunks = connection.execute(
            "SELECT text, page_start, page_end FROM chunks WHERE document_id = %s ORDER BY chunk_index", (document_id,)
        ).fetchall()
    assert rows == distinct == chunk_count == final.chunks_indexed == top + 1, (rows, distinct, chunk_count, top)

    # Every page's text made it in, cited on its own page: nothing lost to the crash.
    for page in range(1, pages + 1):
        holders = [hit for hit in chunks if normalise(page_phrase("phoenix", page)) in normalise(hit[0])]
        assert holders, f"page {page} is missing"
        assert all(start <= page <= end for _, start, end in holders), (page, [(s, e) for _, s, e in holders])


async def test_job_survives_an_embedder_outage(client, mesh):
    """The embedder goes away mid-job: the task is retried with backoff and completes once it is back."""
    pages = 60
    response = await client.upload_bytes(make_pdf("outage", pages, filler_sentences=20), "outage.pdf")
    async for update in client.watch(response.job.name, timeout=300):
        if update.event.job.state == job_pb2.JOB_STATE_RUNNING:
            break
    mesh.processes["embedder"].kill()
    await asyncio.sleep(3)
    during = (await client.extractor.GetJob(extractor_pb.GetJobRequest(name=response.job.name))).job
    assert during.state in (job_pb2.JOB_STATE_RUNNING, job_pb2.JOB_STATE_QUEUED), during
    await asyncio.to_thread(mesh.start_service, "embedder")
    final = await client.wait_for_job(response.job.name, timeout=600)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    assert final.pages_done == pages
    document = response.document.name.removeprefix("documents/")
    with psycopg.connect(mesh.postgres.dsn) as connection:
        rows, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT chunk_index) FROM chunks WHERE document_id = %s", (document,)
        ).fetchone()
    assert rows == distinct == final.chunks_indexed
