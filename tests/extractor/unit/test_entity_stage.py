"""The entity stage against a fake recognizer: which documents it reads, and the pages it gives an entity."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from mivaa_extractor.extraction.chunking import TextChunk
from mivaa_extractor.extraction.entities import FoundEntity
from mivaa_extractor.extraction.structure.model import PageLayout
from mivaa_extractor.worker.entity_stage import EntityStage
from mivaa_extractor.worker.progress import Progress


class FakeFinder:
    """Finds every capitalized word as a PERSON."""

    def __init__(self) -> None:
        self.owners: list[Hashable] = []

    async def recognize(self, texts: Sequence[str], *, owner: Hashable = None) -> list[list[FoundEntity]]:
        self.owners.append(owner)
        found = []
        for text in texts:
            words, position = [], 0
            for word in text.split():
                start = text.index(word, position)
                position = start + len(word)
                if word[:1].isupper():
                    words.append(FoundEntity("PERSON", word, start, position))
            found.append(words)
        return found


def test_only_english_documents_are_read_and_only_with_a_recognizer():
    stage = EntityStage(FakeFinder())
    assert stage.for_document("en", "acme") is not None
    assert stage.for_document("de", "acme") is None
    assert stage.for_document("", "acme") is None  # unsure is not English
    assert EntityStage(None).for_document("en", "acme") is None


async def test_an_entity_of_a_chunk_over_two_pages_gets_the_page_it_is_on():
    finder = FakeFinder()
    document = EntityStage(finder).for_document("en", "acme")
    assert document is not None
    document.remember(PageLayout.from_text(1, "the meeting with  Alice went on"))
    document.remember(PageLayout.from_text(2, "until Bob arrived"))
    chunks = [
        TextChunk(0, "the meeting with Alice went on until Bob arrived", 1, 2, 10),
        TextChunk(1, "later Carol left", 2, 2, 3),
    ]
    progress = Progress()
    found = await document.find(chunks, progress)
    assert [[(e.text, e.pages) for e in entities] for entities in found] == [
        [("Alice", (1,)), ("Bob", (2,))],
        [("Carol", (2,))],
    ]
    assert progress.entities_found == 3 and finder.owners == ["acme"]
