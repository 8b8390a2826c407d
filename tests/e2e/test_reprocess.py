"""Processing options and ReprocessDocument through the real gateway (Envoy: scopes, tenants) and mesh.

Options given with an upload are stored with the document, shown by GetDocument and change what is
indexed; a reprocess with a smaller chunk size rewrites the chunks while a search in a loop keeps
finding the document on every call (the old chunks answer until the new ones are committed).
"""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1 import processing_options_pb2 as options_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from mivaa_platform.grpc_errors import error_reason
from tests.e2e.test_image_search import gallery_pdf
from tests.e2e.test_operations import mivaa
from tests.support.pdfs import make_pdf, make_scanned_pdf, page_phrase
from tests.support.pictures import gallery

DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)
Options = options_pb2.ProcessingOptions


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def tenant_client(mesh, tenant: str, scopes=("read", "write")) -> MeshClient:
    token = mesh.token(tenant=tenant, scopes=scopes, subject=unique("reprocessor"))
    return MeshClient(mesh.gateway_address, token=token, ca=mesh.ca_path.read_bytes())


async def document(client: MeshClient, name: str) -> search_pb.Document:
    return (await client.search.GetDocument(search_pb.GetDocumentRequest(name=name), timeout=30)).document


async def reprocess(client: MeshClient, name: str, options: Options | None = None):
    request = extractor_pb.ReprocessDocumentRequest(name=name, options=options)
    return await client.extractor.ReprocessDocument(request, timeout=60)


async def refused(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    return failure.value.code(), error_reason(failure.value)


async def test_options_given_with_an_upload_are_stored_shown_and_applied(mesh):
    tag = unique("ocroff").replace("-", "")
    # Page 1 has a text layer; page 2 is only a picture of its text.
    scanned = make_scanned_pdf(tag, 2, text_layer_pages=(1,))
    options = Options(ocr_mode=options_pb2.OCR_MODE_OFF, tables=options_pb2.TABLE_EXTRACTION_OFF, chunk_tokens=64)
    async with tenant_client(mesh, unique("options")) as owner:
        uploaded = await owner.upload_bytes(scanned, "scan.pdf", options=options)
        final = await owner.wait_for_job(uploaded.job.name, timeout=600)
        assert final.state in DONE and final.ocr_pages_total == 0  # nothing went to OCR

        stored = await document(owner, uploaded.document.name)
        assert stored.processing_options == options
        assert stored.state == search_pb.DOCUMENT_STATE_READY
        pages = await owner.search.ListPages(search_pb.ListPagesRequest(parent=stored.name), timeout=30)
        texts = {page.number: " ".join(block.text for block in page.blocks) for page in pages.pages}
        assert page_phrase(tag, 1) in " ".join(texts[1].split())
        assert texts[2].strip() == ""  # the scan was not read
        hits = await owner.search_chunks(page_phrase(tag, 2), top_k=10, documents=[stored.name])
        assert all(page_phrase(tag, 2) not in " ".join(hit.text.split()) for hit in hits.hits)


async def test_images_off_stores_no_image_and_a_reprocess_with_images_on_stores_them(mesh):
    pictures = gallery(2, size=(320, 240))
    async with tenant_client(mesh, unique("images")) as owner:
        off = Options(images=options_pb2.IMAGE_EXTRACTION_OFF)
        uploaded = await owner.upload_bytes(gallery_pdf(pictures), "gallery.pdf", options=off)
        final = await owner.wait_for_job(uploaded.job.name, timeout=600)
        assert final.state in DONE and final.images_extracted == 0
        name = uploaded.document.name
        assert (await document(owner, name)).image_count == 0
        listed = await owner.search.ListImages(search_pb.ListImagesRequest(parent=name), timeout=30)
        assert not listed.images

        again = await reprocess(owner, name, Options(images=options_pb2.IMAGE_EXTRACTION_ON))
        final = await owner.wait_for_job(again.job.name, timeout=600)
        assert final.state in DONE and final.images_extracted == 2
        stored = await document(owner, name)
        assert stored.image_count == 2 and stored.processing_options.images == options_pb2.IMAGE_EXTRACTION_ON


async def test_a_batchs_options_hold_for_its_uploads(mesh):
    async with tenant_client(mesh, unique("batchopts")) as owner:
        batch = (
            await owner.extractor.CreateBatch(
                extractor_pb.CreateBatchRequest(display_name="small chunks", options=Options(chunk_tokens=48)),
                timeout=30,
            )
        ).batch
        assert batch.options.chunk_tokens == 48
        uploaded = await owner.upload_bytes(make_pdf(unique("b"), 1), "b.pdf", batch=batch.name)
        assert (await document(owner, uploaded.document.name)).processing_options.chunk_tokens == 48


async def test_a_reprocess_changes_the_chunks_while_every_search_still_finds_the_document(mesh):
    tag = unique("reprocess").replace("-", "")
    async with tenant_client(mesh, unique("reproc")) as owner:
        uploaded = await owner.upload_bytes(
            make_pdf(tag, 3, filler_sentences=12), "long.pdf", options=Options(chunk_tokens=256)
        )
        assert (await owner.wait_for_job(uploaded.job.name, timeout=600)).state in DONE
        name = uploaded.document.name
        before = await document(owner, name)
        assert before.chunk_count > 0

        searches: list[int] = []
        stop = asyncio.Event()

        async def search_in_a_loop() -> None:
            while not stop.is_set():
                hits = await owner.search_chunks(page_phrase(tag, 2), top_k=5, documents=[name])
                searches.append(len(hits.hits))
                await asyncio.sleep(0.05)

        searching = asyncio.create_task(search_in_a_loop())
        try:
            await asyncio.sleep(0.5)
            response = await reprocess(owner, name, Options(chunk_tokens=32))
            assert response.job.name != before.job and response.job.state == job_pb2.JOB_STATE_QUEUED
            assert response.document.state == search_pb.DOCUMENT_STATE_READY
            # A second reprocess while the first runs is refused.
            code, reason = await refused(reprocess(owner, name))
            assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "DOCUMENT_PROCESSING")
            final = await owner.wait_for_job(response.job.name, timeout=600)
            assert final.state in DONE
            await asyncio.sleep(0.5)
        finally:
            stop.set()
            await searching
        assert len(searches) >= 5 and min(searches) > 0, searches

        after = await document(owner, name)
        assert after.job == response.job.name and after.processing_options.chunk_tokens == 32
        assert after.chunk_count > before.chunk_count
        assert after.state == search_pb.DOCUMENT_STATE_READY

        # Without options the stored ones are used again (same chunk count).
        again = await reprocess(owner, name)
        assert (await owner.wait_for_job(again.job.name, timeout=600)).state in DONE
        assert (await document(owner, name)).chunk_count == after.chunk_count


