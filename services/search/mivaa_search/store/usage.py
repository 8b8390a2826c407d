"""What one tenant stores: counts and sizes over its documents, chunks and images."""

from __future__ import annotations

from dataclasses import dataclass

from mivaa_search.store._common import Connections


@dataclass(frozen=True)
class TenantUsage:
    documents: int
    pages: int
    original_bytes: int
    chunks: int
    vectors: int
    images: int


class UsageRepository:
    def __init__(self, connections: Connections):
        self._connections = connections

    async def of_tenant(self, *, tenant: str) -> TenantUsage:
        """One statement, so the numbers agree with each other (one snapshot)."""
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                """
                WITH own AS (SELECT id, page_count, size_bytes FROM documents WHERE tenant = %(tenant)s)
                SELECT
                    (SELECT count(*) FROM own),
                    (SELECT coalesce(sum(page_count), 0) FROM own),
                    (SELECT coalesce(sum(size_bytes), 0) FROM own),
                    (SELECT count(*) FROM chunks WHERE document_id IN (SELECT id FROM own)),
                    (SELECT count(*) FROM image_embeddings WHERE document_id IN (SELECT id FROM own)),
                    (SELECT count(*) FROM images WHERE document_id IN (SELECT id FROM own))
                """,
                {"tenant": tenant},
            )
            row = await cur.fetchone()
        assert row is not None, "an aggregate query returned no row"
        documents, pages, original_bytes, chunks, image_vectors, images = (int(value) for value in row)
        return TenantUsage(documents, pages, original_bytes, chunks, chunks + image_vectors, images)
