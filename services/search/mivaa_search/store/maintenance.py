"""Keeping the chunk vector index healthy: counting what churn leaves behind, rebuilding, probing.

HNSW marks deleted rows and VACUUM patches their neighbours, but after many deletes and
replacements the graph can leave live rows unreachable at a small ef_search (seen: a demo's
documents no longer found by their own vectors). So removed chunks are counted (index_builds),
the index is rebuilt with REINDEX CONCURRENTLY (writes go on meanwhile; the app role owns the
table) once they pass a share of the live ones, and a probe measures recall: sampled chunks
searched by their own vectors through the index.
"""

from __future__ import annotations

import psycopg

from mivaa_search.store._common import Connections, scalar
from mivaa_search.store.text_vectors import BASE_INDEX, indexed_distance, of_dimension

CHUNK_INDEX = BASE_INDEX  # the base dimension's (text_vectors.py); other dimensions' are not rebuilt here
# Rebuild when the chunks removed since the last build reach this share of the live ones (and this many).
REBUILD_REMOVED_SHARE = 0.2
REBUILD_MIN_REMOVED = 500
PROBE_NEIGHBOURS = 10
# pg_try_advisory_lock key held while rebuilding, so replicas never rebuild at once.
_REBUILD_LOCK_KEY = int.from_bytes(b"mivaa-rx", "big") & 0x7FFF_FFFF_FFFF_FFFF


async def note_removed(conn: psycopg.AsyncConnection, count: int) -> None:
    """Count `count` chunks removed from the index (after their transaction committed: a short
    update of its own, so concurrent writers do not queue on this row for a whole upsert)."""
    if count > 0:
        await conn.execute("UPDATE index_builds SET removed = removed + %s WHERE index_name = %s", [count, CHUNK_INDEX])


class IndexMaintenance:
    def __init__(self, connections: Connections, dimension: int):
        """dimension: the base one, whose index this keeps."""
        self._connections = connections
        self._dimension = dimension

    async def rebuild_due(self) -> bool:
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                """
                SELECT b.removed, greatest(c.reltuples, 0)::bigint
                FROM index_builds b, pg_class c
                WHERE b.index_name = %s AND c.oid = 'chunks'::regclass
                """,
                [CHUNK_INDEX],
            )
            row = await cur.fetchone()
        if row is None:
            return False
        removed, live = row
        return removed >= REBUILD_MIN_REMOVED and removed >= REBUILD_REMOVED_SHARE * live

    async def rebuild(self) -> bool:
        """REINDEX CONCURRENTLY the chunk vector index; False when another replica is at it."""
        async with self._connections.connection() as conn:
            if not await scalar(conn, "SELECT pg_try_advisory_lock(%s)", [_REBUILD_LOCK_KEY]):
                return False
            try:
                removed = await scalar(conn, "SELECT removed FROM index_builds WHERE index_name = %s", [CHUNK_INDEX])
                await conn.execute(f"REINDEX INDEX CONCURRENTLY {CHUNK_INDEX}")
                # What was removed while rebuilding may still be in the new index: keep it counted.
                await conn.execute(
                    "UPDATE index_builds SET removed = greatest(removed - %s, 0), built_at = now() WHERE index_name = %s",
                    [removed, CHUNK_INDEX],
                )
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", [_REBUILD_LOCK_KEY])
        return True

    async def probe_recall(self, sample: int, ef_search: int) -> float | None:
        """The share of `sample` random chunks (of every tenant: only the ratio leaves this
        function) found among their PROBE_NEIGHBOURS nearest by their own vector through the
        index, at `ef_search`; None when there are no chunks."""
        async with self._connections.connection() as conn, conn.transaction():
            live = await scalar(conn, "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'chunks'::regclass")
            share = 100.0 if live <= sample * 4 else min(100.0, 400.0 * sample / live)
            cur = await conn.execute(
                "SELECT document_id, chunk_index, embedding FROM chunks c TABLESAMPLE BERNOULLI (%s)"
                f" WHERE {of_dimension('c', self._dimension)} LIMIT %s",
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
                    f"SELECT document_id, chunk_index FROM chunks c WHERE {of_dimension('c', self._dimension)}"
                    f" ORDER BY {indexed_distance('c', self._dimension, '%s')} LIMIT %s",
                    [embedding, PROBE_NEIGHBOURS],
                )
                found += (document_id, chunk_index) in {tuple(row) for row in await cur.fetchall()}
        return found / len(probes)
