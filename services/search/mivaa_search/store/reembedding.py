"""Re-embedding a tenant's chunks with another text model, of any dimension, without downtime.

The new vectors fill `chunk_vectors` (keyed by chunk and model) in batches while search keeps
reading `chunks.embedding`; resuming after a crash needs no cursor, since the batches take the
chunks that have no new vector yet. The switch is one transaction: it copies the new vectors over
the tenant's chunks (the HNSW index takes them as it takes any update), records the tenant's
model (and its dimension) and marks the re-embedding done; the side rows are deleted after it
commits. Readers see either every old vector or every new one, never a mix. Vectors of another
dimension than the old ones land in that dimension's own HNSW index (text_vectors.py), which the
worker builds before the first batch, so the tenant's first query after the switch finds it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import psycopg

from mivaa_platform.errors import FailedPrecondition, NotFound
from mivaa_search.store._common import Connections, check_vector
from mivaa_search.store.maintenance import note_removed
from mivaa_search.store.records import DOMAIN
from mivaa_search.store.text_vectors import ensure_chunk_index

MODEL_CHANGED = "EMBEDDING_MODEL_CHANGED"
STATES = ("RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
_COLUMNS = (
    "id, tenant, model, from_model, state, chunks_total, chunks_done, error, create_time, update_time,"
    " switch_time, dimension"
)
# Chunks of the tenant's documents still lacking a vector of the target model.
_PENDING = """
    FROM chunks c JOIN documents d ON d.id = c.document_id
    WHERE d.tenant = %(tenant)s AND c.model <> %(model)s
      AND NOT EXISTS (
        SELECT 1 FROM chunk_vectors v
        WHERE v.document_id = c.document_id AND v.chunk_index = c.chunk_index AND v.model = %(model)s
      )
