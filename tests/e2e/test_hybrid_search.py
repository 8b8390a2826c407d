"""Hybrid search end to end: a generated PDF through extraction, the gateway and SearchChunks."""

from __future__ import annotations

import pymupdf

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from tests.support.pdfs import filler, page_phrase

IDENTIFIER = "QX-7730-ZL"
PAGES = 30
IDENTIFIER_PAGE = 17


def long_pdf_with_identifier() -> bytes:
    """PAGES pages of generated text; IDENTIFIER occurs once, on IDENTIFIER_PAGE."""
    document = pymupdf.open()
    for number in range(1, PAGES + 1):
        page = document.new_page(width=595, height=842)
        text = page_phrase("hybrid", number) + "\n\n" + filler(number, 6)
        if number == IDENTIFIER_PAGE:
            text += f"\n\nThe replacement valve carries part number {IDENTIFIER}."
        page.insert_textbox(pymupdf.Rect(60, 60, 535, 800), text, fontsize=10, fontname="helv")
    data = document.tobytes()
    document.close()
    return data


async def test_an_identifier_found_once_in_a_long_document_is_hybrids_first_hit(client):
    upload = await client.upload_bytes(long_pdf_with_identifier(), "hybrid-long.pdf", labels=["hybrid-e2e"])
    job = await client.wait_for_job(upload.job.name, timeout=600)
    assert job.state == job_pb2.JOB_STATE_SUCCEEDED, job
    name = upload.document.name

    hybrid = await client.search_chunks(f"which part number is {IDENTIFIER}", top_k=5, labels=["hybrid-e2e"])
    top = hybrid.hits[0]
    assert top.document == name and top.page_start <= IDENTIFIER_PAGE <= top.page_end, top
    assert IDENTIFIER in top.text and top.keyword_score > 0
    assert IDENTIFIER in {top.text[h.start : h.end] for h in top.highlights}
    assert top.language == "en" and search_pb.BLOCK_TYPE_PARAGRAPH in top.block_types

    keyword = await client.search_chunks(IDENTIFIER, top_k=5, mode=search_pb.SEARCH_MODE_KEYWORD, documents=[name])
    assert [(h.page_start <= IDENTIFIER_PAGE <= h.page_end) for h in keyword.hits] == [True]
    # Outside the identifier's page range nothing holds it.
    elsewhere = await client.search_chunks(
        IDENTIFIER, mode=search_pb.SEARCH_MODE_KEYWORD, documents=[name], page_min=IDENTIFIER_PAGE + 2
    )
    assert not elsewhere.hits

    # Paging through the document's hits never repeats one.
    seen, token = [], ""
    for _ in range(10):
        page = await client.search_chunks("archive", top_k=4, documents=[name], page_token=token)
        seen += [(h.document, h.chunk_index) for h in page.hits]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) > 4
