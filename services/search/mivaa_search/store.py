"""Documents and their embedded chunks in PostgreSQL with pgvector.

Plain SQL over psycopg 3 (async) and a connection pool. Migrations run at
open(); the embedding dimension is fixed by the first run. Domain errors come
from mivaa_platform.errors; connection trouble surfaces as Unavailable,
a value the database refuses as InvalidArgument (_database_errors).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import importlib.resources
import json
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import psycopg
from pgvector.psycopg import register_vector_async
from psycopg_pool import AsyncConnectionPool

from mivaa_platform.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from mivaa_platform.tenancy import DEFAULT_TENANT

DOMAIN = "search.mivaa"  # ErrorInfo domain, as in mivaa_search.servicer
DOCUMENT_STATES = ("PENDING", "PROCESSING", "READY", "FAILED")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
DEFAULT_TOP_K = 10
MAX_TOP_K = 100
# A hit names its document's title cut to this many characters: up to MAX_TOP_K hits of a
# document with a huge title must not repeat it each time (GetDocument has the whole title).
MAX_HIT_TITLE_CHARS = 256
MAX_DIMENSION = 2000  # the most dimensions an HNSW index on `vector` takes

# pg_advisory_xact_lock key held while migrating, so replicas starting together take turns.
_MIGRATION_LOCK_KEY = int.from_bytes(b"mivaa-mg", "big") & 0x7FFF_FFFF_FFFF_FFFF
# Base of the keys held while creating the image index of one dimension.
_IMAGE_INDEX_LOCK_KEY = int.from_bytes(b"mivaa-ii", "big") & 0x7FFF_FFFF_FFFF_0000


@dataclass(frozen=True)
class DocumentRecord:
    id: str
    filename: str
    title: str
    labels: list[str]
    sha256: str
    size_bytes: int
    page_count: int
    state: str  # one of DOCUMENT_STATES
    job: str
    chunk_count: int
    create_time: dt.datetime
    update_time: dt.datetime
    # Opaque to the store: the serialized metadata and outline the extractor sent.
    metadata: bytes | None = None
    outline: bytes | None = None
    image_count: int = 0
    tenant: str = DEFAULT_TENANT  # who owns it; every read and change is scoped to one tenant


@dataclass(frozen=True)
class ImageRecord:
    sha256: str
    mime_type: str
    width: int
    height: int
    data: bytes
    # The image's unit vector from `embedding_model`, when an image model was served.
    embedding: Sequence[float] = ()
    embedding_model: str = ""


@dataclass(frozen=True)
class PlacementRecord:
    sha256: str
    page: int
    bbox: tuple[float, float, float, float]
    caption: str = ""


@dataclass(frozen=True)
class ImageHit:
    document_id: str
    document_title: str
    image: ImageInfo
    score: float  # cosine similarity


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    mime_type: str
    width: int
    height: int
    size_bytes: int
    placements: list[PlacementRecord]


TEXT_SOURCES = ("TEXT_LAYER", "OCR")


@dataclass(frozen=True, eq=False)
class ChunkRecord:
    index: int
    text: str
    page_start: int
    page_end: int
    token_count: int
    embedding: Sequence[float]
    text_source: str = "TEXT_LAYER"  # or "OCR"
    ocr_confidence: float | None = None
    section_path: Sequence[str] = ()
    block_types: Sequence[str] = ()  # lower-case block kinds: "paragraph", "table", ...


@dataclass(frozen=True)
class ChunkHit:
    document_id: str
    document_title: str
    chunk_index: int
    text: str
    page_start: int
    page_end: int
    score: float  # cosine similarity: 1 - cosine distance
    text_source: str = "TEXT_LAYER"
    ocr_confidence: float | None = None
    section_path: list[str] | None = None


_DOCUMENT_COLUMNS = (
    "id, filename, title, labels, sha256, size_bytes, page_count, state, job, chunk_count, create_time, update_time,"
    " metadata, outline, image_count, tenant"
)


def _document(row: tuple) -> DocumentRecord:
    values = list(row[1:])
    for index in (11, 12):  # metadata, outline: bytea comes back as memoryview
        values[index] = bytes(values[index]) if values[index] is not None else None
    return DocumentRecord(str(row[0]), *values)


# An image with its placements (pages, boxes, captions) in page order; read by _image_info.
_IMAGE_INFO_SELECT = """
    SELECT i.document_id, i.ordinal, i.sha256, i.mime_type, i.width, i.height, octet_length(i.data),
           coalesce(array_agg(p.page ORDER BY p.page, p.y0) FILTER (WHERE p.page IS NOT NULL), '{}'),
           coalesce(array_agg(ARRAY[p.x0, p.y0, p.x1, p.y1] ORDER BY p.page, p.y0) FILTER (WHERE p.page IS NOT NULL), '{}'),
           coalesce(array_agg(p.caption ORDER BY p.page, p.y0) FILTER (WHERE p.page IS NOT NULL), '{}')
    FROM images i
    LEFT JOIN image_placements p ON p.document_id = i.document_id AND p.sha256 = i.sha256
