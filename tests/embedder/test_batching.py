"""DynamicBatcher: coalescing, per-caller slices, splitting, errors, shutdown."""

from __future__ import annotations

import asyncio
import pathlib
import threading
import time

import numpy as np
import pytest

from mivaa_embedder.batching import DynamicBatcher
from mivaa_embedder.text_model import EmbeddingBatch, OnnxTextEmbedder
from mivaa_platform.errors import Unavailable

REPO = pathlib.Path(__file__).resolve().parents[2]
MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"
DIM = 8


@pytest.fixture(scope="module")
def embedder() -> OnnxTextEmbedder:
    if not (MODEL_DIR / "manifest.json").is_file():
        pytest.skip(
            f"text model not exported at {MODEL_DIR}: run "
            "`.cache/export-venv/bin/python tools/export_text_model.py --out models/all-MiniLM-L6-v2` "
            "(the Makefile does this before the tests)"
        )
    # fp32: its vectors do not depend on batch partners, so slices compare exactly; int8
    # quantizes activations per model run (tests/embedder/test_text_model.py covers it).
    return OnnxTextEmbedder(MODEL_DIR, precision="fp32")


class FakeModel:
    """Deterministic stand-in: the vector encodes the text, so slices can be checked exactly."""

    def __init__(self, delay: float = 0.0, fail: BaseException | None = None):
        self.delay = delay
        self.fail = fail
        self.calls: list[list[str]] = []
        self.threads: set[int] = set()

    @staticmethod
    def vector(text: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(text)) % (2**32))
        v = rng.standard_normal(DIM).astype(np.float32)
        return v / np.linalg.norm(v)

    def __call__(self, texts: list[str]) -> EmbeddingBatch:
        self.threads.add(threading.get_ident())
        self.calls.append(list(texts))
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        if not texts:
            return EmbeddingBatch.empty(DIM)
        return EmbeddingBatch(np.stack([self.vector(t) for t in texts]), [len(t) for t in texts], [False] * len(texts))


async def test_fifty_concurrent_callers_share_few_batches_and_get_their_own_vectors(embedder):
    texts = [f"Caller {i} asks about topic number {i * 7 % 13} in document {i}." for i in range(50)]
    direct = embedder.embed(texts).vectors
    async with DynamicBatcher(embedder.embed, dimension=embedder.dimension) as batcher:
        results = await asyncio.gather(*(batcher.embed([t]) for t in texts))
    for i, result in enumerate(results):
        assert result.vectors.shape == (1, 384)
        np.testing.assert_allclose(result.vectors[0], direct[i], rtol=0, atol=1e-5)
    assert batcher.batches_run <= 5, batcher.batches_run
    assert batcher.texts_embedded == 50
    assert batcher.requests == 50


async def test_callers_with_several_texts_get_exactly_their_rows_in_order():
    model = FakeModel(delay=0.01)
    requests = [[f"r{i}-t{j}" for j in range(i % 5 + 1)] for i in range(30)]
    async with DynamicBatcher(model, max_batch_texts=16, max_wait_ms=20) as batcher:
        results = await asyncio.gather(*(batcher.embed(r) for r in requests))
    for request, result in zip(requests, results):
        assert len(result) == len(request)
        np.testing.assert_array_equal(result.vectors, np.stack([FakeModel.vector(t) for t in request]))
        assert result.token_counts == [len(t) for t in request]
    assert all(len(call) <= 16 for call in model.calls)
    assert sum(len(call) for call in model.calls) == sum(len(r) for r in requests)
    assert batcher.batches_run == len(model.calls) < len(requests)
    assert batcher.max_batch_seen <= 16


async def test_a_request_larger_than_the_batch_limit_is_split_and_reassembled():
    model = FakeModel()
    texts = [f"text {i}" for i in range(45)]
    async with DynamicBatcher(model, max_batch_texts=8) as batcher:
        result = await batcher.embed(texts)
    assert [len(c) for c in model.calls] == [8, 8, 8, 8, 8, 5]
    np.testing.assert_array_equal(result.vectors, np.stack([FakeModel.vector(t) for t in texts]))
    assert result.token_counts == [len(t) for t in texts]


async def test_model_runs_off_the_event_loop_thread():
    model = FakeModel()
    async with DynamicBatcher(model) as batcher:
        await asyncio.gather(*(batcher.embed(["a"]) for _ in range(5)))
        await batcher.embed(["b"])
    assert model.threads and threading.get_ident() not in model.threads
    assert len(model.threads) == 1  # a single worker thread


async def test_event_loop_stays_responsive_while_the_model_runs():
    model = FakeModel(delay=0.5)
    async with DynamicBatcher(model) as batcher:
        job = asyncio.ensure_future(batcher.embed(["slow"]))
        started = time.perf_counter()
        await asyncio.sleep(0.02)
        assert time.perf_counter() - started < 0.3
        await job


