"""Chunk vectors of any dimension, so a tenant can be re-embedded with a text model of another
dimension (usecases/reembedding.py) while the others keep theirs.

`chunks.embedding` was `vector(N)`, N fixed by the first run, with one HNSW index on it. It
becomes an unsized `vector`, like `image_embeddings.embedding`: an HNSW index needs a fixed
dimension, so each dimension in use gets a partial index on the sized cast,
`(embedding::vector(N)) ... WHERE vector_dims(embedding) = N` (store/text_vectors.py), and a
query names the same expression and condition so the planner can use it. The base dimension
(the one the database was built with, that every tenant uses until it switches) keeps the
index name `chunks_embedding_hnsw_idx` that maintenance rebuilds and probes; it is recorded in
`text_vector_base`, which replaces the column's type modifier as what start-up checks the
configured model against.

Dropping the type modifier rewrites nothing (same type, no cast), but the old index is on the
sized column and is replaced by the expression index: this migration builds it once, in its
transaction, at the cost of a REINDEX of the chunk index (start-up waits for it; no row is
rewritten): 11 s for 20,000 384-d chunks on a shared 2-core machine, the HNSW build nearly all
of it, so minutes for a million.

The side vectors of a re-embedding (`chunk_vectors`) and documents' mean vectors
(`document_vectors`, related documents; an exact scan within a tenant, no index) become unsized
too. A tenant's model now carries its dimension, and a re-embedding its target's.
"""

from __future__ import annotations

import psycopg

_INDEX = "chunks_embedding_hnsw_idx"


async def migrate(conn: psycopg.AsyncConnection) -> None:
    cur = await conn.execute(
        "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'"
    )
    row = await cur.fetchone()
    assert row is not None
    dimension = int(row[0])  # vector's type modifier is its dimension
    if not 1 <= dimension <= 2000:
        raise RuntimeError(f"chunks.embedding has no usable dimension ({dimension})")
    await conn.execute(
        """
        CREATE TABLE text_vector_base (
            one       boolean PRIMARY KEY DEFAULT true CHECK (one),
            dimension integer NOT NULL CHECK (dimension BETWEEN 1 AND 2000)
        )
        """
    )
    await conn.execute("INSERT INTO text_vector_base (dimension) VALUES (%s)", [dimension])
    await conn.execute(f"DROP INDEX {_INDEX}")
    # ALTER TYPE resets the column's storage to the type's default: keep vectors in the row (0019).
    await conn.execute("ALTER TABLE chunks ALTER COLUMN embedding TYPE vector, ALTER COLUMN embedding SET STORAGE MAIN")
    await conn.execute(
        f"CREATE INDEX {_INDEX} ON chunks USING hnsw ((embedding::vector({dimension})) vector_cosine_ops)"
        f" WHERE vector_dims(embedding) = {dimension}"
    )
    await conn.execute("ALTER TABLE chunk_vectors ALTER COLUMN embedding TYPE vector")
    await conn.execute("ALTER TABLE document_vectors ALTER COLUMN embedding TYPE vector")
    # NULL: the base dimension (rows written before this migration could only have it).
    await conn.execute(
        "ALTER TABLE tenant_text_models ADD COLUMN dimension integer CHECK (dimension BETWEEN 1 AND 2000)"
    )
    await conn.execute("ALTER TABLE reembeddings ADD COLUMN dimension integer CHECK (dimension BETWEEN 1 AND 2000)")
    # The index was just built: what was counted against the old one is gone with it.
    await conn.execute("UPDATE index_builds SET removed = 0, built_at = now() WHERE index_name = %s", [_INDEX])
