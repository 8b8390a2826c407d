"""No document's size is limited by a call deadline: the chunk stream to search opens only at commit."""

from __future__ import annotations

import asyncio

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from tests.support.pdfs import make_pdf, page_phrase

# The search service's ceilings on any call, unary or streaming, for this test only.
CEILING_SECONDS = 3
PAGES = 400


async def test_a_document_whose_processing_outlasts_the_search_ceilings_is_indexed_whole(mesh, client):
    saved = dict(mesh.extra_env)
    mesh.processes["search"].stop()
    mesh.extra_env |= {
        "SEARCH_MAX_RPC_SECONDS": str(CEILING_SECONDS),
        "SEARCH_MAX_STREAM_SECONDS": str(CEILING_SECONDS),
    }
    try:
        await asyncio.to_thread(mesh.start_service, "search")
        upload = await client.upload_bytes(make_pdf("longhaul", PAGES, filler_sentences=14), "longhaul.pdf")
        job = await client.wait_for_job(upload.job.name, timeout=600)
        assert job.state == job_pb2.JOB_STATE_SUCCEEDED, job.error
        assert job.pages_done == PAGES and job.chunks_indexed > PAGES
        # Extraction and embedding alone took longer than any call to search may last, so a stream
        # held open while the document was processed would have been cut off.
        busy = sum(
            timing.seconds
            for timing in job.stage_timings
            if timing.stage in (job_pb2.JOB_STAGE_EXTRACTING, job_pb2.JOB_STAGE_EMBEDDING)
        )
        assert busy > CEILING_SECONDS, f"processing took {busy:.1f} s: too fast to prove anything"
        # Every page is there: the last page's sentence is found.
        found = await client.search_chunks(
            page_phrase("longhaul", PAGES),
            top_k=3,
            mode=search_pb.SEARCH_MODE_KEYWORD,
            documents=[upload.document.name],
        )
        assert any(hit.page_start <= PAGES <= hit.page_end for hit in found.hits)
    finally:
        mesh.processes["search"].stop()
        mesh.extra_env = saved
        await asyncio.to_thread(mesh.start_service, "search")