"""

DEFAULT_PAGES_PAGE_SIZE = 20
MAX_PAGES_PAGE_SIZE = 200


class DocumentStore:
    def __init__(self, pool: AsyncConnectionPool, dimension: int):
        """Use DocumentStore.open()."""
        self._pool = pool
        self.dimension = dimension

    @classmethod
    async def open(cls, dsn: str, dimension: int, min_size: int = 1, max_size: int = 10) -> DocumentStore:
        """Apply migrations, check the embedding dimension, and open the pool."""
        if isinstance(dimension, bool) or not isinstance(dimension, int) or not 1 <= dimension <= MAX_DIMENSION:
            raise InvalidArgument(
                "INVALID_EMBEDDING_DIMENSION",
                f"The embedding dimension must be between 1 and {MAX_DIMENSION}.",
                domain=DOMAIN,
                metadata={"dimension": str(dimension)},
            )
        with _database_errors():
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await _migrate(conn, dimension)
            pool = AsyncConnectionPool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                kwargs={"autocommit": True},  # multi-statement work uses explicit transactions
                configure=register_vector_async,
                check=AsyncConnectionPool.check_connection,
                name="mivaa-search",
                open=False,
            )
            try:
                await pool.open(wait=True, timeout=30)
            except BaseException:
                await pool.close()
                raise
        return cls(pool, dimension)

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> bool:
        """True when a pooled connection answers a trivial query within two seconds (health)."""
        async with self._pool.connection(timeout=2.0) as conn:
            await conn.execute("SELECT 1")
        return True

    async def __aenter__(self) -> DocumentStore:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    # -- documents -----------------------------------------------------------

    async def create_document(
        self,
        filename: str,
        title: str,
        labels: list[str],
        sha256: str,
        size_bytes: int,
        page_count: int,
        job: str,
        *,
        tenant: str = DEFAULT_TENANT,
    ) -> tuple[DocumentRecord, bool]:
        """Create a PENDING document of `tenant`, or return that tenant's one with the
        same sha256. The flag says whether it was created now."""
        sha256 = _check_sha256(sha256)
        if size_bytes < 0 or page_count < 0:
            raise InvalidArgument(
                "INVALID_DOCUMENT", "size_bytes and page_count must not be negative.", domain=DOMAIN
            )
        async with self._connection() as conn:
            for _ in range(3):  # the existing row may be deleted between the two statements
                cur = await conn.execute(
                    f"""
                    INSERT INTO documents (tenant, filename, title, labels, sha256, size_bytes, page_count, job)
                    VALUES (%s, %s, %s, %s::text[], %s, %s, %s, %s)
                    ON CONFLICT (tenant, sha256) DO NOTHING
                    RETURNING {_DOCUMENT_COLUMNS}
                    """,
                    [tenant, filename, title, list(labels), sha256, size_bytes, page_count, job],
                )
                row = await cur.fetchone()
                if row is not None:
                    return _document(row), True
                cur = await conn.execute(
                    f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE tenant = %s AND sha256 = %s", [tenant, sha256]
                )
                row = await cur.fetchone()
                if row is not None:
                    return _document(row), False
        raise Unavailable("DOCUMENT_CONTENTION", "The document changed concurrently; retry.", domain=DOMAIN)

    async def get_document(self, id: str, *, tenant: str = DEFAULT_TENANT) -> DocumentRecord:
        """`tenant`'s document; another tenant's is NOT_FOUND like a missing one."""
        doc_id = _parse_document_id(id)
        async with self._connection() as conn:
            cur = await conn.execute(
                f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE id = %s AND tenant = %s", [doc_id, tenant]
            )
            row = await cur.fetchone()
        if row is None:
            raise _document_not_found(id)
        return _document(row)

    async def list_documents(
        self, page_size: int, page_token: str, labels: list[str], *, tenant: str = DEFAULT_TENANT
    ) -> tuple[list[DocumentRecord], str]:
        """Newest first. Returns one page and the token of the next ("" at the end).
        With labels, only documents carrying all of them."""
        if page_size < 0:
            raise InvalidArgument("INVALID_PAGE_SIZE", "page_size must not be negative.", domain=DOMAIN)
        limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        labels = list(labels or [])
        conditions = ["tenant = %(tenant)s"]
        params: dict[str, object] = {"limit": limit + 1, "tenant": tenant}
        if labels:
            conditions.append("labels @> %(labels)s::text[]")
            params["labels"] = labels
        if page_token:
            params["after_time"], params["after_id"] = _decode_page_token(page_token, labels)
            conditions.append("(create_time, id) < (%(after_time)s, %(after_id)s)")
        where = f"WHERE {' AND '.join(conditions)}"
        async with self._connection() as conn:
            cur = await conn.execute(
                f"""
                SELECT {_DOCUMENT_COLUMNS}
                FROM documents
                {where}
                ORDER BY create_time DESC, id DESC
                LIMIT %(limit)s
                """,
                params,
            )
            rows = await cur.fetchall()
        documents = [_document(row) for row in rows[:limit]]
        next_token = _encode_page_token(documents[-1], labels) if len(rows) > limit else ""
        return documents, next_token

    async def update_document(
        self,
        id: str,
        *,
        state: str | None = None,
        title: str | None = None,
        page_count: int | None = None,
        labels: list[str] | None = None,
        job: str | None = None,
        tenant: str = DEFAULT_TENANT,
    ) -> DocumentRecord:
        """Set the given fields (None leaves a field as it is)."""
        doc_id = _parse_document_id(id)
        if state is not None and state not in DOCUMENT_STATES:
            raise InvalidArgument(
                "INVALID_DOCUMENT_STATE",
                f"state must be one of {', '.join(DOCUMENT_STATES)}.",
                domain=DOMAIN,
                metadata={"state": state},
            )
        given = {"state": state, "title": title, "page_count": page_count, "labels": labels, "job": job}
        params: dict[str, object] = {name: value for name, value in given.items() if value is not None}
        if not params:
            return await self.get_document(id, tenant=tenant)
        if "labels" in params:
            params["labels"] = list(labels)
        placeholders = {"labels": "%(labels)s::text[]"}
        assignments = [f"{name} = {placeholders.get(name, f'%({name})s')}" for name in params]
        params["id"] = doc_id
        params["tenant"] = tenant
        async with self._connection() as conn:
            cur = await conn.execute(
                f"""
                UPDATE documents
                SET {', '.join(assignments)}, update_time = now()
                WHERE id = %(id)s AND tenant = %(tenant)s
                RETURNING {_DOCUMENT_COLUMNS}
                """,
                params,
            )
            row = await cur.fetchone()
        if row is None:
            raise _document_not_found(id)
        return _document(row)

    async def delete_document(self, id: str, *, tenant: str = DEFAULT_TENANT) -> DocumentRecord:
        """Delete `tenant`'s document and (by cascade) its chunks; returns what was deleted."""
        doc_id = _parse_document_id(id)
        async with self._connection() as conn:
            cur = await conn.execute(
                f"DELETE FROM documents WHERE id = %s AND tenant = %s RETURNING {_DOCUMENT_COLUMNS}", [doc_id, tenant]
            )
            row = await cur.fetchone()
        if row is None:
            raise _document_not_found(id)
        return _document(row)

    async def sha256_in_use(self, sha256: str) -> bool:
        """Whether any tenant's document still has these bytes (originals are shared by content)."""
        async with self._connection() as conn:
            cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM documents WHERE sha256 = %s)", [_check_sha256(sha256)])
            (in_use,) = await cur.fetchone()
        return bool(in_use)

    # -- chunks ----------------------------------------------------------------

    async def replace_chunks(
        self,
        document_id: str,
        chunks: Iterable[ChunkRecord],
        model: str,
        page_count: int,
        mark_ready: bool,
        *,
        pages: Iterable[tuple[int, bytes]] = (),
        images: Iterable[ImageRecord] = (),
        placements: Iterable[PlacementRecord] = (),
        metadata: bytes | None = None,
        outline: bytes | None = None,
        tenant: str = DEFAULT_TENANT,
    ) -> DocumentRecord:
        """Swap a document's chunks, pages, images and placements for these, in one
        transaction; set its counts, metadata and, with mark_ready, its state to
        READY. Re-running it is harmless."""
        doc_id = _parse_document_id(document_id)
        rows = []
        seen: set[int] = set()
        for chunk in chunks:
            if chunk.index in seen:
                raise InvalidArgument(
                    "DUPLICATE_CHUNK_INDEX",
                    f"Chunk index {chunk.index} appears twice.",
                    domain=DOMAIN,
                    metadata={"index": str(chunk.index)},
                )
            seen.add(chunk.index)
            embedding = self._check_vector(chunk.embedding, "INVALID_EMBEDDING", "EMBEDDING_DIMENSION_MISMATCH")
            text = chunk.text.replace("\x00", "")  # PostgreSQL text cannot hold NUL
            if chunk.text_source not in TEXT_SOURCES:
                raise InvalidArgument(
                    "INVALID_TEXT_SOURCE", f"text_source must be one of {', '.join(TEXT_SOURCES)}.", domain=DOMAIN
                )
            rows.append(
                (
                    doc_id, chunk.index, text, chunk.page_start, chunk.page_end, chunk.token_count, model, embedding,
                    chunk.text_source, chunk.ocr_confidence,
                    [part.replace("\x00", "") for part in chunk.section_path], list(chunk.block_types),
                )
            )

        async with self._connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT 1 FROM documents WHERE id = %s AND tenant = %s FOR UPDATE", [doc_id, tenant]
            )
            if await cur.fetchone() is None:
                raise _document_not_found(document_id)
            await conn.execute("DELETE FROM chunks WHERE document_id = %s", [doc_id])
            async with conn.cursor() as cur:
                async with cur.copy(
                    """
                    COPY chunks (document_id, chunk_index, text, page_start, page_end, token_count, model, embedding,
                                 text_source, ocr_confidence, section_path, block_types)
                    FROM STDIN WITH (FORMAT BINARY)
                    """
                ) as copy:
                    copy.set_types(
                        ["uuid", "int4", "text", "int4", "int4", "int4", "text", "vector", "text", "float4", "text[]", "text[]"]
                    )
                    for row in rows:
                        await copy.write_row(row)
                await conn.execute("DELETE FROM pages WHERE document_id = %s", [doc_id])
                await conn.execute("DELETE FROM images WHERE document_id = %s", [doc_id])
                await conn.execute("DELETE FROM image_placements WHERE document_id = %s", [doc_id])
                async with cur.copy("COPY pages (document_id, number, layout) FROM STDIN WITH (FORMAT BINARY)") as copy:
                    copy.set_types(["uuid", "int4", "bytea"])
                    for number, layout in pages:
                        await copy.write_row((doc_id, number, layout))
                image_count = 0
                images = list(images)
                images_with_vectors = [image for image in images if len(image.embedding) and image.embedding_model]
                async with cur.copy(
                    "COPY images (document_id, sha256, ordinal, mime_type, width, height, data) FROM STDIN WITH (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["uuid", "text", "int4", "text", "int4", "int4", "bytea"])
                    for image in images:
                        await copy.write_row(
                            (doc_id, _check_sha256(image.sha256), image_count, image.mime_type, image.width, image.height, image.data)
                        )
                        image_count += 1
                await conn.execute("DELETE FROM image_embeddings WHERE document_id = %s", [doc_id])
                dimensions: set[int] = set()
                for image in images_with_vectors:
                    vector = np.asarray(image.embedding, dtype=np.float32)
                    if vector.ndim != 1 or not 1 <= vector.size <= MAX_DIMENSION or not np.all(np.isfinite(vector)):
                        raise InvalidArgument(
                            "INVALID_IMAGE_EMBEDDING", f"Image {image.sha256} has an invalid embedding.", domain=DOMAIN
                        )
                    dimensions.add(int(vector.size))
                    await conn.execute(
                        "INSERT INTO image_embeddings (document_id, sha256, model, dimension, embedding)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        [doc_id, image.sha256, image.embedding_model, int(vector.size), vector],
                    )
                for dimension in dimensions:
                    await _ensure_image_index(conn, dimension)
                async with cur.copy(
                    "COPY image_placements (document_id, sha256, page, x0, y0, x1, y1, caption) FROM STDIN WITH (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["uuid", "text", "int4", "float4", "float4", "float4", "float4", "text"])
                    for placement in placements:
                        await copy.write_row(
                            (doc_id, placement.sha256, placement.page, *placement.bbox, placement.caption.replace("\x00", ""))
                        )
            cur = await conn.execute(
                f"""
                UPDATE documents
                SET chunk_count = %(chunk_count)s,
                    page_count = %(page_count)s,
                    image_count = %(image_count)s,
                    metadata = %(metadata)s,
                    outline = %(outline)s,
                    state = CASE WHEN %(mark_ready)s THEN 'READY' ELSE state END,
                    update_time = now()
                WHERE id = %(id)s
                RETURNING {_DOCUMENT_COLUMNS}
                """,
                {
                    "chunk_count": len(rows),
                    "page_count": page_count,
                    "image_count": image_count,
                    "metadata": metadata,
                    "outline": outline,
                    "mark_ready": bool(mark_ready),
                    "id": doc_id,
                },
            )
            row = await cur.fetchone()
        return _document(row)

    async def search(
        self,
        query_vector: Sequence[float],
        top_k: int,
        document_ids: list[str],
        labels: list[str],
        *,
        tenant: str = DEFAULT_TENANT,
    ) -> list[ChunkHit]:
        """The top_k chunks nearest to query_vector by cosine distance, among `tenant`'s
        READY documents, optionally only those listed and only those with all labels."""
        query = self._check_vector(query_vector, "INVALID_QUERY_VECTOR")
        if not np.any(query):
            raise InvalidArgument("INVALID_QUERY_VECTOR", "The query vector must not be all zeros.", domain=DOMAIN)
        if top_k < 0:
            raise InvalidArgument("INVALID_TOP_K", "top_k must not be negative.", domain=DOMAIN)
        k = min(top_k or DEFAULT_TOP_K, MAX_TOP_K)
        conditions, params = _search_filters("c", tenant, document_ids, labels)
        params |= {"query": query, "k": k, "title_chars": MAX_HIT_TITLE_CHARS}

        async with self._connection() as conn, conn.transaction():
            await _prepare_filtered_hnsw_scan(conn, k)
            # relaxed_order may return rows slightly out of order: re-sort the few found.
            cur = await conn.execute(
                f"""
                WITH nearest AS MATERIALIZED (
                    SELECT c.document_id, left(d.title, %(title_chars)s), c.chunk_index, c.text, c.page_start, c.page_end,
                           c.text_source, c.ocr_confidence, c.section_path, c.embedding <=> %(query)s AS distance
                    FROM chunks c
                    JOIN documents d ON d.id = c.document_id
                    WHERE {' AND '.join(conditions)}
                    ORDER BY distance
                    LIMIT %(k)s
                )
                SELECT * FROM nearest ORDER BY distance + 0
                """,
                params,
            )
            rows = await cur.fetchall()
        return [
            ChunkHit(
                str(doc_id), title, index, text, page_start, page_end, 1.0 - float(distance), source, confidence, path
            )
            for doc_id, title, index, text, page_start, page_end, source, confidence, path, distance in rows
        ]

    # -- structure: pages and images -------------------------------------------

    async def list_pages(
        self, id: str, page_size: int, page_token: str, *, tenant: str = DEFAULT_TENANT
    ) -> tuple[list[tuple[int, bytes]], str]:
        """A document's stored pages in order, (number, layout); the token of the next ("" at the end)."""
        doc_id = _parse_document_id(id)
        if page_size < 0:
            raise InvalidArgument("INVALID_PAGE_SIZE", "page_size must not be negative.", domain=DOMAIN)
        limit = min(page_size or DEFAULT_PAGES_PAGE_SIZE, MAX_PAGES_PAGE_SIZE)
        after = _decode_number_token(page_token, str(doc_id)) if page_token else 0
        async with self._connection() as conn:
            await self._require_document(conn, doc_id, id, tenant)
            cur = await conn.execute(
                "SELECT number, layout FROM pages WHERE document_id = %s AND number > %s ORDER BY number LIMIT %s",
                [doc_id, after, limit + 1],
            )
            rows = [(number, bytes(layout)) for number, layout in await cur.fetchall()]
        pages = rows[:limit]
        next_token = _encode_number_token(pages[-1][0], str(doc_id)) if len(rows) > limit else ""
        return pages, next_token

    async def pages_size(self, id: str, *, tenant: str = DEFAULT_TENANT) -> int:
        """Bytes the document's stored pages take."""
        doc_id = _parse_document_id(id)
        async with self._connection() as conn:
            await self._require_document(conn, doc_id, id, tenant)
            cur = await conn.execute("SELECT coalesce(sum(octet_length(layout)), 0) FROM pages WHERE document_id = %s", [doc_id])
            (size,) = await cur.fetchone()
        return int(size)

    async def iter_pages(
        self, id: str, batch: int = 50, *, tenant: str = DEFAULT_TENANT
    ) -> AsyncIterator[tuple[int, bytes]]:
        """Every stored page in order, fetched `batch` at a time (never the whole document at once)."""
        token = ""
        while True:
            pages, token = await self.list_pages(id, batch, token, tenant=tenant)
            for page in pages:
                yield page
            if not token:
                return

    async def list_images(
        self, id: str, page_size: int, page_token: str, *, tenant: str = DEFAULT_TENANT
    ) -> tuple[list[ImageInfo], str]:
        doc_id = _parse_document_id(id)
        if page_size < 0:
            raise InvalidArgument("INVALID_PAGE_SIZE", "page_size must not be negative.", domain=DOMAIN)
        limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = _decode_number_token(page_token, str(doc_id)) if page_token else -1
        async with self._connection() as conn:
            await self._require_document(conn, doc_id, id, tenant)
            cur = await conn.execute(
                f"""
                {_IMAGE_INFO_SELECT}
                WHERE i.document_id = %s AND i.ordinal > %s
                GROUP BY i.document_id, i.sha256
                ORDER BY i.ordinal
                LIMIT %s
                """,
                [doc_id, after, limit + 1],
            )
            rows = await cur.fetchall()
        images = [_image_info(row[1:]) for row in rows[:limit]]
        next_token = _encode_number_token(rows[limit - 1][1], str(doc_id)) if len(rows) > limit else ""
        return images, next_token

    async def get_image(self, id: str, sha256: str, *, tenant: str = DEFAULT_TENANT) -> ImageInfo:
        """An image of `tenant`'s document; any other is IMAGE_NOT_FOUND."""
        doc_id = _parse_document_id(id)
        async with self._connection() as conn:
            cur = await conn.execute(
                f"""
                {_IMAGE_INFO_SELECT}
                WHERE i.document_id = %s AND i.sha256 = %s
                  AND EXISTS (SELECT 1 FROM documents d WHERE d.id = i.document_id AND d.tenant = %s)
                GROUP BY i.document_id, i.sha256
                """,
                [doc_id, sha256, tenant],
            )
            row = await cur.fetchone()
        if row is None:
            raise _image_not_found(id, sha256)
        return _image_info(row[1:])

    async def get_image_data(self, id: str, sha256: str, *, tenant: str = DEFAULT_TENANT) -> tuple[str, bytes]:
        doc_id = _parse_document_id(id)
        async with self._connection() as conn:
            cur = await conn.execute(
                """
                SELECT i.mime_type, i.data FROM images i JOIN documents d ON d.id = i.document_id
                WHERE i.document_id = %s AND i.sha256 = %s AND d.tenant = %s
                """,
                [doc_id, sha256, tenant],
            )
            row = await cur.fetchone()
        if row is None:
            raise _image_not_found(id, sha256)
        return row[0], bytes(row[1])

    async def search_images(
        self,
        query_vector: Sequence[float],
        model: str,
        top_k: int,
        document_ids: list[str],
        labels: list[str],
        *,
        tenant: str = DEFAULT_TENANT,
    ) -> list[ImageHit]:
        """The top_k images nearest to query_vector among those `model` embedded, in `tenant`'s READY documents."""
        query = np.asarray(query_vector, dtype=np.float32)
        if query.ndim != 1 or not 1 <= query.size <= MAX_DIMENSION or not np.any(query) or not np.all(np.isfinite(query)):
            raise InvalidArgument("INVALID_QUERY_VECTOR", "The query vector is empty or invalid.", domain=DOMAIN)
        if top_k < 0:
            raise InvalidArgument("INVALID_TOP_K", "top_k must not be negative.", domain=DOMAIN)
        dimension = int(query.size)
        k = min(top_k or DEFAULT_TOP_K, MAX_TOP_K)
        conditions, params = _search_filters("e", tenant, document_ids, labels)
        conditions += ["e.model = %(model)s", f"e.dimension = {dimension}"]
        params |= {"query": query, "k": k, "model": model, "title_chars": MAX_HIT_TITLE_CHARS}
        # The ORDER BY expression is the partial index's, so HNSW serves it.
        distance = f"(e.embedding::vector({dimension})) <=> %(query)s::vector({dimension})"
        async with self._connection() as conn, conn.transaction():
            await _prepare_filtered_hnsw_scan(conn, k)
            cur = await conn.execute(
                f"""
                WITH nearest AS MATERIALIZED (
                    SELECT e.document_id, left(d.title, %(title_chars)s), e.sha256, {distance} AS distance
                    FROM image_embeddings e
                    JOIN documents d ON d.id = e.document_id
                    WHERE {' AND '.join(conditions)}
                    ORDER BY {distance}
                    LIMIT %(k)s
                )
                SELECT * FROM nearest ORDER BY distance + 0
                """,
                params,
            )
            rows = await cur.fetchall()
            if not rows:
                return []
            # Every hit's image with its placements, in one query.
            cur = await conn.execute(
                f"""
                {_IMAGE_INFO_SELECT}
                WHERE (i.document_id, i.sha256) IN (SELECT * FROM unnest(%s::uuid[], %s::text[]))
                GROUP BY i.document_id, i.sha256
                """,
                [[doc_id for doc_id, *_ in rows], [sha256 for _, _, sha256, _ in rows]],
            )
            images = {(str(row[0]), row[2]): _image_info(row[1:]) for row in await cur.fetchall()}
        return [
            ImageHit(str(doc_id), title, images[(str(doc_id), sha256)], 1.0 - float(found_distance))
            for doc_id, title, sha256, found_distance in rows
            if (str(doc_id), sha256) in images
        ]

    async def _require_document(self, conn: psycopg.AsyncConnection, doc_id: uuid.UUID, id: str, tenant: str) -> None:
        cur = await conn.execute("SELECT 1 FROM documents WHERE id = %s AND tenant = %s", [doc_id, tenant])
        if await cur.fetchone() is None:
            raise _document_not_found(id)

    # -- helpers ---------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        with _database_errors():
            async with self._pool.connection() as conn:
                yield conn

    def _check_vector(self, values: Sequence[float], reason: str, dimension_reason: str | None = None) -> np.ndarray:
        try:
            vector = np.asarray(values, dtype=np.float32)
        except (TypeError, ValueError):
            raise InvalidArgument(reason, "A vector must be a sequence of numbers.", domain=DOMAIN) from None
        if vector.shape != (self.dimension,):
            raise InvalidArgument(
                dimension_reason or reason,
                f"A vector must have {self.dimension} dimensions; got shape {vector.shape}.",
                domain=DOMAIN,
                metadata={"expected_dimension": str(self.dimension), "actual_shape": str(vector.shape)},
            )
        if not np.all(np.isfinite(vector)):
            raise InvalidArgument(reason, "A vector must hold finite numbers only.", domain=DOMAIN)
        return vector


# -- migrations -----------------------------------------------------------------


def _migrations() -> list[tuple[str, str]]:
    """(version, sql) of every migrations/NNNN_*.sql, in order."""
    folder = importlib.resources.files("mivaa_search") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


async def _migrate(conn: psycopg.AsyncConnection, dimension: int) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", [_MIGRATION_LOCK_KEY])
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.errors.InsufficientPrivilege:
            # The service's role is no superuser (as it should be): pgvector is the operator's to create.
            raise FailedPrecondition(
                "VECTOR_EXTENSION_MISSING",
                "The database lacks the pgvector extension and this role may not create it; "
                "a superuser must run CREATE EXTENSION vector in it.",
                domain=DOMAIN,
            ) from None
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    text PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        cur = await conn.execute("SELECT version FROM schema_migrations")
        applied = {version for (version,) in await cur.fetchall()}
        for version, text in _migrations():
            if version not in applied:
                await conn.execute(text.replace("{dimension}", str(dimension)))
                await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", [version])

        # vector's type modifier is its dimension.
        cur = await conn.execute(
            """
            SELECT atttypmod FROM pg_attribute
            WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'
            """
        )
        (stored,) = await cur.fetchone()
    if stored != dimension:
        raise FailedPrecondition(
            "EMBEDDING_DIMENSION_MISMATCH",
            f"The database holds {stored}-dimensional embeddings but this service is configured for {dimension}; "
            "use the embedding model the database was built with, or re-index into a new database.",
            domain=DOMAIN,
            metadata={"stored_dimension": str(stored), "configured_dimension": str(dimension)},
        )


# -- small pure helpers --------------------------------------------------------------


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """A database error as the domain error of its cause: a value the database cannot store is the
    caller's (INVALID_ARGUMENT, never "retry later": it would fail the same way again); losing the
    database is UNAVAILABLE; anything else reaches the interceptor as an unexpected (INTERNAL) error."""
    try:
        yield
    except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded) as exc:
        # DataError: NUL in text, characters outside the encoding, values too long for a column;
        # ProgramLimitExceeded (an OperationalError): e.g. a value too large for a btree index row.
        raise InvalidArgument(
            "VALUE_NOT_STORABLE",
            "A value cannot be stored: it is too large or holds characters the database refuses.",
            domain=DOMAIN,
            metadata={"sqlstate": exc.sqlstate or ""},
        ) from exc
    except psycopg.OperationalError as exc:  # connection lost, server shutting down, psycopg_pool.PoolTimeout
        raise Unavailable(
            "DATABASE_UNAVAILABLE", "The document database is unavailable; retry later.", domain=DOMAIN
        ) from exc


def _parse_document_id(value: str) -> uuid.UUID:
    try:
        parsed = uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        parsed = None
    if parsed is None or str(parsed) != value.lower():
        raise InvalidArgument(
            "INVALID_DOCUMENT_NAME", "A document id must be a UUID.", domain=DOMAIN, metadata={"id": str(value)[:100]}
        )
    return parsed


def _document_not_found(id: str) -> NotFound:
    return NotFound("DOCUMENT_NOT_FOUND", "No document has this id.", domain=DOMAIN, metadata={"id": id})


def _search_filters(
    alias: str, tenant: str, document_ids: list[str], labels: list[str]
) -> tuple[list[str], dict[str, object]]:
    """WHERE conditions and parameters of a search over `alias` rows joined to documents `d`."""
    conditions = ["d.tenant = %(tenant)s", "d.state = 'READY'"]
    params: dict[str, object] = {"tenant": tenant}
    if document_ids:
        conditions.append(f"{alias}.document_id = ANY(%(document_ids)s)")
        params["document_ids"] = [_parse_document_id(i) for i in document_ids]
    if labels:
        conditions.append("d.labels @> %(labels)s::text[]")
        params["labels"] = list(labels)
    return conditions, params


async def _prepare_filtered_hnsw_scan(conn: psycopg.AsyncConnection, k: int) -> None:
    """For this transaction: filters are applied to what the HNSW scan yields, and iterative scans
    keep it going until k rows pass them (pgvector >= 0.8, ignored before)."""
    await conn.execute(
        "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)",
        [str(max(40, 2 * k))],
    )


async def _ensure_image_index(conn: psycopg.AsyncConnection, dimension: int) -> None:
    """A partial HNSW index for the image vectors of one dimension (idempotent).

    Looked up first so that the common case takes no lock on the table; the
    advisory lock keeps two writers from creating the same index at once.
    """
    name = f"image_embeddings_hnsw_{dimension}"
    cur = await conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
    if await cur.fetchone() is not None:
        return
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", [_IMAGE_INDEX_LOCK_KEY + dimension])
    await conn.execute(
        f"""
        CREATE INDEX IF NOT EXISTS image_embeddings_hnsw_{dimension}
        ON image_embeddings USING hnsw ((embedding::vector({dimension})) vector_cosine_ops)
        WHERE dimension = {dimension}
        """
    )


def _image_info(row: tuple) -> ImageInfo:
    """From a row of _IMAGE_INFO_SELECT without its document id (row[1:])."""
    _, sha256, mime_type, width, height, size, pages, boxes, captions = row
    placements = [
        PlacementRecord(sha256=sha256, page=page, bbox=tuple(box), caption=caption)
        for page, box, caption in zip(pages, boxes, captions, strict=True)
    ]
    return ImageInfo(sha256, mime_type, width, height, int(size), placements)


def _image_not_found(id: str, sha256: str) -> NotFound:
    return NotFound(
        "IMAGE_NOT_FOUND",
        f"Document {id} has no image {sha256}.",
        domain=DOMAIN,
        metadata={"document": id, "sha256": sha256},
    )


def _encode_number_token(number: int, scope: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([scope, number]).encode()).decode()


def _decode_number_token(token: str, scope: str) -> int:
    try:
        saved_scope, number = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, TypeError):
        raise _bad_page_token("page_token is not a token this service issued.") from None
    if saved_scope != scope or not isinstance(number, int):
        raise _bad_page_token("page_token belongs to another listing.")
    return number


