"""Scanned pages become searchable: an image-only page's text exists only in its pixels."""

from __future__ import annotations

import pymupdf
import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from tests.support.hits import find_hit
from tests.support.pdfs import make_scanned_pdf, page_phrase


@pytest.fixture(scope="module")
def ocr_mesh(mesh):
    if not mesh.ocr:
        pytest.skip("the OCR service is not installed here (make ocr installs Tesseract and tesserocr)")
    return mesh


async def test_image_only_pages_are_recognized_and_searchable(client, ocr_mesh):
    data = make_scanned_pdf("scanned", 3, text_layer_pages=(2,))
    with pymupdf.open(stream=data, filetype="pdf") as document:
        assert document[0].get_text().strip() == "", "page 1 has no text layer: its text is only in pixels"

    response = await client.upload_bytes(data, "scanned.pdf")
    events = [update.event.job async for update in client.watch(response.job.name, timeout=600)]
    final = events[-1]
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    assert (final.ocr_pages_total, final.ocr_pages_done) == (2, 2)
    assert any(e.stage == job_pb2.JOB_STAGE_OCR for e in events), "OCR progress was reported"
    assert any(t.stage == job_pb2.JOB_STAGE_OCR and t.seconds > 0 for t in final.stage_timings)

    for page in (1, 3):
        phrase = page_phrase("scanned", page)
        result = await client.search_chunks(phrase, top_k=3, documents=[response.document.name])
        hit = find_hit(result.hits, "archive tells of a", page)
        assert hit is not None, [(h.page_start, h.text[:100]) for h in result.hits]
        assert hit.text_source == search_pb.TEXT_SOURCE_OCR
        assert 0.5 < hit.ocr_confidence <= 1.0
    typed = await client.search_chunks(page_phrase("scanned", 2), top_k=3, documents=[response.document.name])
    hit = find_hit(typed.hits, page_phrase("scanned", 2), 2)
    assert hit is not None
    if hit.page_start == hit.page_end == 2:
        assert hit.text_source == search_pb.TEXT_SOURCE_TEXT_LAYER


@pytest.mark.corpus
async def test_corpus_flat_scan_is_searchable(client, ocr_mesh, corpus_dir):
    response = await client.upload_file(corpus_dir / "unstructured" / "loremipsum-flat.pdf")
    final = await client.wait_for_job(response.job.name, timeout=600)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    assert final.ocr_pages_total == 1
    result = await client.search_chunks("Lorem ipsum dolor sit amet", top_k=1, documents=[response.document.name])
    assert result.hits and "lorem ipsum" in result.hits[0].text.lower()
    assert result.hits[0].text_source == search_pb.TEXT_SOURCE_OCR
