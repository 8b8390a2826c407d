"""A long document read by every worker: its page ranges spread, assembled into the same document.

The session mesh gets a second extraction worker for the duration. A 240-page
document (five ranges of 48 pages, the default) goes through the gateway; both
workers must have extracted ranges of it, the job counts every page, and the
chunks stored are exactly those one worker reading the whole document makes
(page furniture and chunks that cross range boundaries included).
"""

from __future__ import annotations

import asyncio
import re

import psycopg
import pymupdf
import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.localmesh import monitoring
from mivaa_extractor.extraction.chunking import Chunker
from mivaa_extractor.extraction.structure.furniture import FurnitureDetector
from mivaa_extractor.extraction.text_extraction import extract_page_range
from tests.support.hits import find_hit, normalise
from tests.support.pdfs import filler, make_scanned_pdf, page_phrase

PAGES = 240
TAG = "ranges"


def _long_document(path) -> bytes:
    """Pages with a running header and footer (furniture is decided across pages), and a paragraph that
    runs on from each page to the next (chunks cross page, and so range, boundaries)."""
    document = pymupdf.open()
    for number in range(1, PAGES + 1):
        page = document.new_page(width=595, height=842)
        page.insert_text((60, 40), "Shared Ranges Handbook", fontsize=8, fontname="helv")
        body = page_phrase(TAG, number) + "\n\n" + filler(number, 10) + " This sentence continues on the"
        page.insert_textbox(pymupdf.Rect(60, 60, 535, 780), body, fontsize=10, fontname="helv")
        page.insert_text((290, 815), str(number), fontsize=8, fontname="helv")
    data = document.tobytes()
    document.close()
    path.write_bytes(data)
    return data


def _ranges_extracted(mesh, worker: str) -> float:
    text = mesh.scrape(monitoring.metrics_port(mesh.ports.metrics_base, worker))
    found = re.search(r'^mivaa_page_ranges_total\{outcome="extracted"\} ([0-9.e+]+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _chunks_read_in_one_piece(path, tokenizer) -> list[tuple[str, int, int]]:
    """What the pipeline makes of the document when one worker reads every page (text layer only)."""
    chunker = Chunker.from_tokenizer_file(str(tokenizer), max_tokens=128, overlap_tokens=16)
    furniture = FurnitureDetector()
    chunks = []
    settled = []
    for page in extract_page_range(str(path), None, 0, PAGES):
        settled.extend(furniture.push(page))
    settled.extend(furniture.finish())
    for page in settled:
        chunks.extend(chunker.feed(page))
    chunks.extend(chunker.finish())
    return [(chunk.text, chunk.page_start, chunk.page_end) for chunk in chunks]


@pytest.fixture
def second_worker(mesh):
    mesh.start_service("worker-1")
    try:
        yield "worker-1"
    finally:
        mesh.processes.pop("worker-1").stop()
        mesh.save()


async def test_a_long_document_is_read_by_every_worker_and_assembled_whole(client, mesh, second_worker, tmp_path):
    path = tmp_path / "ranges.pdf"
    data = _long_document(path)
    before = {name: _ranges_extracted(mesh, name) for name in ("worker-0", second_worker)}

    response = await client.upload_bytes(data, "ranges.pdf")
    seen_pages = []
    async for update in client.watch(response.job.name, timeout=600):
        seen_pages.append(update.event.job.pages_done)
        if update.event.job.state != job_pb2.JOB_STATE_RUNNING and update.event.job.stage == job_pb2.JOB_STAGE_DONE:
            break
    final = await client.wait_for_job(response.job.name, timeout=600)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    assert final.pages_done == PAGES
    assert seen_pages == sorted(seen_pages), "progress only grows"

    extracted = {name: _ranges_extracted(mesh, name) - before[name] for name in before}
    assert sum(extracted.values()) == PAGES // 48, extracted
    assert all(count >= 1 for count in extracted.values()), f"every worker read ranges: {extracted}"

    document_id = response.document.name.removeprefix("documents/")
    with psycopg.connect(mesh.postgres.dsn) as connection:
        stored = connection.execute(
            "SELECT text, page_start, page_end FROM chunks WHERE document_id = %s ORDER BY chunk_index",
            (document_id,),
        ).fetchall()
        (page_rows,) = connection.execute(
            "SELECT count(*) FROM pages WHERE document_id = %s", (document_id,)
        ).fetchone()
    assert page_rows == PAGES
    tokenizer = mesh.models_dir / "all-MiniLM-L6-v2" / "tokenizer.json"
    expected = await asyncio.to_thread(_chunks_read_in_one_piece, path, tokenizer)
    assert [tuple(row) for row in stored] == expected, "assembled from ranges = read in one piece"
    assert not any("Shared Ranges Handbook" in text for text, _, _ in stored), "running header is furniture"
    for page in (1, 48, 49, 97, 192, 240):  # both sides of range boundaries
        phrase = normalise(page_phrase(TAG, page))
        assert any(phrase in normalise(text) and start <= page <= end for text, start, end in stored), page


async def test_scanned_pages_are_read_by_ocr_where_their_range_is_read(client, mesh, second_worker):
    """OCR happens in the range's worker; its pages, confidences and counts reach the assembled job."""
    if not mesh.ocr:
        pytest.skip("the OCR service is not installed here (make ocr installs Tesseract and tesserocr)")
    scanned = (10, 50, 60, 99)  # in the first, second and last of three ranges
    data = make_scanned_pdf("rangescan", 100, text_layer_pages=tuple(n for n in range(1, 101) if n not in scanned))
    before = {name: _ranges_extracted(mesh, name) for name in ("worker-0", second_worker)}

    response = await client.upload_bytes(data, "rangescan.pdf")
    events = [update.event.job async for update in client.watch(response.job.name, timeout=600)]
    final = events[-1]
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED, final
    assert (final.pages_done, final.ocr_pages_total, final.ocr_pages_done) == (100, 4, 4)
    assert any(event.stage == job_pb2.JOB_STAGE_OCR for event in events), "the OCR stage was reported"
    assert sum(_ranges_extracted(mesh, name) - before[name] for name in before) == 3
    for page in scanned:
        result = await client.search_chunks(page_phrase("rangescan", page), top_k=3, documents=[response.document.name])
        hit = find_hit(result.hits, "archive tells of a", page)
        assert hit is not None, (page, [(h.page_start, h.text[:80]) for h in result.hits])
        assert hit.text_source == search_pb.TEXT_SOURCE_OCR and 0.5 < hit.ocr_confidence <= 1.0
