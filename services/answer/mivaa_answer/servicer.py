"""AnswerService over gRPC: translates between protos and the Ask / Summarize use cases."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from mivaa.answer.v1 import answer_service_pb2 as pb
from mivaa.answer.v1 import answer_service_pb2_grpc
from mivaa.search.v1 import search_service_pb2
from mivaa_answer import metrics
from mivaa_answer.generation.base import Passage
from mivaa_answer.usecases.ask import (
    AnswerText,
    Ask,
    AskEvent,
    CitationsMade,
    Finished,
    GeneratorChoice,
    Question,
    SourcesFound,
)
from mivaa_answer.usecases.summarize import Summarize
from mivaa_platform.tenancy import tenant_from_metadata

_CHOICES: dict[int, GeneratorChoice] = {
    pb.GENERATOR_UNSPECIFIED: GeneratorChoice.DEFAULT,
    pb.GENERATOR_EXTRACTIVE: GeneratorChoice.EXTRACTIVE,
    pb.GENERATOR_LLM: GeneratorChoice.LLM,
}


def choice_of(generator: int) -> GeneratorChoice:
    # An unknown enum value (a newer client) means the default, as UNSPECIFIED does.
    return _CHOICES.get(generator, GeneratorChoice.DEFAULT)


def source_to_proto(passage: Passage) -> pb.Source:
    return pb.Source(
        number=passage.number,
        document=passage.document,
        document_title=passage.document_title,
        chunk_index=passage.chunk_index,
        page_start=passage.page_start,
        page_end=passage.page_end,
        text=passage.text,
        score=passage.score,
    )


def event_to_proto(event: AskEvent) -> pb.AskResponse:
    if isinstance(event, SourcesFound):
        return pb.AskResponse(sources=pb.Sources(sources=[source_to_proto(p) for p in event.passages]))
    if isinstance(event, AnswerText):
        return pb.AskResponse(delta=pb.AnswerDelta(text=event.text))
    if isinstance(event, CitationsMade):
        return pb.AskResponse(
            citations=pb.Citations(
                citations=[
                    pb.Citation(
                        answer_start=c.answer_start,
                        answer_end=c.answer_end,
                        source=c.source,
                        document=c.document,
                        page=c.page,
                        bbox=search_service_pb2.BoundingBox(x0=c.bbox[0], y0=c.bbox[1], x1=c.bbox[2], y1=c.bbox[3])
                        if c.bbox
                        else None,
                        quote=c.quote,
                    )
                    for c in event.citations
                ]
            )
        )
    assert isinstance(event, Finished)
    return pb.AskResponse(
        done=pb.AnswerDone(
            conversation=event.conversation,
            found=event.found,
            generator=event.generator,
            standalone_question=event.standalone_question,
        )
    )


class AnswerServicer(answer_service_pb2_grpc.AnswerServiceServicer):
    def __init__(self, ask: Ask, summarize: Summarize):
        self._ask = ask
        self._summarize = summarize

    async def Ask(self, request: pb.AskRequest, context) -> AsyncIterator[pb.AskResponse]:
        question = Question(
            text=request.question,
            tenant=tenant_from_metadata(context.invocation_metadata()),
            conversation=request.conversation,
            documents=tuple(request.documents),
            labels=tuple(request.labels),
            source_count=request.source_count,
            generator=choice_of(request.generator),
        )
        started = time.perf_counter()
        first_token_seconds: float | None = None
        async for event in self._ask.ask(question):
            if isinstance(event, AnswerText) and first_token_seconds is None:
                first_token_seconds = time.perf_counter() - started
            elif isinstance(event, CitationsMade):
                metrics.CITATIONS.inc(len(event.citations))
            elif isinstance(event, Finished):
                metrics.ANSWERS.labels(event.generator, str(event.found).lower()).inc()
                if first_token_seconds is not None:
                    metrics.FIRST_TOKEN.labels(event.generator).observe(first_token_seconds)
            yield event_to_proto(event)

    async def SummarizeDocument(self, request: pb.SummarizeDocumentRequest, context) -> pb.SummarizeDocumentResponse:
        summary, cached = await self._summarize.summarize(
            request.name,
            choice_of(request.generator),
            tenant=tenant_from_metadata(context.invocation_metadata()),
        )
        return pb.SummarizeDocumentResponse(
            summary=summary.summary, pages=list(summary.pages), generator=summary.generator, cached=cached
        )
