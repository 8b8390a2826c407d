"""Ask: retrieve, check relevance, let a generator answer, cite, remember the turn.

The events come in the order the AskResponse stream promises: Sources, the answer's deltas,
Citations, Done. Nothing is stored until the answer is complete, so a failed Ask leaves no turn
behind.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from llama_index.core.schema import NodeWithScore

from mivaa_answer.citations import Citation, cite
from mivaa_answer.generation.base import NOT_FOUND_ANSWER, AnswerGenerator, GeneratorUnavailableError, Passage
from mivaa_answer.limits import (
    DOMAIN,
    check_filters,
    check_question,
    check_source_count,
    conversation_id,
    conversation_name,
)
from mivaa_answer.relevance import SentenceRanker
from mivaa_answer.usecases.ports import ConversationStore, PageReader, Retrieval, RetrievalScope, Turn
from mivaa_platform.errors import FailedPrecondition, Unavailable

# Earlier turns a follow-up is condensed with.
HISTORY_TURNS = 4


class GeneratorChoice(enum.Enum):
    DEFAULT = "default"
    EXTRACTIVE = "extractive"
    LLM = "llm"


@dataclass(frozen=True)
class Question:
    text: str
    tenant: str
    conversation: str = ""  # "conversations/{id}" or empty
    documents: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    source_count: int = 0
    generator: GeneratorChoice = GeneratorChoice.DEFAULT


@dataclass(frozen=True)
class SourcesFound:
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class AnswerText:
    text: str


@dataclass(frozen=True)
class CitationsMade:
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Finished:
    conversation: str
    found: bool
    generator: str
    standalone_question: str


AskEvent = SourcesFound | AnswerText | CitationsMade | Finished


@dataclass(frozen=True)
class AskPolicy:
    max_question_bytes: int
    # A question none of whose retrieved sentences is this similar to it has no answer here.
    min_relevance: float
    # When the LLM is down: answer extractively instead of failing (off unless configured).
    fallback_to_extractive: bool = False


class Ask:
    def __init__(
        self,
        *,
        retrieval: Retrieval,
        pages: PageReader,
        conversations: ConversationStore,
        ranker: SentenceRanker,
        extractive: AnswerGenerator,
        llm: AnswerGenerator | None,
        default: GeneratorChoice,
        policy: AskPolicy,
    ):
        self._retrieval = retrieval
        self._pages = pages
        self._conversations = conversations
        self._ranker = ranker
        self._extractive = extractive
        self._llm = llm
        self._default = default
        self._policy = policy

    async def ask(self, question: Question) -> AsyncIterator[AskEvent]:
        text = check_question(question.text, max_bytes=self._policy.max_question_bytes)
        top_k = check_source_count(question.source_count)
        check_filters(list(question.documents), list(question.labels))
        generator = choose_generator(question.generator, self._default, self._extractive, self._llm)
        history: list[Turn] = []
        existing = conversation_id(question.conversation) if question.conversation else ""
        if existing:
            stored = await self._conversations.get(existing, tenant=question.tenant, last_turns=HISTORY_TURNS)
            history = stored.turns
        generator, standalone = await self._with_fallback(
            generator, lambda g: g.condense([(t.standalone_question, t.answer) for t in history], text)
        )
        scope = RetrievalScope(question.tenant, question.documents, question.labels, top_k)
        nodes = await self._retrieval.retriever(scope).aretrieve(standalone)
        passages = tuple(passage_of(number, node) for number, node in enumerate(nodes, start=1))
        yield SourcesFound(passages)

        ranked = await self._ranker.rank(standalone, passages)
        found = bool(ranked) and ranked[0].similarity >= self._policy.min_relevance
        answer = ""
        if found:
            async for delta in self._stream(generator, standalone, passages):
                answer += delta
                yield AnswerText(delta)
            found = not answer.strip().startswith(NOT_FOUND_ANSWER)
        if not found:
            closing = not_found_text(passages)
            answer += closing
            yield AnswerText(closing)
        citations = await cite(answer, passages, self._pages, tenant=question.tenant) if found else []
        yield CitationsMade(tuple(citations))

        if not existing:
            existing = (await self._conversations.create(tenant=question.tenant)).id
        turn = Turn(text, standalone, answer, found, generator.name)
        await self._conversations.add_turn(existing, turn, tenant=question.tenant)
        yield Finished(conversation_name(existing), found, generator.name, standalone)

    async def _with_fallback(self, generator: AnswerGenerator, call):
        try:
            return generator, await call(generator)
        except GeneratorUnavailableError as exc:
            if not self._policy.fallback_to_extractive or generator is self._extractive:
                raise llm_unavailable() from exc
            return self._extractive, await call(self._extractive)

    async def _stream(self, generator: AnswerGenerator, question: str, passages: Sequence[Passage]):
        started = False
        try:
            async for delta in generator.stream_answer(question, passages):
                started = True
                yield delta
        except GeneratorUnavailableError as exc:
            if started or not self._policy.fallback_to_extractive or generator is self._extractive:
                raise llm_unavailable() from exc
            async for delta in self._extractive.stream_answer(question, passages):
                yield delta


def choose_generator(
    choice: GeneratorChoice, default: GeneratorChoice, extractive: AnswerGenerator, llm: AnswerGenerator | None
) -> AnswerGenerator:
    """The generator a request asks for; FAILED_PRECONDITION LLM_NOT_CONFIGURED for an LLM there is not."""
    if (default if choice is GeneratorChoice.DEFAULT else choice) is GeneratorChoice.EXTRACTIVE:
        return extractive
    if llm is None:
        raise FailedPrecondition(
            "LLM_NOT_CONFIGURED",
            "No language model is configured for this service; use the extractive generator.",
            domain=DOMAIN,
        )
    return llm


def llm_unavailable() -> Unavailable:
    return Unavailable(
        "LLM_UNAVAILABLE", "The language model endpoint did not answer; retry later or ask extractively.", domain=DOMAIN
    )


def not_found_text(passages: Sequence[Passage]) -> str:
    if not passages:
        return NOT_FOUND_ANSWER + " No document matched it.\n"
    closest = "; ".join(f"source {p.number}, {p.document_title or p.document}, {_pages(p)}" for p in passages[:3])
    return f"{NOT_FOUND_ANSWER} The closest sources: {closest}.\n"


def _pages(passage: Passage) -> str:
    if passage.page_end > passage.page_start:
        return f"pages {passage.page_start}-{passage.page_end}"
    return f"page {passage.page_start}"


def passage_of(number: int, node: NodeWithScore) -> Passage:
    """A retrieved llama-index node as the numbered passage generators cite."""
    meta = node.node.metadata
    return Passage(
        number=number,
        document=str(meta["document"]),
        document_title=str(meta.get("document_title", "")),
        chunk_index=int(meta.get("chunk_index", 0)),
        page_start=int(meta.get("page_start", 0)),
        page_end=int(meta.get("page_end", 0)),
        text=node.node.get_content(),
        score=float(node.score or 0.0),
    )
