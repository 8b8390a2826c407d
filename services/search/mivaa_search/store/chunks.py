"""Chunks and their vectors: a document's content replaced in one transaction, and searched."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mivaa_platform.errors import InvalidArgument
from mivaa_search.store._common import (
    Connections,
    check_any_vector,
    document_not_found,
    parse_document_id,
)
from mivaa_search.store.documents import DOCUMENT_COLUMNS, document_record, json_or_none
from mivaa_search.store.entities import write_entities
from mivaa_search.store.hits import Spans, read_hits
from mivaa_search.store.images import write_images
from mivaa_search.store.maintenance import note_removed
from mivaa_search.store.pages import write_pages
from mivaa_search.store.records import (
    DEFAULT_TOP_K,
    DOMAIN,
    MAX_TOP_K,
    TEXT_SOURCES,
    ChunkHit,
    ChunkRank,
    ChunkRecord,
    DocumentContent,
    DocumentRecord,
    SearchFilter,
)
from mivaa_search.store.reembedding import model_changed, tenant_text_model
from mivaa_search.store.related import write_document_vector
from mivaa_search.store.retrieval import ModelCheck, Retrieval, VectorTuning
from mivaa_search.store.schema import ensure_image_index

_CHUNK_COLUMNS = (
    "document_id, chunk_index, text, page_start, page_end, token_count, model, embedding,"
    " text_source, ocr_confidence, section_path, block_types, language"
)
_CHUNK_TYPES = [
    *("uuid", "int4", "text", "int4", "int4", "int4", "text", "vector", "text", "float4", "text[]", "text[]", "text")
]


class ChunkRepository:
    def __init__(self, connections: Connections, dimension: int):
        self._connections = connections
        self.dimension = dimension
        self._retrieval = Retrieval(connections)

    @property
    def tuning(self) -> VectorTuning:
        return self._retrieval.tuning

    @tuning.setter
    def tuning(self, value: VectorTuning) -> None:
        self._retrieval.tuning = value

    async def replace_content(self, document_id: str, content: DocumentContent, *, tenant: str) -> DocumentRecord:
        """Swap a document's chunks, pages, images and placements for these, in one
        transaction; set its counts, metadata and, with mark_ready, its state to
        READY. Re-running it is harmless."""
        doc_id = parse_document_id(document_id)
        language = language_tag((content.metadata or {}).get("language"))
        rows = [self._chunk_row(doc_id, chunk, content.model, language) for chunk in _unique(content.chunks)]
        dimensions = {len(row[7]) for row in rows}
        images = list(content.images)
        async with self._connections.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(
                    "SELECT 1 FROM documents WHERE id = %s AND tenant = %s FOR UPDATE", [doc_id, tenant]
                )
                if await cur.fetchone() is None:
                    raise document_not_found(document_id)
                model, dimension = await tenant_text_model(conn, tenant)
                if model is not None and model != content.model:
                    raise model_changed(content.model)
                # The vectors must be of the dimension the tenant's queries are (its model's).
                expected = dimension or self.dimension
                if dimensions - {expected}:
                    raise InvalidArgument(
                        "EMBEDDING_DIMENSION_MISMATCH",
                        f"The chunks' vectors have {', '.join(map(str, sorted(dimensions)))} dimensions;"
                        f" this tenant's model makes {expected}.",
                        domain=DOMAIN,
                        metadata={"expected_dimension": str(expected)},
                    )
                removed = (await conn.execute("DELETE FROM chunks WHERE document_id = %s", [doc_id])).rowcount
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
                image_dimensions = await write_images(conn, doc_id, images, content.placements)
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
            await note_removed(conn, removed, tenant=tenant)
            # Schema work after the data is committed, never inside its transaction.
            for image_dimension in sorted(image_dimensions):
                await ensure_image_index(conn, image_dimension)
        return document_record(row)

    def _chunk_row(self, doc_id, chunk: ChunkRecord, model: str, language: str) -> tuple:
        # Of the tenant's model's dimension: checked against it once the tenant's row is locked.
        embedding = check_any_vector(
            chunk.embedding, "INVALID_EMBEDDING", f"Chunk {chunk.index}'s vector is empty, too long or not finite."
        )
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
            language,
        )

    async def search(
        self, query_vector: Sequence[float], top_k: int, where: SearchFilter, *, tenant: str
    ) -> list[ChunkHit]:
        """The top_k chunks nearest to query_vector by cosine similarity, among `tenant`'s
        READY documents that the filter leaves."""
        if top_k < 0:
            raise InvalidArgument("INVALID_TOP_K", "top_k must not be negative.", domain=DOMAIN)
        return await self.nearest(query_vector, min(top_k or DEFAULT_TOP_K, MAX_TOP_K), where, tenant=tenant)

    async def nearest(
        self, query_vector: Sequence[float], depth: int, where: SearchFilter, *, tenant: str
    ) -> list[ChunkHit]:
        """Up to `depth` chunks by cosine similarity, with their texts."""
        return await self.read(await self.rank_nearest(query_vector, depth, where, tenant=tenant), tenant=tenant)

    async def keyword_search(self, query: str, depth: int, where: SearchFilter, *, tenant: str) -> list[ChunkHit]:
        """Up to `depth` chunks by full-text rank of `query` (websearch syntax), with their texts."""
        return await self.read(await self.rank_keyword(query, depth, where, tenant=tenant), tenant=tenant)

    async def rank_nearest(
        self,
        query_vector: Sequence[float],
        depth: int,
        where: SearchFilter,
        *,
        tenant: str,
        with_vectors: bool = False,
        model_check: ModelCheck | None = None,
    ) -> list[ChunkRank]:
        """Up to `depth` chunks by cosine similarity (with their vectors when asked); with
        `model_check`, TenantModelChanged when the tenant's model is not the query's."""
        # Any dimension: the tenant's model's, whose vectors are the only ones it is compared with.
        query = check_any_vector(query_vector, "INVALID_QUERY_VECTOR", "The query vector is empty or invalid.")
        if not np.any(query):
            raise InvalidArgument("INVALID_QUERY_VECTOR", "The query vector must not be all zeros.", domain=DOMAIN)
        return await self._retrieval.nearest(
            query,
            depth,
            where,
            tenant=tenant,
            base_dimension=self.dimension,
            with_vectors=with_vectors,
            model_check=model_check,
        )

    async def rank_keyword(
        self, query: str, depth: int, where: SearchFilter, *, tenant: str, with_vectors: bool = False
    ) -> list[ChunkRank]:
        """Up to `depth` chunks by full-text rank of `query` (websearch syntax)."""
        return await self._retrieval.keyword(query, depth, where, tenant=tenant, with_vectors=with_vectors)

    async def read(self, ranks: Sequence[ChunkRank], *, tenant: str) -> list[ChunkHit]:
        """The ranked chunks' hits in rank order (those still there)."""
        return [hit for hit, _ in (await read_hits(self._connections, ranks, tenant=tenant)).values()]

    async def read_by_key(
        self, ranks: Sequence[ChunkRank], *, tenant: str, query: str | None = None
    ) -> dict[tuple[str, int], tuple[ChunkHit, Spans]]:
        """The ranked chunks' hits by key (those still there), each with the spans of `query`'s
        words in its text (none without a query)."""
        return await read_hits(self._connections, ranks, tenant=tenant, query=query)


def language_tag(value: object) -> str:
    """A BCP 47 tag's primary subtag, lower case ("en" for "en-GB"); "" when absent or not a tag."""
    tag = str(value or "").split("-")[0].strip().lower()
    return tag if 2 <= len(tag) <= 3 and tag.isascii() and tag.isalpha() else ""


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
