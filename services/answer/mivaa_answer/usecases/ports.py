"""What the use cases need from the outside world, as protocols (adapters implement them)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from llama_index.core.retrievers import BaseRetriever


class TextEmbedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]]:
        """One unit vector per text, in order."""
        ...


@dataclass(frozen=True)
class RetrievalScope:
    """What one Ask may retrieve from: one tenant's documents, optionally narrowed."""

    tenant: str
    documents: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    top_k: int = 5


class Retrieval(Protocol):
    def retriever(self, scope: RetrievalScope) -> BaseRetriever:
        """A llama-index retriever over the scope; its nodes carry the Passage fields as metadata."""
        ...


@dataclass(frozen=True)
class PageBlock:
    text: str
    bbox: tuple[float, float, float, float] | None


@dataclass(frozen=True)
class PageText:
    number: int
    blocks: tuple[PageBlock, ...]


class PageReader(Protocol):
    async def pages(self, document: str, first: int, last: int, *, tenant: str) -> list[PageText]:
        """Pages first..last (1-based, inclusive) of a tenant's document; [] when it is gone."""
        ...


@dataclass(frozen=True)
class DocumentInfo:
    name: str
    title: str
    page_count: int
    # Changes whenever the document is replaced: the summary cache is keyed by it.
    version: str


class DocumentReader(Protocol):
    async def document(self, name: str, *, tenant: str) -> DocumentInfo:
        """NOT_FOUND DOCUMENT_NOT_FOUND for a missing (or another tenant's) document."""
        ...


@dataclass(frozen=True)
class Turn:
    question: str
    standalone_question: str
    answer: str
    found: bool
    generator: str


@dataclass(frozen=True)
class Conversation:
    id: str
    tenant: str
    turns: list[Turn] = field(default_factory=list)
    update_time: datetime.datetime | None = None


class ConversationStore(Protocol):
    async def create(self, *, tenant: str) -> Conversation: ...

    async def get(self, id: str, *, tenant: str, last_turns: int) -> Conversation:
        """The conversation with its last turns (oldest first); CONVERSATION_NOT_FOUND for a
        missing one and for another tenant's alike."""
        ...

    async def add_turn(self, id: str, turn: Turn, *, tenant: str) -> None: ...


@dataclass(frozen=True)
class Summary:
    summary: str
    pages: tuple[int, ...]
    generator: str


class SummaryCache(Protocol):
    async def get(self, document: str, version: str, generator: str, *, tenant: str) -> Summary | None: ...

    async def put(self, document: str, version: str, summary: Summary, *, tenant: str) -> None: ...
