"""Keeping the chunk vector indexes healthy: counting what churn leaves behind, rebuilding, probing.

HNSW marks deleted rows and VACUUM patches their neighbours, but after many deletes and
replacements the graph can leave live rows unreachable at a small ef_search (seen: a demo's
documents no longer found by their own vectors). So removed chunks are counted against the index
of their dimension (index_builds: the base dimension's, and each other dimension's once tenants
re-embedded into it, text_vectors.py), an index is rebuilt with REINDEX CONCURRENTLY (writes go
on meanwhile; the app role owns the table) once they pass a share of its live entries, and a
probe measures each index's recall: sampled chunks searched by their own vectors through it.
"""

from __future__ import annotations

import psycopg

from mivaa_search.store._common import Connections, scalar
from mivaa_search.store.text_vectors import index_name, indexed_distance, of_dimension

# Rebuild when the chunks removed since the last build reach this share of the live ones (and this many).
REBUILD_REMOVED_SHARE = 0.2
REBUILD_MIN_REMOVED = 500
PROBE_NEIGHBOURS = 10
# pg_try_advisory_lock key held while rebuilding, so replicas never rebuild at once.
_REBUILD_LOCK_KEY = int.from_bytes(b"mivaa-rx", "big") & 0x7FFF_FFFF_FFFF_FFFF


async def note_removed(
    conn: psycopg.AsyncConnection, count: int, *, tenant: str | None = None, dimension: int | None = None
) -> None:
    """Count `count` chunks removed from the index of `dimension`, or of the dimension of `tenant`'s
    model (after their transaction committed: a short update of its own, so concurrent writers do
    not queue on this row for a whole upsert)."""
    if count <= 0:
        return
    cur = await conn.execute(
        "SELECT b.dimension, (SELECT dimension FROM tenant_text_models WHERE tenant = %s) FROM text_vector_base b",
        [tenant],
    )
    row = await cur.fetchone()
    assert row is not None  # text_vector_base holds one row from migration 0020 on
    base, own = row
    dimension = dimension or own or base  # a NULL dimension of a tenant's model is the base one
    await conn.execute(
        "INSERT INTO index_builds (index_name, removed) VALUES (%s, %s)"
        " ON CONFLICT (index_name) DO UPDATE SET removed = index_builds.removed + excluded.removed",
        [index_name(dimension, base), count],
    )


class IndexMaintenance:
    def __init__(self, connections: Connections, dimension: int):
        """dimension: the base one (its index exists from the migrations on)."""
        self._connections = connections
        self._dimension = dimension

    async def dimensions(self) -> list[int]:
        """The dimensions whose chunk vectors have a valid index: the base one and those tenants
        re-embedded into."""
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                """
                SELECT DISTINCT substring(pg_get_indexdef(i.indexrelid) FROM 'vector_dims\\(embedding\\) = (\\d+)')::int
                FROM pg_index i JOIN pg_am a ON a.oid = (SELECT relam FROM pg_class WHERE oid = i.indexrelid)
                WHERE i.indrelid = 'chunks'::regclass AND i.indisvalid AND a.amname = 'hnsw'
                """
            )
            found = {row[0] for row in await cur.fetchall() if row[0] is not None}
        return sorted(found | {self._dimension})

    async def rebuild_due(self, dimension: int | None = None) -> bool:
        """Whether chunks removed since the index of `dimension` (the base one by default) was
        built reach REBUILD_REMOVED_SHARE of its live entries (and REBUILD_MIN_REMOVED)."""
        name = index_name(dimension or self._dimension, self._dimension)
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                """
                SELECT b.removed, greatest(c.reltuples, 0)::bigint
                FROM index_builds b JOIN pg_class c ON c.relname = b.index_name
                WHERE b.index_name = %s
                """,
                [name],
            )
            row = await cur.fetchone()
        if row is None:
            return False
        removed, live = row
        return removed >= REBUILD_MIN_REMOVED and removed >= REBUILD_REMOVED_SHARE * live

    async def rebuild(self, dimension: int | None = None) -> bool:
        """REINDEX CONCURRENTLY the chunk vector index of `dimension` (the base one by default);
        False when another replica is rebuilding one."""
        name = index_name(dimension or self._dimension, self._dimension)
        async with self._connections.connection() as conn:
            if not await scalar(conn, "SELECT pg_try_advisory_lock(%s)", [_REBUILD_LOCK_KEY]):
                return False
            try:
                removed = await scalar(conn, "SELECT removed FROM index_builds WHERE index_name = %s", [name])
                await conn.execute(f"REINDEX INDEX CONCURRENTLY {name}")
                # What was removed while rebuilding may still be in the new index: keep it counted.
                await conn.execute(
                    "UPDATE index_builds SET removed = greatest(removed - %s, 0), built_at = now() WHERE index_name = %s",
                    [removed or 0, name],
                )
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", [_REBUILD_LOCK_KEY])
        return True

    async def probe_recall(self, sample: int, ef_search: int, dimension: int | None = None) -> float | None:
        """The share of `sample` random chunks of `dimension` (the base one by default; of every
        tenant: only the ratio leaves this function) found among their PROBE_NEIGHBOURS nearest
        by their own vector through that dimension's index, at `ef_search`; None when there are
        no such chunks."""
        dimension = dimension or self._dimension
        async with self._connections.connection() as conn, conn.transaction():
            live = await scalar(
                conn,
                "SELECT greatest(reltuples, 0) FROM pg_class WHERE relname = %s",
                [index_name(dimension, self._dimension)],
            )
            share = 100.0 if live <= sample * 4 else min(100.0, 400.0 * sample / live)
            cur = await conn.execute(
                "SELECT document_id, chunk_index, embedding FROM chunks c TABLESAMPLE BERNOULLI (%s)"
                f" WHERE {of_dimension('c', dimension)} LIMIT %s",
                [share, sample],
            )
            probes = await cur.fetchall()
            if not probes:
                return None
            await conn.execute(
                "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', 'off', true),"
                " set_config('enable_seqscan', 'off', true)",  # the index is what is probed, however small
                [str(ef_search)],
            )
            found = 0
            for document_id, chunk_index, embedding in probes:
                cur = await conn.execute(
                    f"SELECT document_id, chunk_index FROM chunks c WHERE {of_dimension('c', dimension)}"
                    f" ORDER BY {indexed_distance('c', dimension, '%s')} LIMIT %s",
                    [embedding, PROBE_NEIGHBOURS],
                )
                found += (document_id, chunk_index) in {tuple(row) for row in await cur.fetchall()}
        return found / len(probes)
