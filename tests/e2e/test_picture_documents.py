"""Pictures as documents through the real mesh and Envoy: PNG, JPEG and multi-page TIFF uploads are
OCR'd, embedded, searchable and listed with their media type; pictures that lie about themselves are
refused with a reason and leave every store as it was."""

from __future__ import annotations

import io
import uuid

import grpc
import pytest
import pytest_asyncio
from PIL import Image

from mivaa.embedder.v1 import embedder_service_pb2 as embedder_pb
from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_platform.grpc_errors import error_reason
from tests.e2e.test_bad_input import expect_rejection, snapshot
from tests.e2e.test_operations import mivaa
from tests.extractor.test_render_page import cache_counts
from tests.support.document_server import Answer, document_server
from tests.support.hits import find_hit
from tests.support.pdfs import make_pdf, page_phrase
from tests.support.picture_documents import (
    encode,
    jpeg_bomb,
    png_scan,
    png_with_lying_header,
    text_scans,
    tiff_scan,
    tiff_with_frames,
    truncated_png,
)
from tests.support.tenants import as_tenant


@pytest.fixture(scope="module")
def ocr_mesh(mesh):
    if not mesh.ocr:
        pytest.skip("the OCR service is not installed here (make ocr installs Tesseract and tesserocr)")
    return mesh


def tag(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


async def listed(client, name: str) -> search_pb.Document:
    token = ""
    while True:
        page = await client.search.ListDocuments(search_pb.ListDocumentsRequest(page_size=500, page_token=token))
        for document in page.documents:
            if document.name == name:
                return document
        token = page.next_page_token
        if not token:
            raise AssertionError(f"{name} is not listed")


async def upload_picture(client, data: bytes, filename: str):
    uploaded = await client.upload_bytes(data, filename)
    final = await client.wait_for_job(uploaded.job.name, timeout=600)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    return uploaded, final


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def png_document(client, ocr_mesh):
    name = tag("pngscan")
    # A misleading name: the signature, not the name, says what it is.
    uploaded, final = await upload_picture(client, png_scan(name), f"{name}.pdf")
    return name, uploaded, final


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def tiff_document(client, ocr_mesh):
    name = tag("tiffscan")
    uploaded, final = await upload_picture(client, tiff_scan(name, 2), f"{name}.tif")
    return name, uploaded, final


async def test_a_png_scan_is_ocrd_searchable_and_listed_as_a_picture(client, png_document):
    name, uploaded, final = png_document
    assert uploaded.document.media_type == "image/png"
    assert final.pages_total == 1 and (final.ocr_pages_total, final.ocr_pages_done) == (1, 1)
    result = await client.search_chunks(page_phrase(name, 1), top_k=3, documents=[uploaded.document.name])
    hit = find_hit(result.hits, "archive tells of a", 1)
    assert hit is not None, [(h.page_start, h.text[:100]) for h in result.hits]
    assert hit.text_source == search_pb.TEXT_SOURCE_OCR
    document = await listed(client, uploaded.document.name)
    assert document.media_type == "image/png" and document.page_count == 1
    assert document.state == search_pb.DOCUMENT_STATE_READY and document.image_count == 1


async def test_the_cli_lists_a_picture_with_its_kind(mesh, png_document):
    _, uploaded, _ = png_document
    listed_out = mivaa(mesh, "docs", "list", "--all")
    assert listed_out.returncode == 0, listed_out.stderr
    (line,) = [line for line in listed_out.stdout.splitlines() if line.startswith(uploaded.document.name)]
    assert line.split()[1:3] == ["READY", "1p"] and line.split()[5] == "png", line


async def test_a_two_page_tiff_is_two_pages_each_searchable(client, tiff_document):
    name, uploaded, final = tiff_document
    assert final.pages_total == 2 and final.ocr_pages_done == 2
    document = (await client.search.GetDocument(search_pb.GetDocumentRequest(name=uploaded.document.name))).document
    assert (document.media_type, document.page_count) == ("image/tiff", 2)
    for page in (1, 2):
        result = await client.search_chunks(page_phrase(name, page), top_k=3, documents=[uploaded.document.name])
        assert find_hit(result.hits, "archive tells of a", page) is not None, (page, result.hits)


async def test_a_jpeg_scan_is_read_too(client, ocr_mesh):
    name = tag("jpegscan")
    uploaded, final = await upload_picture(client, encode(text_scans(name, 1)[0], "JPEG", quality=90), "scan.jpg")
    assert uploaded.document.media_type == "image/jpeg" and final.ocr_pages_done == 1


async def test_the_picture_is_embedded_and_image_search_finds_it(mesh, client, png_document):
    _, uploaded, _ = png_document
    models = await embedder_service_pb2_grpc.EmbedderServiceStub(client.channel).ListModels(
        embedder_pb.ListModelsRequest(), timeout=30
    )
    if not any(model.modality == embedder_pb.MODALITY_IMAGE for model in models.models):
        pytest.skip("the test mesh has no image model")
    images = (await client.search.ListImages(search_pb.ListImagesRequest(parent=uploaded.document.name))).images
    assert len(images) == 1 and [p.page for p in images[0].placements] == [1]
    content = b"".join(
        [
            piece.data
            async for piece in client.search.GetImageContent(search_pb.GetImageContentRequest(name=images[0].name))
        ]
    )
    found = await client.search.SearchImages(
        search_pb.SearchImagesRequest(image=content, top_k=3, documents=[uploaded.document.name]), timeout=60
    )
    assert found.hits and found.hits[0].image.name == images[0].name and found.hits[0].score > 0.99


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (jpeg_bomb(), "IMAGE_TOO_LARGE"),
        (png_with_lying_header(), "IMAGE_INVALID"),
        (truncated_png(), "IMAGE_INVALID"),
        (tiff_with_frames(201), "IMAGE_TOO_MANY_PAGES"),
        (b"GIF89a" + bytes(2048), "IMAGE_FORMAT_UNSUPPORTED"),
    ],
    ids=["jpeg-bomb", "png-lying-header", "png-truncated", "tiff-too-many-frames", "gif"],
)
async def test_a_hostile_picture_is_refused_and_nothing_is_stored(client, mesh, data, reason):
    await expect_rejection(client, mesh, data, reason, grpc.StatusCode.INVALID_ARGUMENT)


