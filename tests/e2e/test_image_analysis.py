"""Image analysis through the real mesh and Envoy: stored images of uploaded PDFs and pictures sent in
the call, with the random-weight tiny CLIP (its tags mean nothing: these tests check the mechanics)."""

from __future__ import annotations

import asyncio

import grpc
import pymupdf
import pytest
from PIL import Image

from mivaa.embedder.v1 import embedder_service_pb2 as embedder_pb
from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa.images.v1 import image_analysis_service_pb2 as pb
from mivaa.images.v1 import image_analysis_service_pb2_grpc
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from mivaa_platform.grpc_errors import error_reason
from tests.support.pictures import encode, gallery, png_header_only

SOLID = (30, 120, 200)
# 200 x 100 pixels drawn 100 x 50 points (1.39 x 0.69 inch): 144 dpi both ways.
SOLID_RECT = pymupdf.Rect(100, 100, 200, 150)
PRINTED_WORDS = "INVOICE 4711 PAID"


def solid_png() -> bytes:
    return encode(Image.new("RGB", (200, 100), SOLID))


def printed_text_png() -> bytes:
    """Black words on white, rendered by MuPDF at 300 dpi: a picture of printed text."""
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=80)
    page.insert_text((20, 50), PRINTED_WORDS, fontsize=28)
    png = page.get_pixmap(dpi=300).tobytes("png")
    doc.close()
    return png


def pictures_pdf(placed: list[tuple[bytes, pymupdf.Rect]]) -> bytes:
    """One picture a page, each at its rectangle."""
    doc = pymupdf.open()
    for picture, rect in placed:
        doc.new_page().insert_image(rect, stream=picture)
    data = doc.tobytes()
    doc.close()
    return data


async def upload(caller, data: bytes, filename: str) -> str:
    response = await caller.upload_bytes(data, filename)
    final = await caller.wait_for_job(response.job.name, timeout=300)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    return response.document.name


async def images_by_page(client, document: str) -> dict[int, search_pb.Image]:
    listed = (await client.search.ListImages(search_pb.ListImagesRequest(parent=document))).images
    return {image.placements[0].page: image for image in listed}


@pytest.fixture(autouse=True)
async def paced():
    """Image analysis has a low budget at the gateway (2 a second, bursts of 5 per subject): each test
    starts with a second's refill, so these tests check their own outcomes, not the limiter's."""
    await asyncio.sleep(1.0)


@pytest.fixture(scope="module")
async def image_model(client):
    models = await embedder_service_pb2_grpc.EmbedderServiceStub(client.channel).ListModels(
        embedder_pb.ListModelsRequest(), timeout=30
    )
    image_models = [m for m in models.models if m.modality == embedder_pb.MODALITY_IMAGE]
    if not image_models:
        pytest.skip("the test mesh has no image model (no export venv to build the tiny CLIP with)")
    return image_models[0]


@pytest.fixture(scope="module")
async def stored(mesh, client, image_model):
    """Document A: a solid picture, printed text and a pattern; document B: the same pattern, drawn larger;
    another tenant: the same pattern too (never to be seen by this tenant)."""
    pattern = gallery(1, size=(320, 240))[0]
    first = await upload(
        client,
        pictures_pdf(
            [
                (solid_png(), SOLID_RECT),
                (printed_text_png(), pymupdf.Rect(50, 50, 450, 130)),
                (pattern, pymupdf.Rect(100, 100, 420, 340)),
            ]
        ),
        "analysis-a.pdf",
    )
    second = await upload(client, pictures_pdf([(pattern, pymupdf.Rect(50, 50, 530, 410))]), "analysis-b.pdf")
    async with MeshClient(
        mesh.gateway_address, token=mesh.token(tenant="img-other"), ca=mesh.ca_path.read_bytes()
    ) as other:
        foreign = await upload(other, pictures_pdf([(pattern, pymupdf.Rect(100, 100, 420, 340))]), "foreign.pdf")
        foreign_images = await images_by_page(other, foreign)
    return {
        "a": await images_by_page(client, first),
        "b": await images_by_page(client, second),
        "b_name": second,
        "foreign": foreign_images[1].name,
        "foreign_document": foreign,
    }


