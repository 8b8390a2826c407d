"""Re-embedding a tenant with another model of the same dimension, on a real PostgreSQL with two
real models: all-MiniLM-L6-v2 as the mesh runs it (int8 on the CPU) and its fp32 variant served
under another name, whose vectors differ measurably (cosine ~0.99, never 1). Models of another
dimension (the CLIP text tower): test_reembedding_dimensions.py."""

from __future__ import annotations

import asyncio
import json
import pathlib
import uuid
from collections.abc import Sequence

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector_async

from mivaa_platform.embedding import EmbeddedTexts
from mivaa_platform.errors import FailedPrecondition, InvalidArgument
from mivaa_search.store import ChunkRecord, DocumentContent
from mivaa_search.usecases import DocumentCatalog, Search
from mivaa_search.usecases.reembedding import Reembedding
from tests.embedder.clip_fixture import ExportVenvMissing, build_tiny_clip
from tests.search.retrieval_support import MODEL_DIR, add_document, generated_texts, search

NEW = "minilm-fp32"
CLIP = "tiny-clip"


def clip_dir() -> pathlib.Path | None:
    """The tiny CLIP export (built once into .cache by the export venv, as every CLIP test's);
    None without the export venv."""
    try:
        return build_tiny_clip()
    except ExportVenvMissing:
        return None


# Listed as served, never embedded with: more dimensions than an HNSW index takes.
HUGE = "huge-model"


class TwoModels:
    """The embedder's ports with two real text models of one dimension and, when exported, the
    CLIP text tower (another dimension)."""

    def __init__(self, base):
        from mivaa_embedder.text_model import OnnxTextEmbedder

        self._base = base
        self.model = base.model
        self._fp32 = OnnxTextEmbedder(MODEL_DIR, intra_op_threads=1, precision="fp32")
        self._clip = None
        self.calls: list[tuple[str, int]] = []

    async def embed(self, texts: Sequence[str], model: str = "") -> EmbeddedTexts:
        self.calls.append((model or self.model, len(texts)))
        if model in ("", self.model):
            return await self._base.embed(texts)
        if model == CLIP:
            if self._clip is None:
                from mivaa_embedder.clip_model import OnnxClipModel

                self._clip = OnnxClipModel(clip_dir(), providers=["CPUExecutionProvider"], intra_op_threads=1)
            batch = await asyncio.to_thread(self._clip.embed_texts, list(texts))
            return EmbeddedTexts(vectors=[list(v) for v in batch.vectors], token_counts=list(batch.token_counts))
        assert model == NEW, model
        batch = await asyncio.to_thread(self._fp32.embed, list(texts))
        return EmbeddedTexts(vectors=[list(v) for v in batch.vectors], token_counts=list(batch.token_counts))

    async def text_models(self) -> dict[str, int]:
        models = {self.model: 384, NEW: 384, HUGE: 4096}
        clip = clip_dir()
        if clip is not None:
            models[CLIP] = json.loads((clip / "manifest.json").read_text())["dimension"]
        return models


@pytest.fixture(scope="module")
def models(embedder):
    return TwoModels(embedder)


async def fetch(dsn: str, query: str, params=()) -> list[tuple]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await register_vector_async(conn)
        cur = await conn.execute(query, params)
        return await cur.fetchall()


def _array(value) -> np.ndarray:
    return np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value)


def _reembedding(store, models, **kwargs) -> Reembedding:
    return Reembedding(store, models, models, models.model, **kwargs)


async def _chunk_models(dsn: str, tenant: str) -> set[str]:
    rows = await fetch(
        dsn,
        "SELECT DISTINCT c.model FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.tenant = %s",
        [tenant],
    )
    return {row[0] for row in rows}


