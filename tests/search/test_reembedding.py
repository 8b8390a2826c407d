"""Re-embedding a tenant with another model of the same dimension, on a real PostgreSQL with two
real models: all-MiniLM-L6-v2 as the mesh runs it (int8 on the CPU) and its fp32 variant served
under another name, whose vectors differ measurably (cosine ~0.99, never 1). Models of another
dimension (the CLIP text tower): test_reembedding_dimensions.py."""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
import pytest

from mivaa_platform.errors import FailedPrecondition, InvalidArgument
from mivaa_search.store import DocumentContent
from mivaa_search.usecases import DocumentCatalog, Search
from tests.search.reembedding_support import (
    AFTER_SWITCH,
    HUGE,
    NEW,
    TwoModels,
    arriving,
    assert_searcher_catches_up,
    cancel_midway,
    chunk_column,
    reembedding,
    switch_while_searching,
    switched,
)
from tests.search.retrieval_support import add_document, generated_texts, search
from tests.search.support import fetch


@pytest.fixture(scope="module")
def models(embedder):
    return TwoModels(embedder)


async def test_refuses_models_it_cannot_switch_to(store, models):
    switching = reembedding(store, models)
    for model, reason in (
        ("no-such-model", "MODEL_NOT_SERVED"),
        (HUGE, "MODEL_DIMENSION_MISMATCH"),  # HNSW indexes 2,000 dimensions at most
        (models.model, "MODEL_ALREADY_ACTIVE"),
        ("", "INVALID_MODEL"),
        ("x" * 201, "INVALID_MODEL"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            await switching.start(model, tenant="t1")
        assert refused.value.reason == reason, model
    assert await store.reembeddings.latest(tenant="t1") is None


async def test_switches_the_tenant_and_only_it_while_search_answers(store, models, database_dsn):
    record, texts, _ = await switch_while_searching(store, models, database_dsn, NEW)
    assert record.switch_time is not None
    assert await chunk_column(database_dsn, "t1", "c.model") == {NEW}
    assert await chunk_column(database_dsn, "t2", "c.model") == {models.model}
    # The stored vectors are the new model's (fp32 vs int8: close, never equal).
    rows = await fetch(
        database_dsn,
        "SELECT c.text, c.embedding::real[] FROM chunks c JOIN documents d ON d.id = c.document_id"
        " WHERE d.tenant = 't1' LIMIT 3",
    )
    fresh = (await models.embed([r[0] for r in rows], model=NEW)).vectors
    for (_, stored), vector in zip(rows, fresh, strict=True):
        assert np.allclose(stored, vector, atol=1e-5)
    # Queries now go to the new model, and find the page they name.
    results = await assert_searcher_catches_up(store, models, texts[11], NEW)
    assert results.hits[0].hit.page_start == 12 and results.hits[0].score > 0.999
    # Another tenant is still searched with the configured model.
    models.calls.clear()
    assert (await search(Search(store, models), "harbour page 3", tenant="t2", mode="VECTOR")).model == models.model
    assert models.calls == [(models.model, 1)]


async def test_resumes_after_a_crash_and_catches_up_documents_written_meanwhile(store, models, database_dsn):
    await add_document(store, models, "first", generated_texts("meadow", 10), tenant="t1")
    crashed = reembedding(store, models, batch_chunks=3)
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
    resumed = reembedding(store, models, batch_chunks=3)
    assert await resumed.run_once()
    record = await store.reembeddings.get(started.id, tenant="t1")
    assert (record.state, record.chunks_done, record.chunks_total) == ("SUCCEEDED", 14, 14)
    assert sum(n for model, n in models.calls if model == NEW) == 11, "a chunk was embedded twice or skipped"
    rows = await fetch(database_dsn, "SELECT DISTINCT model FROM chunks WHERE document_id = %s", [uuid.UUID(late)])
    assert rows == [(NEW,)]


async def test_content_written_after_the_switch_is_embedded_with_the_tenants_model(store, models, database_dsn):
    switching = await switched(store, models, NEW)
    catalog = DocumentCatalog(store, None)
    doc, chunk = await arriving(store, "after", (await models.embed([AFTER_SWITCH])).vectors[0], sha="a" * 64)
    content = DocumentContent(chunks=[chunk], model=models.model, page_count=1, mark_ready=True)
    # Written as the extractor writes it, with the old model: refused by the store...
    with pytest.raises(FailedPrecondition) as refused:
        await catalog.replace_content(doc, content, tenant="t1")
    assert refused.value.reason == "EMBEDDING_MODEL_CHANGED"
    # ...and embedded again with the tenant's model on the service's path.
    await switching.replace_content(catalog, doc, content, tenant="t1")
    rows = await fetch(
        database_dsn, "SELECT model, embedding::real[] FROM chunks WHERE document_id = %s", [uuid.UUID(doc)]
    )
    assert rows[0][0] == NEW
    assert np.allclose(rows[0][1], (await models.embed([AFTER_SWITCH], model=NEW)).vectors[0], atol=1e-5)


async def test_cancel_keeps_the_model_and_removes_the_side_vectors(store, models, database_dsn):
    started, claimed, switching = await cancel_midway(store, models, database_dsn, NEW, generated_texts("delta", 6))
    assert not await store.reembeddings.renew(started.id, 60), "a cancelled re-embedding kept its lease"
    # A worker's batch that was embedding while the cancel came writes nothing.
    late_batch = await store.reembeddings.pending(claimed, 2)
    vectors = (await models.embed([c.text for c in late_batch], model=NEW)).vectors
    await store.reembeddings.write(claimed, late_batch, vectors)
    assert await fetch(database_dsn, "SELECT count(*) FROM chunk_vectors") == [(0,)]
    with pytest.raises(FailedPrecondition) as again:
        await switching.cancel(started.id, tenant="t1")
    assert again.value.reason == "REEMBEDDING_NOT_RUNNING"
    # Another tenant sees none of it.
    with pytest.raises(Exception) as hidden:
        await switching.get(started.id, tenant="t2")
    assert getattr(hidden.value, "reason", "") == "REEMBEDDING_NOT_FOUND"
    # And a new one may start.
    assert (await switching.start(NEW, tenant="t1")).state == "RUNNING"
