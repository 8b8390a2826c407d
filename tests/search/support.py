"""Helpers of the search store tests."""

from __future__ import annotations

import hashlib
import pathlib
import uuid

import numpy as np
import psycopg
import psycopg.sql

from mivaa_search.store import ChunkRecord, DocumentContent, NewDocument, SearchFilter, SearchStore
from mivaa_search.usecases import DocumentCatalog

MIGRATIONS = sorted(
    f.name.removesuffix(".sql").removesuffix(".py")
    for f in (pathlib.Path(__file__).resolve().parents[2] / "services/search/mivaa_search/migrations").iterdir()
    if f.name[:4].isdigit()
)

DIMENSION = 384  # as in conftest.py
TENANT = "default"

rng = np.random.default_rng(20240611)


def unit_vector() -> np.ndarray:
    v = rng.standard_normal(DIMENSION).astype(np.float32)
    return v / np.linalg.norm(v)


def sha(n: object) -> str:
    return hashlib.sha256(f"document-{n}-{uuid.uuid4()}".encode()).hexdigest()


async def create(store, filename, title, labels, sha256, size_bytes, page_count, job, *, tenant=TENANT):
    new = NewDocument(filename, title, labels, sha256, size_bytes, page_count, job)
    return await store.documents.create(new, tenant=tenant)


async def new_document(store: SearchStore, name: str = "doc", labels: list[str] | None = None):
    doc, created = await create(store, f"{name}.pdf", name.title(), labels or [], sha(name), 1234, 0, "jobs/1")
    assert created
    return doc


def make_chunks(vectors: list[np.ndarray], prefix: str = "chunk") -> list[ChunkRecord]:
    return [
        ChunkRecord(index=i, text=f"{prefix} {i}", page_start=i + 1, page_end=i + 2, token_count=10 + i, embedding=v)
        for i, v in enumerate(vectors)
    ]


async def replace(store, doc_id, chunks, model, page_count, mark_ready, *, tenant=TENANT, **more):
    content = DocumentContent(chunks=chunks, model=model, page_count=page_count, mark_ready=mark_ready, **more)
    return await store.chunks.replace_content(doc_id, content, tenant=tenant)


async def search(store, vector, top_k, document_ids=(), labels=(), *, tenant=TENANT):
    return await store.chunks.search(vector, top_k, SearchFilter(document_ids, labels), tenant=tenant)


async def search_images(store, vector, model, top_k, document_ids=(), labels=(), *, tenant=TENANT):
    return await store.images.search(vector, model, top_k, SearchFilter(document_ids, labels), tenant=tenant)


def catalog(store) -> DocumentCatalog:
    return DocumentCatalog(store, originals=None)  # listings never touch the originals


async def list_documents(store, page_size, token, labels, *, tenant=TENANT):
    return await catalog(store).list_documents(tenant=tenant, page_size=page_size, page_token=token, labels=labels)


async def list_pages(store, id, page_size, token, *, tenant=TENANT):
    return await catalog(store).list_pages(id, tenant=tenant, page_size=page_size, page_token=token)


async def list_images(store, id, page_size, token, *, tenant=TENANT):
    return await catalog(store).list_images(id, tenant=tenant, page_size=page_size, page_token=token)


def iter_pages(store, id, *, tenant=TENANT):
    return catalog(store).pages(id, tenant=tenant)


async def ready_document(store, name, labels=None, n_chunks=3):
    doc = await new_document(store, name, labels)
    vectors = [unit_vector() for _ in range(n_chunks)]
    doc = await replace(
        store, doc.id, make_chunks(vectors, name), "test-model", page_count=n_chunks + 1, mark_ready=True
    )
    return doc, vectors


async def fetch(dsn: str, query: str, params=()):
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cur = await conn.execute(query, params)
        return await cur.fetchall()


async def walk(store, page_size, labels=()):
    pages, token = [], ""
    while True:
        page, token = await list_documents(store, page_size, token, list(labels))
        pages.append(page)
        if not token:
            return pages
