"""Upload → job events → search, through the real Envoy gateway, over native gRPC and grpc-web."""

from __future__ import annotations

import asyncio
import pathlib
import subprocess
import sys

import grpc
import pytest

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_platform.grpc_errors import error_reason
from tests.support import grpcweb
from tests.support.hits import find_hit, normalise
from tests.support.pdfs import make_pdf, page_phrase

DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)


async def ingest(
    client, data: bytes, filename: str, **kwargs
) -> tuple[extractor_pb.UploadDocumentResponse, list[job_pb2.Job]]:
    response = await client.upload_bytes(data, filename, **kwargs)
    events = [update.event.job async for update in client.watch(response.job.name, timeout=600)]
    return response, events


async def test_generated_pdf_is_searchable_on_the_right_page(client):
    pages = 6
    response, events = await ingest(client, make_pdf("lighthouse", pages), "lighthouse.pdf", labels=["generated"])
    assert response.created
    assert response.job.state == job_pb2.JOB_STATE_QUEUED
    assert response.document.name.startswith("documents/")
    assert response.document.page_count == pages

    # Events run from the current state to the end, with monotone progress.
    assert events[0].name == response.job.name
    assert events[-1].state == job_pb2.JOB_STATE_SUCCEEDED, events[-1]
    done = [e.pages_done for e in events]
    assert done == sorted(done) and done[-1] == pages
    assert events[-1].chunks_indexed > 0
    assert not events[-1].page_errors

    document = (await client.search.GetDocument(search_pb.GetDocumentRequest(name=response.document.name))).document
    assert document.state == search_pb.DOCUMENT_STATE_READY
    assert document.chunk_count == events[-1].chunks_indexed

    for page in (1, 4, 6):
        phrase = page_phrase("lighthouse", page)
        result = await client.search_chunks(phrase, top_k=3, documents=[response.document.name])
        assert result.hits, phrase
        top = result.hits[0]
        assert top.document == response.document.name
        assert top.page_start <= page <= top.page_end, (page, top)
        assert normalise(phrase) in normalise(top.text)
        unrelated = await client.search_chunks(
            "quarterly tax rules for freelance accountants", top_k=1, documents=[response.document.name]
        )
        # HYBRID's score is a rank fusion; the cosine similarity behind it is vector_score.
        assert top.vector_score > unrelated.hits[0].vector_score + 0.2, (top, unrelated.hits[0])


async def test_reupload_of_same_bytes_returns_existing_document(client):
    data = make_pdf("reupload", 2)
    first, events = await ingest(client, data, "reupload.pdf")
    assert events[-1].state == job_pb2.JOB_STATE_SUCCEEDED
    again = await client.upload_bytes(data, "reupload-copy.pdf")
    assert not again.created
    assert again.document.name == first.document.name
    assert again.job.name == first.job.name
    assert again.job.state == job_pb2.JOB_STATE_SUCCEEDED


async def test_late_watcher_gets_the_final_state_at_once(client):
    response, events = await ingest(client, make_pdf("latewatch", 1), "latewatch.pdf")
    late = [update.event.job async for update in client.watch(response.job.name, timeout=10)]
    assert len(late) == 1
    assert late[0].state == events[-1].state == job_pb2.JOB_STATE_SUCCEEDED


async def test_filters_restrict_search_to_documents_and_labels(client):
    red, _ = await ingest(client, make_pdf("crimson", 2), "crimson.pdf", labels=["colour-red"])
    blue, _ = await ingest(client, make_pdf("cobalt", 2), "cobalt.pdf", labels=["colour-blue"])
    query = page_phrase("crimson", 1)
    by_label = await client.search_chunks(query, top_k=10, labels=["colour-blue"])
    assert by_label.hits and {h.document for h in by_label.hits} == {blue.document.name}
    by_document = await client.search_chunks(query, top_k=10, documents=[red.document.name])
    assert by_document.hits and {h.document for h in by_document.hits} == {red.document.name}


