"""Document versions: chains of documents rows, and which of them a search or a listing sees.

Each version is a documents row of its own (chunks, pages, images, job, and its own reference to
its original, so originals stay correct when one version is deleted); `chain` is the first
version's id and `version` counts from 1 (migration 0017). Which versions are seen:
- Searches see each chain's highest READY version (LATEST_READY): while a new version is
  processing, the previous one still answers, and the switch happens in the transaction that
  commits the new version's chunks and marks it READY (store.chunks.replace_content).
- ListDocuments sees each chain's highest version in any state (NEWEST_VERSION), with a count.
New versions are numbered under a per-chain advisory lock, so two uploads to one chain never
take the same number (the unique index would refuse it anyway).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from psycopg import AsyncConnection

from mivaa_platform.errors import FailedPrecondition
from mivaa_search.store._common import Connections, document_not_found, parse_document_id
from mivaa_search.store.maintenance import note_removed
from mivaa_search.store.records import DOMAIN, DocumentRecord, NewDocument

_UNFINISHED = ("PENDING", "PROCESSING")


async def chain_for_upload(conn: AsyncConnection, new: NewDocument, *, tenant: str) -> uuid.UUID | None:
    """The chain a new upload joins: its parent's (NOT_FOUND for a document the tenant does not
    have), or with replace_by_filename the tenant's newest document of that name (None: none)."""
    if new.parent:
        cur = await conn.execute(
            "SELECT chain FROM documents WHERE id = %s AND tenant = %s", [parse_document_id(new.parent), tenant]
        )
        row = await cur.fetchone()
        if row is None:
            raise document_not_found(new.parent)
        return row[0]
    if new.replace_by_filename:
        cur = await conn.execute(
            "SELECT chain FROM documents WHERE tenant = %s AND filename = %s ORDER BY create_time DESC LIMIT 1",
            [tenant, new.filename],
        )
        row = await cur.fetchone()
        return row[0] if row is not None else None
    return None


async def next_version(conn: AsyncConnection, chain: uuid.UUID, *, tenant: str) -> int:
    """The number the chain's next version takes, holding the chain's lock to the end of the
    transaction. A chain whose newest version has not finished processing is FAILED_PRECONDITION
    DOCUMENT_PROCESSING: versions are added one at a time, after the previous one is READY or FAILED."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 16))", [f"chain:{chain}"])
    cur = await conn.execute(
        "SELECT id, version, state FROM documents WHERE tenant = %s AND chain = %s ORDER BY version DESC LIMIT 1",
        [tenant, chain],
    )
    row = await cur.fetchone()
    if row is None:  # every version was deleted meanwhile: the chain starts again
        return 1
    newest_id, version, state = row
    if state in _UNFINISHED:
        raise FailedPrecondition(
            "DOCUMENT_PROCESSING",
            "The document's newest version is still being processed; upload the next one when its job has finished.",
            domain=DOMAIN,
            metadata={"document": f"documents/{newest_id}"},
        )
    return int(version) + 1


def chain_id(record: DocumentRecord) -> str:
    return record.chain or record.id


class VersionRepository:
    def __init__(
        self, connections: Connections, columns: str, read_columns: str, to_record: Callable[[tuple], DocumentRecord]
    ):
        self._connections = connections
        self._columns = columns  # a write's RETURNING list (store.documents.DOCUMENT_COLUMNS)
        self._read_columns = read_columns  # the same with the chain's version count
        self._to_record = to_record

    async def delete_chain(self, id: str, *, tenant: str) -> list[DocumentRecord]:
        """Delete every version of the chain of `tenant`'s document `id` in one transaction (each
        row releases its own reference to its original, as a single delete does); returns them."""
        doc_id = parse_document_id(id)
        async with self._connections.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT chain FROM documents WHERE id = %s AND tenant = %s FOR UPDATE", [doc_id, tenant]
            )
            row = await cur.fetchone()
            if row is None:
                raise document_not_found(id)
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 16))", [f"chain:{row[0]}"])
            cur = await conn.execute(
                f"DELETE FROM documents WHERE tenant = %s AND chain = %s RETURNING {self._columns}", [tenant, row[0]]
            )
            records = [self._to_record(r) for r in await cur.fetchall()]
            await note_removed(conn, sum(r.chunk_count for r in records), tenant=tenant)
        return records

    async def list(self, id: str, *, tenant: str, limit: int, before_version: int = 0) -> list[DocumentRecord]:
        """Up to `limit` versions of the chain of `tenant`'s document `id`, newest first, below
        version `before_version` (0: from the newest). NOT_FOUND when the tenant has no such document."""
        doc_id = parse_document_id(id)
        async with self._connections.connection() as conn:
            cur = await conn.execute("SELECT chain FROM documents WHERE id = %s AND tenant = %s", [doc_id, tenant])
            row = await cur.fetchone()
            if row is None:
                raise document_not_found(id)
            cur = await conn.execute(
                f"""
                SELECT {self._read_columns}
                FROM documents
                WHERE tenant = %(tenant)s AND chain = %(chain)s AND (%(before)s = 0 OR version < %(before)s)
                ORDER BY version DESC
                LIMIT %(limit)s
                """,
                {"tenant": tenant, "chain": row[0], "before": before_version, "limit": limit},
            )
            return [self._to_record(r) for r in await cur.fetchall()]