async def test_refuses_models_it_cannot_switch_to(store, models):
    reembedding = _reembedding(store, models)
    for model, reason in (
        ("no-such-model", "MODEL_NOT_SERVED"),
        (HUGE, "MODEL_DIMENSION_MISMATCH"),  # HNSW indexes 2,000 dimensions at most
        (models.model, "MODEL_ALREADY_ACTIVE"),
        ("", "INVALID_MODEL"),
        ("x" * 201, "INVALID_MODEL"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            await reembedding.start(model, tenant="t1")
        assert refused.value.reason == reason, model
    assert await store.reembeddings.latest(tenant="t1") is None


async def test_switches_the_tenant_and_only_it_while_search_answers(store, models, database_dsn):
    texts = generated_texts("harbour", 30)
    await add_document(store, models, "harbour", texts, tenant="t1")
    await add_document(store, models, "orchard", generated_texts("orchard", 5), tenant="t1")
    await add_document(store, models, "other", generated_texts("harbour", 5), tenant="t2")
    reembedding = _reembedding(store, models, batch_chunks=4)
    searcher = Search(store, models)
    started = await reembedding.start(NEW, tenant="t1")
    assert (started.state, started.chunks_total, started.chunks_done, started.from_model) == (
        "RUNNING",
        35,
        0,
        models.model,
    )
    with pytest.raises(FailedPrecondition) as second:
        await reembedding.start(NEW, tenant="t1")
    assert second.value.reason == "REEMBEDDING_RUNNING"

    answers: list[int] = []

    async def keep_searching(done: asyncio.Event) -> None:
        while not done.is_set():
            results = await search(searcher, "harbour page 12", tenant="t1")
            answers.append(len(results.hits))
            await asyncio.sleep(0)

    done = asyncio.Event()
    searching = asyncio.create_task(keep_searching(done))
    assert await reembedding.run_once()
    done.set()
    await searching
    assert answers and all(answers), "a search during the re-embedding came back empty"

    record = await store.reembeddings.get(started.id, tenant="t1")
    assert (record.state, record.chunks_done, record.chunks_total) == ("SUCCEEDED", 35, 35)
    assert record.switch_time is not None
    assert await reembedding.model_for("t1") == NEW and await reembedding.model_for("t2") == models.model
    assert await _chunk_models(database_dsn, "t1") == {NEW}
    assert await _chunk_models(database_dsn, "t2") == {models.model}
    assert await fetch(database_dsn, "SELECT count(*) FROM chunk_vectors") == [(0,)], "side vectors left behind"
    # The stored vectors are the new model's (fp32 vs int8: close, never equal).
    rows = await fetch(
        database_dsn,
        "SELECT c.text, c.embedding FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.tenant = 't1' LIMIT 3",
    )
    fresh = (await models.embed([r[0] for r in rows], model=NEW)).vectors
    for (_, stored), vector in zip(rows, fresh, strict=True):
        assert np.allclose(_array(stored), vector, atol=1e-5)
    # Queries now go to the new model, and find the page they name. A searcher that last saw the
    # tenant with the old model (a fresh one guesses the configured model) embeds the query once
    # more when the snapshot shows the switch, and from then on only with the new model.
    fresh_searcher = Search(store, models)
    for expected_calls in ([(models.model, 1), (NEW, 1)], [(NEW, 1)]):
        models.calls.clear()
        results = await search(fresh_searcher, texts[11], tenant="t1", mode="VECTOR")
        assert results.model == NEW and models.calls == expected_calls
        assert results.hits[0].hit.page_start == 12 and results.hits[0].score > 0.999
    # Another tenant is still searched with the configured model, by the same searcher.
    models.calls.clear()
    assert (await search(fresh_searcher, "harbour page 3", tenant="t2", mode="VECTOR")).model == models.model
    assert models.calls == [(models.model, 1)]


async def test_resumes_after_a_crash_and_catches_up_documents_written_meanwhile(store, models, database_dsn):
    await add_document(store, models, "first", generated_texts("meadow", 10), tenant="t1")
    crashed = _reembedding(store, models, batch_chunks=3)
    started = await crashed.start(NEW, tenant="t1")
    # A worker claims it, writes one batch and dies (its lease runs out).
    claimed = await store.reembeddings.claim(3)
    assert claimed is not None and claimed.id == started.id
    batch = await store.reembeddings.pending(claimed, 3)
    await store.reembeddings.write(claimed, batch, (await models.embed([c.text for c in batch], model=NEW)).vectors)
    assert (await store.reembeddings.get(started.id, tenant="t1")).chunks_done == 3
    # A document arrives meanwhile, embedded by the extractor's (old) model.
    late = await add_document(store, models, "late", generated_texts("glacier", 4), tenant="t1")
    assert await store.reembeddings.claim(3) is None, "a live lease was claimed twice"
    await asyncio.sleep(3.1)
    models.calls.clear()
    resumed = _reembedding(store, models, batch_chunks=3)
    assert await resumed.run_once()
    record = await store.reembeddings.get(started.id, tenant="t1")
    assert (record.state, record.chunks_done, record.chunks_total) == ("SUCCEEDED", 14, 14)
    assert sum(n for model, n in models.calls if model == NEW) == 11, "a chunk was embedded twice or skipped"
    rows = await fetch(database_dsn, "SELECT DISTINCT model FROM chunks WHERE document_id = %s", [uuid.UUID(late)])
    assert rows == [(NEW,)]


async def test_content_written_after_the_switch_is_embedded_with_the_tenants_model(store, models, database_dsn):
    await add_document(store, models, "before", generated_texts("canyon", 3), tenant="t1")
    reembedding = _reembedding(store, models)
    await reembedding.start(NEW, tenant="t1")
    assert await reembedding.run_once()
    catalog = DocumentCatalog(store, None)
    from tests.search.support import create

    doc, _ = await create(store, "after.pdf", "after", [], "a" * 64, 10, 1, "jobs/2", tenant="t1")
    text = "The canyon walls glow red at sunset."
    old = (await models.embed([text])).vectors[0]
    chunk = ChunkRecord(index=0, text=text, page_start=1, page_end=1, token_count=8, embedding=old)
    content = DocumentContent(chunks=[chunk], model=models.model, page_count=1, mark_ready=True)
    # Written as the extractor writes it, with the old model: refused by the store...
    with pytest.raises(FailedPrecondition) as refused:
        await catalog.replace_content(doc.id, content, tenant="t1")
    assert refused.value.reason == "EMBEDDING_MODEL_CHANGED"
    # ...and embedded again with the tenant's model on the service's path.
    await reembedding.replace_content(catalog, doc.id, content, tenant="t1")
    rows = await fetch(database_dsn, "SELECT model, embedding FROM chunks WHERE document_id = %s", [uuid.UUID(doc.id)])
    assert rows[0][0] == NEW
    assert np.allclose(_array(rows[0][1]), (await models.embed([text], model=NEW)).vectors[0], atol=1e-5)


async def test_cancel_keeps_the_model_and_removes_the_side_vectors(store, models, database_dsn):
    await add_document(store, models, "kept", generated_texts("delta", 6), tenant="t1")
    reembedding = _reembedding(store, models)
    started = await reembedding.start(NEW, tenant="t1")
    claimed = await store.reembeddings.claim(60)
    assert claimed is not None
    batch = await store.reembeddings.pending(claimed, 2)
    await store.reembeddings.write(claimed, batch, (await models.embed([c.text for c in batch], model=NEW)).vectors)
    cancelled = await reembedding.cancel(started.id, tenant="t1")
    assert cancelled.state == "CANCELLED"
    assert await fetch(database_dsn, "SELECT count(*) FROM chunk_vectors") == [(0,)]
    assert await reembedding.model_for("t1") == models.model
    assert not await store.reembeddings.renew(started.id, 60), "a cancelled re-embedding kept its lease"
    # A worker's batch that was embedding while the cancel came writes nothing.
    late_batch = await store.reembeddings.pending(claimed, 2)
    vectors = (await models.embed([c.text for c in late_batch], model=NEW)).vectors
    await store.reembeddings.write(claimed, late_batch, vectors)
    assert await fetch(database_dsn, "SELECT count(*) FROM chunk_vectors") == [(0,)]
    with pytest.raises(FailedPrecondition) as again:
        await reembedding.cancel(started.id, tenant="t1")
    assert again.value.reason == "REEMBEDDING_NOT_RUNNING"
    # Another tenant sees none of it.
    with pytest.raises(Exception) as hidden:
        await reembedding.get(started.id, tenant="t2")
    assert getattr(hidden.value, "reason", "") == "REEMBEDDING_NOT_FOUND"
    # And a new one may start.
    assert (await reembedding.start(NEW, tenant="t1")).state == "RUNNING"