async def analyze(client, options: pb.AnalysisOptions | None = None, **source) -> pb.ImageAnalysis:
    request = pb.AnalyzeImageRequest(options=options, **source)
    return (await client.images.AnalyzeImage(request, timeout=120)).analysis


async def test_properties_dpi_as_placed_and_colours_of_a_stored_image(client, stored):
    image = stored["a"][1]
    only = [pb.ANALYSIS_PROPERTIES, pb.ANALYSIS_COLORS]
    analysis = await analyze(client, pb.AnalysisOptions(analyses=only), image=image.name)
    properties = analysis.properties
    assert analysis.image == image.name
    assert (properties.width, properties.height) == (200, 100)
    assert properties.format in ("PNG", "JPEG") and properties.color_space == "RGB"
    assert properties.size_bytes == image.size_bytes
    [placed] = properties.placements
    assert placed.page == 1
    assert placed.dpi_x == pytest.approx(144.0, abs=1.0) and placed.dpi_y == pytest.approx(144.0, abs=1.0)
    top = analysis.colors[0]
    assert abs(top.red - SOLID[0]) <= 3 and abs(top.green - SOLID[1]) <= 3 and abs(top.blue - SOLID[2]) <= 3
    assert top.fraction > 0.95
    # Only what was asked: no OCR, tags or look-alikes.
    assert not analysis.HasField("text") and not analysis.tags and not analysis.similar


async def test_text_in_a_stored_image_through_ocr(mesh, client, stored):
    analysis = await analyze(client, pb.AnalysisOptions(analyses=[pb.ANALYSIS_TEXT]), image=stored["a"][2].name)
    if not mesh.ocr:
        assert [e.reason for e in analysis.errors] == ["OCR_UNAVAILABLE"]
        pytest.skip("the test mesh runs no OCR service")
    assert not analysis.errors
    assert "INVOICE 4711" in analysis.text.text.upper(), analysis.text
    assert analysis.text.confidence > 0.5 and analysis.text.engine


async def test_tags_and_look_alikes_of_a_stored_image(client, stored, image_model):
    image = stored["a"][3]
    labels = ["striped pattern", "cat", "bar chart"]
    options = pb.AnalysisOptions(
        analyses=[pb.ANALYSIS_TAGS, pb.ANALYSIS_SIMILAR], labels=labels, max_tags=3, similarity_threshold=0.95
    )
    analysis = await analyze(client, options, image=image.name)
    assert not analysis.errors
    # Random weights: the ranking means nothing, the mechanics do.
    assert sorted(t.label for t in analysis.tags) == sorted(labels)
    assert sum(t.score for t in analysis.tags) == pytest.approx(1.0, abs=1e-4)
    assert [t.score for t in analysis.tags] == sorted((t.score for t in analysis.tags), reverse=True)
    assert all(-1.0 <= t.similarity <= 1.0 for t in analysis.tags)
    assert analysis.image_model == image_model.name and analysis.image_model_source == image_model.source
    similar = {s.image: s for s in analysis.similar}
    copy = stored["b"][1]
    assert copy.name in similar and similar[copy.name].score > 0.99
    assert similar[copy.name].document == stored["b_name"] and list(similar[copy.name].pages) == [1]
    assert image.name not in similar
    assert all(s.score >= 0.95 for s in analysis.similar)
    assert stored["foreign"] not in similar
    assert all(s.document != stored["foreign_document"] for s in analysis.similar)
    # Default labels (the setting) when none are named: the top five of them.
    default = await analyze(client, pb.AnalysisOptions(analyses=[pb.ANALYSIS_TAGS]), image=image.name)
    assert len(default.tags) == 5 and 0 < sum(t.score for t in default.tags) <= 1.0 + 1e-4


