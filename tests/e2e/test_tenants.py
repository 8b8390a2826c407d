"""Tenant isolation through the real mesh: a tenant never sees, searches, fetches or deletes another's data.

Each caller acts as its tenant as a real one would (tests.support.tenants.as_tenant).
"""

from __future__ import annotations

import uuid

import grpc
import pymupdf
import pytest

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_platform.grpc_errors import error_reason
from tests.support.pdfs import make_pdf, page_phrase
from tests.support.pictures import gallery
from tests.support.tenants import TenantCaller, as_tenant

DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def pdf_with_picture(tag: str, picture: bytes) -> bytes:
    """make_pdf(tag, 2) with a captioned picture on page 2."""
    document = pymupdf.open(stream=make_pdf(tag, 2), filetype="pdf")
    page = document[1]
    page.insert_image(pymupdf.Rect(100, 420, 420, 660), stream=picture)
    page.insert_text((100, 682), f"Figure 1: the {tag} test pattern", fontsize=10)
    data = document.tobytes()
    document.close()
    return data


async def expect_not_found(call, reason: str | None = None) -> None:
    """`call` (an awaitable, or an async iterable for streams) fails with NOT_FOUND, as for a missing resource."""
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        if hasattr(call, "__aiter__"):
            [item async for item in call]
        else:
            await call
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND, failure.value
    if reason:
        assert error_reason(failure.value) == reason


async def upload_and_finish(caller: TenantCaller, data: bytes, filename: str):
    response = await caller.upload(data, filename, labels=["tenancy"])
    events = await caller.watch(response.job.name)
    assert events[-1].state in DONE, events[-1]
    assert all(event.tenant == caller.tenant for event in events), [(e.tenant, e.state, e.stage) for e in events]
    return response, events[-1]


async def test_a_tenant_never_sees_or_touches_another_tenants_data(mesh, client):
    async with (
        as_tenant(mesh, client, unique("acme")) as a,
        as_tenant(mesh, client, unique("globex")) as b,
        as_tenant(mesh, client, "default") as default,
    ):
        await _isolation(a, b, default)


async def _isolation(a: TenantCaller, b: TenantCaller, default: TenantCaller) -> None:
    tag = unique("tenantalpha").replace("-", "")
    response, job = await upload_and_finish(a, pdf_with_picture(tag, gallery(1, size=(320, 240))[0]), "alpha.pdf")
    name = response.document.name
    assert response.created and response.job.tenant == a.tenant and job.images_extracted == 1
    assert (await a.get_document(name)).state == search_pb.DOCUMENT_STATE_READY
    images = (await a.search.ListImages(search_pb.ListImagesRequest(parent=name), metadata=a.metadata)).images
    assert len(images) == 1
    image = images[0].name
    phrase = page_phrase(tag, 1)
    assert (await a.search_chunks(phrase, top_k=3)).hits[0].document == name

    for other in (b, default):
        md = other.metadata
        # Documents, their pages and images: exactly like a missing document.
        await expect_not_found(
            other.search.GetDocument(search_pb.GetDocumentRequest(name=name), metadata=md), "DOCUMENT_NOT_FOUND"
        )
        await expect_not_found(
            other.search.GetDocument(
                search_pb.GetDocumentRequest(name=name, view=search_pb.DOCUMENT_VIEW_FULL), metadata=md
            )
        )
        assert name not in {d.name for d in await other.list_documents()}
        await expect_not_found(other.search.ListPages(search_pb.ListPagesRequest(parent=name), metadata=md))
        await expect_not_found(other.search.ExportDocument(search_pb.ExportDocumentRequest(name=name), metadata=md))
        await expect_not_found(other.search.ListImages(search_pb.ListImagesRequest(parent=name), metadata=md))
        await expect_not_found(
            other.search.GetImage(search_pb.GetImageRequest(name=image), metadata=md), "IMAGE_NOT_FOUND"
        )
        await expect_not_found(other.search.GetImageContent(search_pb.GetImageContentRequest(name=image), metadata=md))
        # Search never reaches it, even when asked for it by name.
        assert name not in {hit.document for hit in (await other.search_chunks(phrase)).hits}
        assert not (await other.search_chunks(phrase, documents=[name])).hits
        # Nor can it be deleted.
        await expect_not_found(
            other.search.DeleteDocument(search_pb.DeleteDocumentRequest(name=name), metadata=md), "DOCUMENT_NOT_FOUND"
        )
        # Jobs: the same.
        job_name = response.job.name
        await expect_not_found(
            other.extractor.GetJob(extractor_pb.GetJobRequest(name=job_name), metadata=md), "JOB_NOT_FOUND"
        )
        await expect_not_found(
            other.extractor.WatchJob(extractor_pb.WatchJobRequest(name=job_name), metadata=md), "JOB_NOT_FOUND"
        )
        await expect_not_found(
            other.extractor.CancelJob(extractor_pb.CancelJobRequest(name=job_name), metadata=md), "JOB_NOT_FOUND"
        )
        assert job_name not in {j.name for j in await other.list_jobs()}
    assert await b.list_documents() == [] and await b.list_jobs() == []

    # Image search stays within the tenant too (when the mesh serves an image model).
    picture = (
        await a.search.GetImageContent(search_pb.GetImageContentRequest(name=image), metadata=a.metadata).read()
    ).data
    try:
        mine = await a.search.SearchImages(search_pb.SearchImagesRequest(image=picture, top_k=5), metadata=a.metadata)
    except grpc.aio.AioRpcError as error:
        assert error_reason(error) == "IMAGE_MODEL_UNAVAILABLE"
    else:
        assert mine.hits[0].image.name == image
        theirs = await b.search.SearchImages(search_pb.SearchImagesRequest(image=picture, top_k=5), metadata=b.metadata)
        assert not theirs.hits

    # The owner still has everything.
    document = await a.get_document(name)
    assert document.state == search_pb.DOCUMENT_STATE_READY and document.chunk_count == job.chunks_indexed
    assert [j.name for j in await a.list_jobs()] == [response.job.name]
    assert [d.name for d in await a.list_documents()] == [name]


