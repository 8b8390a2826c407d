"""The interface every answer generator implements (domain layer: no grpc, no network types).

The service retrieves passages, numbers them 1..n, and hands them to a generator. The generator
streams the answer text; it cites passages inline as ``[n]``. The service, not the generator,
turns the finished answer into citations (sentence -> passage -> quote located on a page), so a
generator can never invent one: a citation whose quote is not found on the page is dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# The answer a generator gives when the passages do not answer the question. The extractive
# answerer returns it verbatim; an LLM is prompted to answer with it, and the service treats an
# answer that starts with it as "not found" (done.found = false, no citations).
NOT_FOUND_ANSWER = "The documents do not answer this question."


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk the answer may cite as ``[number]``."""

    number: int  # 1-based; cited as [number]
    document: str  # "documents/{id}"
    document_title: str
    chunk_index: int
    page_start: int  # 1-based, inclusive
    page_end: int
    text: str
    score: float  # the retrieval score (higher is better)


class GeneratorUnavailableError(Exception):
    """The generator's backend (an LLM endpoint) cannot be reached or failed; the service maps it
    to UNAVAILABLE LLM_UNAVAILABLE. The message is for logs, never sent to the caller."""


@runtime_checkable
class AnswerGenerator(Protocol):
    """Writes an answer from numbered passages.

    ``name`` is what AnswerDone.generator reports: "extractive" or the LLM's model name.
    """

    name: str

    def stream_answer(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        """Yields the answer as text deltas. Sentences cite passages as ``[n]`` (n = Passage.number).

        Raises GeneratorUnavailableError when the backend is down (before or during streaming).
        When the passages hold no answer, yields NOT_FOUND_ANSWER.
        """
        ...

    async def condense(self, history: Sequence[tuple[str, str]], question: str) -> str:
        """Rewrites a follow-up into a standalone question.

        ``history`` is the conversation's earlier turns, oldest first, as (question, answer).
        Raises GeneratorUnavailableError when the backend is down.
        """
        ...

    async def summarize(self, title: str, passages: Sequence[Passage]) -> str:
        """Summarizes one document from its passages (in reading order); cites them as ``[n]``.

        Raises GeneratorUnavailableError when the backend is down.
        """
        ...
