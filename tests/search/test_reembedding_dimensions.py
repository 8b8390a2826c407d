"""Re-embedding a tenant with a text model of another dimension (MiniLM's 384 to the CLIP text
tower's), on a real PostgreSQL with the real models: the new vectors get an HNSW index of their
own dimension, search answers throughout and afterwards uses the new model and that index,
another tenant keeps its model, vectors and index, and a cancel leaves nothing behind."""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector_async

from mivaa_search.store import ChunkRecord, DocumentContent, SearchFilter, VectorTuning
from mivaa_search.store.text_vectors import indexed_distance, of_dimension
from mivaa_search.usecases import DocumentCatalog, Search
from tests.search.retrieval_support import add_document, generated_texts, search
from tests.search.support import create, fetch
from tests.search.test_reembedding import CLIP, TwoModels, _reembedding, clip_dir


@pytest.fixture(scope="module")
def models(embedder):
    if clip_dir() is None:
        pytest.skip("no tiny CLIP: its export needs the export venv (`make export-venv`)")
    return TwoModels(embedder)


async def _dimensions(dsn: str, tenant: str) -> set[int]:
    rows = await fetch(
        dsn,
        "SELECT DISTINCT vector_dims(c.embedding) FROM chunks c JOIN documents d ON d.id = c.document_id"
        " WHERE d.tenant = %s",
        [tenant],
    )
    return {row[0] for row in rows}


