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


async def test_an_image_only_korean_page_is_read_in_hangul_and_found_by_a_korean_word(client, ocr_mesh):
    from mivaa_ocr.engines.tesseract_engine import find_tessdata, installed_languages
    from tests.ocr.script_pages import SAMPLES, fonts_missing, render

    sample = SAMPLES["korean"]
    if fonts_missing(sample) or "kor" not in installed_languages(find_tessdata()):
        pytest.skip("Korean font or tesseract-ocr-kor missing: run tools/install_tessdata.sh")
    scan = render(sample)
    document = pymupdf.open()
    page = document.new_page(width=595, height=842)
    page.insert_image(page.rect, stream=scan.png)
    data = document.tobytes(deflate=True)
    document.close()

    response = await client.upload_bytes(data, "korean-report.pdf")
    final = await client.wait_for_job(response.job.name, timeout=600)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    assert final.ocr_pages_total == 1
    result = await client.search_chunks(
        "매출은", top_k=3, documents=[response.document.name], mode=search_pb.SEARCH_MODE_KEYWORD
    )
    assert result.hits, "the Korean word was not found"
    assert "작년보다 크게 증가하였습니다" in result.hits[0].text
    assert result.hits[0].text_source == search_pb.TEXT_SOURCE_OCR
