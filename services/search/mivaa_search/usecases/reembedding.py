"""Re-embedding a tenant's documents with another text model while search keeps answering.

Start checks the model (served, embeds text, of a dimension an HNSW index takes, not the
tenant's model already) and records a RUNNING re-embedding. A worker in every search replica
claims running ones by lease (store/reembedding.py), makes sure the new model's dimension has its
vector index (store/text_vectors.py) and embeds the chunks still lacking a new vector in batches
at bulk priority; a crash loses at most a batch. When none is left (chunks written meanwhile
included) it switches the tenant in one transaction: from then on queries are embedded with the
new model and compared with the new vectors, and the side vectors are gone.

The extractor asks for the tenant's model before it embeds an upload (GetReembedding's
active_model), so chunks arrive embedded with it. One embedded with another (an extractor that
asked just before a switch, or could not ask) is embedded again by `conform` before it is stored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from mivaa_platform.errors import FailedPrecondition, InvalidArgument, MivaaError
from mivaa_search.names import DOMAIN
from mivaa_search.store import DocumentContent, DocumentRecord, SearchStore
from mivaa_search.store.records import MAX_DIMENSION
from mivaa_search.store.reembedding import MODEL_CHANGED, ReembeddingRecord
from mivaa_search.usecases.ports import TextEmbedder, TextModels

log = logging.getLogger("mivaa.search.reembedding")

MAX_MODEL_NAME_CHARS = 200
BATCH_CHUNKS = 64
LEASE_SECONDS = 60.0
# Embedder answers that will not change by retrying: the re-embedding fails with them.
_PERMANENT = ("MODEL_NOT_FOUND", "NO_MODELS", "INVALID_EMBEDDING", "EMBEDDING_DIMENSION_MISMATCH")


class Reembedding:
    def __init__(
        self,
        store: SearchStore,
        embedder: TextEmbedder,
        models: TextModels,
        base_model: str,
        *,
        batch_chunks: int = BATCH_CHUNKS,
        lease_seconds: float = LEASE_SECONDS,
    ):
        """embedder: bulk priority (it embeds whole tenants); base_model: the configured text model,
        every tenant's until it switches."""
        self._store = store
        self._embedder = embedder
        self._models = models
        self.base_model = base_model
        self._batch = batch_chunks
        self._lease = lease_seconds
        self._wake = asyncio.Event()

    async def model_for(self, tenant: str) -> str:
        """The text model the tenant's chunks are embedded with (and its queries must be)."""
        return await self._store.reembeddings.active_model(tenant) or self.base_model

    async def start(self, model: str, *, tenant: str) -> ReembeddingRecord:
        model = model.strip() if isinstance(model, str) else ""
        if not model or len(model) > MAX_MODEL_NAME_CHARS:
            raise InvalidArgument(
                "INVALID_MODEL", f"Name a text model of 1 to {MAX_MODEL_NAME_CHARS} characters.", domain=DOMAIN
            )
        served = await self._models.text_models()
        if model not in served:
            raise InvalidArgument(
                "MODEL_NOT_SERVED",
                f"The embedder serves no text model named {model!r}.",
                domain=DOMAIN,
                metadata={"model": model, "available": ",".join(sorted(served))},
            )
        dimension = served[model]
        if not 1 <= dimension <= MAX_DIMENSION:
            # The one dimension still impossible: pgvector's HNSW indexes take 2,000 at most.
            raise InvalidArgument(
                "MODEL_DIMENSION_MISMATCH",
                f"{model!r} makes {dimension}-dimensional vectors; the vector index takes 1 to {MAX_DIMENSION}.",
                domain=DOMAIN,
                metadata={"model": model, "model_dimension": str(dimension), "max_dimension": str(MAX_DIMENSION)},
            )
        current = await self.model_for(tenant)
        if model == current:
            raise InvalidArgument(
                "MODEL_ALREADY_ACTIVE", f"The tenant's documents are embedded with {model!r} already.", domain=DOMAIN
            )
        record = await self._store.reembeddings.start(tenant, model, current, dimension)
        self._wake.set()
        return record

    async def get(self, id: str, *, tenant: str) -> ReembeddingRecord:
        return await self._store.reembeddings.get(id, tenant=tenant)

    async def latest(self, *, tenant: str) -> ReembeddingRecord | None:
        return await self._store.reembeddings.latest(tenant=tenant)

    async def cancel(self, id: str, *, tenant: str) -> ReembeddingRecord:
        return await self._store.reembeddings.cancel(id, tenant=tenant)

    # -- writes of new content ----------------------------------------------------------

    async def replace_content(self, catalog, id: str, content: DocumentContent, *, tenant: str) -> DocumentRecord:
        """A document's new content stored with vectors of the tenant's model (a switch committed
        while it was being embedded makes it embed again, once)."""
        for attempt in range(2):
            content = await self.conform(content, tenant=tenant)
            try:
                return await catalog.replace_content(id, content, tenant=tenant)
            except FailedPrecondition as error:
                if error.reason != MODEL_CHANGED or attempt:
                    raise
        raise AssertionError("unreachable")

    async def conform(self, content: DocumentContent, *, tenant: str) -> DocumentContent:
        model = await self.model_for(tenant)
        if content.model == model or not content.chunks:
            return content
        embedded = await self._embedder.embed([chunk.text for chunk in content.chunks], model=model)
        chunks = [
            dataclasses.replace(chunk, embedding=vector)
            for chunk, vector in zip(content.chunks, embedded.vectors, strict=True)
        ]
        return dataclasses.replace(content, chunks=chunks, model=model)

    # -- the worker -----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        """Claims and works running re-embeddings until `stop` is set."""
        while not stop.is_set():
            try:
                while await self.run_once():
                    pass
            except Exception:  # the database or embedder away: the lease runs out, a later round resumes
                log.exception("re-embedding round failed")
            self._wake.clear()
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waits, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()

    async def run_once(self) -> bool:
        """Works one claimed re-embedding to its end (switched, cancelled or failed); False when
        there was none to claim."""
        record = await self._store.reembeddings.claim(self._lease)
        if record is None:
            return False
        repository = self._store.reembeddings
        # Before any batch: a switch must find the index its new vectors' dimension needs.
        await repository.ensure_index(repository.target_dimension(record))
        log.info("re-embedding", extra={"fields": {"id": record.id, "tenant": record.tenant, "model": record.model}})
        while await repository.renew(record.id, self._lease):
            chunks = await repository.pending(record, self._batch)
            if not chunks:
                if await repository.switch(record):
                    log.info("re-embedding switched", extra={"fields": {"id": record.id, "model": record.model}})
                    return True
                continue  # chunks written meanwhile: embed them too
            try:
                embedded = await self._embedder.embed([c.text for c in chunks], model=record.model)
                await repository.write(record, chunks, embedded.vectors)
            except MivaaError as error:
                if error.reason not in _PERMANENT:
                    raise
                await repository.fail(record.id, f"{error.reason}: {error}")
                return True
        return True  # cancelled
