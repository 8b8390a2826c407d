"""Named entities of chunks: written with the chunks, listed per document, and a search filter.

A row is (chunk, type, normalized text, page) with the number of mentions the chunk has of
the entity, counted on the first of its pages only, so sums over pages count each mention once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from mivaa_platform.errors import InvalidArgument
from mivaa_search.store._common import Connections, parse_document_id, require_document
from mivaa_search.store.records import DOMAIN, ENTITY_TYPES, ChunkRecord, EntityRef

MAX_ENTITY_CHARS = 200
# Mentions one chunk may carry (a chunk is ~256 tokens: far fewer in practice).
MAX_ENTITIES_PER_CHUNK = 500

_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = ".,;:!?\"'()[]{}\u201c\u201d\u2018\u2019"


def normalize_entity(text: str) -> str:
    """What two spellings of one entity share: case-folded, spaces collapsed, no leading "the",
    no punctuation at the ends ("The  Acme Corp." and "acme corp" are one)."""
    value = _SPACES.sub(" ", text).strip().strip(_EDGE_PUNCTUATION).strip().casefold()
    if value.startswith("the "):
        value = value[4:]
    return value


@dataclass(frozen=True)
class DocumentEntityRecord:
    type: str
    text: str  # the most frequent spelling
    normalized: str
    pages: list[int]
    mentions: int


def _entity_rows(doc_id: uuid.UUID, tenant: str, chunk: ChunkRecord) -> list[tuple]:
    if len(chunk.entities) > MAX_ENTITIES_PER_CHUNK:
        raise _refuse("TOO_MANY_ENTITIES", f"Chunk {chunk.index} carries more than {MAX_ENTITIES_PER_CHUNK} entities.")
    rows: dict[tuple[str, str, int], list] = {}
    for mention in chunk.entities:
        if mention.type not in ENTITY_TYPES:
            raise _refuse("INVALID_ENTITY_TYPE", f"Chunk {chunk.index} names an entity of no known type.")
        text = mention.text.replace("\x00", "").strip()
        if len(text) > MAX_ENTITY_CHARS:
            raise _refuse("ENTITY_TEXT_TOO_LONG", f"An entity's text is longer than {MAX_ENTITY_CHARS} characters.")
        normalized = normalize_entity(text)
        if not normalized:
            continue
        # A page outside the chunk's span is the chunk's first page: an entity is never placed elsewhere.
        pages = sorted({p for p in mention.pages if chunk.page_start <= p <= chunk.page_end}) or [chunk.page_start]
        for position, page in enumerate(pages):
            row = rows.setdefault((mention.type, normalized, page), [text, 0])
            row[1] += 1 if position == 0 else 0
    return [
        (tenant, doc_id, chunk.index, kind, text, normalized, max(page, 1), mentions)
        for (kind, normalized, page), (text, mentions) in rows.items()
    ]


async def write_entities(
    conn: psycopg.AsyncConnection, doc_id: uuid.UUID, chunks: Sequence[ChunkRecord], *, tenant: str
) -> None:
    """The chunks' entities, inside the caller's transaction, after the chunks themselves (their
    old rows went with the old chunks through the foreign key)."""
    async with (
        conn.cursor() as cur,
        cur.copy(
            "COPY entities (tenant, document_id, chunk_index, type, text, normalized, page, mentions)"
            " FROM STDIN WITH (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["text", "uuid", "int4", "text", "text", "text", "int4", "int4"])
        for chunk in chunks:
            for row in _entity_rows(doc_id, tenant, chunk):
                await copy.write_row(row)


def entity_conditions(alias: str, entities: Sequence[EntityRef]) -> tuple[list[str], dict[str, object]]:
    """WHERE conditions (and their parameters) keeping the chunks `alias` that mention every entity.

    Each entity is one EXISTS over the (document, chunk) primary key of `entities`, so the
    filter costs an index probe per candidate chunk; the search's tenant condition on the
    document still applies (a chunk's entities are its tenant's).
    """
    conditions: list[str] = []
    params: dict[str, object] = {}
    for number, entity in enumerate(entities):
        typed = f" AND e.type = %(entity_type_{number})s" if entity.type else ""
        conditions.append(
            f"EXISTS (SELECT 1 FROM entities e WHERE e.document_id = {alias}.document_id"
            f" AND e.chunk_index = {alias}.chunk_index AND e.normalized = %(entity_{number})s{typed})"
        )
        params[f"entity_{number}"] = entity.normalized
        if entity.type:
            params[f"entity_type_{number}"] = entity.type
    return conditions, params


class EntityRepository:
    def __init__(self, connections: Connections):
        self._connections = connections

    async def read(
        self,
        id: str,
        *,
        tenant: str,
        types: Sequence[str],
        limit: int,
        after: tuple[int, str, str] | None = None,
    ) -> list[DocumentEntityRecord]:
        """The document's entities, most mentioned first (then type, then text), after `after`
        = (mentions, type, normalized) of the last one a previous page held."""
        doc_id = parse_document_id(id)
        params: dict[str, object] = {"doc": doc_id, "tenant": tenant, "types": list(types) or None, "limit": limit}
        position = ""
        if after is not None:
            position = "WHERE (-mentions, type, normalized) > (-%(mentions)s, %(type)s, %(normalized)s)"
            params |= {"mentions": after[0], "type": after[1], "normalized": after[2]}
        async with self._connections.connection() as conn:
            await require_document(conn, doc_id, id, tenant=tenant)
            cur = await conn.execute(
                f"""
                SELECT * FROM (
                    SELECT type, normalized,
                           mode() WITHIN GROUP (ORDER BY text) AS text,
                           array_agg(DISTINCT page ORDER BY page) AS pages,
                           sum(mentions)::int AS mentions
                    FROM entities
                    WHERE document_id = %(doc)s AND tenant = %(tenant)s
                      AND (%(types)s::text[] IS NULL OR type = ANY(%(types)s::text[]))
                    GROUP BY type, normalized
                ) grouped
                {position}
                ORDER BY -mentions, type, normalized
                LIMIT %(limit)s
                """,
                params,
            )
            rows = await cur.fetchall()
        return [
            DocumentEntityRecord(type=kind, text=text, normalized=normalized, pages=list(pages), mentions=mentions)
            for kind, normalized, text, pages, mentions in rows
        ]


def _refuse(reason: str, message: str) -> InvalidArgument:
    return InvalidArgument(reason, message, domain=DOMAIN)
