"""Bad input gets a clear reason and leaves every store exactly as it was."""

from __future__ import annotations

import grpc
import nats
import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_platform.grpc_errors import error_info
from mivaa_platform.messaging import JOBS_BUCKET, ORIGINALS_BUCKET, WORK_STREAM
from tests.conftest import MAX_UPLOAD_BYTES
from tests.support.pdfs import make_pdf, page_phrase


async def snapshot(client, mesh) -> dict:
    """Everything a rejected upload could have touched."""
    documents, token = [], ""
    while True:
        page = await client.search.ListDocuments(search_pb.ListDocumentsRequest(page_size=500, page_token=token))
        documents += [(d.name, d.state, d.chunk_count) for d in page.documents]
        token = page.next_page_token
        if not token:
            break
    nc = await nats.connect(**mesh.nats_settings().connect_options())
    try:
        js = nc.jetstream()
        streams = {}
        for stream in (WORK_STREAM, f"OBJ_{ORIGINALS_BUCKET}", f"KV_{JOBS_BUCKET}"):
            info = await js.stream_info(stream)
            # The work queue loses messages as workers ack earlier jobs; what a
            # rejected upload must not do is publish one (last_seq).
            streams[stream] = (
                info.state.last_seq if stream == WORK_STREAM else (info.state.messages, info.state.last_seq)
            )
    finally:
        await nc.close()
    return {"documents": sorted(documents), "streams": streams}


async def expect_rejection(client, mesh, data: bytes, reason: str, code: grpc.StatusCode, **kwargs):
    before = await snapshot(client, mesh)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await client.upload_bytes(data, "bad.pdf", **kwargs)
    assert failure.value.code() == code, failure.value
    info = error_info(failure.value)
    assert info is not None, "a google.rpc.Status with ErrorInfo"
    assert info.reason == reason
    assert info.domain == "extractor.mivaa"
    assert "Traceback" not in failure.value.details()
    assert await snapshot(client, mesh) == before, "a rejected upload changed a store"
    return info


async def test_empty_upload(client, mesh):
    await expect_rejection(client, mesh, b"", "EMPTY_FILE", grpc.StatusCode.INVALID_ARGUMENT)


async def test_not_a_pdf(client, mesh):
    await expect_rejection(
        client, mesh, b"PK\x03\x04 this is a zip file, not a PDF" * 100, "NOT_A_PDF", grpc.StatusCode.INVALID_ARGUMENT
    )
    await expect_rejection(client, mesh, b"hello", "NOT_A_PDF", grpc.StatusCode.INVALID_ARGUMENT)


async def test_truncated_pdf_is_unreadable(client, mesh):
    data = make_pdf("truncated", 3)
    await expect_rejection(client, mesh, data[:200], "PDF_UNREADABLE", grpc.StatusCode.INVALID_ARGUMENT)


async def test_upload_over_the_size_cap(client, mesh):
    data = b"%PDF-1.7\n" + b"0" * (MAX_UPLOAD_BYTES + 1)
    info = await expect_rejection(client, mesh, data, "FILE_TOO_LARGE", grpc.StatusCode.INVALID_ARGUMENT)
    assert info.metadata["max_bytes"] == str(MAX_UPLOAD_BYTES)


async def test_generated_encrypted_pdf(client, mesh):
    data = make_pdf("secret", 2, password="s3cret")
    without = await expect_rejection(client, mesh, data, "PDF_ENCRYPTED", grpc.StatusCode.FAILED_PRECONDITION)
    assert without.metadata.get("password_supplied") == "false"
    wrong = await expect_rejection(
        client, mesh, data, "PDF_ENCRYPTED", grpc.StatusCode.FAILED_PRECONDITION, password="nope"
    )
    assert wrong.metadata.get("password_supplied") == "true"
    response = await client.upload_bytes(data, "secret.pdf", password="s3cret")
    final = await client.wait_for_job(response.job.name, timeout=120)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED
    result = await client.search_chunks(page_phrase("secret", 2), top_k=1, documents=[response.document.name])
    assert result.hits and result.hits[0].page_start <= 2 <= result.hits[0].page_end


@pytest.mark.corpus
async def test_corpus_encrypted_file(client, mesh, corpus_dir):
    data = (corpus_dir / "libreoffice-writer-password.pdf").read_bytes()
    await expect_rejection(client, mesh, data, "PDF_ENCRYPTED", grpc.StatusCode.FAILED_PRECONDITION)
    response = await client.upload_bytes(data, "libreoffice-writer-password.pdf", password="openpassword")
    final = await client.wait_for_job(response.job.name, timeout=120)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final


@pytest.mark.corpus
async def test_corpus_broken_file(client, mesh, corpus_dir):
    data = (corpus_dir / "unreadablemetadata.pdf").read_bytes()
    await expect_rejection(client, mesh, data, "PDF_UNREADABLE", grpc.StatusCode.INVALID_ARGUMENT)


async def test_upload_without_metadata_first(client):
    from mivaa.extractor.v1 import extractor_service_pb2 as pb

    async def requests():
        yield pb.UploadDocumentRequest(chunk=b"%PDF-1.7")

    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await client.extractor.UploadDocument(requests())
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(failure.value).reason == "UPLOAD_METADATA_MISSING"
