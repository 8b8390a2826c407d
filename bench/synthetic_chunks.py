"""Synthetic chunks for bench/million_chunks.py: clustered unit vectors, documents, pages, text,
bulk-loaded into the search service's tables, and the exact top 10 of each query kept on the way.

Vectors: `topics` directions; each of `centroids` cluster centres lies at cosine ~TOPIC_COS from
its topic, each chunk at cosine ~`chunk_cos` from its centre (so two chunks of one cluster are at
~chunk_cos**2, of one topic ~0.2, of different topics ~0: roughly how MiniLM's neighbours spread).
A document draws its chunks from the clusters of one topic. Queries come from the same
distribution (a random centre, fresh noise) and each belongs to one tenant, as a request does.

Rows go in with COPY in the chunk store's own binary layout (store/chunks.py: the same columns
and types); documents are READY with chunk_count set, pages rows exist, and document_vectors
holds each document's normalized mean, so SearchChunks' joins and tenant filters are real.
The exact answer is computed while loading, block by block, so no copy of all vectors is kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from mivaa_search.store.chunks import _CHUNK_COLUMNS, _CHUNK_TYPES

DIMENSION = 384  # all-MiniLM-L6-v2, the mesh's text model
TOPIC_COS = 0.6
WORDS = np.asarray([f"w{i:04d}" for i in range(4000)])
FILLERS = 997  # distinct filler texts, drawn at random per chunk (generating each is slow)
BLOCK_DOCUMENTS = 200  # documents generated, copied and scored at a time


@dataclasses.dataclass(frozen=True)
class Shape:
    chunks: int
    documents: int
    tenants: int
    topics: int = 64
    centroids: int = 4000
    chunk_cos: float = 0.8
    text_words: int = 120
    seed: int = 7

    @property
    def chunks_per_document(self) -> int:
        return max(1, self.chunks // self.documents)


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _towards(centres: np.ndarray, cos: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors at cosine ~`cos` from each row of `centres` (random directions are ~orthogonal)."""
    noise = _unit(rng.standard_normal(centres.shape, dtype=np.float32))
    return _unit(cos * centres + np.sqrt(1 - cos * cos) * noise)


class Space:
    """The mixture: topics, cluster centres (centre c belongs to topic c % topics), their words."""

    def __init__(self, shape: Shape):
        self.shape = shape
        rng = np.random.default_rng(shape.seed)
        topics = _unit(rng.standard_normal((shape.topics, DIMENSION), dtype=np.float32))
        self.centres = _towards(topics[np.arange(shape.centroids) % shape.topics], TOPIC_COS, rng)
        self.centre_words = [" ".join(rng.choice(WORDS, 12)) for _ in range(shape.centroids)]
        filler = max(0, shape.text_words - 12)
        self.fillers = [" ".join(rng.choice(WORDS, filler)) for _ in range(FILLERS)]

    def queries(self, count: int, seed: int = 11) -> tuple[np.ndarray, list[str]]:
        """Query vectors of the data's distribution, and each one's tenant."""
        rng = np.random.default_rng(seed)
        picked = rng.integers(0, self.shape.centroids, count)
        tenants = [tenant_name(int(t)) for t in rng.integers(0, self.shape.tenants, count)]
        return _towards(self.centres[picked], self.shape.chunk_cos, rng), tenants


def tenant_name(index: int) -> str:
    return f"t{index}"