async def test_the_same_pdf_in_two_tenants_is_two_documents(mesh, client):
    async with as_tenant(mesh, client, unique("acme")) as a, as_tenant(mesh, client, unique("globex")) as b:
        await _same_pdf(mesh, a, b)


async def _same_pdf(mesh, a: TenantCaller, b: TenantCaller) -> None:
    import nats

    from mivaa_platform.messaging import OriginalsStore

    tag = unique("shared").replace("-", "")
    data = make_pdf(tag, 2)
    first_a, _ = await upload_and_finish(a, data, "shared.pdf")
    first_b, _ = await upload_and_finish(b, data, "shared.pdf")
    assert first_a.created and first_b.created
    assert first_a.document.name != first_b.document.name and first_a.job.name != first_b.job.name
    assert first_a.document.sha256 == first_b.document.sha256
    # Dedup is per tenant: each one's re-upload returns its own document.
    again_a, again_b = await a.upload(data, "again.pdf"), await b.upload(data, "again.pdf")
    assert (again_a.created, again_a.document.name) == (False, first_a.document.name)
    assert (again_b.created, again_b.document.name) == (False, first_b.document.name)

    phrase = page_phrase(tag, 2)
    assert [h.document for h in (await a.search_chunks(phrase, top_k=1)).hits] == [first_a.document.name]
    assert [h.document for h in (await b.search_chunks(phrase, top_k=1)).hits] == [first_b.document.name]

    # B deletes its copy: A's stays, searchable, and so does the shared stored original.
    await b.search.DeleteDocument(search_pb.DeleteDocumentRequest(name=first_b.document.name), metadata=b.metadata)
    await expect_not_found(
        b.search.GetDocument(search_pb.GetDocumentRequest(name=first_b.document.name), metadata=b.metadata)
    )
    assert (await a.get_document(first_a.document.name)).state == search_pb.DOCUMENT_STATE_READY
    assert [h.document for h in (await a.search_chunks(phrase, top_k=1)).hits] == [first_a.document.name]
    assert not (await b.search_chunks(phrase)).hits
    nc = await nats.connect(**mesh.nats_settings().connect_options())
    try:
        originals = OriginalsStore(nc.jetstream())
        assert await originals.exists(first_a.document.sha256)
        # The last document with those bytes gone, the original goes too.
        await a.search.DeleteDocument(search_pb.DeleteDocumentRequest(name=first_a.document.name), metadata=a.metadata)
        assert not await originals.exists(first_a.document.sha256)
    finally:
        await nc.close()


async def test_a_malformed_tenant_is_an_invalid_argument(mesh, client):
    # A token whose tenant claim has the right characters but too many of them: the gateway's
    # pattern does not bound the length, so it passes it on and the services refuse it.
    async with as_tenant(mesh, client, "t" * 65, raw_tenant=True) as bad:
        calls = (
            bad.search.ListDocuments(search_pb.ListDocumentsRequest(), metadata=bad.metadata),
            bad.extractor.ListJobs(extractor_pb.ListJobsRequest(), metadata=bad.metadata),
        )
        await _all_invalid_tenant(calls)
    # Characters no tenant has: in a token, refused at the gateway already (tests/security/
    # test_gateway_tokens.py); in metadata behind an open gateway, by the services.
    async with as_tenant(mesh, client, "not a tenant!", raw_tenant=True) as bad:
        call = bad.search.ListDocuments(search_pb.ListDocumentsRequest(), metadata=bad.metadata)
        if hasattr(mesh, "token"):
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await call
            assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
        else:
            await _all_invalid_tenant([call])


async def _all_invalid_tenant(calls) -> None:
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await call
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(failure.value) == "INVALID_TENANT"
