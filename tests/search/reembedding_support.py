"""What the re-embedding tests share: real text models of one and of another dimension behind
the embedder's ports, and the steps every switch test takes (a switch while a search keeps
answering, a searcher catching up with it, an upload arriving after it, a cancel midway)."""

from __future__ import annotations

import asyncio
import json
import pathlib
from collections.abc import Sequence

import pytest

from mivaa_platform.embedding import EmbeddedTexts
from mivaa_platform.errors import FailedPrecondition
from mivaa_search.store import ChunkRecord
from mivaa_search.usecases import Search
from mivaa_search.usecases.reembedding import Reembedding
from tests.embedder.clip_fixture import ExportVenvMissing, build_tiny_clip
from tests.search.retrieval_support import MODEL_DIR, add_document, generated_texts, search
from tests.search.support import create, fetch

NEW = "minilm-fp32"  # all-MiniLM-L6-v2 in fp32: the mesh's model's dimension, measurably other vectors
CLIP = "tiny-clip"  # the CLIP text tower: another dimension
HUGE = "huge-model"  # listed as served, never embedded with: more dimensions than an HNSW index takes
AFTER_SWITCH = "The canyon walls glow red at sunset."


def clip_dir() -> pathlib.Path | None:
    """The tiny CLIP export (built once into .cache by the export venv, as every CLIP test's);
    None without the export venv."""
    try:
        return build_tiny_clip()
    except ExportVenvMissing:
        return None


class TwoModels:
    """The embedder's ports with two real text models of one dimension and, when exported, the
    CLIP text tower (another dimension). `calls` records (model, texts) of every embed."""

    def __init__(self, base):
        from mivaa_embedder.text_model import OnnxTextEmbedder

        self._base = base
        self.model = base.model
        self._fp32 = OnnxTextEmbedder(MODEL_DIR, intra_op_threads=1, precision="fp32")
        self._clip = None
        self.calls: list[tuple[str, int]] = []

    async def embed(self, texts: Sequence[str], model: str = "") -> EmbeddedTexts:
        self.calls.append((model or self.model, len(texts)))
        if model in ("", self.model):
            return await self._base.embed(texts)
        if model == CLIP:
            if self._clip is None:
                from mivaa_embedder.clip_model import OnnxClipModel

                self._clip = OnnxClipModel(clip_dir(), providers=["CPUExecutionProvider"], intra_op_threads=1)
            batch = await asyncio.to_thread(self._clip.embed_texts, list(texts))
            return EmbeddedTexts(vectors=[list(v) for v in batch.vectors], token_counts=list(batch.token_counts))
        assert model == NEW, model
        batch = await asyncio.to_thread(self._fp32.embed, list(texts))
        return EmbeddedTexts(vectors=[list(v) for v in batch.vectors], token_counts=list(batch.token_counts))

    async def text_models(self) -> dict[str, int]:
        models = {self.model: 384, NEW: 384, HUGE: 4096}
        clip = clip_dir()
        if clip is not None:
            models[CLIP] = json.loads((clip / "manifest.json").read_text())["dimension"]
        return models


def reembedding(store, models: TwoModels, **kwargs) -> Reembedding:
    return Reembedding(store, models, models, models.model, **kwargs)


async def chunk_column(dsn: str, tenant: str, column: str) -> set:
    """The distinct values of an expression over a tenant's chunks `c` (its models, dimensions)."""
    rows = await fetch(
        dsn,
        f"SELECT DISTINCT {column} FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.tenant = %s",
        [tenant],
    )
    return {row[0] for row in rows}


