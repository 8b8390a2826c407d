"""Images: unique images of a document with their bytes, where each is shown, and their vectors."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import psycopg

from mivaa_platform.errors import InvalidArgument, NotFound
from mivaa_search.store._common import (
    Connections,
    check_any_vector,
    check_sha256,
    parse_document_id,
    prepare_filtered_hnsw_scan,
    require_document,
    search_filters,
)
from mivaa_search.store.records import (
    DEFAULT_TOP_K,
    DOMAIN,
    MAX_HIT_TITLE_CHARS,
    MAX_TOP_K,
    ImageHit,
    ImageInfo,
    ImageRecord,
    PlacementRecord,
    SearchFilter,
)

# An image with its placements (pages, boxes, captions) in page order; read by _image_info.
_IMAGE_INFO_SELECT = """
    SELECT i.document_id, i.ordinal, i.sha256, i.mime_type, i.width, i.height, octet_length(i.data),
           coalesce(array_agg(p.page ORDER BY p.page, p.y0) FILTER (WHERE p.page IS NOT NULL), '{}'),
           coalesce(array_agg(ARRAY[p.x0, p.y0, p.x1, p.y1] ORDER BY p.page, p.y0) FILTER (WHERE p.page IS NOT NULL), '{}'),
           coalesce(array_agg(p.caption ORDER BY p.page, p.y0) FILTER (WHERE p.page IS NOT NULL), '{}')
    FROM images i
    LEFT JOIN image_placements p ON p.document_id = i.document_id AND p.sha256 = i.sha256
"""


class ImageRepository:
    def __init__(self, connections: Connections):
        self._connections = connections

    async def read(self, id: str, *, tenant: str, limit: int, after: int = -1) -> list[ImageInfo]:
        """Up to `limit` of the document's images after ordinal `after`, in order of first appearance."""
        doc_id = parse_document_id(id)
        async with self._connections.connection() as conn:
            await require_document(conn, doc_id, id, tenant=tenant)
            cur = await conn.execute(
                f"""
                {_IMAGE_INFO_SELECT}
                WHERE i.document_id = %s AND i.ordinal > %s
                GROUP BY i.document_id, i.sha256
                ORDER BY i.ordinal
                LIMIT %s
                """,
                [doc_id, after, limit],
            )
            return [_image_info(row) for row in await cur.fetchall()]

    async def get(self, id: str, sha256: str, *, tenant: str) -> ImageInfo:
        """An image of `tenant`'s document; any other is IMAGE_NOT_FOUND."""
        doc_id = parse_document_id(id)
        async with self._connections.connection() as conn:
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
        return _image_info(row)

    async def get_data(self, id: str, sha256: str, *, tenant: str) -> tuple[str, bytes]:
        """(mime type, bytes) of an image of `tenant`'s document."""
        doc_id = parse_document_id(id)
        async with self._connections.connection() as conn:
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

    async def search(
        self, query_vector: Sequence[float], model: str, top_k: int, where: SearchFilter, *, tenant: str
    ) -> list[ImageHit]:
        """The top_k images nearest to query_vector among those `model` embedded, in `tenant`'s READY documents."""
        query = check_any_vector(query_vector, "INVALID_QUERY_VECTOR", "The query vector is empty or invalid.")
        if not query.any():
            raise InvalidArgument("INVALID_QUERY_VECTOR", "The query vector is empty or invalid.", domain=DOMAIN)
        if top_k < 0:
            raise InvalidArgument("INVALID_TOP_K", "top_k must not be negative.", domain=DOMAIN)
        dimension = int(query.size)
        k = min(top_k or DEFAULT_TOP_K, MAX_TOP_K)
        conditions, params = search_filters(
            "e", tenant, where.document_ids, where.labels, all_versions=where.all_versions
        )
        conditions += ["e.model = %(model)s", f"e.dimension = {dimension}"]
        params |= {"query": query, "k": k, "model": model, "title_chars": MAX_HIT_TITLE_CHARS}
        # The ORDER BY expression is the partial index's, so HNSW serves it.
        distance = f"(e.embedding::vector({dimension})) <=> %(query)s::vector({dimension})"
        async with self._connections.connection() as conn, conn.transaction():
            await prepare_filtered_hnsw_scan(conn, k)
            cur = await conn.execute(
                f"""
                WITH nearest AS MATERIALIZED (
                    SELECT e.document_id, left(d.title, %(title_chars)s), e.sha256, {distance} AS distance
                    FROM image_embeddings e
                    JOIN documents d ON d.id = e.document_id
                    WHERE {" AND ".join(conditions)}
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
            images = {(str(row[0]), row[2]): _image_info(row) for row in await cur.fetchall()}
        return [
            ImageHit(str(doc_id), title, images[(str(doc_id), sha256)], 1.0 - float(found_distance))
            for doc_id, title, sha256, found_distance in rows
            if (str(doc_id), sha256) in images
        ]


async def write_images(
    conn: psycopg.AsyncConnection,
    doc_id: uuid.UUID,
    images: Sequence[ImageRecord],
    placements: Iterable[PlacementRecord],
) -> set[int]:
    """Replace the document's images, their vectors and placements, inside the caller's
    transaction. Returns the dimensions of the vectors written (each needs its index)."""
    for table in ("images", "image_embeddings", "image_placements"):
        await conn.execute(f"DELETE FROM {table} WHERE document_id = %s", [doc_id])
    async with conn.cursor() as cur:
        async with cur.copy(
            "COPY images (document_id, sha256, ordinal, mime_type, width, height, data) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "text", "int4", "text", "int4", "int4", "bytea"])
            for ordinal, image in enumerate(images):
                await copy.write_row(
                    (
                        doc_id,
                        check_sha256(image.sha256),
                        ordinal,
                        image.mime_type,
                        image.width,
                        image.height,
                        image.data,
                    )
                )
        dimensions: set[int] = set()
        for image in images:
            if not (len(image.embedding) and image.embedding_model):
                continue
            vector = check_any_vector(
                image.embedding, "INVALID_IMAGE_EMBEDDING", f"Image {image.sha256} has an invalid embedding."
            )
            dimensions.add(int(vector.size))
            await conn.execute(
                "INSERT INTO image_embeddings (document_id, sha256, model, dimension, embedding)"
                " VALUES (%s, %s, %s, %s, %s)",
                [doc_id, image.sha256, image.embedding_model, int(vector.size), vector],
            )
        async with cur.copy(
            "COPY image_placements (document_id, sha256, page, x0, y0, x1, y1, caption) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "text", "int4", "float4", "float4", "float4", "float4", "text"])
            for placement in placements:
                await copy.write_row(
                    (doc_id, placement.sha256, placement.page, *placement.bbox, placement.caption.replace("\x00", ""))
                )
    return dimensions


def _image_info(row: tuple) -> ImageInfo:
    """From a row of _IMAGE_INFO_SELECT."""
    _, ordinal, sha256, mime_type, width, height, size, pages, boxes, captions = row
    placements = [
        PlacementRecord(sha256=sha256, page=page, bbox=tuple(box), caption=caption)
        for page, box, caption in zip(pages, boxes, captions, strict=True)
    ]
    return ImageInfo(sha256, mime_type, width, height, int(size), placements, ordinal)


def _image_not_found(id: str, sha256: str) -> NotFound:
    return NotFound(
        "IMAGE_NOT_FOUND",
        f"Document {id} has no image {sha256}.",
        domain=DOMAIN,
        metadata={"document": id, "sha256": sha256},
    )
