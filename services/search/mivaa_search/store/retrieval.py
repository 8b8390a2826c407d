"""The two rankings of a tenant's chunks, each to a given depth: nearest vectors, and keywords.

Vector: when the candidate set (the chunks of the tenant's READY documents that the filter
leaves, summed from documents.chunk_count per query, so a tenant created a moment ago is
counted like any other) is small, an exact scan; above that, the HNSW index with ef_search set
from measured recall and pgvector's iterative scan, so a filter cannot starve it. All tenants
share one index and the tenant filter applies to what its scan yields, so a tenant holding a
small share of the chunks is the index's weak spot; the exact scan serves exactly those, and
with the vectors kept in the row (migration 0019) it costs ~1.5 µs a chunk, so the threshold
is 20k chunks (bench/million_chunks.py). An approximate index can also lose rows (after many
deletes and replacements HNSW's graph can strand them); the exact scan keeps every document of
a small tenant findable however the index fares, and index maintenance (maintenance.py)
rebuilds it when deletes pile up. Chunk vectors of each dimension have an index of their own
(text_vectors.py): a query reads the one of its vector's dimension, its tenant's model's.

Keyword: PostgreSQL full text over `chunks.tsv` (migration 0008) with the GIN index; see
text_query.py for what matches and how it ranks.

Both yield keys and scores (ChunkRank), not texts: a page's hits are read by key once the
rankings are fused and cut (hits.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from mivaa_platform.errors import InvalidArgument
from mivaa_search.store._common import HNSW_SETTINGS, Connections, created_in, parse_document_id, snapshot
from mivaa_search.store._version_sql import LATEST_READY
from mivaa_search.store.entities import entity_conditions
from mivaa_search.store.records import DOMAIN, ChunkRank, SearchFilter
from mivaa_search.store.text_query import SEPARATOR, ConfigQuery, any_of, config_query, uses_operators
from mivaa_search.store.text_vectors import indexed_distance, of_dimension

MAX_EF_SEARCH = 1000  # pgvector's limit
QUERY_VECTOR = "INVALID_QUERY_VECTOR"
# Keyword candidates fully scored: at least this many (twice the depth asked for, at most the maximum).
KEYWORD_POOL = 300
MAX_KEYWORD_POOL = 2000


@dataclass(frozen=True)
class ModelCheck:
    """The model that embedded a query vector, and the configured one (a tenant's model unless it
    switched): checked against the tenant's model in the snapshot its vectors are read from."""

    model: str
    base_model: str


class TenantModelChanged(Exception):
    """The tenant's chunks are embedded with another model than the query's: embed it with `model`."""

    def __init__(self, model: str):
        super().__init__(model)
        self.model = model


@dataclass(frozen=True)
class VectorTuning:
    """How vector search trades exactness for speed (figures: bench/vector_recall.py, service README)."""

    # Candidate sets up to this many chunks are scanned exactly (~1.5 µs a chunk with the
    # vectors in the row, migration 0019: 20k in ~30 ms): exact, and no filter can starve it.
    exact_scan_max_chunks: int = 20_000
    # HNSW candidate list size for larger sets (at least the depth asked for).
    ef_search: int = 400


def document_conditions(tenant: str, where: SearchFilter) -> tuple[list[str], dict[str, object]]:
    """Conditions on documents `d`: the tenant's READY ones that the filter's document fields leave
    (each version chain's newest READY one only, unless the filter asks for all versions)."""
    conditions = ["d.tenant = %(tenant)s", "d.state = 'READY'"]
    if not (where.all_versions or where.document_ids):  # named documents are searched as named
        conditions.append(LATEST_READY)
    params: dict[str, object] = {"tenant": tenant}
    if where.document_ids:
        conditions.append("d.id = ANY(%(document_ids)s)")
        params["document_ids"] = [parse_document_id(i) for i in where.document_ids]
    if where.labels:
        conditions.append("d.labels @> %(labels)s::text[]")
        params["labels"] = list(where.labels)
    if where.custom_metadata:
        conditions.append("d.custom_metadata @> %(custom_metadata)s")
        params["custom_metadata"] = Jsonb(dict(where.custom_metadata))
    created, created_params = created_in("d.create_time", where.created_after, where.created_before)
    conditions += created
    params |= created_params
    return conditions, params


def chunk_conditions(where: SearchFilter) -> tuple[list[str], dict[str, object]]:
    """Conditions on chunks `c`: pages, block kinds, language, entities mentioned."""
    conditions: list[str] = []
    params: dict[str, object] = {}
    if where.page_min:
        conditions.append("c.page_end >= %(page_min)s")
        params["page_min"] = where.page_min
    if where.page_max:
        conditions.append("c.page_start <= %(page_max)s")
        params["page_max"] = where.page_max
    if where.block_types:
        conditions.append("c.block_types && %(block_types)s::text[]")
        params["block_types"] = list(where.block_types)
    if where.languages:
        conditions.append("c.language = ANY(%(languages)s::text[])")
        params["languages"] = list(where.languages)
    mentions, mention_params = entity_conditions("c", where.entities)
    return conditions + mentions, params | mention_params


