"""Documents as vectors (the normalized mean of their chunks' vectors), their nearest neighbours
within a tenant, and the sections two documents are compared by."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import psycopg

from mivaa_search.store._common import Connections, parse_document_id, require_document
from mivaa_search.store._version_sql import LATEST_READY
from mivaa_search.store.records import MAX_HIT_TITLE_CHARS

# Chunks read of one document for a comparison (a 600-page handbook has ~3,000).
MAX_COMPARED_CHUNKS = 20_000


@dataclass(frozen=True)
class RelatedRecord:
    document_id: str
    title: str
    distance: float  # cosine distance: 1 - similarity


@dataclass(frozen=True)
class ChunkSlice:
    """What a comparison reads of a chunk."""

    index: int
    section_path: tuple[str, ...]
    text: str
    page_start: int
    page_end: int
    embedding: np.ndarray


async def write_document_vector(conn: psycopg.AsyncConnection, doc_id: uuid.UUID) -> None:
    """The document's vector from its chunks as they are now, inside the caller's transaction
    (none when it has no chunks, or when their vectors cancel out)."""
    await conn.execute("DELETE FROM document_vectors WHERE document_id = %s", [doc_id])
    await conn.execute(
        """
        INSERT INTO document_vectors (document_id, embedding)
        SELECT document_id, l2_normalize(avg(embedding))
        FROM chunks WHERE document_id = %s
        GROUP BY document_id
        HAVING vector_norm(avg(embedding)) > 0
        """,
        [doc_id],
    )


class RelatedRepository:
    def __init__(self, connections: Connections):
        self._connections = connections

    async def nearest(
        self, id: str, *, tenant: str, limit: int, after: tuple[float, str] | None = None
    ) -> list[RelatedRecord]:
        """The tenant's other READY documents (each version chain's newest READY one) by cosine distance to this one, nearest first, after
        `after` = (distance, id) of the last one a previous page held. An exact scan: a tenant's
        documents are few next to its chunks, and every one must be findable."""
        doc_id = parse_document_id(id)
        params: dict[str, object] = {"doc": doc_id, "tenant": tenant, "limit": limit, "chars": MAX_HIT_TITLE_CHARS}
        position = ""
        if after is not None:
            position = "WHERE (distance, id) > (%(distance)s, %(after_id)s)"
            params |= {"distance": after[0], "after_id": uuid.UUID(after[1])}
        async with self._connections.connection() as conn:
            await require_document(conn, doc_id, id, tenant=tenant)
            cur = await conn.execute(
                f"""
                SELECT id, title, distance FROM (
                    SELECT d.id, left(d.title, %(chars)s) AS title,
                           (v.embedding <=> (SELECT embedding FROM document_vectors WHERE document_id = %(doc)s))
                               ::float8 AS distance
                    FROM document_vectors v
                    JOIN documents d ON d.id = v.document_id
                    WHERE d.tenant = %(tenant)s AND d.state = 'READY' AND d.id <> %(doc)s AND {LATEST_READY}
                      -- A tenant's documents share its model's dimension; this keeps the distance defined.
                      AND vector_dims(v.embedding)
                          = (SELECT vector_dims(embedding) FROM document_vectors WHERE document_id = %(doc)s)
                ) scored
                {position}
                ORDER BY distance, id
                LIMIT %(limit)s
                """,
                params,
            )
            rows = await cur.fetchall()
        # No vector for the document itself (no chunks yet): every distance is NULL, nothing is near.
        return [
            RelatedRecord(str(doc), title, float(distance)) for doc, title, distance in rows if distance is not None
        ]

    async def chunks(self, id: str, *, tenant: str) -> list[ChunkSlice]:
        """The document's chunks in order, with their heading trails, pages and vectors."""
        doc_id = parse_document_id(id)
        async with self._connections.connection() as conn:
            await require_document(conn, doc_id, id, tenant=tenant)
            cur = await conn.execute(
                """
                SELECT chunk_index, section_path, text, page_start, page_end, embedding
                FROM chunks WHERE document_id = %s ORDER BY chunk_index LIMIT %s
                """,
                [doc_id, MAX_COMPARED_CHUNKS],
            )
            rows = await cur.fetchall()
        return [
            ChunkSlice(index, tuple(path or ()), text, start, end, np.asarray(embedding.to_numpy(), dtype=np.float32))
            for index, path, text, start, end, embedding in rows
        ]