def tenant_of(document: int, shape: Shape) -> int:
    """The tenant of document number `document`: every tenant gets documents of every topic.
    (Document n's topic is n % topics; a tenant of n % tenants would tie the two together, e.g.
    with 10 tenants and 64 topics tenant t held only topics of t's parity, so half the queries
    asked a tenant about a topic it had no chunk of.)"""
    return (document // shape.topics + document % shape.topics) % shape.tenants


class ExactTop:
    """The exact top k (cosine) of each query among its tenant's chunks, updated block by block."""

    def __init__(self, queries: np.ndarray, tenants: list[str], k: int = 10):
        self.queries, self.tenants, self.k = queries, np.asarray(tenants), k
        self.scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        self.keys: list[list[tuple[str, int]]] = [[("", -1)] * k for _ in queries]

    def add(self, vectors: np.ndarray, keys: list[tuple[str, int]], tenants: np.ndarray) -> None:
        similarity = self.queries @ vectors.T
        similarity[self.tenants[:, None] != tenants[None, :]] = -np.inf
        k = min(self.k, similarity.shape[1])
        block_best = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        for q, picked in enumerate(block_best):
            scores = np.concatenate([self.scores[q], similarity[q, picked]])
            candidates = self.keys[q] + [keys[i] for i in picked]
            best = np.argsort(-scores, kind="stable")[: self.k]
            self.keys[q] = [candidates[i] for i in best]
            self.scores[q] = scores[best]

    def top(self, q: int) -> set[tuple[str, int]]:
        return {key for key, score in zip(self.keys[q], self.scores[q], strict=True) if score > -np.inf}


def load(dsn: str, space: Space, exact: ExactTop) -> int:
    """Documents, their chunks, pages and vectors into the (migrated) database; the chunks written."""
    shape = space.shape
    rng = np.random.default_rng(shape.seed + 1)
    written = 0
    with psycopg.connect(dsn) as conn:
        register_vector(conn)
        for first in range(0, shape.documents, BLOCK_DOCUMENTS):
            count = min(BLOCK_DOCUMENTS, shape.documents - first)
            per_doc = [shape.chunks_per_document] * count
            if first + count == shape.documents:  # the remainder goes to the last document
                per_doc[-1] += shape.chunks - shape.chunks_per_document * shape.documents
            written += _load_block(conn, space, exact, rng, range(first, first + count), per_doc)
            conn.commit()
    return written


def _load_block(conn, space: Space, exact: ExactTop, rng, numbers: range, per_doc: list[int]) -> int:
    shape = space.shape
    ids = [uuid.UUID(int=int(rng.integers(0, 2**62)) << 64 | n) for n in numbers]
    topics = [n % shape.topics for n in numbers]
    tenants = [tenant_name(tenant_of(n, shape)) for n in numbers]
    columns = "id, filename, title, labels, sha256, size_bytes, page_count, state, chunk_count, tenant"
    with CopyInto(conn, f"COPY documents ({columns}) FROM STDIN") as copy:
        for doc_id, n, topic, tenant, chunks in zip(ids, numbers, topics, tenants, per_doc, strict=True):
            sha = hashlib.sha256(doc_id.bytes).hexdigest()
            pages = (chunks + 1) // 2
            copy.write_row(
                (doc_id, f"doc-{n}.pdf", f"Document {n}", ["bench", f"topic-{topic}"], sha, 40_000 * pages, pages,
                 "READY", chunks, tenant)
            )  # fmt: skip
    block_vectors, block_keys, block_tenants, means = [], [], [], []
    with CopyInto(conn, f"COPY chunks ({_CHUNK_COLUMNS}) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(_CHUNK_TYPES)
        for doc_id, topic, tenant, chunks in zip(ids, topics, tenants, per_doc, strict=True):
            centre_ids = topic + shape.topics * rng.integers(0, shape.centroids // shape.topics, chunks)
            vectors = _towards(space.centres[centre_ids], shape.chunk_cos, rng)
            for index, (centre, vector) in enumerate(zip(centre_ids, vectors, strict=True)):
                copy.write_row(
                    (doc_id, index, _text(space, int(centre), rng), index // 2 + 1, index // 2 + 1,
                     shape.text_words, "bench-synthetic", vector, "TEXT_LAYER", None, [f"Section {index // 10}"],
                     ["paragraph"], "en")
                )  # fmt: skip
            block_vectors.append(vectors)
            block_keys += [(str(doc_id), i) for i in range(chunks)]
            block_tenants += [tenant] * chunks
            means.append(_unit(vectors.mean(axis=0, keepdims=True))[0])
    with CopyInto(conn, "COPY pages (document_id, number, layout) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["uuid", "int4", "bytea"])
        for doc_id, chunks in zip(ids, per_doc, strict=True):
            for page in range(1, (chunks + 1) // 2 + 1):
                copy.write_row((doc_id, page, b""))  # an empty serialized Page
    with CopyInto(conn, "COPY document_vectors (document_id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["uuid", "vector"])
        for doc_id, mean in zip(ids, means, strict=True):
            copy.write_row((doc_id, mean))
    exact.add(np.concatenate(block_vectors), block_keys, np.asarray(block_tenants))
    return len(block_keys)


def _text(space: Space, centre: int, rng: np.random.Generator) -> str:
    """About text_words words: the cluster's own (so keyword search finds its chunks) and others."""
    return f"{space.centre_words[centre]} {space.fillers[int(rng.integers(FILLERS))]}"


class CopyInto:
    """A cursor and its COPY, as one context."""

    def __init__(self, conn: psycopg.Connection, statement: str):
        self.cursor = conn.cursor()
        self.statement = statement

    def __enter__(self):
        self._copy = self.cursor.copy(self.statement)
        return self._copy.__enter__()

    def __exit__(self, *exc_info):
        try:
            return self._copy.__exit__(*exc_info)
        finally:
            self.cursor.close()