def _rank(row: Sequence, score: float, embedding: Any = None) -> ChunkRank:
    if embedding is not None:
        embedding = np.asarray(embedding.to_numpy() if hasattr(embedding, "to_numpy") else embedding)
    return ChunkRank(str(row[0]), row[1], score, embedding)


class Retrieval:
    def __init__(self, connections: Connections, tuning: VectorTuning | None = None):
        self._connections = connections
        self.tuning = tuning or VectorTuning()

    async def nearest(
        self,
        query: np.ndarray,
        depth: int,
        where: SearchFilter,
        *,
        tenant: str,
        base_dimension: int,
        with_vectors: bool = False,
        model_check: ModelCheck | None = None,
    ) -> list[ChunkRank]:
        """Up to `depth` chunks by cosine similarity to `query` (a checked, non-zero vector of the
        tenant's model's dimension: INVALID_QUERY_VECTOR otherwise; base_dimension is the
        dimension of tenants that never switched models). With `model_check`, TenantModelChanged
        when the tenant's model is not the query's."""
        doc_conditions, params = document_conditions(tenant, where)
        more, chunk_params = chunk_conditions(where)
        params |= chunk_params | {"query": query, "depth": depth}
        vectors = ", c.embedding" if with_vectors else ""
        async with self._connections.connection() as conn, snapshot(conn):
            # One snapshot for both statements: the tenant's model and the vectors it is checked
            # for are read as one switch of its model left them. The HNSW settings are set here
            # (they only apply to this transaction) so that a search makes no statement for them.
            # The documents' ids only when they will be scanned exactly (a large tenant's would
            # be thousands of ids sent back and forth for nothing).
            ef_search = min(max(self.tuning.ef_search, depth), MAX_EF_SEARCH)
            cur = await conn.execute(
                f"""
                SELECT count(*),
                       CASE WHEN coalesce(sum(d.chunk_count), 0) <= %(exact_max)s THEN array_agg(d.id) END,
                       (SELECT model FROM tenant_text_models WHERE tenant = %(tenant)s),
                       (SELECT dimension FROM tenant_text_models WHERE tenant = %(tenant)s),
                       {HNSW_SETTINGS}
                FROM documents d WHERE {" AND ".join(doc_conditions)}
                """,
                params | {"exact_max": self.tuning.exact_scan_max_chunks, "ef_search": str(ef_search)},
            )
            row = await cur.fetchone()
            assert row is not None  # an aggregate always has a row
            count, documents, tenant_model, tenant_dimension = row[:4]
            if model_check is not None:
                now = tenant_model or model_check.base_model
                if now != model_check.model:
                    raise TenantModelChanged(now)
            # The tenant's chunks share its model's dimension, and only vectors of the query's
            # dimension are compared with it (the condition of that dimension's index).
            dimension = int(query.size)
            expected = tenant_dimension or base_dimension
            if dimension != expected:
                raise InvalidArgument(
                    QUERY_VECTOR,
                    f"The query vector has {dimension} dimensions; this tenant's model makes {expected}.",
                    domain=DOMAIN,
                    metadata={"expected_dimension": str(expected), "actual_dimension": str(dimension)},
                )
            if not count:
                return []
            same_dimension = of_dimension("c", dimension)
            if documents is not None:
                # An expression the index cannot serve (+ 0): every candidate is compared.
                params["documents"] = documents
                conditions = ["c.document_id = ANY(%(documents)s)", same_dimension, *doc_conditions, *more]
                order = "(c.embedding <=> %(query)s) + 0"
            else:
                conditions = [same_dimension, *doc_conditions, *more]
                order = indexed_distance("c", dimension)  # the dimension's partial HNSW index
            # Keys and distances only: a page's hits are read by key once the rankings are fused
            # and cut (hits.py), so neither an exact scan's sort nor the result carries texts.
            # The index yields rows by distance alone: ties are put in key order afterwards.
            cur = await conn.execute(
                f"""
                WITH nearest AS MATERIALIZED (
                    SELECT c.document_id, c.chunk_index, c.embedding <=> %(query)s AS distance{vectors}
                    FROM chunks c
                    JOIN documents d ON d.id = c.document_id
                    WHERE {" AND ".join(conditions)}
                    ORDER BY {order}
                    LIMIT %(depth)s
                )
                SELECT * FROM nearest ORDER BY distance, document_id, chunk_index
                """,
                params,
            )
            rows = await cur.fetchall()
        return [_rank(row, 1.0 - float(row[2]), row[3] if with_vectors else None) for row in rows]

    async def keyword(
        self, query: str, depth: int, where: SearchFilter, *, tenant: str, with_vectors: bool = False
    ) -> list[ChunkRank]:
        """Up to `depth` chunks by full-text rank of `query` (score in [0, 1))."""
        doc_conditions, params = document_conditions(tenant, where)
        more, chunk_params = chunk_conditions(where)
        params |= chunk_params | {"depth": depth}
        vectors = ", c.embedding" if with_vectors else ""
        async with self._connections.connection() as conn:
            queries = await analyse(conn, query, doc_conditions, params)
            if not queries:
                return []
            params |= {
                "any": any_of(queries),
                "configs": [q.config for q in queries],
                "stricts": [q.strict for q in queries],
                "looses": [q.loose for q in queries],
                "pairs": [SEPARATOR.join(q.pairs) for q in queries],
                "terms": [SEPARATOR.join(q.terms) for q in queries],
            }
            # The GIN index finds the candidates (every word, or a pair of them in order); a cheap
            # rank keeps the best KEYWORD_POOL of them, and only those get the full score.
            params["pool"] = min(max(KEYWORD_POOL, 2 * depth), MAX_KEYWORD_POOL)
            cur = await conn.execute(
                f"""
                WITH q AS MATERIALIZED (
                    SELECT config::regconfig AS config, strict::tsquery AS strict,
                           coalesce(nullif(loose, ''), strict)::tsquery AS loose,
                           string_to_array(nullif(pairs, ''), {_separator()})::tsquery[] AS pairs,
                           string_to_array(nullif(terms, ''), {_separator()})::tsquery[] AS terms
                    FROM unnest(%(configs)s::text[], %(stricts)s::text[], %(looses)s::text[],
                                %(pairs)s::text[], %(terms)s::text[])
                         AS given(config, strict, loose, pairs, terms)
                ),
                candidates AS MATERIALIZED (
                    SELECT c.document_id, c.chunk_index{vectors}, c.tsv, q.strict, q.pairs, q.terms
                    FROM chunks c
                    JOIN documents d ON d.id = c.document_id
                    JOIN q ON q.config = mivaa_text_config(c.language)
                    WHERE {" AND ".join([*doc_conditions, *more])} AND c.tsv @@ %(any)s::tsquery
                    ORDER BY ts_rank(c.tsv, q.loose) DESC, c.document_id, c.chunk_index
                    LIMIT %(pool)s
                ),
                scored AS MATERIALIZED (  -- one score per candidate: inlined, the filter and the sort each computed it
                    SELECT document_id, chunk_index,
                           (
                               s.strict_hit
                               + 3 * coalesce((SELECT avg((k.tsv @@ p)::int) FROM unnest(k.pairs) p), s.strict_hit)
                               + coalesce((SELECT avg((k.tsv @@ t)::int) FROM unnest(k.terms) t), s.strict_hit)
                               + ts_rank_cd(k.tsv, k.strict, 32)
                           ) / 6.0 AS score{vectors.replace("c.", "k.")}
                    FROM candidates k
                    CROSS JOIN LATERAL (SELECT (k.tsv @@ k.strict)::int AS strict_hit) s
                )
                SELECT * FROM scored WHERE score > 0
                ORDER BY score DESC, document_id, chunk_index
                LIMIT %(depth)s
                """,
                params,
            )
            rows = await cur.fetchall()
        return [_rank(row, float(row[2]), row[3] if with_vectors else None) for row in rows]


def _separator() -> str:
    return "E'\\x1f'"


async def analyse(
    conn: psycopg.AsyncConnection, query: str, doc_conditions: list[str], params: dict[str, object]
) -> list[ConfigQuery]:
    """The query as each text configuration among the candidate documents' languages reads it."""
    cur = await conn.execute(
        f"""
        WITH configs AS (
            SELECT DISTINCT mivaa_text_config(lower(split_part(coalesce(d.metadata ->> 'language', ''), '-', 1)))
                AS config
            FROM documents d WHERE {" AND ".join(doc_conditions)}
        )
        SELECT config::text, websearch_to_tsquery(config, %(text)s)::text,
               (SELECT array_agg(array[lexeme, array_to_string(positions, ',')])
                FROM unnest(to_tsvector(config, %(text)s)))
        FROM configs ORDER BY 1
        """,
        params | {"text": query},
    )
    exact = uses_operators(query)
    analysed = []
    for config, strict, lexemes in await cur.fetchall():
        positions = [(lexeme, [int(p) for p in where.split(",") if p]) for lexeme, where in lexemes or ()]
        found = config_query(config, strict, positions, exact=exact)
        if found.strict:
            analysed.append(found)
    return analysed
