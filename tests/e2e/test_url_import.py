"""ImportDocument through the real gateway and mesh, fetching from a loopback HTTP server.

The test mesh allows loopback addresses for imports (EXTRACTOR_IMPORT_ALLOW_LOOPBACK, tests/conftest.py);
private and link-local ranges stay refused, and one test restarts the extractor without the
permission to see a loopback URL refused as in a default deployment.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import grpc
import pytest

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from mivaa_platform.grpc_errors import error_reason
from tests.conftest import MAX_UPLOAD_BYTES
from tests.e2e.test_operations import mivaa
from tests.support.document_server import Answer, DocumentServer, document_server
from tests.support.pdfs import make_pdf, page_phrase

DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def tenant_client(mesh, tenant: str, scopes=("read", "write")) -> MeshClient:
    token = mesh.token(tenant=tenant, scopes=scopes, subject=unique("importer"))
    return MeshClient(mesh.gateway_address, token=token, ca=mesh.ca_path.read_bytes())


async def import_document(client: MeshClient, uri: str, **fields) -> extractor_pb.ImportDocumentResponse:
    request = extractor_pb.ImportDocumentRequest(uri=uri, **fields)
    return await client.extractor.ImportDocument(request, timeout=300)


async def refusal(client: MeshClient, uri: str) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await import_document(client, uri)
    return failure.value.code(), error_reason(failure.value)


async def stored(client: MeshClient) -> tuple[list, list]:
    documents = await client.search.ListDocuments(search_pb.ListDocumentsRequest(page_size=500), timeout=30)
    jobs = await client.extractor.ListJobs(extractor_pb.ListJobsRequest(page_size=500), timeout=30)
    return list(documents.documents), list(jobs.jobs)


async def test_a_pdf_at_a_url_becomes_a_searchable_document_of_the_callers_tenant(mesh):
    tag = unique("urlimport").replace("-", "")
    pdf = make_pdf(tag, 2)
    async with (
        tenant_client(mesh, unique("importer")) as owner,
        tenant_client(mesh, unique("outsider")) as outsider,
    ):
        with document_server() as server:
            # Two redirects (within the limit of 5), the last to the file: each hop checked again.
            server.serve("/go", Answer(status=302, location="/via", content_type=""))
            server.serve("/via", Answer(status=307, location="/papers/q3-report.pdf", content_type=""))
            server.serve("/papers/q3-report.pdf", Answer(body=pdf, content_length=False))
            batch = (
                await owner.extractor.CreateBatch(
                    extractor_pb.CreateBatchRequest(display_name="from the web", labels=["web"], expected_documents=1),
                    timeout=30,
                )
            ).batch
            response = await import_document(
                owner, server.url("/papers/q3-report.pdf"), labels=["imported"], batch=batch.name
            )
            assert response.created and response.document.filename == "q3-report.pdf"
            assert list(response.document.labels) == ["imported", "web"] and response.job.batch == batch.name
            assert response.job.state == job_pb2.JOB_STATE_QUEUED
            final = await owner.wait_for_job(response.job.name, timeout=600)
            assert final.state in DONE and final.chunks_indexed > 0, final
            joined = (await owner.extractor.GetBatch(extractor_pb.GetBatchRequest(name=batch.name), timeout=30)).batch
            assert joined.progress.documents_total == 1
            # The same bytes again (through the redirects): the document that exists, nothing new.
            again = await import_document(owner, server.url("/go"))
            assert not again.created and again.document.name == response.document.name
            assert server.requests.count("/papers/q3-report.pdf") == 2

        name = response.document.name
        hits = await owner.search.SearchChunks(
            search_pb.SearchChunksRequest(query=page_phrase(tag, 1), top_k=3), timeout=30
        )
        assert hits.hits and hits.hits[0].document == name
        document = (await owner.search.GetDocument(search_pb.GetDocumentRequest(name=name), timeout=30)).document
        assert document.state == search_pb.DOCUMENT_STATE_READY and document.page_count == 2

        # Another tenant sees none of it.
        for call in (
            outsider.search.GetDocument(search_pb.GetDocumentRequest(name=name), timeout=30),
            outsider.extractor.GetJob(extractor_pb.GetJobRequest(name=response.job.name), timeout=30),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await call
            assert failure.value.code() == grpc.StatusCode.NOT_FOUND
        theirs = await outsider.search.SearchChunks(
            search_pb.SearchChunksRequest(query=page_phrase(tag, 1), top_k=10), timeout=30
        )
        assert name not in {hit.document for hit in theirs.hits}
        assert await stored(outsider) == ([], [])


def _refusals(server: DocumentServer) -> dict[str, tuple[grpc.StatusCode, str]]:
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    pdf = make_pdf("refusedimport", 1)
    html = b"<!doctype html><html><body>Not a PDF, whatever the header says.</body></html>" * 20
    return {
        server.redirect_chain("/hops", 6, Answer(body=pdf)): (invalid, "URL_TOO_MANY_REDIRECTS"),
        server.serve("/to-private", Answer(status=302, location="http://10.20.30.40/a.pdf")): (
            invalid,
            "URL_ADDRESS_FORBIDDEN",
        ),
        server.serve("/to-metadata", Answer(status=301, location="http://169.254.169.254/latest/meta-data/")): (
            invalid,
            "URL_ADDRESS_FORBIDDEN",
        ),
        server.serve("/declared-huge", Answer(body=pdf, content_length=MAX_UPLOAD_BYTES + 1)): (
            invalid,
            "URL_TOO_LARGE",
        ),
        # No Content-Length: the body runs until the connection closes, past the cap.
        server.serve("/endless", Answer(body=pdf, content_length=False, stream_bytes=MAX_UPLOAD_BYTES + (8 << 20))): (
            invalid,
            "URL_TOO_LARGE",
        ),
        server.serve("/page.html", Answer(body=html, content_type="text/html; charset=utf-8")): (
            invalid,
            "URL_CONTENT_TYPE",
        ),
        server.serve("/fake.pdf", Answer(body=html, content_type="application/pdf")): (invalid, "NOT_A_PDF"),
        server.serve("/locked.pdf", Answer(body=make_pdf("lockedimport", 1, password="pw"))): (
            grpc.StatusCode.FAILED_PRECONDITION,
            "PDF_ENCRYPTED",
        ),
        server.url("/missing.pdf"): (invalid, "URL_FETCH_FAILED"),
        "http://127.0.0.1:9/closed.pdf": (invalid, "URL_FETCH_FAILED"),
        "file:///etc/passwd": (invalid, "URL_SCHEME_UNSUPPORTED"),
        "ftp://127.0.0.1/a.pdf": (invalid, "URL_SCHEME_UNSUPPORTED"),
        "http://user:secret@127.0.0.1/a.pdf": (invalid, "URL_INVALID"),
        "not a url": (invalid, "URL_INVALID"),
        "mailto:someone@example.com": (invalid, "URL_SCHEME_UNSUPPORTED"),
    }


async def test_refused_imports_say_why_and_store_nothing(mesh):
    async with tenant_client(mesh, unique("refused")) as caller:
        with document_server() as server:
            for uri, expected in _refusals(server).items():
                assert await refusal(caller, uri) == expected, uri
                await asyncio.sleep(0.5)  # within the imports class's 2 a second per subject
            assert "/hops/6" not in server.requests  # the sixth redirect was not followed
            assert server.sent["/endless"] < MAX_UPLOAD_BYTES + (8 << 20)  # the download was cut off
        assert await stored(caller) == ([], [])


async def test_importing_needs_the_write_scope(mesh):
    async with tenant_client(mesh, unique("reader"), scopes=("read",)) as reader:
        with document_server() as server:
            uri = server.serve("/a.pdf", Answer(body=make_pdf("readerimport", 1)))
            assert (await refusal(reader, uri))[0] == grpc.StatusCode.PERMISSION_DENIED
            assert server.requests == []  # the gateway refused it: nothing was fetched


async def test_a_tenants_imports_beyond_its_limit_are_refused_while_others_are_served(mesh):
    """Two imports stuck on a slow server fill the tenant's slots (EXTRACTOR_IMPORT_PER_TENANT, 2):
    a third is refused at once, not queued, and another tenant still imports."""
    async with (
        tenant_client(mesh, unique("busy")) as busy,
        tenant_client(mesh, unique("calm")) as calm,
    ):
        with document_server() as server:
            slow = [server.serve(f"/slow{n}.pdf", Answer(body=make_pdf(unique("slow"), 1), stall=True)) for n in (1, 2)]
            stuck = [asyncio.create_task(import_document(busy, uri)) for uri in slow]
            for _ in range(300):
                if len(server.requests) == 2:
                    break
                await asyncio.sleep(0.1)
            assert sorted(server.requests) == ["/slow1.pdf", "/slow2.pdf"]
            fast = server.serve("/fast.pdf", Answer(body=make_pdf(unique("fast"), 1)))
            assert await refusal(busy, fast) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "IMPORT_LIMIT_REACHED")
            assert "/fast.pdf" not in server.requests
            assert (await import_document(calm, fast)).created
            server.release.set()
            finished = await asyncio.gather(*stuck)
            assert all(response.created for response in finished)
            assert (await import_document(busy, fast)).created  # the slots are free again


@contextlib.contextmanager
def extractor_env(mesh, **env: str):
    """The extractor API restarted with `env` for the block, and as it was after it."""
    before = dict(mesh.extra_env)
    mesh.extra_env.update(env)
    try:
        mesh.processes["extractor"].stop()
        mesh.restart_process("extractor")
        yield
    finally:
        mesh.extra_env.clear()
        mesh.extra_env.update(before)
        mesh.processes["extractor"].stop()
        mesh.restart_process("extractor")


async def test_a_loopback_url_is_refused_without_the_permission(mesh):
    with extractor_env(mesh, EXTRACTOR_IMPORT_ALLOW_LOOPBACK="false"), document_server() as server:
        async with tenant_client(mesh, unique("strict")) as caller:
            uri = server.serve("/a.pdf", Answer(body=make_pdf("loopbackimport", 1)))
            for address in (uri, uri.replace("127.0.0.1", "localhost"), f"http://[::1]:{server.port}/a.pdf"):
                assert await refusal(caller, address) == (grpc.StatusCode.INVALID_ARGUMENT, "URL_ADDRESS_FORBIDDEN")
            assert server.requests == []  # refused before any connection
            assert await stored(caller) == ([], [])


def test_the_cli_ingests_a_url_and_lists_documents_in_an_order(mesh):
    tenant = unique("cliimport")
    token = mesh.token(tenant=tenant, subject="cli-user")
    # Titles come from the PDFs: "Generated clia-... document" sorts before "Generated clib-...".
    tag_a, tag_b = unique("clia"), unique("clib")
    with document_server() as server:
        first = server.serve("/b.pdf", Answer(body=make_pdf(tag_b, 3)))
        second = server.serve("/a.pdf", Answer(body=make_pdf(tag_a, 1)))
        ingested = mivaa(mesh, "ingest", first, second, token=token)
        assert ingested.returncode == 0, ingested.stdout + ingested.stderr
        refused = mivaa(mesh, "ingest", server.url("/nothing-here.pdf"), token=token)
        output = refused.stdout + refused.stderr
        assert refused.returncode == 1 and "URL_FETCH_FAILED" in output, output
    by_title = mivaa(mesh, "docs", "list", "--order-by", "title", token=token)
    assert by_title.returncode == 0, by_title.stderr
    lines = by_title.stdout.splitlines()
    assert len(lines) == 2 and tag_a in lines[0] and tag_b in lines[1], lines
    by_pages = mivaa(mesh, "docs", "list", "--order-by", "page_count desc", token=token)
    assert [line.split()[2] for line in by_pages.stdout.splitlines()] == ["3p", "1p"], by_pages.stdout
    wrong = mivaa(mesh, "docs", "list", "--order-by", "size_bytes", token=token)
    assert wrong.returncode == 1 and "ORDER_BY_INVALID" in wrong.stderr, wrong.stderr
