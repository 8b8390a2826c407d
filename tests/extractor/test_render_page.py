"""RenderPage through the real mesh and Envoy: a page of a stored original as a PNG of the asked size,
only for the document's own tenant, within its bounds, cached."""

from __future__ import annotations

import re
import uuid

import grpc
import pymupdf
import pytest
import pytest_asyncio

from mivaa.extractor.v1 import extractor_service_pb2 as pb
from mivaa.jobs.v1 import job_pb2
from mivaa_cli.client import MeshClient
from mivaa_platform.grpc_errors import error_info
from tests.support.pdfs import make_pdf

A4 = (595.0, 842.0)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def rendered_document(client):
    tag = f"render{uuid.uuid4().hex[:6]}"
    uploaded = await client.upload_bytes(make_pdf(tag, 3), f"{tag}.pdf", labels=[tag])
    job = await client.wait_for_job(uploaded.job.name, timeout=300)
    assert job.state == job_pb2.JOB_STATE_SUCCEEDED, job
    return uploaded.document.name


async def render(client, name: str, page: int, width: int = 0, height: int = 0, **fields) -> pb.RenderPageResponse:
    request = pb.RenderPageRequest(name=name, page=page, max_width=width, max_height=height, **fields)
    return await client.extractor.RenderPage(request, timeout=60)


async def refusal(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    info = error_info(raised.value)
    return raised.value.code(), info.reason if info else ""


def ink_fraction(png: bytes) -> tuple[int, int, float]:
    """The PNG's size and the share of its pixels that are not (near) white."""
    pixmap = pymupdf.Pixmap(png)
    samples, n = pixmap.samples, pixmap.n
    dark = sum(1 for i in range(0, len(samples), n) if samples[i] < 200)
    return pixmap.width, pixmap.height, dark / (pixmap.width * pixmap.height)


def cache_counts(mesh) -> dict[str, float]:
    body = mesh.scrape(mesh.metrics_ports()["extractor"])
    found = re.findall(r'^mivaa_extractor_render_cache_total\{result="(\w+)"\} (\S+)$', body, re.MULTILINE)
    return {result: float(value) for result, value in found}


async def test_a_page_renders_as_a_png_of_the_asked_size_with_ink_on_it(client, rendered_document):
    page = await render(client, rendered_document, 2, 400, 600)
    assert page.png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height, ink = ink_fraction(page.png)
    assert (width, height) == (page.width, page.height)
    assert width <= 400 and height <= 600 and (width == 400 or height == 600)  # fits, and fills one side
    assert (page.page_width, page.page_height) == pytest.approx(A4)
    assert width / height == pytest.approx(A4[0] / A4[1], rel=0.01)
    assert page.page_count == 3
    assert 0.002 < ink < 0.5, ink  # text on a white page: some ink, not a black or blank square

    default = await render(client, rendered_document, 1)  # 0 x 0: fits 1000 x 1000
    assert default.height == 1000 and default.width == pytest.approx(1000 * A4[0] / A4[1], abs=1)


async def test_another_tenants_document_is_not_found(mesh, rendered_document):
    async with MeshClient(
        mesh.gateway_address, token=mesh.token(tenant="other", subject="render-other"), ca=mesh.ca_path.read_bytes()
    ) as other:
        code, _ = await refusal(render(other, rendered_document, 1))
    assert code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("page", "width", "height", "reason"),
    [
        (4, 0, 0, "PAGE_OUT_OF_RANGE"),
        (0, 0, 0, "PAGE_OUT_OF_RANGE"),
        (-1, 0, 0, "PAGE_OUT_OF_RANGE"),
        (1, 2001, 0, "RENDER_SIZE_INVALID"),
        (1, 100, 50_000, "RENDER_SIZE_INVALID"),
        (1, -5, 100, "RENDER_SIZE_INVALID"),
    ],
)
async def test_bounds_are_invalid_argument_with_a_reason(client, rendered_document, page, width, height, reason):
    assert await refusal(render(client, rendered_document, page, width, height)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
    )


async def test_a_missing_document_is_not_found(client):
    code, _ = await refusal(render(client, f"documents/{uuid.uuid4()}", 1))
    assert code == grpc.StatusCode.NOT_FOUND


async def test_a_page_seen_again_comes_from_the_cache(client, mesh, rendered_document):
    before = cache_counts(mesh)
    first = await render(client, rendered_document, 3, 321, 321)
    middle = cache_counts(mesh)
    second = await render(client, rendered_document, 3, 321, 321)
    after = cache_counts(mesh)
    assert second.png == first.png
    assert middle.get("miss", 0) == before.get("miss", 0) + 1
    assert after.get("hit", 0) == middle.get("hit", 0) + 1 and after.get("miss") == middle.get("miss")


async def test_an_encrypted_document_needs_its_password(client):
    tag = f"renderlocked{uuid.uuid4().hex[:6]}"
    data = make_pdf(tag, 1, password="open-sesame")
    uploaded = await client.upload_bytes(data, f"{tag}.pdf", password="open-sesame")
    name = uploaded.document.name
    assert await refusal(render(client, name, 1, 200, 200)) == (grpc.StatusCode.FAILED_PRECONDITION, "PDF_ENCRYPTED")
    page = await render(client, name, 1, 200, 200, password="open-sesame")
    assert ink_fraction(page.png)[2] > 0.001
