"""Ask through the real mesh and gateway: answers quoted and cited from the tenant's own pages."""

from __future__ import annotations

import asyncio
import socket

import grpc
import pytest
import pytest_asyncio

from mivaa.answer.v1 import answer_service_pb2 as answer_pb
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_platform.grpc_errors import error_reason
from tests.answer.facts import OBSERVATORY_PAGES, ask, ask_stream, facts_pdf, ingest, unique
from tests.e2e.test_operations import mivaa


@pytest_asyncio.fixture(scope="module")
async def observatory(client) -> tuple[str, str]:
    """(document name, label) of the observatory handbook, ingested as tenant "default"."""
    label = unique("answers")
    name = await ingest(client, facts_pdf(OBSERVATORY_PAGES), "observatory.pdf", label)
    return name, label


async def page_text(client, document: str, number: int) -> str:
    response = await client.search.ListPages(search_pb.ListPagesRequest(parent=document, page_size=20), timeout=30)
    page = next(p for p in response.pages if p.number == number)
    return " ".join(" ".join(block.text.split()) for block in page.blocks).lower()


async def test_an_answer_quotes_the_page_that_holds_the_fact(client, observatory):
    document, label = observatory
    answer = await ask(client.answer, "How high above sea level is the Quillfeather observatory?", labels=[label])

    assert answer.done.found, answer.text
    assert answer.done.generator == "extractive"
    assert answer.text.startswith("Extractive answer"), answer.text
    assert "2417 metres" in answer.text
    assert answer.sources and all(s.document == document for s in answer.sources)
    assert answer.citations, answer.text
    first = answer.citations[0]
    assert (first.document, first.page) == (document, 1)
    assert "2417 metres" in first.quote
    for citation in answer.citations:
        # Every quote is on the page it names, and the cited span is a sentence of the answer.
        assert " ".join(citation.quote.split()).lower() in await page_text(client, citation.document, citation.page)
        assert 0 <= citation.answer_start < citation.answer_end <= len(answer.text)
        assert citation.source in {s.number for s in answer.sources}
        assert citation.bbox.x1 > citation.bbox.x0 and citation.bbox.y1 > citation.bbox.y0


async def test_a_question_the_documents_do_not_answer_is_answered_not_found(client, observatory):
    _, label = observatory
    answer = await ask(client.answer, "What is the best recipe for banana bread with walnuts?", labels=[label])

    assert not answer.done.found
    assert answer.text.startswith("The documents do not answer this question.")
    assert answer.citations == []
    assert answer.sources, "the closest sources are still listed"


async def test_a_follow_up_is_condensed_with_the_conversation(client, observatory):
    _, label = observatory
    first = await ask(client.answer, "Who founded the Quillfeather observatory?", labels=[label])
    assert first.done.found and "Ilse Marwick" in first.text
    assert first.done.conversation.startswith("conversations/")

    follow_up = await ask(client.answer, "In which year?", labels=[label], conversation=first.done.conversation)
    assert follow_up.done.conversation == first.done.conversation
    assert "Quillfeather" in follow_up.done.standalone_question
    assert follow_up.done.found and "1962" in follow_up.text, follow_up.text
    assert {c.page for c in follow_up.citations} == {3}

    # "she" is the person the last answer named.
    person = await ask(
        client.answer, "Where did she study before?", labels=[label], conversation=first.done.conversation
    )
    assert "Marwick" in person.done.standalone_question
    assert person.done.found and "Leiden" in person.citations[0].quote, person.text


@pytest.mark.parametrize(
    ("request_fields", "reason"),
    [
        ({"question": "   "}, "QUESTION_EMPTY"),
        ({"question": "why? " * 20_000}, "QUESTION_TOO_LONG"),
        ({"question": "What?", "conversation": "conversations/not-an-id"}, "INVALID_CONVERSATION_NAME"),
        ({"question": "What?", "source_count": 21}, "SOURCE_COUNT_OUT_OF_RANGE"),
        ({"question": "What?", "source_count": -1}, "SOURCE_COUNT_OUT_OF_RANGE"),
        ({"question": "What\x00is this?"}, "CONTROL_CHARACTERS"),
    ],
)
async def test_bad_questions_get_a_clear_reason(client, request_fields, reason):
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await ask_stream(client.answer, answer_pb.AskRequest(**request_fields), timeout=30)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(failure.value) == reason


async def test_the_llm_is_refused_when_none_is_configured(client):
    request = answer_pb.AskRequest(question="What?", generator=answer_pb.GENERATOR_LLM)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await ask_stream(client.answer, request, timeout=30)
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(failure.value) == "LLM_NOT_CONFIGURED"


async def test_a_summary_quotes_the_document_and_is_cached(client, observatory):
    document, _ = observatory
    request = answer_pb.SummarizeDocumentRequest(name=document)
    first = await client.answer.SummarizeDocument(request, timeout=60)
    assert first.summary.startswith("Extractive summary") and not first.cached
    assert first.generator == "extractive"
    assert first.pages and set(first.pages) <= {1, 2, 3}
    again = await client.answer.SummarizeDocument(request, timeout=60)
    assert again.cached and again.summary == first.summary


def test_the_answer_service_exports_its_metrics(mesh):
    body = mesh.scrape(mesh.metrics_ports()["answer"])
    assert 'mivaa_answer_first_token_seconds_bucket{generator="extractive"' in body
    assert 'mivaa_answer_answers_total{found="false",generator="extractive"}' in body
    assert "mivaa_rpc_duration_seconds_bucket" in body


def test_mivaa_ask_prints_the_answer_and_numbered_citations(mesh, observatory):
    document, label = observatory
    result = mivaa(mesh, "ask", "How wide is the mirror of the Halden reflector?", "--label", label)
    assert result.returncode == 0, result.stderr
    assert "3.6 metres wide" in result.stdout
    assert f"[1] observatory.pdf, page 2 ({document})" in result.stdout
    assert "follow up with --conversation conversations/" in result.stdout
    empty = mivaa(mesh, "ask", " ")
    assert empty.returncode == 1 and "INVALID_ARGUMENT QUESTION_EMPTY" in empty.stderr


async def test_an_llm_that_is_down_is_unavailable_with_a_reason_and_no_silent_fallback(mesh, client, observatory):
    """The answer service configured with an LLM endpoint nobody listens on: UNAVAILABLE LLM_UNAVAILABLE."""
    _, label = observatory
    with socket.socket() as probe:  # a port that was free a moment ago: nothing answers on it
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    saved = dict(mesh.extra_env)
    mesh.processes["answer"].stop()
    mesh.extra_env |= {"ANSWER_LLM_URL": f"http://127.0.0.1:{closed_port}/v1", "ANSWER_LLM_MODEL": "gone"}
    try:
        await asyncio.to_thread(mesh.start_service, "answer")
        request = answer_pb.AskRequest(
            question="How high above sea level is the Quillfeather observatory?",
            labels=[label],
            generator=answer_pb.GENERATOR_LLM,
        )
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await ask_stream(client.answer, request)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        assert error_reason(failure.value) == "LLM_UNAVAILABLE"
        # The extractive generator still answers on the same service.
        answer = await ask(client.answer, "How high above sea level is the Quillfeather observatory?", labels=[label])
        assert answer.done.found and answer.done.generator == "extractive"
    finally:
        mesh.processes["answer"].stop()
        mesh.extra_env = saved
        await asyncio.to_thread(mesh.start_service, "answer")
