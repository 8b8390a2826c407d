"""Chunks and their vectors: a document's content replaced in one transaction, and searched."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mivaa_platform.errors import InvalidArgument
from mivaa_search.store._common import (
    Connections,
    check_vector,
    document_not_found,
    parse_document_id,
    prepare_filtered_hnsw_scan,
    search_filters,
)
from mivaa_search.store.documents import DOCUMENT_COLUMNS, document_record, json_or_none
from mivaa_search.store.entities import entity_conditions, write_entities
from mivaa_search.store.images import write_images
from mivaa_search.store.pages import write_pages
from mivaa_search.store.records import (
    DEFAULT_TOP_K,
    DOMAIN,
    MAX_HIT_TITLE_CHARS,
    MAX_TOP_K,
    TEXT_SOURCES,
    ChunkHit,
    ChunkRecord,
    DocumentContent,
    DocumentRecord,
    SearchFilter,
)
from mivaa_search.store.related import write_document_vector
from mivaa_search.store.schema import ensure_image_index

_CHUNK_COLUMNS = (
    "document_id, chunk_index, text, page_start, page_end, token_count, model, embedding,"
    " text_source, ocr_confidence, section_path, block_types"
)
_CHUNK_TYPES = ["uuid", "int4", "text", "int4", "int4", "int4", "text", "vector", "text", "float4", "text[]", "text[]"]


class ChunkRepository:
    def __init__(self, connections: Connections, dimension: int):
        self._connections = connections
        self.dimension = dimension

    async def replace_content(self, document_id: str, content: DocumentContent, *, tenant: str) -> DocumentRecord:
        """Swap a document's chunks, pages, images and placements for these, in one
        transaction; set its counts, metadata and, with mark_ready, its state to
        READY. Re-running it is harmless."""
        doc_id = parse_document_id(document_id)
        rows = [self._chunk_row(doc_id, chunk, content.model) for chunk in _unique(content.chunks)]
        images = list(content.images)
        async with self._connections.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(
                    "SELECT 1 FROM documents WHERE id = %s AND tenant = %s FOR UPDATE", [doc_id, tenant]
                )
                if await cur.fetchone() is None:
                    raise document_not_found(document_id)
                await conn.execute("DELETE FROM chunks WHERE document_id = %s", [doc_id])
                async with (
                    conn.cursor() as copy_cursor,
                    copy_cursor.copy(f"COPY chunks ({_CHUNK_COLUMNS}) FROM STDIN WITH (FORMAT BINARY)") as copy,
                ):
                    copy.set_types(_CHUNK_TYPES)
                    for chunk_row in rows:
                        await copy.write_row(chunk_row)
                await write_entities(conn, doc_id, content.chunks, tenant=tenant)
                await write_document_vector(conn, doc_id)
                await write_pages(conn, doc_id, content.pages)
                dimensions = await write_images(conn, doc_id, images, content.placements)
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
                    RETURNING {DOCUMENT_COLUMNS}
                    """,
                    {
                        "chunk_count": len(rows),
                        "page_count": content.page_count,
                        "image_count": len(images),
                        "metadata": json_or_none(content.metadata),
                        "outline": json_or_none(content.outline),
                        "mark_ready": bool(content.mark_ready),
                        "id": doc_id,
                    },
                )
                row = await cur.fetchone()
                assert row is not None  # the row is locked FOR UPDATE above
            # Schema work after the data is committed, never inside its transaction.
            for dimension in sorted(dimensions):
                await ensure_image_index(conn, dimension)
        return document_record(row)

    def _chunk_row(self, doc_id, chunk: ChunkRecord, model: str) -> tuple:
        embedding = check_vector(chunk.embedding, self.dimension, "INVALID_EMBEDDING", "EMBEDDING_DIMENSION_MISMATCH")
        if chunk.text_source not in TEXT_SOURCES:
            raise InvalidArgument(
                "INVALID_TEXT_SOURCE", f"text_source must be one of {', '.join(TEXT_SOURCES)}.", domain=DOMAIN
            )
        return (
            doc_id,
            chunk.index,
            chunk.text.replace("\x00", ""),  # PostgreSQL text cannot hold NUL
            chunk.page_start,
            chunk.page_end,
            chunk.token_count,
            model,
            embedding,
            chunk.text_source,
            chunk.ocr_confidence,
            [part.replace("\x00", "") for part in chunk.section_path],
            list(chunk.block_types),
        )

    async def search(
        self, query_vector: Sequence[float], top_k: int, where: SearchFilter, *, tenant: str
    ) -> list[ChunkHit]:
        """The top_k chunks nearest to query_vector by cosine distance, among `tenant`'s
        READY documents, optionally only those listed and only those with all labels."""
        query = check_vector(query_vector, self.dimension, "INVALID_QUERY_VECTOR")
        if not np.any(query):
            raise InvalidArgument("INVALID_QUERY_VECTOR", "The query vector must not be all zeros.", domain=DOMAIN)
        if top_k < 0:
            raise InvalidArgument("INVALID_TOP_K", "top_k must not be negative.", domain=DOMAIN)
        k = min(top_k or DEFAULT_TOP_K, MAX_TOP_K)
        conditions, params = search_filters("c", tenant, where.document_ids, where.labels)
        mentions, entity_params = entity_conditions("c", where.entities)
        conditions += mentions
        params |= entity_params
        params |= {"query": query, "k": k, "title_chars": MAX_HIT_TITLE_CHARS}
        async with self._connections.connection() as conn, conn.transaction():
            await prepare_filtered_hnsw_scan(conn, k)
            # relaxed_order may return rows slightly out of order: re-sort the few found.
            cur = await conn.execute(
                f"""
                WITH nearest AS MATERIALIZED (
                    SELECT c.document_id, left(d.title, %(title_chars)s), c.chunk_index, c.text, c.page_start, c.page_end,
                           c.text_source, c.ocr_confidence, c.section_path, c.embedding <=> %(query)s AS distance
                    FROM chunks c
                    JOIN documents d ON d.id = c.document_id
                    WHERE {" AND ".join(conditions)}
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


def _unique(chunks: Sequence[ChunkRecord]) -> Sequence[ChunkRecord]:
    """The chunks, or DUPLICATE_CHUNK_INDEX when two share an index."""
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
    return chunks
