"""A worker killed mid-job: the task is redelivered, the job completes, nothing is duplicated."""

from __future__ import annotations

import asyncio

import psycopg

from mivaa.jobs.v1 import job_pb2
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
    during = (await client.extractor.GetJob(__import__("mivaa.extractor.v1.extractor_service_pb2", fromlist=["x"]).GetJobRequest(name=response.job.name))).job
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
        (chunk_count,) = connection.execute("SELECT chunk_count FROM documents WHERE id = %s", (document_id,)).fetchone()
    assert rows == distinct == chunk_count == final.chunks_indexed == top + 1, (rows, distinct, chunk_count, top)

    result = await client.search_chunks(page_phrase("phoenix", 77), top_k=3, documents=[response.document.name])
    assert result.hits[0].page_start <= 77 <= result.hits[0].page_end
