"""Pages: each stored as the mivaa.search.v1.Page message the extractor built (a domain
message, kept serialized and opaque to SQL), read in page order."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import psycopg

from mivaa_search.store._common import Connections, parse_document_id, require_document, scalar


class PageRepository:
    def __init__(self, connections: Connections):
        self._connections = connections

    async def read(self, id: str, *, tenant: str, limit: int, after: int = 0) -> list[tuple[int, bytes]]:
        """Up to `limit` of the document's pages numbered above `after`, in order, as (number, layout)."""
        doc_id = parse_document_id(id)
        async with self._connections.connection() as conn:
            await require_document(conn, doc_id, id, tenant=tenant)
            cur = await conn.execute(
                "SELECT number, layout FROM pages WHERE document_id = %s AND number > %s ORDER BY number LIMIT %s",
                [doc_id, after, limit],
            )
            return [(number, bytes(layout)) for number, layout in await cur.fetchall()]

    async def size(self, id: str, *, tenant: str) -> int:
        """Bytes the document's stored pages take."""
        doc_id = parse_document_id(id)
        async with self._connections.connection() as conn:
            await require_document(conn, doc_id, id, tenant=tenant)
            size = await scalar(
                conn, "SELECT coalesce(sum(octet_length(layout)), 0) FROM pages WHERE document_id = %s", [doc_id]
            )
        return int(size)


async def write_pages(conn: psycopg.AsyncConnection, doc_id: uuid.UUID, pages: Iterable[tuple[int, bytes]]) -> None:
    """Replace the document's pages, inside the caller's transaction."""
    await conn.execute("DELETE FROM pages WHERE document_id = %s", [doc_id])
    async with (
        conn.cursor() as cur,
        cur.copy("COPY pages (document_id, number, layout) FROM STDIN WITH (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["uuid", "int4", "bytea"])
        for number, layout in pages:
            await copy.write_row((doc_id, number, layout))
