"""Chunk vectors of several dimensions in one unsized column (migration 0020).

HNSW indexes a fixed dimension, so each dimension in use has a partial index on the sized cast;
a query reaches it only by naming the same expression and the same condition, with the
dimension written into the SQL (a bound parameter would hide it from the planner, which must
prove the index's predicate from the query's). The base dimension's index exists from the
migration on; another's is created when a re-embedding to a model of that dimension starts.
"""

from __future__ import annotations

import psycopg

from mivaa_search.store._common import scalar
from mivaa_search.store.records import MAX_DIMENSION

BASE_INDEX = "chunks_embedding_hnsw_idx"
# Base of the keys held while creating the chunk index of one dimension.
_INDEX_LOCK_KEY = int.from_bytes(b"mivaa-ci", "big") & 0x7FFF_FFFF_FFFF_0000


def _checked(dimension: int) -> int:
    dimension = int(dimension)
    if not 1 <= dimension <= MAX_DIMENSION:
        raise ValueError(f"no vector index takes {dimension} dimensions")
    return dimension


def of_dimension(alias: str, dimension: int) -> str:
    """The condition keeping `alias`'s vectors of this dimension (the partial index's predicate)."""
    return f"vector_dims({alias}.embedding) = {_checked(dimension)}"


def indexed_distance(alias: str, dimension: int, query: str = "%(query)s") -> str:
    """Cosine distance to `query` in the form the dimension's index serves."""
    d = _checked(dimension)
    return f"({alias}.embedding::vector({d})) <=> {query}::vector({d})"


def index_name(dimension: int, base: int) -> str:
    return BASE_INDEX if dimension == base else f"chunks_embedding_hnsw_{_checked(dimension)}"


async def base_dimension(conn: psycopg.AsyncConnection) -> int:
    return int(await scalar(conn, "SELECT dimension FROM text_vector_base"))


async def ensure_chunk_index(conn: psycopg.AsyncConnection, dimension: int, base: int) -> None:
    """The HNSW index of one dimension's chunk vectors (idempotent), built CONCURRENTLY so that
    writers of chunks go on meanwhile; `conn` must be in autocommit mode, outside a transaction.

    A build cut short leaves an invalid index behind: it is dropped and built again. The advisory
    lock keeps two replicas from building the same index at once.
    """
    dimension = _checked(dimension)
    name = index_name(dimension, base)
    valid = "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s"
    cur = await conn.execute(valid, [name])
    row = await cur.fetchone()
    if row is not None and row[0]:
        return
    await conn.execute("SELECT pg_advisory_lock(%s)", [_INDEX_LOCK_KEY + dimension])
    try:
        cur = await conn.execute(valid, [name])
        row = await cur.fetchone()
        if row is not None and row[0]:
            return
        if row is not None:
            await conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        await conn.execute(
            f"CREATE INDEX CONCURRENTLY {name} ON chunks USING hnsw ((embedding::vector({dimension}))"
            f" vector_cosine_ops) WHERE vector_dims(embedding) = {dimension}"
        )
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", [_INDEX_LOCK_KEY + dimension])