async def _plan(dsn: str, dimension: int, query) -> str:
    """The plan of the nearest-chunks query shape retrieval uses for large candidate sets, with
    sequential scans and sorts priced out (a test table is small enough for them to win
    otherwise): only an index that yields the order can serve it."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await register_vector_async(conn)
        await conn.execute("SET enable_seqscan = off")
        await conn.execute("SET enable_sort = off")
        cur = await conn.execute(
            f"EXPLAIN SELECT c.document_id FROM chunks c JOIN documents d ON d.id = c.document_id"
            f" WHERE {of_dimension('c', dimension)} AND d.tenant = %(tenant)s"
            f" ORDER BY {indexed_distance('c', dimension)} LIMIT 5",
            {"tenant": "t1", "query": np.asarray(query, dtype=np.float32)},
        )
        return "\n".join(row[0] for row in await cur.fetchall())


async def test_switches_to_another_dimension_while_search_answers(store, models, database_dsn):
    texts = generated_texts("harbour", 30)
    first = await add_document(store, models, "harbour", texts, tenant="t1")
    second = await add_document(store, models, "orchard", generated_texts("orchard", 5), tenant="t1")
    await add_document(store, models, "other", generated_texts("harbour", 5), tenant="t2")
    clip_dimension = (await models.text_models())[CLIP]
    assert clip_dimension != store.dimension
    reembedding = _reembedding(store, models, batch_chunks=4)
    searcher = Search(store, models)
    started = await reembedding.start(CLIP, tenant="t1")
    assert (started.state, started.chunks_total, started.dimension) == ("RUNNING", 35, clip_dimension)

    answers: list[int] = []

    async def keep_searching(done: asyncio.Event) -> None:
        while not done.is_set():  # an error ends the loop and fails the test when awaited
            # By vectors only: a keyword match would hide a vector search that found nothing.
            answers.append(len((await search(searcher, "harbour page 12", tenant="t1", mode="VECTOR")).hits))
            await asyncio.sleep(0)

    done = asyncio.Event()
    searching = asyncio.create_task(keep_searching(done))
    assert await reembedding.run_once()
    done.set()
    await searching
    assert answers and all(answers), f"a search during the re-embedding came back empty: {answers}"

    record = await store.reembeddings.get(started.id, tenant="t1")
    assert (record.state, record.chunks_done, record.chunks_total) == ("SUCCEEDED", 35, 35)
    assert await reembedding.model_for("t1") == CLIP and await reembedding.model_for("t2") == models.model
    assert await _dimensions(database_dsn, "t1") == {clip_dimension}
    assert await _dimensions(database_dsn, "t2") == {store.dimension}
    assert await fetch(database_dsn, "SELECT count(*) FROM chunk_vectors") == [(0,)], "side vectors left behind"
    # The new dimension's index exists, is valid, and queries of that shape read it; the base
    # dimension's index serves the other tenant's.
    index = f"chunks_embedding_hnsw_{clip_dimension}"
    assert await fetch(
        database_dsn,
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
        [index],
    ) == [(True,)]
    query = (await models.embed([texts[11]], model=CLIP)).vectors[0]
    assert index in await _plan(database_dsn, clip_dimension, query)
    base_query = (await models.embed([texts[11]])).vectors[0]
    assert "chunks_embedding_hnsw_idx" in await _plan(database_dsn, store.dimension, base_query)

    # Queries go to the new model, exactly scanned (a small tenant) and through the index alike.
    # A searcher that last saw the old model (a fresh one guesses the configured model) embeds
    # the query once more when the snapshot shows the switch, and then only with the new model.
    searcher = Search(store, models)
    for expected_calls in ([(models.model, 1), (CLIP, 1)], [(CLIP, 1)]):
        models.calls.clear()
        results = await search(searcher, texts[11], tenant="t1", mode="VECTOR")
        assert results.model == CLIP and models.calls == expected_calls
    assert results.hits[0].score > 0.999 and 12 in [h.hit.page_start for h in results.hits[:3]]
    exact_limit = store.chunks.tuning
    store.chunks.tuning = VectorTuning(exact_scan_max_chunks=0)
    try:
        indexed = await search(searcher, texts[11], tenant="t1", mode="VECTOR")
        assert indexed.hits[0].score > 0.999 and 12 in [h.hit.page_start for h in indexed.hits[:3]]
        assert {h.hit.document_id for h in indexed.hits} <= {first, second}, "another tenant's chunk was found"
        other = await search(searcher, "harbour page 3", tenant="t2", mode="VECTOR")
        assert other.model == models.model and other.hits
    finally:
        store.chunks.tuning = exact_limit
    # Related documents compare the tenant's document vectors, now of the new dimension.
    related = await store.related.nearest(first, tenant="t1", limit=5)
    assert [r.document_id for r in related] == [second]
    rows = await fetch(
        database_dsn,
        "SELECT DISTINCT vector_dims(embedding) FROM document_vectors WHERE document_id = %s",
        [uuid.UUID(first)],
    )
    assert rows == [(clip_dimension,)]


async def test_an_upload_after_the_switch_is_stored_as_embedded(store, models, database_dsn):
    await add_document(store, models, "before", generated_texts("canyon", 3), tenant="t1")
    reembedding = _reembedding(store, models)
    await reembedding.start(CLIP, tenant="t1")
    assert await reembedding.run_once()
    catalog = DocumentCatalog(store, None)
    text = "The canyon walls glow red at sunset."
    # As the extractor now sends it: embedded with the tenant's model, so search embeds nothing.
    doc, _ = await create(store, "after.pdf", "after", [], "b" * 64, 10, 1, "jobs/2", tenant="t1")
    vector = (await models.embed([text], model=CLIP)).vectors[0]
    chunk = ChunkRecord(index=0, text=text, page_start=1, page_end=1, token_count=8, embedding=vector)
    models.calls.clear()
    await reembedding.replace_content(
        catalog, doc.id, DocumentContent(chunks=[chunk], model=CLIP, page_count=1, mark_ready=True), tenant="t1"
    )
    assert models.calls == [], "an upload embedded with the tenant's model was embedded again"
    rows = await fetch(
        database_dsn, "SELECT model, vector_dims(embedding) FROM chunks WHERE document_id = %s", [uuid.UUID(doc.id)]
    )
    assert rows == [(CLIP, len(vector))]
    # One sent with the old model's name and vectors is embedded again, once (an extractor that
    # asked before the switch); one whose vectors lie about its model is refused.
    late, _ = await create(store, "late.pdf", "late", [], "c" * 64, 10, 1, "jobs/3", tenant="t1")
    old = ChunkRecord(
        index=0, text=text, page_start=1, page_end=1, token_count=8, embedding=(await models.embed([text])).vectors[0]
    )
    models.calls.clear()
    await reembedding.replace_content(
        catalog, late.id, DocumentContent(chunks=[old], model=models.model, page_count=1, mark_ready=True), tenant="t1"
    )
    assert models.calls == [(CLIP, 1)]
    liar = DocumentContent(chunks=[old], model=CLIP, page_count=1, mark_ready=True)
    with pytest.raises(Exception) as refused:
        await catalog.replace_content(late.id, liar, tenant="t1")
    assert getattr(refused.value, "reason", "") == "EMBEDDING_DIMENSION_MISMATCH"
    hits = await store.chunks.nearest(vector, 5, SearchFilter(), tenant="t1")
    assert {h.document_id for h in hits} >= {doc.id, late.id}


async def test_cancel_midway_keeps_the_old_model_and_removes_the_side_vectors(store, models, database_dsn):
    texts = generated_texts("delta", 6)
    await add_document(store, models, "kept", texts, tenant="t1")
    reembedding = _reembedding(store, models)
    searcher = Search(store, models)
    started = await reembedding.start(CLIP, tenant="t1")
    claimed = await store.reembeddings.claim(60)
    assert claimed is not None
    await store.reembeddings.ensure_index(store.reembeddings.target_dimension(claimed))
    batch = await store.reembeddings.pending(claimed, 2)
    await store.reembeddings.write(claimed, batch, (await models.embed([c.text for c in batch], model=CLIP)).vectors)
    assert await fetch(database_dsn, "SELECT count(*), min(vector_dims(embedding)) FROM chunk_vectors") == [
        (2, started.dimension)
    ]
    assert (await reembedding.cancel(started.id, tenant="t1")).state == "CANCELLED"
    assert await fetch(database_dsn, "SELECT count(*) FROM chunk_vectors") == [(0,)]
    assert await reembedding.model_for("t1") == models.model
    assert await _dimensions(database_dsn, "t1") == {store.dimension}
    results = await search(searcher, texts[2], tenant="t1", mode="VECTOR")
    assert results.model == models.model and results.hits[0].hit.page_start == 3
    # A second try after the cancel goes through, and reuses the index the first one built.
    assert (await reembedding.start(CLIP, tenant="t1")).state == "RUNNING"
    assert await reembedding.run_once()
    assert await reembedding.model_for("t1") == CLIP
