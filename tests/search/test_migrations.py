"""Migrations: applied once at start, in order, converting old rows."""

from __future__ import annotations

import asyncio
import pathlib
import uuid

import psycopg
import psycopg.sql
import pytest

from mivaa_platform.errors import FailedPrecondition, NotFound
from mivaa_search.store import ChunkRecord, SearchFilter, SearchStore
from tests.search.support import (
    DIMENSION,
    MIGRATIONS,
    TENANT,
    create,
    fetch,
    new_document,
    replace,
    sha,
    unit_vector,
)

# -- migrations ------------------------------------------------------------------


async def test_migrations_are_idempotent(database_dsn):
    first = await SearchStore.open(database_dsn, DIMENSION)
    doc = await new_document(first, "kept")
    await first.close()

    second = await SearchStore.open(database_dsn, DIMENSION)
    try:
        assert (await second.documents.get(doc.id, tenant=TENANT)).sha256 == doc.sha256
    finally:
        await second.close()
    assert await fetch(database_dsn, "SELECT version FROM schema_migrations ORDER BY version") == [
        (version,) for version in MIGRATIONS
    ]


async def test_replicas_starting_together_migrate_once(database_dsn):
    stores = await asyncio.gather(*(SearchStore.open(database_dsn, DIMENSION, max_size=2) for _ in range(5)))
    for s in stores:
        await s.close()
    assert await fetch(database_dsn, "SELECT count(*) FROM schema_migrations") == [(len(MIGRATIONS),)]


async def test_dimension_is_fixed_by_first_start(database_dsn):
    store = await SearchStore.open(database_dsn, DIMENSION)
    await store.close()
    with pytest.raises(FailedPrecondition) as err:
        await SearchStore.open(database_dsn, 768)
    assert err.value.reason == "EMBEDDING_DIMENSION_MISMATCH"
    assert err.value.metadata == {"stored_dimension": "384", "configured_dimension": "768"}


async def test_tenant_migration_keeps_existing_documents_in_the_default_tenant(database_dsn):
    """A database migrated before tenancy: its rows become the default tenant's, sha256 unique per tenant."""
    digest = sha("old")
    await migrated_up_to(database_dsn, "0005")
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        cur = await conn.execute(
            "INSERT INTO documents (filename, sha256, size_bytes) VALUES ('old.pdf', %s, 1) RETURNING id", [digest]
        )
        (old_id,) = await cur.fetchone()

    store = await SearchStore.open(database_dsn, DIMENSION)
    try:
        old = await store.documents.get(str(old_id), tenant=TENANT)
        assert old.tenant == "default" and old.sha256 == digest
        with pytest.raises(NotFound):
            await store.documents.get(str(old_id), tenant="acme")
        again, created = await create(store, "old.pdf", "", [], digest, 1, 0, "jobs/x")
        assert not created and again.id == old.id
        _, created = await create(store, "old.pdf", "", [], digest, 1, 0, "jobs/y", tenant="acme")
        assert created
    finally:
        await store.close()
    indexes = {
        name for (name,) in await fetch(database_dsn, "SELECT indexname FROM pg_indexes WHERE tablename = 'documents'")
    }
    assert {"documents_tenant_sha256_key", "documents_tenant_create_time_id_idx", "documents_sha256_idx"} <= indexes
    assert "documents_sha256_key" not in indexes and "documents_create_time_id_idx" not in indexes


async def test_a_database_without_pgvector_is_a_clear_precondition(local_postgres):
    """The services' role is no superuser: it cannot create pgvector, and says so."""
    import psycopg
    from psycopg import sql

    name = f"test_novector_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(local_postgres.superuser_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER mivaa").format(sql.Identifier(name)))
    try:
        with pytest.raises(FailedPrecondition) as err:
            await SearchStore.open(local_postgres.app_dsn(name), DIMENSION)
        assert err.value.reason == "VECTOR_EXTENSION_MISSING"
    finally:
        local_postgres.drop_database(name)


# The SQL migrations as files, read once: an older release's database is made from them.
SQL_MIGRATIONS = [
    (path.name, path.read_text())
    for path in sorted(
        (pathlib.Path(__file__).resolve().parents[2] / "services/search/mivaa_search/migrations").glob("*.sql")
    )
]