# -- thumbnails ---------------------------------------------------------------------------------


async def thumbnail(caller, name: str, size=extractor_pb.THUMBNAIL_SIZE_UNSPECIFIED, metadata=()):
    request = extractor_pb.RenderThumbnailRequest(name=name, size=size)
    return await caller.extractor.RenderThumbnail(request, timeout=60, metadata=metadata)


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        return image.size


async def test_a_pdf_first_page_thumbnail_in_each_size_class_cached(mesh, client):
    name = tag("thumbpdf")
    uploaded = await client.upload_bytes(make_pdf(name, 2), f"{name}.pdf")
    assert uploaded.document.media_type == "application/pdf"
    assert (await client.wait_for_job(uploaded.job.name, timeout=300)).state == job_pb2.JOB_STATE_SUCCEEDED
    for size, side in (
        (extractor_pb.THUMBNAIL_SIZE_SMALL, 128),
        (extractor_pb.THUMBNAIL_SIZE_UNSPECIFIED, 256),
        (extractor_pb.THUMBNAIL_SIZE_LARGE, 512),
    ):
        small = await thumbnail(client, uploaded.document.name, size)
        assert max(small.width, small.height) == side and png_size(small.png) == (small.width, small.height)
    before = cache_counts(mesh)
    again = await thumbnail(client, uploaded.document.name, extractor_pb.THUMBNAIL_SIZE_SMALL)
    assert max(again.width, again.height) == 128
    assert cache_counts(mesh).get("hit", 0) == before.get("hit", 0) + 1, "the second thumbnail came from the cache"


async def test_thumbnails_of_a_picture_document_and_of_its_image(client, png_document):
    _, uploaded, _ = png_document
    page = await thumbnail(client, uploaded.document.name, extractor_pb.THUMBNAIL_SIZE_MEDIUM)
    assert max(page.width, page.height) == 256 and png_size(page.png) == (page.width, page.height)
    images = (await client.search.ListImages(search_pb.ListImagesRequest(parent=uploaded.document.name))).images
    picture = await thumbnail(client, images[0].name, extractor_pb.THUMBNAIL_SIZE_SMALL)
    assert max(picture.width, picture.height) == 128 and png_size(picture.png) == (picture.width, picture.height)


async def test_another_tenant_gets_not_found_and_a_bad_name_is_refused(mesh, client, png_document):
    _, uploaded, _ = png_document
    images = (await client.search.ListImages(search_pb.ListImagesRequest(parent=uploaded.document.name))).images
    # Rendered and cached for the owner first: the cache never answers another tenant.
    await thumbnail(client, images[0].name, extractor_pb.THUMBNAIL_SIZE_SMALL)
    async with as_tenant(mesh, client, tag("other")) as other:
        for name in (uploaded.document.name, images[0].name):
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await thumbnail(other, name, extractor_pb.THUMBNAIL_SIZE_SMALL, other.metadata)
            assert failure.value.code() == grpc.StatusCode.NOT_FOUND, failure.value
    for name in ("", "documents/x/../y", f"{uploaded.document.name}/images/nothex"):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await thumbnail(client, name)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(failure.value) == "THUMBNAIL_NAME_INVALID"


# -- pictures at a URL (ImportDocument: the same validation as an upload) --------------------------


async def test_a_picture_at_a_url_is_imported_and_a_lying_one_refused(client, mesh, ocr_mesh):
    name = tag("urlpng")
    with document_server() as server:
        server.serve("/scan.png", Answer(body=png_scan(name), content_type="image/png"))
        server.serve("/bad.png", Answer(body=png_with_lying_header(), content_type="image/png"))
        imported = await client.extractor.ImportDocument(
            extractor_pb.ImportDocumentRequest(uri=server.url("/scan.png")), timeout=300
        )
        assert imported.document.media_type == "image/png" and imported.document.filename == "scan.png"
        final = await client.wait_for_job(imported.job.name, timeout=600)
        assert final.state == job_pb2.JOB_STATE_SUCCEEDED and final.ocr_pages_done == 1, final
        before = await snapshot(client, mesh)
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await client.extractor.ImportDocument(
                extractor_pb.ImportDocumentRequest(uri=server.url("/bad.png")), timeout=300
            )
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(failure.value) == "IMAGE_INVALID"
        assert await snapshot(client, mesh) == before, "a refused import changed a store"
