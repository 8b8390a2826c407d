"""A small tenant among large ones: its vector search stays exact however the shared HNSW index
fares, and the chunk vectors stay in the table row (migration 0019), which is what makes the
exact scan cheap.

The data is clustered as bench/synthetic_chunks.py's is (topics, cluster centres, chunks near a
centre), every tenant drawing from the same clusters, so a small tenant's neighbours are a few
rows among many of other tenants: the case where a filter applied after the HNSW scan loses
them. Queries come from clusters the small tenant holds and from ones it does not (its nearest
are then weak near-ties, the hardest case for an index)."""

from __future__ import annotations

import numpy as np
import pytest

from mivaa_search.store import ChunkRecord, DocumentContent, SearchFilter, VectorTuning
from tests.search.support import DIMENSION, create, fetch, sha

CHUNKS_PER_DOCUMENT = 50
LARGE = {"large-a": 1500, "large-b": 1500}  # chunks a tenant
SMALL = ("small", 300)
CLUSTERS, TOPICS = 120, 12
QUERIES = 40
# Long enough that a row passes 2 kB, as real chunks do: pgvector's default storage would move
# the vector out of the row then.
FILLER = " ".join(f"word{i}" for i in range(110))


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def towards(centres: np.ndarray, cos: float, rng: np.random.Generator) -> np.ndarray:
    return unit(cos * centres + np.sqrt(1 - cos * cos) * unit(rng.standard_normal(centres.shape)))


@pytest.fixture
async def tenants(store):
    """Each tenant's chunk vectors and keys, written through the store (HNSW index live)."""
    rng = np.random.default_rng(15)
    topics = unit(rng.standard_normal((TOPICS, DIMENSION)))
    centres = towards(topics[np.arange(CLUSTERS) % TOPICS], 0.6, rng)
    written: dict[str, tuple[np.ndarray, list[tuple[str, int]]]] = {}
    # The small tenant comes last, as one created at run time does: no setup names it.
    for tenant, count in [*LARGE.items(), SMALL]:
        vectors, keys = [], []
        for n in range(count // CHUNKS_PER_DOCUMENT):
            doc, _ = await create(store, f"{tenant}-{n}.pdf", f"{tenant} {n}", [], sha((tenant, n)), 1, 1, "jobs/1",
                                  tenant=tenant)  # fmt: skip
            # The small tenant holds half the clusters only (those of even topics).
            pool = np.arange(0, CLUSTERS, 2) if tenant == SMALL[0] else np.arange(CLUSTERS)
            chunk_vectors = towards(centres[rng.choice(pool, CHUNKS_PER_DOCUMENT)], 0.8, rng)
            chunks = [ChunkRecord(i, f"{tenant} chunk {i} {FILLER}", 1, 1, 120, v) for i, v in enumerate(chunk_vectors)]
            content = DocumentContent(chunks=chunks, model="test-model", page_count=1, mark_ready=True)
            await store.chunks.replace_content(doc.id, content, tenant=tenant)
            vectors.append(chunk_vectors)
            keys += [(doc.id, i) for i in range(CHUNKS_PER_DOCUMENT)]
        written[tenant] = (np.concatenate(vectors), keys)
    queries = towards(centres[rng.integers(0, CLUSTERS, QUERIES)], 0.8, rng)
    return written, queries


async def recall(store, tenant: str, vectors: np.ndarray, keys, queries: np.ndarray) -> float:
    found = []
    for query in queries:
        truth = {keys[i] for i in np.argsort(-(vectors @ query))[:10]}
        hits = await store.chunks.search(query, 10, SearchFilter(), tenant=tenant)
        found.append(len(truth & {(h.document_id, h.chunk_index) for h in hits}) / 10)
    return float(np.mean(found))


async def test_a_small_tenant_among_large_ones_gets_its_exact_top_ten(store, tenants, database_dsn):
    written, queries = tenants
    small, _ = SMALL
    # With the default threshold every tenant of this size is scanned exactly.
    assert store.chunks.tuning.exact_scan_max_chunks >= max(LARGE.values())
    for tenant, (vectors, keys) in written.items():
        assert await recall(store, tenant, vectors, keys, queries[:10]) == 1.0, tenant

    # Large tenants above the threshold go through the shared index at a small ef_search; the
    # small one, below it, is still scanned exactly: the true top 10 for every query.
    store.chunks.tuning = VectorTuning(exact_scan_max_chunks=1000, ef_search=40)
    assert await recall(store, small, *written[small], queries) == 1.0
    for tenant in LARGE:  # HNSW: near, not always exact
        assert await recall(store, tenant, *written[tenant], queries[:10]) >= 0.8, tenant


async def test_chunk_vectors_stay_in_the_row(store, database_dsn):
    """Migration 0019: a chunk row past TOAST's 2 kB keeps its vector; text goes out of line."""
    [(storage,)] = await fetch(
        database_dsn,
        "SELECT attstorage FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'",
    )
    assert storage == "m"
    rng = np.random.default_rng(16)
    doc, _ = await create(store, "wide.pdf", "Wide", [], sha("wide"), 1, 1, "jobs/1")
    chunks = [
        ChunkRecord(i, f"chunk {i} {FILLER} {FILLER}", 1, 1, 240, v)
        for i, v in enumerate(unit(rng.standard_normal((20, DIMENSION))))
    ]
    content = DocumentContent(chunks=chunks, model="test-model", page_count=1, mark_ready=True)
    await store.chunks.replace_content(doc.id, content, tenant="default")
    [(rows, wide, vectors_out, texts_out)] = await fetch(
        database_dsn,
        "SELECT count(*), count(*) FILTER (WHERE pg_column_size(c.*) > 2032),"
        " count(pg_column_toast_chunk_id(embedding)), count(pg_column_toast_chunk_id(text)) FROM chunks c",
    )
    assert rows == wide == 20  # every row is past TOAST's threshold, as with real chunk text
    assert vectors_out == 0
    assert texts_out == 20
