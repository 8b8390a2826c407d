"""Re-embedding a tenant with a text model of another dimension (MiniLM's 384 to the CLIP text
tower's), on a real PostgreSQL with the real models: the new vectors get an HNSW index of their
own dimension, search answers throughout and afterwards uses the new model and that index,
another tenant keeps its model, vectors and index, and a cancel leaves nothing behind."""

from __future__ import annotations

import uuid

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector_async

from mivaa_search.store import DocumentContent, SearchFilter, VectorTuning
from mivaa_search.store.text_vectors import indexed_distance, of_dimension
from mivaa_search.usecases import DocumentCatalog, Search
from tests.search.reembedding_support import (
    AFTER_SWITCH,
    CLIP,
    TwoModels,
    arriving,
    assert_searcher_catches_up,
    cancel_midway,
    chunk_column,
    clip_dir,
    switch_while_searching,
    switched,
)
from tests.search.retrieval_support import generated_texts, search
from tests.search.support import fetch


@pytest.fixture(scope="module")
def models(embedder):
    if clip_dir() is None:
        pytest.skip("no tiny CLIP: its export needs the export venv (`make export-venv`)")
    return TwoModels(embedder)


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
    clip_dimension = (await models.text_models())[CLIP]
    assert clip_dimension != store.dimension
    # By vectors only: a keyword match would hide a vector search that found nothing.
    record, texts, (first, second) = await switch_while_searching(store, models, database_dsn, CLIP, mode="VECTOR")
    assert record.dimension == clip_dimension
    assert await chunk_column(database_dsn, "t1", "vector_dims(c.embedding)") == {clip_dimension}
    assert await chunk_column(database_dsn, "t2", "vector_dims(c.embedding)") == {store.dimension}
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
    results = await assert_searcher_catches_up(store, models, texts[11], CLIP)
    assert results.hits[0].score > 0.999 and 12 in [h.hit.page_start for h in results.hits[:3]]
    searcher = Search(store, models)
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
    switching = await switched(store, models, CLIP)
    catalog = DocumentCatalog(store, None)
    # As the extractor now sends it: embedded with the tenant's model, so search embeds nothing.
    vector = (await models.embed([AFTER_SWITCH], model=CLIP)).vectors[0]
    doc, chunk = await arriving(store, "after", vector, sha="b" * 64)
    models.calls.clear()
    await switching.replace_content(
        catalog, doc, DocumentContent(chunks=[chunk], model=CLIP, page_count=1, mark_ready=True), tenant="t1"
    )
    assert models.calls == [], "an upload embedded with the tenant's model was embedded again"
    rows = await fetch(
        database_dsn, "SELECT model, vector_dims(embedding) FROM chunks WHERE document_id = %s", [uuid.UUID(doc)]
    )
    assert rows == [(CLIP, len(vector))]
    # One sent with the old model's name and vectors is embedded again, once (an extractor that
    # asked before the switch); one whose vectors lie about its model is refused.
    late, old = await arriving(store, "late", (await models.embed([AFTER_SWITCH])).vectors[0], sha="c" * 64)
    models.calls.clear()
    await switching.replace_content(
        catalog, late, DocumentContent(chunks=[old], model=models.model, page_count=1, mark_ready=True), tenant="t1"
    )
    assert models.calls == [(CLIP, 1)]
    liar = DocumentContent(chunks=[old], model=CLIP, page_count=1, mark_ready=True)
    with pytest.raises(Exception) as refused:
        await catalog.replace_content(late, liar, tenant="t1")
    assert getattr(refused.value, "reason", "") == "EMBEDDING_DIMENSION_MISMATCH"
    hits = await store.chunks.nearest(vector, 5, SearchFilter(), tenant="t1")
    assert {h.document_id for h in hits} >= {doc, late}


async def test_cancel_midway_keeps_the_old_model_and_removes_the_side_vectors(store, models, database_dsn):
    texts = generated_texts("delta", 6)
    _, _, switching = await cancel_midway(store, models, database_dsn, CLIP, texts)
    assert await chunk_column(database_dsn, "t1", "vector_dims(c.embedding)") == {store.dimension}
    results = await search(Search(store, models), texts[2], tenant="t1", mode="VECTOR")
    assert results.model == models.model and results.hits[0].hit.page_start == 3
    # A second try after the cancel goes through, and reuses the index the first one built.
    assert (await switching.start(CLIP, tenant="t1")).state == "RUNNING"
    assert await switching.run_once()
    assert await switching.model_for("t1") == CLIP