async def test_reprocess_needs_write_and_another_tenants_document_is_not_found(mesh):
    tenant = unique("owner")
    async with tenant_client(mesh, tenant) as owner, tenant_client(mesh, unique("other")) as other:
        uploaded = await owner.upload_bytes(make_pdf(unique("t"), 1), "t.pdf")
        assert (await owner.wait_for_job(uploaded.job.name, timeout=600)).state in DONE
        name = uploaded.document.name
        code, reason = await refused(reprocess(other, name))
        assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "DOCUMENT_NOT_FOUND")
        async with tenant_client(mesh, tenant, scopes=("read",)) as reader:
            code, _ = await refused(reprocess(reader, name))
            assert code == grpc.StatusCode.PERMISSION_DENIED
        # Options change only by a reprocess: UpdateDocument through the gateway refuses the field.
        update = search_pb.UpdateDocumentRequest(
            document=search_pb.Document(name=name, processing_options=Options(chunk_tokens=32)),
            update_mask=field_mask_pb2.FieldMask(paths=["processing_options"]),
        )
        code, reason = await refused(owner.search.UpdateDocument(update, timeout=30))
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "FIELD_NOT_UPDATABLE")
        stored = await document(owner, name)
        assert stored.job == uploaded.job.name and stored.processing_options == Options()  # nothing changed


BAD_OPTIONS = [
    Options(ocr_mode=7),  # type: ignore[arg-type]  # not an OcrMode
    Options(chunk_tokens=4096),
    Options(ocr_languages=["english"]),  # malformed
    Options(ocr_languages=["zzz"]),  # well formed, no such language
]


async def test_bad_options_are_refused_with_their_reason_and_nothing_is_stored(mesh):
    async with tenant_client(mesh, unique("badopts")) as owner:
        uploaded = await owner.upload_bytes(make_pdf(unique("ok"), 1), "ok.pdf")
        assert (await owner.wait_for_job(uploaded.job.name, timeout=600)).state in DONE
        for options in BAD_OPTIONS:
            calls = [
                owner.upload_bytes(make_pdf(unique("bad"), 1), "bad.pdf", options=options),
                reprocess(owner, uploaded.document.name, options),
                owner.extractor.CreateBatch(
                    extractor_pb.CreateBatchRequest(display_name="x", options=options), timeout=30
                ),
                owner.extractor.ImportDocument(
                    extractor_pb.ImportDocumentRequest(uri="http://127.0.0.1:9/x.pdf", options=options), timeout=30
                ),
            ]
            for call in calls:
                assert await refused(call) == (grpc.StatusCode.INVALID_ARGUMENT, "PROCESSING_OPTION_INVALID"), options
        listed = await owner.search.ListDocuments(search_pb.ListDocumentsRequest(page_size=50), timeout=30)
        assert [d.name for d in listed.documents] == [uploaded.document.name]
        batches = await owner.extractor.ListBatches(extractor_pb.ListBatchesRequest(), timeout=30)
        assert not batches.batches
        assert (await document(owner, uploaded.document.name)).job == uploaded.job.name


async def test_the_cli_ingests_with_options_and_reprocesses(mesh, tmp_path):
    tenant = unique("cli")
    token = mesh.token(tenant=tenant, scopes=("read", "write"), subject="cli-reprocess")
    path = tmp_path / "cli-options.pdf"
    path.write_bytes(make_pdf(unique("cliopts"), 2, filler_sentences=12))
    ingested = mivaa(mesh, "ingest", str(path), "--chunk-tokens", "128", "--no-tables", token=token)
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    async with tenant_client(mesh, tenant) as owner:
        [listed] = (await owner.search.ListDocuments(search_pb.ListDocumentsRequest(), timeout=30)).documents
        assert listed.processing_options == Options(chunk_tokens=128, tables=options_pb2.TABLE_EXTRACTION_OFF)
        again = mivaa(mesh, "reprocess", listed.name, "--chunk-tokens", "32", "--ocr", "off", token=token)
        assert again.returncode == 0, again.stdout + again.stderr
        stored = await document(owner, listed.name)
        assert stored.processing_options == Options(chunk_tokens=32, ocr_mode=options_pb2.OCR_MODE_OFF)
        assert stored.chunk_count > listed.chunk_count and stored.job != listed.job
        bad = mivaa(mesh, "reprocess", listed.name, "--chunk-tokens", "9999", token=token)
        assert bad.returncode == 1 and "PROCESSING_OPTION_INVALID" in bad.stderr