async def migrated_up_to(dsn: str, version: str) -> None:
    """A database as an older release left it: the migrations before `version` applied."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        await conn.execute(
            "CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for name, text in SQL_MIGRATIONS:
            if name < version:
                await conn.execute(text.replace("{dimension}", str(DIMENSION)))
                await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", [name.removesuffix(".sql")])


async def test_metadata_and_outline_written_the_old_way_read_back_identically(database_dsn):
    """0006: a serialized DocumentMetadata and an outline stored as a serialized UpsertChunksHeader
    become JSONB, and the service answers with the same messages as before."""
    from mivaa.search.v1 import search_service_pb2 as pb
    from mivaa_search.servicer import to_proto

    metadata = pb.DocumentMetadata(
        title="Old", authors=["Ada", "Brontë"], keywords=["k"], language="en", create_date="D:20200101"
    )
    outline = [pb.OutlineEntry(level=1, title="Intro", page=1), pb.OutlineEntry(level=2, title="Déjà vu", page=0)]
    await migrated_up_to(database_dsn, "0006")
    rows = {}
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        for name, meta, out in [
            ("both", metadata.SerializeToString(), pb.UpsertChunksHeader(outline=outline).SerializeToString()),
            ("neither", None, None),
            ("empty-metadata", b"", None),
        ]:
            cur = await conn.execute(
                "INSERT INTO documents (filename, sha256, size_bytes, metadata, outline) VALUES (%s, %s, 1, %s, %s) RETURNING id",
                [f"{name}.pdf", sha(name), meta, out],
            )
            rows[name] = str((await cur.fetchone())[0])

    store = await SearchStore.open(database_dsn, DIMENSION)
    try:
        both = to_proto(await store.documents.get(rows["both"], tenant="default"))
        assert both.metadata == metadata and list(both.outline) == outline
        neither = to_proto(await store.documents.get(rows["neither"], tenant="default"))
        assert not neither.HasField("metadata") and not neither.outline
        empty = to_proto(await store.documents.get(rows["empty-metadata"], tenant="default"))
        assert not empty.HasField("metadata")  # as before: an empty message read as none
    finally:
        await store.close()
    types = await fetch(
        database_dsn,
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = 'documents' AND column_name IN ('metadata', 'outline') ORDER BY 1",
    )
    assert types == [("metadata", "jsonb"), ("outline", "jsonb")]


async def test_documents_with_an_empty_tenant_move_to_default_and_the_tenant_is_required(database_dsn):
    """0007: no row is left without a tenant, and none can be written without one."""
    await migrated_up_to(database_dsn, "0007")
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        cur = await conn.execute(
            "INSERT INTO documents (tenant, filename, sha256, size_bytes) VALUES ('', 'e.pdf', %s, 1) RETURNING id",
            [sha("empty-tenant")],
        )
        (old_id,) = await cur.fetchone()
    store = await SearchStore.open(database_dsn, DIMENSION)
    try:
        assert (await store.documents.get(str(old_id), tenant="default")).tenant == "default"
    finally:
        await store.close()
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.NotNullViolation):
            await conn.execute(
                "INSERT INTO documents (filename, sha256, size_bytes) VALUES ('n.pdf', %s, 1)", [sha("n")]
            )
        with pytest.raises(psycopg.errors.CheckViolation):
            await conn.execute(
                "INSERT INTO documents (tenant, filename, sha256, size_bytes) VALUES ('', 'n.pdf', %s, 1)", [sha("n")]
            )


async def test_text_search_backfills_chunks_in_their_documents_language(database_dsn):
    """0008: chunks written before full-text search get their document's language and a tsvector
    stemmed in it, and keyword search finds them."""
    from mivaa.search.v1 import search_service_pb2 as pb
    from mivaa_search.store import SearchFilter

    await migrated_up_to(database_dsn, "0008")
    metadata = pb.DocumentMetadata(language="de").SerializeToString()  # as 0003 stored it (0006 converts)
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        cur = await conn.execute(
            "INSERT INTO documents (filename, sha256, size_bytes, tenant, state, metadata, chunk_count)"
            " VALUES ('alt.pdf', %s, 1, 'default', 'READY', %s, 1) RETURNING id",
            [sha("alt"), metadata],
        )
        (doc_id,) = await cur.fetchone()
        vector = "[" + ",".join(["0.1"] * DIMENSION) + "]"
        await conn.execute(
            "INSERT INTO chunks (document_id, chunk_index, text, page_start, page_end, model, embedding)"
            " VALUES (%s, 0, 'Die Vulkanausbrüche bedeckten die Dörfer.', 1, 1, 'm', %s::vector)",
            [doc_id, vector],
        )
    store = await SearchStore.open(database_dsn, DIMENSION)
    try:
        hits = await store.chunks.keyword_search("Vulkanausbruch", 10, SearchFilter(), tenant=TENANT)
        assert [(h.document_id, h.language) for h in hits] == [(str(doc_id), "de")]
    finally:
        await store.close()
    assert await fetch(database_dsn, "SELECT tsv::text FROM chunks") == [("'bedeckt':3 'dorf':5 'vulkanausbruch':2",)]


async def test_original_holders_are_backfilled_from_existing_documents(database_dsn):
    """0014: one originals row per stored sha256, a reference per document (two tenants sharing
    bytes hold one original twice), and the counter of 0010 gone."""
    shared, alone = sha("shared"), sha("alone")
    await migrated_up_to(database_dsn, "0014")
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        for tenant, digest in (("acme", shared), ("globex", shared), ("acme", alone)):
            await conn.execute(
                "INSERT INTO documents (tenant, filename, sha256, size_bytes) VALUES (%s, 'f.pdf', %s, 7)",
                [tenant, digest],
            )
        assert (
            await (await conn.execute("SELECT refs FROM original_references WHERE sha256 = %s", [shared])).fetchone()
        ) == (2,)

    store = await SearchStore.open(database_dsn, DIMENSION)
    try:
        assert await store.originals.references(shared) == 2 and await store.originals.references(alone) == 1
        assert await store.originals.state(shared) == "stored"
        assert sorted(await fetch(database_dsn, "SELECT sha256, size_bytes, state FROM originals")) == sorted(
            [(shared, 7, "stored"), (alone, 7, "stored")]
        )
        assert await fetch(database_dsn, "SELECT count(*) FROM original_references WHERE tenant = 'globex'") == [(1,)]
        assert await store.originals.audit() == {"documents_without_reference": 0, "references_to_tombstones": 0}
    finally:
        await store.close()


async def migrated_through_steps(dsn: str, version: str) -> None:
    """A database as an older release left it, made by the real steps (SQL and Python) before `version`."""
    from mivaa_search.store.schema import migrations

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        await conn.execute(
            "CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for name, step in migrations():
            if name < version:
                async with conn.transaction():
                    await step(conn, DIMENSION)
                    await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", [name])


async def test_chunk_vectors_of_an_existing_database_become_unsized_and_stay_indexed(database_dsn):
    """0020: chunks.embedding loses its fixed dimension (no row rewritten), the base dimension is
    recorded, its HNSW index becomes the partial expression index queries name, and what was
    stored before is found as before, by the exact scan and through the index."""
    import numpy as np
    from pgvector.psycopg import register_vector_async

    from mivaa_search.store import SearchFilter, VectorTuning

    await migrated_through_steps(database_dsn, "0020")
    rng = np.random.default_rng(20)
    vectors = [v / np.linalg.norm(v) for v in rng.normal(size=(3, DIMENSION)).astype(np.float32)]
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        await register_vector_async(conn)
        cur = await conn.execute(
            "INSERT INTO documents (tenant, filename, sha256, size_bytes, state, chunk_count)"
            " VALUES ('acme', 'old.pdf', %s, 1, 'READY', 3) RETURNING id",
            [sha("vectors")],
        )
        (doc_id,) = await cur.fetchone()
        for index, vector in enumerate(vectors):
            await conn.execute(
                "INSERT INTO chunks (document_id, chunk_index, text, page_start, page_end, model, embedding)"
                " VALUES (%s, %s, %s, 1, 1, 'm', %s)",
                [doc_id, index, f"chunk {index}", vector],
            )
        await conn.execute(
            "INSERT INTO document_vectors (document_id, embedding) SELECT %s, l2_normalize(avg(embedding)) FROM chunks",
            [doc_id],
        )
        await conn.execute("INSERT INTO tenant_text_models (tenant, model) VALUES ('acme', 'm')")
        (before,) = await (await conn.execute("SELECT pg_relation_filenode('chunks')")).fetchone()

    store = await SearchStore.open(database_dsn, DIMENSION)
    try:
        for limit in (20_000, 0):  # the exact scan, then the index
            store.chunks.tuning = VectorTuning(exact_scan_max_chunks=limit)
            hits = await store.chunks.nearest(vectors[1], 2, SearchFilter(), tenant="acme")
            assert [h.chunk_index for h in hits][:1] == [1] and hits[0].score > 0.999, limit
        assert not await store.chunks.nearest(vectors[1], 2, SearchFilter(), tenant="other")
        assert await store.reembeddings.active_model("acme") == "m"
    finally:
        await store.close()
    assert await fetch(
        database_dsn,
        "SELECT atttypmod, attstorage FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'",
    ) == [(-1, "m")]
    assert await fetch(database_dsn, "SELECT pg_relation_filenode('chunks')") == [(before,)], "chunks was rewritten"
    assert await fetch(database_dsn, "SELECT dimension FROM text_vector_base") == [(DIMENSION,)]
    assert await fetch(database_dsn, "SELECT dimension FROM tenant_text_models") == [(None,)]
    (definition,) = (
        await fetch(database_dsn, "SELECT indexdef FROM pg_indexes WHERE indexname = 'chunks_embedding_hnsw_idx'")
    )[0]
    assert f"vector({DIMENSION})" in definition and f"vector_dims(embedding) = {DIMENSION}" in definition
    assert await fetch(database_dsn, "SELECT count(*) FROM document_vectors") == [(1,)]


async def test_a_committed_documents_words_are_in_the_text_index_not_in_a_pending_list(store, database_dsn):
    """0021: every keyword search reads GIN's pending list through, so chunks are never left in one."""
    doc = await new_document(store)
    chunks = [
        ChunkRecord(
            index=i,
            text=f"The harbour lighthouse keeper wrote entry {i} in the logbook.",
            page_start=i + 1,
            page_end=i + 1,
            token_count=12,
            embedding=unit_vector(),
        )
        for i in range(200)
    ]
    await replace(store, doc.id, chunks, "m", page_count=200, mark_ready=True)
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        cleaned = await (await conn.execute("SELECT gin_clean_pending_list('chunks_tsv_idx'::regclass)")).fetchone()
    assert cleaned == (0,)  # pages of pending entries moved into the tree: none were waiting
    hits = await store.chunks.keyword_search("lighthouse logbook", 10, SearchFilter(), tenant=TENANT)
    assert len(hits) == 10 and all("lighthouse" in hit.text for hit in hits)