async def test_a_picture_sent_in_the_call(client, stored):
    analysis = await analyze(client, content=solid_png())
    assert analysis.image == "" and not analysis.properties.placements
    assert (analysis.properties.format, analysis.properties.width) == ("PNG", 200)
    [only] = analysis.colors
    assert (only.red, only.green, only.blue, only.fraction) == (*SOLID, 1.0)
    assert analysis.tags and {e.reason for e in analysis.errors} <= {"OCR_UNAVAILABLE"}


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (pb.AnalyzeImageRequest(content=b"GIF89a\x01\x00"), "IMAGE_INVALID"),
        (pb.AnalyzeImageRequest(content=b"%PDF-1.7"), "IMAGE_INVALID"),
        (pb.AnalyzeImageRequest(), "IMAGE_MISSING"),
        (pb.AnalyzeImageRequest(content=png_header_only(100_000, 100_000)), "IMAGE_TOO_LARGE"),
        (pb.AnalyzeImageRequest(content=png_header_only(50, 50)), "IMAGE_INVALID"),
        (pb.AnalyzeImageRequest(content=b"\xff\xd8\xff" + bytes(21 * 1024 * 1024)), "IMAGE_TOO_LARGE"),
        (
            pb.AnalyzeImageRequest(content=b"\x89PNG", options=pb.AnalysisOptions(labels=["x" * 65])),
            "LABELS_INVALID",
        ),
    ],
    ids=["broken-gif", "not-a-picture", "nothing", "bomb", "lying-header", "too-many-bytes", "long-label"],
)
async def test_bad_requests_get_reasons(client, request_, reason):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.images.AnalyzeImage(request_, timeout=60)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(refused.value) == reason


async def test_another_tenants_image_is_not_found(client, stored):
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await analyze(client, image=stored["foreign"])
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND


async def test_scopes_through_the_gateway(mesh, stored):
    request = pb.AnalyzeImageRequest(
        image=stored["a"][1].name, options=pb.AnalysisOptions(analyses=[pb.ANALYSIS_PROPERTIES])
    )
    async with MeshClient(
        mesh.gateway_address, token=mesh.token(scopes=("write",)), ca=mesh.ca_path.read_bytes()
    ) as writer:
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await writer.images.AnalyzeImage(request, timeout=30)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    async with grpc.aio.secure_channel(mesh.gateway_address, mesh.gateway_credentials()) as channel:
        stub = image_analysis_service_pb2_grpc.ImageAnalysisServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await stub.AnalyzeImage(request, timeout=30)
        assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    async with MeshClient(
        mesh.gateway_address, token=mesh.token(scopes=("read",)), ca=mesh.ca_path.read_bytes()
    ) as reader:
        analysis = (await reader.images.AnalyzeImage(request, timeout=30)).analysis
        assert analysis.properties.width == 200


async def test_a_batch_streams_one_result_or_error_per_image(client, stored):
    names = [stored["a"][1].name, "documents/nope/images/" + "0" * 64, stored["foreign"], stored["a"][3].name]
    request = pb.BatchAnalyzeImagesRequest(
        images=names, options=pb.AnalysisOptions(analyses=[pb.ANALYSIS_PROPERTIES, pb.ANALYSIS_COLORS])
    )
    results = [message async for message in client.images.BatchAnalyzeImages(request, timeout=120)]
    assert [r.image for r in results] == names
    assert [r.WhichOneof("outcome") for r in results] == ["analysis", "error", "error", "analysis"]
    assert results[1].error.reason and results[2].error.reason
    assert results[0].analysis.properties.width == 200 and results[3].analysis.colors
    with pytest.raises(grpc.aio.AioRpcError) as too_many:
        async for _ in client.images.BatchAnalyzeImages(pb.BatchAnalyzeImagesRequest(images=["x"] * 51), timeout=30):
            pass
    assert error_reason(too_many.value) == "BATCH_SIZE_INVALID"


async def test_the_cli_analyzes_a_stored_image_and_a_file(mesh, stored, monkeypatch, capsys, tmp_path):
    from mivaa_cli.main import main as cli_main

    monkeypatch.setenv("MIVAA_TOKEN", mesh.token(subject="cli-images"))
    monkeypatch.setenv("MIVAA_CA", str(mesh.ca_path))

    async def cli(*args: str) -> str:
        capsys.readouterr()
        assert await asyncio.to_thread(cli_main, ["--address", mesh.gateway_address, "images", *args]) == 0
        return capsys.readouterr().out

    stored_out = await cli("analyze", stored["a"][1].name, "--only", "properties", "--only", "colors")
    assert "200x100 RGB" in stored_out and "page 1: drawn at" in stored_out
    picture = tmp_path / "solid.png"
    picture.write_bytes(solid_png())
    file_out = await cli(
        "analyze", str(picture), "--only", "colors", "--only", "tags", "--label", "sky", "--label", "sea"
    )
    assert "#1e78c8 100%" in file_out and "tags: " in file_out and "random weights" in file_out