async def switch_while_searching(store, models: TwoModels, dsn: str, model: str, mode: str = "HYBRID"):
    """Tenant t1 (two documents, 35 chunks; t2 one) switches to `model` while a search keeps
    asking for its page 12: every answer must find something. The switch's record and t1's texts."""
    texts = generated_texts("harbour", 30)
    first = await add_document(store, models, "harbour", texts, tenant="t1")
    second = await add_document(store, models, "orchard", generated_texts("orchard", 5), tenant="t1")
    await add_document(store, models, "other", generated_texts("harbour", 5), tenant="t2")
    switching = reembedding(store, models, batch_chunks=4)
    searcher = Search(store, models)
    started = await switching.start(model, tenant="t1")
    assert (started.state, started.chunks_total, started.chunks_done, started.from_model) == (
        "RUNNING",
        35,
        0,
        models.model,
    )
    with pytest.raises(FailedPrecondition) as again:
        await switching.start(model, tenant="t1")
    assert again.value.reason == "REEMBEDDING_RUNNING"
    answers: list[int] = []

    async def keep_searching(done: asyncio.Event) -> None:
        while not done.is_set():  # an error ends the loop and fails the test when awaited
            answers.append(len((await search(searcher, "harbour page 12", tenant="t1", mode=mode)).hits))
            await asyncio.sleep(0)

    done = asyncio.Event()
    searching = asyncio.create_task(keep_searching(done))
    assert await switching.run_once()
    done.set()
    await searching
    assert answers and all(answers), f"a search during the re-embedding came back empty: {answers}"
    record = await store.reembeddings.get(started.id, tenant="t1")
    assert (record.state, record.chunks_done, record.chunks_total) == ("SUCCEEDED", 35, 35)
    assert await switching.model_for("t1") == model and await switching.model_for("t2") == models.model
    assert await fetch(dsn, "SELECT count(*) FROM chunk_vectors") == [(0,)], "side vectors left behind"
    return record, texts, (first, second)


async def assert_searcher_catches_up(store, models: TwoModels, text: str, model: str, *, tenant: str = "t1"):
    """A searcher that last saw the tenant with the configured model (a fresh one guesses it)
    embeds the query once more when the snapshot shows the switch, then only with `model`.
    The last search's results."""
    searcher = Search(store, models)
    for expected_calls in ([(models.model, 1), (model, 1)], [(model, 1)]):
        models.calls.clear()
        results = await search(searcher, text, tenant=tenant, mode="VECTOR")
        assert results.model == model and models.calls == expected_calls
    return results


async def switched(store, models: TwoModels, model: str) -> Reembedding:
    """Tenant t1 with one document, switched to `model`."""
    await add_document(store, models, "before", generated_texts("canyon", 3), tenant="t1")
    switching = reembedding(store, models)
    await switching.start(model, tenant="t1")
    assert await switching.run_once()
    return switching


async def arriving(store, name: str, vector, *, sha: str) -> tuple[str, ChunkRecord]:
    """A new document of t1 (its id) and the one chunk an extractor sends for it, with `vector`."""
    doc, _ = await create(store, f"{name}.pdf", name, [], sha, 10, 1, f"jobs/{name}", tenant="t1")
    return doc.id, ChunkRecord(index=0, text=AFTER_SWITCH, page_start=1, page_end=1, token_count=8, embedding=vector)


async def cancel_midway(store, models: TwoModels, dsn: str, model: str, texts: Sequence[str]):
    """Tenant t1 (one document of `texts`) starts switching to `model`; a worker writes a batch of
    two chunks' side vectors, and the switch is cancelled: the side vectors are gone and the
    tenant keeps the configured model. The switch's first record, the worker's claim and the
    use case."""
    await add_document(store, models, "kept", list(texts), tenant="t1")
    switching = reembedding(store, models)
    started = await switching.start(model, tenant="t1")
    claimed = await store.reembeddings.claim(60)
    assert claimed is not None
    await store.reembeddings.ensure_index(store.reembeddings.target_dimension(claimed))
    batch = await store.reembeddings.pending(claimed, 2)
    await store.reembeddings.write(claimed, batch, (await models.embed([c.text for c in batch], model=model)).vectors)
    assert await fetch(dsn, "SELECT count(*), min(vector_dims(embedding)) FROM chunk_vectors") == [
        (2, started.dimension)
    ]
    assert (await switching.cancel(started.id, tenant="t1")).state == "CANCELLED"
    assert await fetch(dsn, "SELECT count(*) FROM chunk_vectors") == [(0,)]
    assert await switching.model_for("t1") == models.model
    return started, claimed, switching
