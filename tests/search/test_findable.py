"""No document may become unfindable: after documents are ingested, deleted and replaced, every
live chunk is found by its own vector, by the exact scan and through the HNSW index alike."""

from __future__ import annotations

import numpy as np
import pytest

from mivaa_search.store import ChunkRecord, DocumentContent, SearchFilter, VectorTuning
from mivaa_search.usecases import IndexUpkeep
from tests.search.support import DIMENSION, create, fetch, sha

DOCUMENTS = 40
CHUNKS = 30
TENANTS = ("default", "other")


def clustered(rng: np.random.Generator) -> np.ndarray:
    """A document's chunk vectors: near one centre, as a document's chunks are (hard for HNSW)."""
    centre = rng.standard_normal(DIMENSION)
    vectors = centre + 0.35 * rng.standard_normal((CHUNKS, DIMENSION))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def content(vectors: np.ndarray) -> DocumentContent:
    chunks = [ChunkRecord(i, f"chunk {i}", i + 1, i + 1, 5, v) for i, v in enumerate(vectors)]
    return DocumentContent(chunks=chunks, model="test-model", page_count=CHUNKS, mark_ready=True)


@pytest.fixture
async def churned(store):
    """Documents of two tenants; a third deleted, another third replaced by new content."""
    rng = np.random.default_rng(1234)
    live: dict[tuple[str, str], np.ndarray] = {}
    for n in range(DOCUMENTS):
        tenant = TENANTS[n % 2]
        doc, _ = await create(store, f"d{n}.pdf", f"d{n}", [], sha(n), 1, CHUNKS, "jobs/1", tenant=tenant)
        vectors = clustered(rng)
        await store.chunks.replace_content(doc.id, content(vectors), tenant=tenant)
        live[(tenant, doc.id)] = vectors
    keys = list(live)
    for tenant, doc_id in keys[: DOCUMENTS // 3]:
        await store.documents.delete(doc_id, tenant=tenant)
        del live[(tenant, doc_id)]
    for tenant, doc_id in keys[DOCUMENTS // 3 : 2 * DOCUMENTS // 3]:
        vectors = clustered(rng)
        await store.chunks.replace_content(doc_id, content(vectors), tenant=tenant)
        live[(tenant, doc_id)] = vectors
    return live


async def unfound(store, live, *, top: int) -> list[tuple[str, int]]:
    missing = []
    for (tenant, doc_id), vectors in live.items():
        for index, vector in enumerate(vectors):
            hits = await store.chunks.search(vector, top, SearchFilter(), tenant=tenant)
            if (doc_id, index) not in [(h.document_id, h.chunk_index) for h in hits]:
                missing.append((doc_id, index))
    return missing


async def test_every_live_chunk_is_found_by_its_own_vector(store, churned):
    # A tenant this small is scanned exactly: each chunk is its own nearest neighbour.
    assert store.chunks.tuning.exact_scan_max_chunks >= DOCUMENTS * CHUNKS
    assert await unfound(store, churned, top=1) == []


async def test_through_the_index_after_upkeep(store, churned):
    store.chunks.tuning = VectorTuning(exact_scan_max_chunks=0, ef_search=400)  # always HNSW
    upkeep = IndexUpkeep(store, probe_sample=100)
    # Deleting and replacing two thirds of the chunks makes a rebuild due; upkeep does it.
    assert await store.maintenance.rebuild_due()
    report = await upkeep.run_once()
    assert report.rebuilt and not await store.maintenance.rebuild_due()
    assert report.recall == {DIMENSION: 1.0}
    assert await unfound(store, churned, top=10) == []


async def test_probe_without_chunks(store):
    assert await store.maintenance.probe_recall(10, 40) is None
    assert not await store.maintenance.rebuild_due()


async def test_the_index_of_another_dimension_is_counted_rebuilt_and_probed(store, database_dsn):
    """A tenant re-embedded into a model of another dimension has an index of its own: its deletes
    count against that index, which upkeep rebuilds and probes beside the base one."""
    other = 32
    await store.reembeddings.ensure_index(other)
    await fetch(
        database_dsn,
        "INSERT INTO tenant_text_models (tenant, model, dimension) VALUES ('narrow', 'narrow-model', %s)"
        " RETURNING tenant",
        [other],
    )
    rng = np.random.default_rng(99)
    ids = []
    for n in range(20):
        doc, _ = await create(store, f"n{n}.pdf", f"n{n}", [], sha(f"n{n}"), 1, CHUNKS, "jobs/1", tenant="narrow")
        vectors = rng.standard_normal((CHUNKS, other))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        chunks = [ChunkRecord(i, f"chunk {i}", i + 1, i + 1, 5, v) for i, v in enumerate(vectors)]
        narrow = DocumentContent(chunks=chunks, model="narrow-model", page_count=CHUNKS, mark_ready=True)
        await store.chunks.replace_content(doc.id, narrow, tenant="narrow")
        ids.append(doc.id)
    for doc_id in ids[:18]:  # 540 chunks removed: a rebuild of that index is due, not of the base one
        await store.documents.delete(doc_id, tenant="narrow")
    assert await store.maintenance.dimensions() == sorted({DIMENSION, other})
    assert await store.maintenance.rebuild_due(other) and not await store.maintenance.rebuild_due(DIMENSION)
    rebuilt: list[int] = []
    report = await IndexUpkeep(store, probe_sample=50, on_rebuilt=lambda: rebuilt.append(1)).run_once()
    assert report.rebuilt and rebuilt == [1] and not await store.maintenance.rebuild_due(other)
    assert report.recall == {DIMENSION: None, other: 1.0}
