"""Named entities of the chunks of English documents, found beside their embedding.

The recognizer reads chunk texts; a chunk can span pages, so an entity's pages are those of
the chunk whose text holds it (a chunk on one page needs no look). Page texts are kept only
until every chunk that can still start on them is done.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from mivaa_extractor.extraction.chunking import TextChunk
from mivaa_extractor.extraction.structure.model import PageLayout
from mivaa_extractor.ports import ChunkEntity, EntityFinder
from mivaa_extractor.worker.progress import Progress

# Entities are recognized in documents whose detected language is one of these (the model is English).
ENTITY_LANGUAGES = frozenset({"en"})

_SPACE = re.compile(r"\s+")


def _flat(text: str) -> str:
    return _SPACE.sub(" ", text).casefold()


class EntityStage:
    def __init__(self, finder: EntityFinder | None):
        self._finder = finder

    def for_document(self, language: str, tenant: str) -> DocumentEntities | None:
        """The stage's state for one document; None when its entities are not recognized
        (no recognizer configured, or a language other than English, "" when unsure included)."""
        if self._finder is None or language not in ENTITY_LANGUAGES:
            return None
        return DocumentEntities(self._finder, tenant)


class DocumentEntities:
    def __init__(self, finder: EntityFinder, tenant: str):
        self._finder = finder
        self._tenant = tenant
        self._page_texts: dict[int, str] = {}

    def remember(self, page: PageLayout) -> None:
        """Keeps the page's text, to place entities of chunks that span it."""
        if not page.error:
            self._page_texts[page.number] = _flat(page.text)

    async def find(self, chunks: Sequence[TextChunk], progress: Progress) -> list[tuple[ChunkEntity, ...]]:
        """Each chunk's entities, in the order of `chunks` (chunks come in document order)."""
        if not chunks:
            return []
        started = time.perf_counter()
        found = await self._finder.recognize([chunk.text for chunk in chunks], owner=self._tenant)
        per_chunk = [
            tuple(ChunkEntity(e.type, e.text, self._pages(chunk, e.text)) for e in entities)
            for chunk, entities in zip(chunks, found, strict=True)
        ]
        # Later chunks start on the last one's first page or after it.
        for number in [n for n in self._page_texts if n < chunks[-1].page_start]:
            del self._page_texts[number]
        progress.entity_seconds += time.perf_counter() - started
        progress.entities_found += sum(len(entities) for entities in per_chunk)
        return per_chunk

    def _pages(self, chunk: TextChunk, text: str) -> tuple[int, ...]:
        if chunk.page_start == chunk.page_end:
            return (chunk.page_start,)
        needle = _flat(text)
        pages = tuple(n for n in range(chunk.page_start, chunk.page_end + 1) if needle in self._page_texts.get(n, ""))
        return pages or (chunk.page_start,)