async def test_lists_are_paginated(client):
    for tag in ("page-a", "page-b", "page-c"):
        await ingest(client, make_pdf(tag, 1), f"{tag}.pdf")
    seen_docs, token = [], ""
    while True:
        page = await client.search.ListDocuments(search_pb.ListDocumentsRequest(page_size=2, page_token=token))
        assert len(page.documents) <= 2
        seen_docs += [d.name for d in page.documents]
        token = page.next_page_token
        if not token:
            break
    assert len(seen_docs) == len(set(seen_docs)) >= 3

    seen_jobs, token = [], ""
    while True:
        page = await client.extractor.ListJobs(extractor_pb.ListJobsRequest(page_size=2, page_token=token))
        seen_jobs += [j.name for j in page.jobs]
        token = page.next_page_token
        if not token:
            break
    assert len(seen_jobs) == len(set(seen_jobs)) >= 3
    assert seen_jobs == sorted(seen_jobs, reverse=True), "jobs are listed newest first"

    for call, request in (
        (client.search.ListDocuments, search_pb.ListDocumentsRequest(page_size=-1)),
        (client.extractor.ListJobs, extractor_pb.ListJobsRequest(page_size=-1)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call(request)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(failure.value) == "INVALID_PAGE_SIZE"
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await client.extractor.ListJobs(extractor_pb.ListJobsRequest(page_token="not-a-token"))
    assert error_reason(failure.value) == "INVALID_PAGE_TOKEN"


async def test_delete_removes_chunks_and_stored_file(client, mesh):
    import nats

    response, _ = await ingest(client, make_pdf("ephemeral", 2), "ephemeral.pdf")
    name = response.document.name
    await client.search.DeleteDocument(search_pb.DeleteDocumentRequest(name=name))
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await client.search.GetDocument(search_pb.GetDocumentRequest(name=name))
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_reason(failure.value) == "DOCUMENT_NOT_FOUND"
    result = await client.search_chunks(page_phrase("ephemeral", 1), top_k=10)
    assert name not in {h.document for h in result.hits}
    nc = await nats.connect(**mesh.nats_settings().connect_options())
    try:
        from mivaa_platform.messaging import OriginalsStore

        assert not await OriginalsStore(nc.jetstream()).exists(response.document.sha256)
    finally:
        await nc.close()


async def test_cancel_job(client):
    response = await client.upload_bytes(make_pdf("cancelled", 120, filler_sentences=20), "cancelled.pdf")
    cancelled = await client.extractor.CancelJob(extractor_pb.CancelJobRequest(name=response.job.name))
    assert cancelled.job.state == job_pb2.JOB_STATE_CANCELLED
    final = await client.wait_for_job(response.job.name, timeout=120)
    assert final.state == job_pb2.JOB_STATE_CANCELLED
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await client.extractor.CancelJob(extractor_pb.CancelJobRequest(name=response.job.name))
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(failure.value) == "JOB_ALREADY_FINISHED"
    # The worker stays healthy: the next job still completes.
    _, events = await ingest(client, make_pdf("after-cancel", 1), "after-cancel.pdf")
    assert events[-1].state == job_pb2.JOB_STATE_SUCCEEDED


async def test_unknown_job_is_not_found(client):
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await client.extractor.GetJob(extractor_pb.GetJobRequest(name="jobs/0123456789abcdef"))
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_reason(failure.value) == "JOB_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await client.extractor.GetJob(extractor_pb.GetJobRequest(name="documents/x"))
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# -- grpc-web: what the React console sends, through the same Envoy listener --------------
async def test_grpc_web_search_and_watch(client, mesh):
    response, events = await ingest(client, make_pdf("browser", 3), "browser.pdf")
    assert events[-1].state == job_pb2.JOB_STATE_SUCCEEDED
    host, port = mesh.gateway_address.split(":")
    phrase = page_phrase("browser", 2)
    # What the React console sends: its user's token, over the gateway's TLS.
    web = {"token": mesh.token(subject="browser"), "ca": str(mesh.ca_path)}

    result = await asyncio.to_thread(
        grpcweb.call,
        host,
        int(port),
        "/mivaa.search.v1.SearchService/SearchChunks",
        search_pb.SearchChunksRequest(query=phrase, top_k=3, documents=[response.document.name]).SerializeToString(),
        origin="http://localhost:5173",
        **web,
    )
    assert result.status == 0, result
    assert result.headers.get("access-control-allow-origin") == "http://localhost:5173"
    reply = search_pb.SearchChunksResponse.FromString(result.messages[0])
    assert reply.hits[0].page_start <= 2 <= reply.hits[0].page_end
    assert normalise(phrase) in normalise(reply.hits[0].text)

    # Server streaming over grpc-web: WatchJob of a finished job yields its final event.
    watched = await asyncio.to_thread(
        grpcweb.call,
        host,
        int(port),
        "/mivaa.extractor.v1.ExtractorService/WatchJob",
        extractor_pb.WatchJobRequest(name=response.job.name).SerializeToString(),
        **web,
    )
    assert watched.status == 0, watched
    final = extractor_pb.WatchJobResponse.FromString(watched.messages[-1]).event.job
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED

    # Errors keep their status and details over grpc-web.
    missing = await asyncio.to_thread(
        grpcweb.call,
        host,
        int(port),
        "/mivaa.extractor.v1.ExtractorService/GetJob",
        extractor_pb.GetJobRequest(name="jobs/00000000000000000000").SerializeToString(),
        **web,
    )
    assert missing.status == grpc.StatusCode.NOT_FOUND.value[0]
    details = missing.trailers.get("grpc-status-details-bin") or missing.headers.get("grpc-status-details-bin")
    assert details, "google.rpc.Status details travel to browsers too"


def test_cors_preflight(mesh):
    host, port = mesh.gateway_address.split(":")
    ca = str(mesh.ca_path)
    allowed = grpcweb.preflight(
        host, int(port), "/mivaa.search.v1.SearchService/SearchChunks", "http://localhost:5173", ca=ca
    )
    assert allowed.get("access-control-allow-origin") == "http://localhost:5173"
    refused = grpcweb.preflight(
        host, int(port), "/mivaa.search.v1.SearchService/SearchChunks", "https://evil.example", ca=ca
    )
    assert "access-control-allow-origin" not in refused


def test_grpcurl_lists_and_calls_through_the_gateway(mesh):
    """Ops through the gateway: TLS verified against the CA, a token on every call (reflection needs one too)."""
    grpcurl = str(pathlib.Path(sys.executable).parent / "grpcurl")
    auth = ["-cacert", str(mesh.ca_path), "-H", f"authorization: Bearer {mesh.token(subject='ops', scopes=('read',))}"]
    listed = subprocess.run([grpcurl, *auth, mesh.gateway_address, "list"], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    services = set(listed.stdout.split())
    assert {
        "mivaa.extractor.v1.ExtractorService",
        "mivaa.search.v1.SearchService",
        "mivaa.embedder.v1.EmbedderService",
    } <= services
    described = subprocess.run(
        [grpcurl, *auth, mesh.gateway_address, "describe", "mivaa.search.v1.SearchService"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "SearchChunks" in described.stdout
    called = subprocess.run(
        [grpcurl, *auth, "-d", "{}", mesh.gateway_address, "mivaa.embedder.v1.EmbedderService/ListModels"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert called.returncode == 0, called.stderr
    assert "all-MiniLM-L6-v2" in called.stdout and "384" in called.stdout
    anonymous = subprocess.run(
        [grpcurl, "-cacert", str(mesh.ca_path), mesh.gateway_address, "list"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert anonymous.returncode != 0 and "Unauthenticated" in anonymous.stderr, anonymous.stderr


def test_grpcurl_against_a_service_directly_needs_the_ops_certificate(mesh):
    grpcurl = str(pathlib.Path(sys.executable).parent / "grpcurl")
    certs = mesh.certs_dir
    direct = subprocess.run(
        [
            grpcurl,
            "-cacert",
            str(certs / "ca.pem"),
            "-cert",
            str(certs / "ops.pem"),
            "-key",
            str(certs / "ops-key.pem"),
            mesh.address("search"),
            "list",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert direct.returncode == 0, direct.stderr
    assert "mivaa.search.v1.SearchService" in direct.stdout
    # Without a client certificate from the CA the service refuses the connection: nothing bypasses the gateway.
    without = subprocess.run(
        [grpcurl, "-cacert", str(certs / "ca.pem"), mesh.address("search"), "list"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert without.returncode != 0
    plaintext = subprocess.run(
        [grpcurl, "-plaintext", mesh.address("search"), "list"], capture_output=True, text=True, timeout=30
    )
    assert plaintext.returncode != 0


# -- the corpus: real PDFs from other producers ------------------------------------------
CORPUS_CASES = [
    # file, query, text the hit must contain, page it is on
    ("multicolumn.pdf", "Which EU country has Copenhagen as its capital?", "Copenhagen", 3),
    ("google-doc-document.pdf", "Explicit is better than implicit", "Explicit is better than implicit", 1),
    ("GeoTopo-komprimiert.pdf", "Satz von Heine-Borel: Teilmenge von Rn kompakt", "Heine-Borel", 21),
    ("unstructured/fr_olap.pdf", "Université François Rabelais Tours Laboratoire d'Informatique", "Rabelais", 1),
    ("pdflatex-4-pages.pdf", "text without a meaning", "text without a meaning", 1),
]


@pytest.mark.corpus
async def test_corpus_pdfs_are_searchable_on_the_right_page(client, corpus_dir):
    uploads = await asyncio.gather(
        *(client.upload_file(corpus_dir / name, labels=["corpus"]) for name, *_ in CORPUS_CASES)
    )
    finals = await asyncio.gather(*(client.wait_for_job(u.job.name, timeout=900) for u in uploads))
    for (name, query, needle, page), upload, final in zip(CORPUS_CASES, uploads, finals, strict=True):
        assert final.state in DONE, (name, final)
        result = await client.search_chunks(query, top_k=5, documents=[upload.document.name])
        assert find_hit(result.hits, needle, page), (name, [(h.page_start, h.text[:80]) for h in result.hits])
