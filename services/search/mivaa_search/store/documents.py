"""Documents: the catalog rows, one tenant at a time."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from psycopg.types.json import Jsonb

from mivaa_platform.errors import InvalidArgument, Unavailable
from mivaa_search.store._common import (
    Connections,
    check_sha256,
    created_in,
    document_not_found,
    parse_document_id,
)
from mivaa_search.store._version_sql import NEWEST_VERSION, VERSION_COUNT
from mivaa_search.store.maintenance import note_removed
from mivaa_search.store.records import (
    DOCUMENT_STATES,
    DOMAIN,
    EVERY_DOCUMENT,
    NEWEST_FIRST,
    TITLE_SORT_CHARS,
    DocumentFilter,
    DocumentOrder,
    DocumentRecord,
    JsonObject,
    NewDocument,
)
from mivaa_search.store.versions import VersionRepository, chain_for_upload, next_version

DOCUMENT_COLUMNS = (
    "id, tenant, filename, title, labels, sha256, size_bytes, page_count, state, job, chunk_count,"
    " create_time, update_time, metadata, outline, image_count, custom_metadata, media_type, processing_options,"
    " version, chain"
)
# Reads add the chain's version count (a write's RETURNING would not see its own new row in it).
_READ_COLUMNS = f"{DOCUMENT_COLUMNS}, {VERSION_COUNT}"
# What each orderable field sorts by (the expressions migration 0012's indexes hold).
_ORDER_KEYS = {
    "create_time": "create_time",
    "update_time": "update_time",
    "title": f"left(title, {TITLE_SORT_CHARS})",
    "page_count": "page_count",
}
_UPDATABLE = ("state", "title", "page_count", "labels", "job", "custom_metadata", "processing_options")


def document_record(row: tuple) -> DocumentRecord:
    """From a row of DOCUMENT_COLUMNS, or _READ_COLUMNS (JSONB comes back as Python lists and dicts)."""
    chain_at = _CHAIN_INDEX
    values = list(row)
    if values[chain_at] is not None:
        values[chain_at] = str(values[chain_at])
    return DocumentRecord(str(values[0]), *values[1:])


_CHAIN_INDEX = DOCUMENT_COLUMNS.count(",")


def json_or_none(value: JsonObject | list[JsonObject] | None) -> Jsonb | None:
    return Jsonb(value) if value is not None else None


class DocumentRepository:
    def __init__(self, connections: Connections):
        self._connections = connections
        self.versions = VersionRepository(connections, DOCUMENT_COLUMNS, _READ_COLUMNS, document_record)

    async def create(self, new: NewDocument, *, tenant: str) -> tuple[DocumentRecord, bool]:
        """Create a PENDING document of `tenant`, or return that tenant's one with the
        same sha256. The flag says whether it was created now.

        With new.parent (or replace_by_filename) the document is the next version of that chain
        (store.versions); bytes the tenant already stores still return that document, and no
        version is added."""
        sha256 = check_sha256(new.sha256)
        if new.size_bytes < 0 or new.page_count < 0:
            raise InvalidArgument("INVALID_DOCUMENT", "size_bytes and page_count must not be negative.", domain=DOMAIN)
        async with self._connections.connection() as conn:
            for _ in range(3):  # the existing row may be deleted between the two statements
                async with conn.transaction():
                    chain = await chain_for_upload(conn, new, tenant=tenant)
                    cur = await conn.execute(
                        f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE tenant = %s AND sha256 = %s", [tenant, sha256]
                    )
                    row = await cur.fetchone()
                    if row is not None:
                        return document_record(row), False
                    version = await next_version(conn, chain, tenant=tenant) if chain is not None else 1
                    cur = await conn.execute(
                        f"""
                        INSERT INTO documents
                            (tenant, filename, title, labels, sha256, size_bytes, page_count, job, media_type,
                             processing_options, version_of, version)
                        VALUES (%s, %s, %s, %s::text[], %s, %s, %s, %s, %s, %s, %s, %s)
                        ON CONFLICT (tenant, sha256) DO NOTHING
                        RETURNING {DOCUMENT_COLUMNS}
                        """,
                        [
                            tenant,
                            new.filename,
                            new.title,
                            list(new.labels),
                            sha256,
                            new.size_bytes,
                            new.page_count,
                            new.job,
                            new.media_type,
                            json_or_none(new.processing_options),
                            chain if version > 1 else None,
                            version,
                        ],
                    )
                    row = await cur.fetchone()
                    if row is not None:
                        return document_record(row), True
        raise Unavailable("DOCUMENT_CONTENTION", "The document changed concurrently; retry.", domain=DOMAIN)

    async def get(self, id: str, *, tenant: str) -> DocumentRecord:
        """`tenant`'s document; another tenant's is NOT_FOUND like a missing one."""
        query = f"SELECT {_READ_COLUMNS} FROM documents WHERE id = %(id)s AND tenant = %(tenant)s"
        return await self._one(id, query, {"tenant": tenant})

    async def read(
        self,
        *,
        tenant: str,
        limit: int,
        labels: Sequence[str] = (),
        after: tuple[object, uuid.UUID] | None = None,
        where: DocumentFilter = EVERY_DOCUMENT,
        order: DocumentOrder = NEWEST_FIRST,
    ) -> list[DocumentRecord]:
        """Up to `limit` of `tenant`'s documents in `order` (newest first by default), after
        (order's field, id) `after`; with labels, only documents carrying all of them; and only
        those `where` leaves. Only each chain's newest version unless where.all_versions."""
        conditions = ["tenant = %(tenant)s"]
        params: dict[str, object] = {"limit": limit, "tenant": tenant}
        if labels:
            conditions.append("labels @> %(labels)s::text[]")
            params["labels"] = list(labels)
        if not where.all_versions:
            conditions.append(NEWEST_VERSION)
        if where.state:
            conditions.append("state = %(state)s")
            params["state"] = where.state
        if where.title_contains:
            # strpos, not LIKE: the caller's % and _ are plain characters.
            conditions.append("strpos(lower(title), lower(%(title_contains)s)) > 0")
            params["title_contains"] = where.title_contains
        if where.custom_metadata:
            conditions.append("custom_metadata @> %(custom_metadata)s")
            params["custom_metadata"] = Jsonb(dict(where.custom_metadata))
        created, created_params = created_in("create_time", where.created_after, where.created_before)
        conditions += created
        params |= created_params
        # order.field is one of ORDERABLE_DOCUMENT_FIELDS (DocumentOrder refuses anything else).
        column, direction = _ORDER_KEYS[order.field], "DESC" if order.descending else "ASC"
        if after is not None:
            params["after_value"], params["after_id"] = after
            beyond = "<" if order.descending else ">"
            conditions.append(f"({column}, id) {beyond} (%(after_value)s, %(after_id)s)")
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                f"""
                SELECT {_READ_COLUMNS}
                FROM documents
                WHERE {" AND ".join(conditions)}
                ORDER BY {column} {direction}, id {direction}
                LIMIT %(limit)s
                """,
                params,
            )
            return [document_record(row) for row in await cur.fetchall()]

    async def update(
        self,
        id: str,
        *,
        tenant: str,
        state: str | None = None,
        title: str | None = None,
        page_count: int | None = None,
        labels: Sequence[str] | None = None,
        job: str | None = None,
        custom_metadata: Mapping[str, str] | None = None,
        processing_options: JsonObject | None = None,
    ) -> DocumentRecord:
        """Set the given fields (None leaves a field as it is)."""
        parse_document_id(id)
        if state is not None and state not in DOCUMENT_STATES:
            raise InvalidArgument(
                "INVALID_DOCUMENT_STATE",
                f"state must be one of {', '.join(DOCUMENT_STATES)}.",
                domain=DOMAIN,
                metadata={"state": state},
            )
        given = {
            "state": state,
            "title": title,
            "page_count": page_count,
            "labels": labels,
            "job": job,
            "custom_metadata": Jsonb(dict(custom_metadata)) if custom_metadata is not None else None,
            "processing_options": json_or_none(processing_options),
        }
        params: dict[str, object] = {name: value for name, value in given.items() if value is not None}
        if not params:
            return await self.get(id, tenant=tenant)
        if labels is not None:
            params["labels"] = list(labels)
        placeholders = {"labels": "%(labels)s::text[]"}
        assignments = [f"{name} = {placeholders.get(name, f'%({name})s')}" for name in _UPDATABLE if name in params]
        params["tenant"] = tenant
        query = f"""
            UPDATE documents
            SET {", ".join(assignments)}, update_time = now()
            WHERE id = %(id)s AND tenant = %(tenant)s
            RETURNING {DOCUMENT_COLUMNS}
        """
        return await self._one(id, query, params)

    async def delete(self, id: str, *, tenant: str) -> DocumentRecord:
        """Delete `tenant`'s document and (by cascade) its chunks, pages, images and its reference to
        the stored original; returns what was deleted. When that was the original's last reference
        the original is now a tombstone, whose object is deleted after this commit
        (store.originals: OriginalRepository.finish_deletion)."""
        doc_id = parse_document_id(id)
        query = f"DELETE FROM documents WHERE id = %s AND tenant = %s RETURNING {DOCUMENT_COLUMNS}"
        async with self._connections.connection() as conn, conn.transaction():
            row = await (await conn.execute(query, [doc_id, tenant])).fetchone()
            if row is None:
                raise document_not_found(id)
            record = document_record(row)
            await note_removed(conn, record.chunk_count, tenant=tenant)
        return record

    async def _one(self, id: str, query: str, params: dict[str, object]) -> DocumentRecord:
        """The document row `query` returns for document `id` (bound as %(id)s), or DOCUMENT_NOT_FOUND."""
        doc_id = parse_document_id(id)
        async with self._connections.connection() as conn:
            cur = await conn.execute(query, params | {"id": doc_id})
            row = await cur.fetchone()
        if row is None:
            raise document_not_found(id)
        return document_record(row)
