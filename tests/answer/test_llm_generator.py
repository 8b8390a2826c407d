"""The LLM generator against a real OpenAI-compatible server (llama.cpp with Gemma 3 270M), never a mocked model.

Only the faults are fakes: a closed port, a server that accepts and never answers, one that answers 500.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from mivaa_answer.generation.base import NOT_FOUND_ANSWER, AnswerGenerator, GeneratorUnavailableError, Passage
from mivaa_answer.generation.llm import LlmGenerator, load_api_key
from mivaa_cli.localmesh.processes import free_port
from tests.answer.llm_fixture import local_llm  # noqa: F401  # the session fixture, used by name

SOURCES = [
    "Mount Etna erupted in 2021, sending ash 10 km into the sky; flights at Catania were suspended for two days.",
    "The pump model P-4410 delivers 35 litres per minute at a pressure of 6 bar.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The museum opens at 9 am and closes at 5 pm, except on Mondays when it is closed.",
    "Vesuvius last erupted in 1944, destroying the nearby villages of San Sebastiano and Massa.",
]
PASSAGES = [
    Passage(
        number=index,
        document=f"documents/doc-{index}",
        document_title=f"Notes {index}",
        chunk_index=0,
        page_start=index,
        page_end=index,
        text=text,
        score=1.0 / index,
    )
    for index, text in enumerate(SOURCES, start=1)
]
CITATION = re.compile(r"\[(\d+)\]")
QUOTE = re.compile(r'"([^"]{12,})"')


@pytest.fixture
def generator(local_llm) -> LlmGenerator:  # noqa: F811  # the fixture imported above
    """Built from the settings as the answer service builds it."""
    assert local_llm["ANSWER_DEFAULT_GENERATOR"] == "llm"
    return LlmGenerator(
        url=local_llm["ANSWER_LLM_URL"],
        model=local_llm["ANSWER_LLM_MODEL"],
        api_key=load_api_key(local_llm["ANSWER_LLM_API_KEY_FILE"]),
    )


def _down(**overrides) -> LlmGenerator:
    return LlmGenerator(url=f"http://127.0.0.1:{free_port()}/v1", model="m", **overrides)


async def _answer(generator: LlmGenerator, question: str, passages=PASSAGES) -> tuple[list[str], float, float]:
    started = time.monotonic()
    first = None
    deltas = []
    async for delta in generator.stream_answer(question, passages):
        first = first if first is not None else time.monotonic() - started
        deltas.append(delta)
    return deltas, first or 0.0, time.monotonic() - started


def test_implements_the_generator_interface(generator):
    assert isinstance(generator, AnswerGenerator)
    assert generator.name == "gemma-3-270m"


async def test_streams_a_quoted_cited_answer_in_several_deltas(generator):
    deltas, first, total = await _answer(generator, "When did Vesuvius last erupt?")
    answer = "".join(deltas)
    print(f"\n5-source answer: first token {first:.2f}s, total {total:.2f}s, {len(deltas)} deltas: {answer!r}")
    assert len(deltas) >= 3, deltas
    assert answer == answer.strip() and answer
    cited = {int(number) for number in CITATION.findall(answer)}
    assert cited and cited <= {passage.number for passage in PASSAGES}, answer
    # It quotes: a quoted span is found word for word in a source (what the service's citations keep).
    assert any(quote.strip(" .") in " ".join(SOURCES) for quote in QUOTE.findall(answer)), answer


async def test_no_passages_is_not_found_without_calling_the_model():
    generator = _down()  # nothing listens: a call would fail
    assert [delta async for delta in generator.stream_answer("anything?", [])] == [NOT_FOUND_ANSWER]


async def test_condense_rewrites_a_follow_up_into_a_standalone_question(generator):
    history = [("When did Vesuvius last erupt?", '"Vesuvius last erupted in 1944" [5].')]
    standalone = await generator.condense(history, "Which villages did it destroy?")
    print(f"\ncondensed: {standalone!r}")
    assert standalone and "\n" not in standalone
    assert "vesuvius" in standalone.lower(), standalone  # "it" resolved from the conversation
    assert await generator.condense([], "What is the P-4410?") == "What is the P-4410?"


async def test_summarize_cites_the_passages(generator):
    summary = await generator.summarize("Field notes", PASSAGES[:2])
    print(f"\nsummary: {summary!r}")
    assert summary and CITATION.search(summary), summary


async def test_a_wrong_key_is_unavailable(local_llm):  # noqa: F811
    generator = LlmGenerator(url=local_llm["ANSWER_LLM_URL"], model="gemma-3-270m", api_key="not-the-key")
    with pytest.raises(GeneratorUnavailableError, match="401|[Aa]uthentication"):
        await generator.condense([("q", "a")], "and then?")


async def test_a_closed_port_is_unavailable_quickly():
    generator = _down()
    started = time.monotonic()
    with pytest.raises(GeneratorUnavailableError, match="Connection"):
        await _answer(generator, "When did Vesuvius last erupt?")
    with pytest.raises(GeneratorUnavailableError):
        await generator.condense([("q", "a")], "and then?")
    with pytest.raises(GeneratorUnavailableError):
        await generator.summarize("t", PASSAGES[:1])
    assert time.monotonic() - started < 6  # three calls, no retries, no long waits


async def _fault_server(reply: bytes | None):
    """A server that reads the request and answers `reply`, or never answers at all (None)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        if reply is None:
            await asyncio.sleep(60)
        else:
            writer.write(reply)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_a_silent_endpoint_hits_the_timeout():
    server, port = await _fault_server(None)
    try:
        generator = LlmGenerator(
            url=f"http://127.0.0.1:{port}/v1", model="m", idle_timeout_seconds=1, timeout_seconds=2
        )
        started = time.monotonic()
        with pytest.raises(GeneratorUnavailableError, match="timed out"):
            await _answer(generator, "When did Vesuvius last erupt?")
        with pytest.raises(GeneratorUnavailableError):
            await generator.condense([("q", "a")], "and then?")
        assert time.monotonic() - started < 6
    finally:
        server.close()


async def test_a_failing_endpoint_is_unavailable():
    body = b'{"error": {"message": "boom", "type": "server_error"}}'
    reply = b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
    server, port = await _fault_server(reply % (len(body), body))
    try:
        generator = LlmGenerator(url=f"http://127.0.0.1:{port}/v1", model="m")
        with pytest.raises(GeneratorUnavailableError, match="500"):
            await _answer(generator, "When did Vesuvius last erupt?")
    finally:
        server.close()
