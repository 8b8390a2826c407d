"""Image search through the real mesh with a small random-weight CLIP exported to ONNX (no real weights here)."""

from __future__ import annotations

import grpc
import pymupdf
import pytest

from mivaa.embedder.v1 import embedder_service_pb2 as embedder_pb
from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_platform.grpc_errors import error_reason
from tests.support.pictures import gallery, jpeg_copy, resized_copy

PICTURES = 8


def gallery_pdf(pictures: list[bytes]) -> bytes:
    """Two pictures per page, each with a caption under it."""
    doc = pymupdf.open()
    for index, picture in enumerate(pictures):
        if index % 2 == 0:
            page = doc.new_page()
        top = 80 + (index % 2) * 360
        page.insert_image(pymupdf.Rect(100, top, 420, top + 240), stream=picture)
        page.insert_text((100, top + 262), f"Figure {index + 1}: test pattern number {index + 1}", fontsize=10)
    data = doc.tobytes()
    doc.close()
    return data


@pytest.fixture(scope="module")
async def image_model(mesh):
    from mivaa_cli.client import MeshClient

    async with MeshClient(mesh.gateway_address, token=mesh.token(), ca=mesh.ca_path.read_bytes()) as client:
        models = await embedder_service_pb2_grpc.EmbedderServiceStub(client.channel).ListModels(
            embedder_pb.ListModelsRequest(), timeout=30
        )
    image_models = [m for m in models.models if m.modality == embedder_pb.MODALITY_IMAGE]
    if not image_models:
        pytest.skip("the test mesh has no image model (no export venv to build the tiny CLIP with)")
    return image_models[0]


@pytest.fixture(scope="module")
async def indexed_gallery(client, image_model):
    pictures = gallery(PICTURES, size=(320, 240))
    response = await client.upload_bytes(gallery_pdf(pictures), "gallery.pdf", labels=["gallery"])
    final = await client.wait_for_job(response.job.name, timeout=300)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    assert final.images_extracted == PICTURES
    return response.document.name, pictures


async def test_the_image_model_is_listed_with_its_modalities(image_model):
    assert set(image_model.input_modalities) == {embedder_pb.MODALITY_TEXT, embedder_pb.MODALITY_IMAGE}
    assert image_model.dimension > 0 and image_model.device.startswith("CPUExecutionProvider")


async def test_an_image_finds_itself_and_light_edits_stay_close(client, indexed_gallery, image_model):
    name, pictures = indexed_gallery
    listed = (await client.search.ListImages(search_pb.ListImagesRequest(parent=name))).images
    by_caption = {image.caption: image for image in listed}
    for index in (0, 3, 6):
        expected = by_caption[f"Figure {index + 1}: test pattern number {index + 1}"]
        result = await client.search.SearchImages(
            search_pb.SearchImagesRequest(image=pictures[index], top_k=3, documents=[name]), timeout=60
        )
        assert result.model == image_model.name
        top = result.hits[0]
        assert top.image.name == expected.name and top.score > 0.99
        assert top.document == name and top.document_title
        assert [p.page for p in top.image.placements] == [index // 2 + 1]
        for edited in (resized_copy(pictures[index]), jpeg_copy(pictures[index])):
            edited_result = await client.search.SearchImages(
                search_pb.SearchImagesRequest(image=edited, top_k=3, documents=[name]), timeout=60
            )
            assert expected.name in [hit.image.name for hit in edited_result.hits]


async def test_text_queries_use_the_text_tower_and_filters_apply(client, indexed_gallery):
    name, _ = indexed_gallery
    result = await client.search.SearchImages(
        search_pb.SearchImagesRequest(text="a striped test pattern", top_k=5, labels=["gallery"]), timeout=60
    )
    assert 1 <= len(result.hits) <= 5
    assert all(hit.document == name for hit in result.hits)
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True)
    # The hit names an image whose bytes can be fetched.
    pieces = [
        p async for p in client.search.GetImageContent(search_pb.GetImageContentRequest(name=result.hits[0].image.name))
    ]
    assert pieces and pieces[0].mime_type in ("image/png", "image/jpeg")
    none = await client.search.SearchImages(
        search_pb.SearchImagesRequest(text="anything", top_k=5, labels=["no-such-label"]), timeout=60
    )
    assert not none.hits


async def test_bad_image_queries_are_invalid_arguments(client, indexed_gallery):
    with pytest.raises(grpc.aio.AioRpcError) as unreadable:
        await client.search.SearchImages(search_pb.SearchImagesRequest(image=b"not an image at all"), timeout=60)
    assert unreadable.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(unreadable.value) == "IMAGE_UNREADABLE"
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await client.search.SearchImages(search_pb.SearchImagesRequest(), timeout=60)
    assert error_reason(empty.value) == "QUERY_EMPTY"