async def test_model_exception_reaches_every_waiting_caller_and_the_batcher_recovers():
    model = FakeModel(fail=RuntimeError("model exploded"))
    async with DynamicBatcher(model, max_wait_ms=20) as batcher:
        results = await asyncio.gather(*(batcher.embed([f"t{i}"]) for i in range(10)), return_exceptions=True)
        assert all(isinstance(r, RuntimeError) and "model exploded" in str(r) for r in results), results
        assert batcher.batch_errors == batcher.batches_run >= 1
        model.fail = None
        ok = await batcher.embed(["after"])
        np.testing.assert_array_equal(ok.vectors[0], FakeModel.vector("after"))


async def test_single_caller_is_not_held_much_longer_than_max_wait():
    model = FakeModel()
    async with DynamicBatcher(model, max_wait_ms=5) as batcher:
        await batcher.embed(["warm-up"])
        started = time.perf_counter()
        await batcher.embed(["alone"])
        assert time.perf_counter() - started < 0.5


async def test_empty_request_returns_an_empty_batch_without_a_model_call():
    model = FakeModel()
    async with DynamicBatcher(model, dimension=DIM) as batcher:
        result = await batcher.embed([])
    assert result.vectors.shape == (0, DIM)
    assert model.calls == []


async def test_cancelled_caller_does_not_disturb_the_others():
    model = FakeModel(delay=0.05)
    async with DynamicBatcher(model, max_wait_ms=1) as batcher:
        blocker = asyncio.ensure_future(batcher.embed(["first"]))
        await asyncio.sleep(0.01)  # the first batch is now running
        doomed = asyncio.ensure_future(batcher.embed(["doomed"]))
        keeper = asyncio.ensure_future(batcher.embed(["keeper"]))
        await asyncio.sleep(0)
        doomed.cancel()
        kept = await keeper
        await blocker
    np.testing.assert_array_equal(kept.vectors[0], FakeModel.vector("keeper"))
    assert ["doomed"] not in model.calls and all("doomed" not in call for call in model.calls)


async def test_close_finishes_queued_work_then_refuses_new_requests():
    model = FakeModel(delay=0.02)
    batcher = DynamicBatcher(model, max_batch_texts=2)
    batcher.start()
    pending = [asyncio.ensure_future(batcher.embed([f"q{i}", f"r{i}"])) for i in range(4)]
    await asyncio.sleep(0)
    await batcher.close()
    results = await asyncio.gather(*pending)
    assert [len(r) for r in results] == [2, 2, 2, 2]
    assert not batcher.running
    with pytest.raises(Unavailable) as err:
        await batcher.embed(["late"])
    assert err.value.reason == "EMBEDDER_CLOSED"


async def test_a_query_runs_beside_bulk_batches_instead_of_behind_them():
    model = FakeModel(delay=0.2)
    chunks = [f"chunk {i}" for i in range(40)]  # five bulk batches of 8: a second of model time
    async with DynamicBatcher(model, max_batch_texts=8, max_wait_ms=1) as batcher:
        ingest = asyncio.create_task(batcher.embed(chunks, bulk=True))
        await asyncio.sleep(0.05)  # the first bulk batch is running
        started = time.perf_counter()
        query = await batcher.embed(["what is the warranty?"])
        waited = time.perf_counter() - started
        result = await ingest
    assert waited < 0.35, f"the query took {waited:.2f} s: it waited for bulk batches"
    assert ["what is the warranty?"] in model.calls
    np.testing.assert_array_equal(query.vectors, FakeModel.vector("what is the warranty?")[None, :])
    # The document's chunks still come back whole and in order.
    np.testing.assert_array_equal(result.vectors, np.stack([FakeModel.vector(t) for t in chunks]))
    assert len(model.threads) == 2, "each lane has its own model thread"


async def test_queries_and_bulk_texts_never_share_a_model_call():
    model = FakeModel(delay=0.05)
    async with DynamicBatcher(model, max_batch_texts=64, max_wait_ms=20) as batcher:
        await asyncio.gather(
            *(batcher.embed([f"bulk {i}"], bulk=True) for i in range(10)),
            *(batcher.embed([f"query {i}"]) for i in range(10)),
        )
    for call in model.calls:
        kinds = {text.split()[0] for text in call}
        assert len(kinds) == 1, call


async def test_close_finishes_both_lanes_then_refuses():
    model = FakeModel(delay=0.05)
    batcher = DynamicBatcher(model, max_batch_texts=4, max_wait_ms=1)
    batcher.start()
    bulk = asyncio.create_task(batcher.embed([f"b{i}" for i in range(10)], bulk=True))
    query = asyncio.create_task(batcher.embed(["q"]))
    await asyncio.sleep(0)
    await batcher.close()
    assert len((await bulk).vectors) == 10 and len((await query).vectors) == 1
    with pytest.raises(Unavailable):
        await batcher.embed(["late"], bulk=True)
