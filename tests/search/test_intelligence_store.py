"""The store's document intelligence on a real PostgreSQL: entities written with chunks, listed,
filtered by; document vectors kept with their chunks and backfilled by migration 0009."""

from __future__ import annotations

import dataclasses

import numpy as np
import psycopg

from mivaa_search.store import EntityMention, EntityRef, SearchFilter, SearchStore
from tests.search.support import DIMENSION, TENANT, fetch, make_chunks, new_document, replace, unit_vector
from tests.search.test_migrations import migrated_up_to


def with_entities(chunks, *mentions):
    """The chunks, chunk i mentioning mentions[i] (a tuple of EntityMention)."""
    return [dataclasses.replace(chunk, entities=list(found)) for chunk, found in zip(chunks, mentions, strict=False)]


async def test_entities_are_replaced_with_their_chunks_listed_and_filtered_by(store: SearchStore):
    doc = await new_document(store, "entities")
    vectors = [unit_vector() for _ in range(3)]
    alice = EntityMention("PERSON", "Alice  Johnson", [1, 2])  # chunk 0 spans pages 1-2
    chunks = with_entities(
        make_chunks(vectors),
        (alice, EntityMention("PLACE", "Paris", [9])),  # a page outside the chunk becomes its first
        (EntityMention("PERSON", "alice johnson", [2]),),
        (),
    )
    await replace(store, doc.id, chunks, "m", 4, True)
    listed = await store.entities.read(doc.id, tenant=TENANT, types=[], limit=10)
    assert [(e.type, e.normalized, e.pages, e.mentions) for e in listed] == [
        ("PERSON", "alice johnson", [1, 2], 2),
        ("PLACE", "paris", [1], 1),
    ]
    assert [e.type for e in await store.entities.read(doc.id, tenant=TENANT, types=["PLACE"], limit=10)] == ["PLACE"]
    everywhere = await store.chunks.search(vectors[2], 10, SearchFilter(), tenant=TENANT)
    assert len(everywhere) == 3
    alice_only = SearchFilter(entities=[EntityRef("alice johnson", "PERSON")])
    assert sorted(h.chunk_index for h in await store.chunks.search(vectors[2], 10, alice_only, tenant=TENANT)) == [0, 1]
    both = SearchFilter(entities=[EntityRef("alice johnson"), EntityRef("paris")])
    assert [h.chunk_index for h in await store.chunks.search(vectors[2], 10, both, tenant=TENANT)] == [0]
    assert not await store.chunks.search(vectors[2], 10, alice_only, tenant="someone-else")
    # A new upsert replaces them all; deleting the document takes them along.
    await replace(store, doc.id, make_chunks(vectors), "m", 4, True)
    assert await store.entities.read(doc.id, tenant=TENANT, types=[], limit=10) == []
    await replace(store, doc.id, chunks, "m", 4, True)
    await store.documents.delete(doc.id, tenant=TENANT)
    dsn = store._pool.conninfo
    assert await fetch(dsn, "SELECT count(*) FROM entities") == [(0,)]
    assert await fetch(dsn, "SELECT count(*) FROM document_vectors") == [(0,)]


async def test_document_vectors_follow_chunks_and_rank_related_documents(store: SearchStore):
    base = unit_vector()
    near, far = base + 0.1 * unit_vector(), unit_vector()
    ids = {}
    for name, vector in (("a", base), ("b", near), ("c", far)):
        ids[name] = (await new_document(store, name)).id
        await replace(store, ids[name], make_chunks([vector, vector]), "m", 3, True)
    related = await store.related.nearest(ids["a"], tenant=TENANT, limit=10)
    assert [r.document_id for r in related] == [ids["b"], ids["c"]]
    page = await store.related.nearest(ids["a"], tenant=TENANT, limit=10, after=(related[0].distance, ids["b"]))
    assert [r.document_id for r in page] == [ids["c"]]


async def test_migration_0009_backfills_document_vectors(database_dsn):
    await migrated_up_to(database_dsn, "0009")
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        cur = await conn.execute(
            "INSERT INTO documents (tenant, filename, sha256, size_bytes, state) VALUES (%s, 'old.pdf', %s, 1, 'READY')"
            " RETURNING id",
            [TENANT, "0" * 64],
        )
        (doc_id,) = await cur.fetchone()
        for index, axis in enumerate((0, 1)):
            vector = np.zeros(DIMENSION, dtype=np.float32)
            vector[axis] = 3.0
            await conn.execute(
                "INSERT INTO chunks (document_id, chunk_index, text, page_start, page_end, model, embedding)"
                " VALUES (%s, %s, 'old', 1, 1, 'm', %s::vector)",
                [doc_id, index, str(vector.tolist())],
            )
    store = await SearchStore.open(database_dsn, DIMENSION)
    await store.close()
    [(stored,)] = await fetch(database_dsn, "SELECT embedding::text FROM document_vectors")
    values = np.array([float(x) for x in stored.strip("[]").split(",")])
    assert np.allclose(values[:2], [2**-0.5, 2**-0.5], atol=1e-5) and not values[2:].any()
