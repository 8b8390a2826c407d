"""The LLM generator: any OpenAI-compatible chat endpoint, through llama-index's LLM abstraction (OpenAILike).

It streams the answer with llama-index's citation prompting (prompts.py), rewrites follow-ups with llama-index's
condense-question prompt, and summarizes a document. Every call has a deadline; an endpoint that is down, slow,
or answers with an error raises GeneratorUnavailableError (the service: UNAVAILABLE LLM_UNAVAILABLE). It never
falls back to another generator by itself: that is the service's choice, and only when configured.
"""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import openai
from llama_index.core.llms import ChatMessage
from llama_index.llms.openai_like import OpenAILike

from mivaa_answer.generation.base import NOT_FOUND_ANSWER, GeneratorUnavailableError, Passage
from mivaa_answer.generation.prompts import (
    CONDENSE_STOP_SEQUENCES,
    STOP_SEQUENCES,
    answer_messages,
    condense_messages,
    summary_messages,
)

# What a failing endpoint raises through llama-index: the OpenAI client's errors (connection refused, timeouts,
# HTTP errors, malformed replies), and what httpx or the socket raise around them.
_BACKEND_ERRORS = (openai.OpenAIError, httpx.HTTPError, OSError, TimeoutError)
# An OpenAI client needs some key; a local endpoint without auth ignores it.
_NO_KEY = "unused"
# A standalone question is one sentence: a small model that goes on is cut here.
_CONDENSE_MAX_TOKENS = 64


def load_api_key(path: str | pathlib.Path) -> str:
    """The key from its secret file (one line); an empty path means an endpoint without auth."""
    if not str(path):
        return ""
    return pathlib.Path(path).read_text().strip()


class LlmGenerator:
    """An AnswerGenerator backed by an OpenAI-compatible chat endpoint.

    url: the API's base URL, ending in /v1 (http://127.0.0.1:8081/v1); model: the name it serves (what
    AnswerDone.generator reports); api_key: the key itself, read from a secret file (load_api_key), never
    from argv or env. Every call (an answer's whole stream, a condense, a summary) ends within
    timeout_seconds, and waits at most idle_timeout_seconds in silence (connecting, before the first token,
    between deltas). Each passage is cut to max_passage_chars in the prompt, so five chunks stay within a
    small model's context and its prompt evaluation (the first-token latency) stays bounded on a CPU.

    The defaults suit a small model on a CPU (bench/llm_latency.py): evaluating five 1,200-character
    passages took 15-45 s before the first token on the busy 2-core dev machine, and a 270M model that
    goes past ~250 tokens is repeating itself.
    """

    def __init__(
        self,
        *,
        url: str,
        model: str,
        api_key: str = "",
        timeout_seconds: float = 120.0,
        idle_timeout_seconds: float = 60.0,
        max_tokens: int = 256,
        max_passage_chars: int = 1200,
    ):
        self.name = model
        self._url = url
        self._timeout = timeout_seconds
        self._idle_timeout = min(idle_timeout_seconds, timeout_seconds)
        self._max_passage_chars = max_passage_chars
        self._llm = OpenAILike(
            model=model,
            api_base=url,
            api_key=api_key or _NO_KEY,
            is_chat_model=True,
            is_function_calling_model=False,
            max_tokens=max_tokens,
            temperature=0.0,  # answers that quote, not ones that invent
            timeout=self._idle_timeout,  # the OpenAI client's connect and per-read timeout
            max_retries=0,  # a retry would hide a down endpoint behind seconds of waiting; the caller may retry
            additional_kwargs={"stop": list(STOP_SEQUENCES)},
        )

    async def stream_answer(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        if not passages:
            yield NOT_FOUND_ANSWER
            return
        answered = False
        async for delta in self._stream(answer_messages(question, passages, self._max_passage_chars)):
            answered = True
            yield delta
        if not answered:  # the model said nothing: that answers nothing
            yield NOT_FOUND_ANSWER

    async def condense(self, history: Sequence[tuple[str, str]], question: str) -> str:
        if not history:  # as llama-index's CondenseQuestionChatEngine: nothing to condense
            return question
        text = await self._complete(
            condense_messages(history, question), max_tokens=_CONDENSE_MAX_TOKENS, stop=list(CONDENSE_STOP_SEQUENCES)
        )
        return _first_line(text) or question

    async def summarize(self, title: str, passages: Sequence[Passage]) -> str:
        if not passages:
            return ""
        text = await self._complete(summary_messages(title, passages, self._max_passage_chars))
        if not text.strip():
            raise GeneratorUnavailableError(f"{self.name} returned an empty summary")
        return text.strip()

    # -- calls with deadlines ------------------------------------------------------------
    async def _complete(self, messages: list[ChatMessage], **overrides: Any) -> str:
        """The whole reply, streamed underneath: a slow model keeps the call alive while it writes
        (a plain request's read timeout would have to cover the whole generation)."""
        return "".join([delta async for delta in self._stream(messages, **overrides)])

    async def _stream(self, messages: list[ChatMessage], **overrides: Any) -> AsyncIterator[str]:
        """The reply's text deltas, leading and trailing whitespace trimmed, within the call's deadline.

        Each wait is bounded separately (not one timeout around the loop): between two deltas the caller
        runs its own code, which a deadline spanning the yields would cancel.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        trim = _Trim()
        try:
            stream = await asyncio.wait_for(self._llm.astream_chat(messages, **overrides), timeout=self._timeout)
        except _BACKEND_ERRORS as error:
            raise self._unavailable(error) from error
        try:
            while True:
                try:
                    response = await asyncio.wait_for(anext(stream), timeout=max(0.0, deadline - loop.time()))
                except StopAsyncIteration:
                    return
                except _BACKEND_ERRORS as error:
                    raise self._unavailable(error) from error
                text = trim.feed(response.delta or "")
                if text:
                    yield text
        finally:
            await stream.aclose()

    def _unavailable(self, error: BaseException) -> GeneratorUnavailableError:
        if isinstance(error, TimeoutError):  # the call's own deadline
            reason = f"timed out: no complete reply within {self._timeout:g}s"
        elif isinstance(error, openai.APITimeoutError | httpx.TimeoutException):  # the client's, per read
            reason = f"timed out: silent for {self._idle_timeout:g}s"
        else:
            reason = f"{type(error).__name__}: {error}"
        return GeneratorUnavailableError(f"LLM endpoint {self._url} ({self.name}): {reason}")


class _Trim:
    """Drops the reply's leading whitespace and holds back whitespace until more text follows it,
    so the streamed answer neither starts nor ends blank ("Answer: " leaves a space, a stop a newline)."""

    def __init__(self) -> None:
        self._started = False
        self._held = ""

    def feed(self, delta: str) -> str:
        if not self._started:
            delta = delta.lstrip()
            if not delta:
                return ""
            self._started = True
        text = self._held + delta
        body = text.rstrip()
        self._held = text[len(body) :]
        return body


def _first_line(text: str) -> str:
    """The first non-blank line, without the quotes or label a model may wrap a question in."""
    for line in text.splitlines():
        line = line.strip().removeprefix("<Standalone question>").strip().strip('"').strip()
        if line:
            return line
    return ""
