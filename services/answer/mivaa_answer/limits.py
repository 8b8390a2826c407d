"""What an Ask may ask for, checked before any work (INVALID_ARGUMENT with one reason each)."""

from __future__ import annotations

import re
import uuid

from mivaa_platform.errors import InvalidArgument

DOMAIN = "answer.mivaa"
# C0 and C1 controls but tab, line feed and carriage return (PostgreSQL cannot store NUL at all).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONVERSATION_PREFIX = "conversations/"
DEFAULT_SOURCE_COUNT = 5
MAX_SOURCE_COUNT = 20
# Filters an Ask may carry (each is sent on to SearchChunks).
MAX_FILTER_VALUES = 100


def check_question(question: str, *, max_bytes: int) -> str:
    if not question.strip():
        raise InvalidArgument("QUESTION_EMPTY", "The question is empty.", domain=DOMAIN)
    size = len(question.encode("utf-8"))
    if size > max_bytes:
        raise InvalidArgument(
            "QUESTION_TOO_LONG",
            f"The question is {size} bytes; at most {max_bytes} are accepted.",
            domain=DOMAIN,
            metadata={"max_bytes": str(max_bytes), "bytes": str(size)},
        )
    if _CONTROL.search(question):
        raise InvalidArgument(
            "CONTROL_CHARACTERS",
            "The question must not contain control characters (line breaks and tabs are fine).",
            domain=DOMAIN,
            metadata={"field": "question"},
        )
    return question.strip()


def check_source_count(count: int) -> int:
    if count == 0:
        return DEFAULT_SOURCE_COUNT
    if not 1 <= count <= MAX_SOURCE_COUNT:
        raise InvalidArgument(
            "SOURCE_COUNT_OUT_OF_RANGE",
            f"source_count must be 0 (the default, {DEFAULT_SOURCE_COUNT}) or 1 to {MAX_SOURCE_COUNT}.",
            domain=DOMAIN,
            metadata={"max": str(MAX_SOURCE_COUNT)},
        )
    return count


def check_filters(documents: list[str], labels: list[str]) -> None:
    if len(documents) > MAX_FILTER_VALUES or len(labels) > MAX_FILTER_VALUES:
        raise InvalidArgument(
            "TOO_MANY_FILTERS",
            f"At most {MAX_FILTER_VALUES} documents and {MAX_FILTER_VALUES} labels may narrow a question.",
            domain=DOMAIN,
            metadata={"max": str(MAX_FILTER_VALUES)},
        )


def conversation_id(name: str) -> str:
    """The id in "conversations/{id}", or INVALID_CONVERSATION_NAME."""
    raw = name.removeprefix(CONVERSATION_PREFIX) if name.startswith(CONVERSATION_PREFIX) else None
    try:
        parsed = uuid.UUID(raw) if raw else None
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != raw:
        raise InvalidArgument(
            "INVALID_CONVERSATION_NAME",
            'A conversation is named "conversations/{id}", as AnswerDone.conversation gave it.',
            domain=DOMAIN,
            metadata={"name": name[:100]},
        )
    return raw


def conversation_name(id: str) -> str:
    return CONVERSATION_PREFIX + id
