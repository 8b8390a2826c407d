"""Structured documents through the real mesh: pages, Markdown/JSON export, images, section paths."""

from __future__ import annotations

import asyncio
import io
import json

import grpc
import pytest
from PIL import Image

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_platform.grpc_errors import error_reason
from tests.support import grpcweb
from tests.support import structured_pdfs as sp


@pytest.fixture(scope="module")
async def survey(client):
    pdf = sp.make_structured_pdf()
    response = await client.upload_bytes(pdf.data, "survey.pdf", labels=["structured"])
    final = await client.wait_for_job(response.job.name, timeout=300)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    assert final.images_extracted == 1
    return response.document.name, pdf


async def test_full_view_has_metadata_outline_markdown_and_pages(client, survey):
    name, _ = survey
    basic = (await client.search.GetDocument(search_pb.GetDocumentRequest(name=name))).document
    assert basic.metadata.title == sp.TITLE and list(basic.metadata.authors) == ["Ada Keeper", "Ben Lamp"]
    assert basic.metadata.language == "en"
    assert [(e.level, e.title, e.page) for e in basic.outline][:2] == [(1, sp.TITLE, 1), (2, "1 Introduction", 1)]
    assert basic.image_count == 1
    assert not basic.markdown and not basic.pages  # BASIC view

    full = (
        await client.search.GetDocument(search_pb.GetDocumentRequest(name=name, view=search_pb.DOCUMENT_VIEW_FULL))
    ).document
    assert [page.number for page in full.pages] == [1, 2, 3]
    assert full.markdown.startswith(f"# {sp.TITLE}")
    assert "| North Cape | 42 | 71 |" in full.markdown
    assert sp.HEADER not in full.markdown
    table = next(b for b in full.pages[1].blocks if b.type == search_pb.BLOCK_TYPE_TABLE)
    assert (table.table.row_count, table.table.column_count, table.table.header_row_count) == (4, 3, 1)
    assert {(c.row, c.column, c.text) for c in table.table.cells} >= {(0, 0, "Station"), (3, 2, "22")}
    header = full.pages[0].blocks[0]
    assert header.type == search_pb.BLOCK_TYPE_PAGE_HEADER and header.text == sp.HEADER
    heading = next(b for b in full.pages[0].blocks if b.type == search_pb.BLOCK_TYPE_HEADING)
    assert (heading.level, heading.text) == (1, sp.TITLE)


async def test_pages_are_paginated(client, survey):
    name, _ = survey
    first = await client.search.ListPages(search_pb.ListPagesRequest(parent=name, page_size=2))
    assert [p.number for p in first.pages] == [1, 2] and first.next_page_token
    rest = await client.search.ListPages(
        search_pb.ListPagesRequest(parent=name, page_size=2, page_token=first.next_page_token)
    )
    assert [p.number for p in rest.pages] == [3] and not rest.next_page_token


async def test_export_markdown_and_json(client, survey):
    name, _ = survey
    pieces = [
        piece
        async for piece in client.search.ExportDocument(
            search_pb.ExportDocumentRequest(name=name, format=search_pb.EXPORT_FORMAT_MARKDOWN)
        )
    ]
    assert pieces[0].mime_type == "text/markdown"
    markdown = b"".join(p.data for p in pieces).decode()
    assert (
        markdown.index("## 1 Introduction") < markdown.index("## 2 Measurements") < markdown.index("## 3 Coastal Notes")
    )
    assert f"({name}/images/" in markdown  # figures link to their image resources

    exported = b"".join(
        [
            p.data
            async for p in client.search.ExportDocument(
                search_pb.ExportDocumentRequest(name=name, format=search_pb.EXPORT_FORMAT_JSON)
            )
        ]
    )
    document = json.loads(exported)
    assert document["name"] == name and document["metadata"]["title"] == sp.TITLE
    assert [page["number"] for page in document["pages"]] == [1, 2, 3]
    types = {block["type"] for page in document["pages"] for block in page["blocks"]}
    assert {"BLOCK_TYPE_HEADING", "BLOCK_TYPE_TABLE", "BLOCK_TYPE_FIGURE", "BLOCK_TYPE_LIST_ITEM"} <= types


async def test_images_listed_fetched_and_viewable(client, survey, mesh):
    name, pdf = survey
    listed = await client.search.ListImages(search_pb.ListImagesRequest(parent=name))
    (image,) = listed.images
    assert image.caption == sp.FIGURE_CAPTION
    assert [(p.page, round(p.bbox.x0), round(p.bbox.x1)) for p in image.placements] == [(1, 72, 312)]
    got = (await client.search.GetImage(search_pb.GetImageRequest(name=image.name))).image
    assert got == image
    pieces = [p async for p in client.search.GetImageContent(search_pb.GetImageContentRequest(name=image.name))]
    data = b"".join(p.data for p in pieces)
    assert pieces[0].mime_type == image.mime_type and len(data) == image.size_bytes
    picture = Image.open(io.BytesIO(data)).convert("RGB")
    original = Image.open(io.BytesIO(pdf.image_png)).convert("RGB")
    assert picture.size == original.size and picture.tobytes() == original.tobytes()

    # The React console fetches the bytes over grpc-web (server streaming).
    host, port = mesh.gateway_address.split(":")
    web = await asyncio.to_thread(
        grpcweb.call,
        host,
        int(port),
        "/mivaa.search.v1.SearchService/GetImageContent",
        search_pb.GetImageContentRequest(name=image.name).SerializeToString(),
        token=mesh.token(subject="browser"),
        ca=str(mesh.ca_path),
    )
    assert web.status == 0, web
    assert b"".join(search_pb.GetImageContentResponse.FromString(m).data for m in web.messages) == data

    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await client.search.GetImage(search_pb.GetImageRequest(name=f"{name}/images/{'0' * 64}"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND and error_reason(missing.value) == "IMAGE_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await client.search.GetImage(search_pb.GetImageRequest(name="images/nope"))
    assert error_reason(bad.value) == "INVALID_IMAGE_NAME"


async def test_search_hits_carry_their_section_and_tables_are_chunks(client, survey):
    name, _ = survey
    result = await client.search_chunks("beam range of the Gull Rock station", top_k=3, documents=[name])
    top = result.hits[0]
    assert "| Gull Rock | 28 | 35 |" in top.text
    assert list(top.section_path) == [sp.TITLE, "2 Measurements"]
    assert sp.HEADER not in " ".join(hit.text for hit in result.hits)