"""


@dataclass(frozen=True)
class ReembeddingRecord:
    id: str
    tenant: str
    model: str
    from_model: str
    state: str
    chunks_total: int
    chunks_done: int
    error: str
    create_time: dt.datetime
    update_time: dt.datetime
    switch_time: dt.datetime | None
    dimension: int | None  # the target model's; None for re-embeddings recorded before migration 0020


@dataclass(frozen=True)
class PendingChunk:
    document_id: uuid.UUID
    chunk_index: int
    text: str


def _record(row: Sequence) -> ReembeddingRecord:
    return ReembeddingRecord(str(row[0]), *row[1:])


def not_found(id: str) -> NotFound:
    return NotFound("REEMBEDDING_NOT_FOUND", "No re-embedding has this id.", domain=DOMAIN, metadata={"id": id})


def _parse_id(id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(id)
    except (TypeError, ValueError, AttributeError):
        return None


class ReembeddingRepository:
    def __init__(self, connections: Connections, dimension: int):
        self._connections = connections
        self.dimension = dimension

    async def active_model(self, tenant: str) -> str | None:
        """The tenant's text model when it has switched away from the configured one, else None."""
        async with self._connections.connection() as conn:
            cur = await conn.execute("SELECT model FROM tenant_text_models WHERE tenant = %s", [tenant])
            row = await cur.fetchone()
        return row[0] if row else None

    def target_dimension(self, record: ReembeddingRecord) -> int:
        return record.dimension or self.dimension

    async def ensure_index(self, dimension: int) -> None:
        """The HNSW index of this dimension's chunk vectors, built (concurrently) when missing."""
        async with self._connections.connection() as conn:
            await ensure_chunk_index(conn, dimension, self.dimension)

    async def start(self, tenant: str, model: str, from_model: str, dimension: int) -> ReembeddingRecord:
        """A RUNNING re-embedding of the tenant's chunks, or REEMBEDDING_RUNNING when one already runs."""
        async with self._connections.connection() as conn:
            try:
                async with conn.transaction():
                    # The row concurrent writes of chunks lock (check_model) exists from now on.
                    await conn.execute(
                        "INSERT INTO tenant_text_models (tenant, model) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        [tenant, from_model],
                    )
                    cur = await conn.execute(
                        f"INSERT INTO reembeddings (tenant, model, from_model, dimension) VALUES (%s, %s, %s, %s)"
                        f" RETURNING {_COLUMNS}",
                        [tenant, model, from_model, dimension],
                    )
                    row = await cur.fetchone()
            except psycopg.errors.UniqueViolation:
                raise FailedPrecondition(
                    "REEMBEDDING_RUNNING",
                    "A re-embedding of this tenant is already running; wait for it or cancel it.",
                    domain=DOMAIN,
                ) from None
            assert row is not None
            record = _record(row)
            await self._count(conn, record.id)
        return await self.get(record.id, tenant=tenant)

    async def get(self, id: str, *, tenant: str) -> ReembeddingRecord:
        parsed = _parse_id(id)
        if parsed is None:
            raise not_found(id)
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM reembeddings WHERE id = %s AND tenant = %s", [parsed, tenant]
            )
            row = await cur.fetchone()
        if row is None:
            raise not_found(id)
        return _record(row)

    async def latest(self, *, tenant: str) -> ReembeddingRecord | None:
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM reembeddings WHERE tenant = %s ORDER BY create_time DESC LIMIT 1", [tenant]
            )
            row = await cur.fetchone()
        return _record(row) if row else None

    async def cancel(self, id: str, *, tenant: str) -> ReembeddingRecord:
        """CANCELLED and its side vectors deleted; REEMBEDDING_NOT_RUNNING once it has ended."""
        record = await self.get(id, tenant=tenant)
        async with self._connections.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(
                    "UPDATE reembeddings SET state = 'CANCELLED', update_time = now()"
                    " WHERE id = %s AND state = 'RUNNING' RETURNING 1",
                    [uuid.UUID(record.id)],
                )
                if await cur.fetchone() is None:
                    raise FailedPrecondition(
                        "REEMBEDDING_NOT_RUNNING",
                        f"This re-embedding has ended ({record.state}).",
                        domain=DOMAIN,
                        metadata={"state": record.state},
                    )
            await self._drop_side_vectors(conn, tenant, record.model)
        return await self.get(id, tenant=tenant)

    async def fail(self, id: str, error: str) -> None:
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                "UPDATE reembeddings SET state = 'FAILED', error = %s, update_time = now()"
                " WHERE id = %s AND state = 'RUNNING' RETURNING tenant, model",
                [error[:1000], uuid.UUID(id)],
            )
            row = await cur.fetchone()
            if row is not None:
                await self._drop_side_vectors(conn, row[0], row[1])

    async def claim(self, lease_seconds: float) -> ReembeddingRecord | None:
        """A RUNNING re-embedding no live worker holds, leased to the caller (None when there is none)."""
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                f"""
                UPDATE reembeddings SET lease_until = now() + make_interval(secs => %s)
                WHERE id = (
                    SELECT id FROM reembeddings WHERE state = 'RUNNING' AND lease_until < now()
                    ORDER BY create_time LIMIT 1 FOR UPDATE SKIP LOCKED
                )
                RETURNING {_COLUMNS}
                """,
                [lease_seconds],
            )
            row = await cur.fetchone()
            if row is None:
                return None
            await self._count(conn, str(row[0]))
        return await self.get(str(row[0]), tenant=row[1])

    async def renew(self, id: str, lease_seconds: float) -> bool:
        """Extends the lease; False once the re-embedding is no longer RUNNING (cancelled)."""
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                "UPDATE reembeddings SET lease_until = now() + make_interval(secs => %s)"
                " WHERE id = %s AND state = 'RUNNING' RETURNING 1",
                [lease_seconds, uuid.UUID(id)],
            )
            return await cur.fetchone() is not None

    async def pending(self, record: ReembeddingRecord, limit: int) -> list[PendingChunk]:
        """Up to `limit` of the tenant's chunks without a vector of the target model yet."""
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                f"SELECT c.document_id, c.chunk_index, c.text {_PENDING} ORDER BY c.document_id, c.chunk_index"
                " LIMIT %(limit)s",
                {"tenant": record.tenant, "model": record.model, "limit": limit},
            )
            return [PendingChunk(*row) for row in await cur.fetchall()]

    async def write(self, record: ReembeddingRecord, chunks: Sequence[PendingChunk], vectors: Sequence) -> None:
        """The new vectors of these chunks (a chunk deleted meanwhile is skipped), and the progress."""
        dimension = self.target_dimension(record)
        checked = [check_vector(v, dimension, "INVALID_EMBEDDING", "EMBEDDING_DIMENSION_MISMATCH") for v in vectors]
        async with self._connections.connection() as conn, conn.transaction():
            # Held until commit: a cancel (or a failure) waits for this batch, or this batch sees it
            # and writes nothing, so no side vector outlives its re-embedding.
            cur = await conn.execute(
                "SELECT 1 FROM reembeddings WHERE id = %s AND state = 'RUNNING' FOR SHARE", [uuid.UUID(record.id)]
            )
            if await cur.fetchone() is None:
                return
            written = 0
            for chunk, vector in zip(chunks, checked):
                cur = await conn.execute(
                    """
                    INSERT INTO chunk_vectors (document_id, chunk_index, model, embedding)
                    SELECT document_id, chunk_index, %s, %s FROM chunks
                    WHERE document_id = %s AND chunk_index = %s
                    ON CONFLICT (document_id, chunk_index, model) DO UPDATE SET embedding = excluded.embedding
                    """,
                    [record.model, np.asarray(vector), chunk.document_id, chunk.chunk_index],
                )
                written += cur.rowcount
            await conn.execute(
                "UPDATE reembeddings SET chunks_done = chunks_done + %s,"
                " chunks_total = greatest(chunks_total, chunks_done + %s), update_time = now() WHERE id = %s",
                [written, written, uuid.UUID(record.id)],
            )

    async def switch(self, record: ReembeddingRecord) -> bool:
        """The tenant's chunks take the new vectors and the tenant the new model, in one transaction;
        False (nothing changed) when chunks written meanwhile still lack a new vector, or when the
        re-embedding was cancelled. The side vectors are deleted once the switch has committed."""
        id = uuid.UUID(record.id)
        params = {"tenant": record.tenant, "model": record.model, "dimension": self.target_dimension(record)}
        async with self._connections.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute("SELECT state FROM reembeddings WHERE id = %s FOR UPDATE", [id])
                row = await cur.fetchone()
                if row is None or row[0] != "RUNNING":
                    return False
                # Writers of the tenant's chunks hold this row FOR SHARE (check_model): none is
                # half way through while the vectors are copied.
                cur = await conn.execute(
                    "SELECT dimension FROM tenant_text_models WHERE tenant = %s FOR UPDATE", [record.tenant]
                )
                locked = await cur.fetchone()
                from_dimension = (locked[0] if locked else None) or self.dimension
                cur = await conn.execute(f"SELECT EXISTS (SELECT 1 {_PENDING})", params)
                row = await cur.fetchone()
                if row is not None and row[0]:
                    return False
                replaced = await conn.execute(
                    """
                    UPDATE chunks c SET embedding = v.embedding, model = v.model
                    FROM chunk_vectors v, documents d
                    WHERE v.document_id = c.document_id AND v.chunk_index = c.chunk_index
                      AND v.model = %(model)s AND d.id = c.document_id AND d.tenant = %(tenant)s
                    """,
                    params,
                )
                # Related documents: each document's vector is its chunks' mean.
                await conn.execute(
                    "DELETE FROM document_vectors WHERE document_id IN (SELECT id FROM documents WHERE tenant = %s)",
                    [record.tenant],
                )
                await conn.execute(
                    """
                    INSERT INTO document_vectors (document_id, embedding)
                    SELECT c.document_id, l2_normalize(avg(c.embedding))
                    FROM chunks c JOIN documents d ON d.id = c.document_id
                    WHERE d.tenant = %s
                    GROUP BY c.document_id
                    HAVING vector_norm(avg(c.embedding)) > 0
                    """,
                    [record.tenant],
                )
                await conn.execute(
                    "INSERT INTO tenant_text_models (tenant, model, dimension) VALUES (%(tenant)s, %(model)s, %(dimension)s)"
                    " ON CONFLICT (tenant) DO UPDATE SET model = excluded.model, dimension = excluded.dimension,"
                    " update_time = now()",
                    params,
                )
                await conn.execute(
                    "UPDATE reembeddings SET state = 'SUCCEEDED', switch_time = now(), update_time = now(),"
                    " chunks_done = chunks_total WHERE id = %s",
                    [id],
                )
            # Each replaced vector leaves a dead entry in the HNSW graph, as a deleted chunk does.
            await note_removed(conn, replaced.rowcount, dimension=from_dimension)
            await self._drop_side_vectors(conn, record.tenant, record.model)
        return True

    async def _count(self, conn: psycopg.AsyncConnection, id: str) -> None:
        """Exact progress: side vectors written, and those plus the chunks still pending."""
        cur = await conn.execute("SELECT tenant, model FROM reembeddings WHERE id = %s", [uuid.UUID(id)])
        row = await cur.fetchone()
        assert row is not None
        params = {"tenant": row[0], "model": row[1], "id": uuid.UUID(id)}
        await conn.execute(
            f"""
            UPDATE reembeddings SET
                chunks_done = (SELECT count(*) FROM chunk_vectors v JOIN documents d ON d.id = v.document_id
                               WHERE d.tenant = %(tenant)s AND v.model = %(model)s),
                chunks_total = (SELECT count(*) FROM chunk_vectors v JOIN documents d ON d.id = v.document_id
                                WHERE d.tenant = %(tenant)s AND v.model = %(model)s)
                             + (SELECT count(*) {_PENDING}),
                update_time = now()
            WHERE id = %(id)s
            """,
            params,
        )

    async def _drop_side_vectors(self, conn: psycopg.AsyncConnection, tenant: str, model: str) -> None:
        await conn.execute(
            "DELETE FROM chunk_vectors v USING documents d WHERE d.id = v.document_id AND d.tenant = %s AND v.model = %s",
            [tenant, model],
        )


async def tenant_text_model(conn: psycopg.AsyncConnection, tenant: str) -> tuple[str | None, int | None]:
    """Inside a writer's transaction: the tenant's text model and its dimension (None, None while
    it has the configured model; a dimension None is the base one). Its row stays locked FOR
    SHARE until the writer commits, so a switch waits for the writer to finish."""
    cur = await conn.execute("SELECT model, dimension FROM tenant_text_models WHERE tenant = %s FOR SHARE", [tenant])
    row = await cur.fetchone()
    return (row[0], row[1]) if row else (None, None)


def model_changed(model: str) -> FailedPrecondition:
    return FailedPrecondition(
        MODEL_CHANGED,
        f"The tenant's text model is no longer {model!r}: its chunks must be embedded with the new one.",
        domain=DOMAIN,
        metadata={"model": model},
    )
