"""Helpers of the retrieval tests: the real text model in-process, and documents of generated text
written to the real PostgreSQL with that model's vectors (what the extractor would upsert)."""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
from collections.abc import Sequence

import psycopg
import pytest

from mivaa_platform.embedding import EmbeddedTexts
from mivaa_search.store import ChunkRecord, DocumentContent
from mivaa_search.usecases import Search
from mivaa_search.usecases.search import ChunkQuery
from tests.search.support import new_document, sha
from tests.support.pdfs import filler, page_phrase

IDENTIFIER = "XK-4471-QZ"  # a part number that occurs once, in chunk 37 of the long document
MODEL_DIR = pathlib.Path(__file__).resolve().parents[2] / "models" / "all-MiniLM-L6-v2"


class InProcessEmbedder:
    """The service's TextEmbedder port served by the real ONNX model in this process."""

    def __init__(self, model_dir: pathlib.Path):
        from mivaa_embedder.text_model import OnnxTextEmbedder

        self._model = OnnxTextEmbedder(model_dir, intra_op_threads=1)
        self.model = self._model.name

    async def embed(self, texts: Sequence[str], model: str = "") -> EmbeddedTexts:
        assert model in ("", self.model), f"only {self.model} is served here"
        batch = await asyncio.to_thread(self._model.embed, list(texts))
        return EmbeddedTexts(vectors=[list(v) for v in batch.vectors], token_counts=list(batch.token_counts))


def load_embedder() -> InProcessEmbedder:
    if not (MODEL_DIR / "manifest.json").exists():
        pytest.skip(f"no exported model at {MODEL_DIR}: run `make models`")
    return InProcessEmbedder(MODEL_DIR)


def generated_texts(tag: str, count: int) -> list[str]:
    """`count` chunk texts like a generated PDF's pages: a unique phrase, then filler."""
    return [page_phrase(tag, n) + " " + filler(n, 4) for n in range(1, count + 1)]


async def add_document(
    store,
    embedder,
    name: str,
    texts: Sequence[str],
    *,
    tenant: str = "default",
    labels: Sequence[str] = (),
    language: str = "en",
    block_types: Sequence[Sequence[str]] | None = None,
) -> str:
    """A READY document whose chunk i (page i + 1) holds texts[i]; its id."""
    from tests.search.support import create

    doc, _ = await create(
        store, f"{name}.pdf", name, list(labels), sha(name), 1000, len(texts), "jobs/1", tenant=tenant
    )
    vectors = (await embedder.embed(texts)).vectors
    chunks = [
        ChunkRecord(
            index=i,
            text=text,
            page_start=i + 1,
            page_end=i + 1,
            token_count=len(text.split()),
            embedding=vector,
            block_types=(block_types[i] if block_types else ["paragraph"]),
        )
        for i, (text, vector) in enumerate(zip(texts, vectors, strict=True))
    ]
    content = DocumentContent(
        chunks=chunks, model=embedder.model, page_count=len(texts), mark_ready=True, metadata={"language": language}
    )
    await store.chunks.replace_content(doc.id, content, tenant=tenant)
    return doc.id


async def set_create_time(dsn: str, document_id: str, when: dt.datetime) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute("UPDATE documents SET create_time = %s WHERE id = %s", [when, document_id])


async def search(service: Search, text: str, *, tenant: str = "default", **fields):
    return await service.chunks(ChunkQuery(text=text, **fields), tenant=tenant)


__all__ = ["add_document", "generated_texts", "load_embedder", "new_document", "search"]