def _check_sha256(value: str) -> str:
    value = value.lower() if isinstance(value, str) else ""
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidArgument("INVALID_SHA256", "sha256 must be 64 hexadecimal digits.", domain=DOMAIN)
    return value


def _filter_fingerprint(labels: list[str]) -> str:
    """Ties a page token to the filter it was made for."""
    return hashlib.sha256("\x1f".join(sorted(set(labels))).encode()).hexdigest()[:16]


def _encode_page_token(last: DocumentRecord, labels: list[str]) -> str:
    payload = {"t": last.create_time.isoformat(), "i": last.id, "f": _filter_fingerprint(labels)}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page_token(token: str, labels: list[str]) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        after_time = dt.datetime.fromisoformat(payload["t"])
        after_id = uuid.UUID(payload["i"])
        fingerprint = payload["f"]
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        raise _bad_page_token("The page token is not one this service issued.") from None
    if after_time.tzinfo is None:
        raise _bad_page_token("The page token is not one this service issued.")
    if fingerprint != _filter_fingerprint(labels):
        raise _bad_page_token("The page token was issued for a different label filter.")
    return after_time, after_id


def _bad_page_token(message: str) -> InvalidArgument:
    return InvalidArgument("INVALID_PAGE_TOKEN", message, domain=DOMAIN)
