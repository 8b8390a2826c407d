"""Bulk embedding: the same vectors as a query's embed(), from low-priority threads side by side."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from mivaa.embedder.v1 import embedder_service_pb2 as pb
from mivaa_embedder.bulk_runs import BULK_NICE, BulkRunner, QueryPressure
from mivaa_embedder.registry import ModelRegistry
from mivaa_embedder.servicer import EmbedderServicer
from mivaa_embedder.text_model import CPU, OnnxTextEmbedder

from .test_text_model import MIXED, model_dir  # noqa: F401 - the real export fixture

TEXTS = [f"{text} ({i})" for i, text in enumerate(MIXED * 3)]


def thread_facts(_: int) -> tuple[int, str, int]:
    time.sleep(0.05)  # long enough that every pool thread takes one
    native = threading.get_native_id()
    return os.getpriority(os.PRIO_PROCESS, native), threading.current_thread().name, native


def test_bulk_threads_run_side_by_side_at_a_lower_priority():
    runner = BulkRunner(2, name="test-bulk")
    try:
        facts = runner.map(thread_facts, range(6))
    finally:
        runner.close()
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert {nice for nice, _, _ in facts} == {min(19, own + BULK_NICE)}
    assert all(name.startswith("test-bulk") for _, name, _ in facts)
    assert len({native for _, _, native in facts}) == 2


def test_bulk_runner_raises_the_first_error():
    runner = BulkRunner(2)
    try:
        with pytest.raises(ZeroDivisionError):
            runner.map(lambda n: 1 / n, [1, 0, 2])
    finally:
        runner.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bulk_runs_rest_in_proportion_to_their_cpu_time_only_while_queries_arrive():
    clock = FakeClock()
    pressure = QueryPressure(bulk_cores=0.5, window_s=1.0, clock=clock)
    assert pressure.rest_for(0.03, threads=2) == 0.0  # no query yet: full speed
    pressure.note_query()
    # Two threads held to half a core: 30 ms of CPU, then 90 ms of rest, on each.
    assert pressure.rest_for(0.03, threads=2) == pytest.approx(0.09)
    assert pressure.rest_for(0.03, threads=1) == pytest.approx(0.03)
    clock.now += 0.99
    assert pressure.busy()
    clock.now += 0.02  # a second after the last query: full speed again
    assert not pressure.busy()
    assert pressure.rest_for(0.03, threads=2) == 0.0


@pytest.mark.parametrize("bulk_cores", [0.0, 2.0, 4.0])
def test_no_pacing_when_turned_off_or_when_the_share_covers_every_thread(bulk_cores):
    pressure = QueryPressure(bulk_cores=bulk_cores)
    pressure.note_query()
    assert pressure.rest_for(1.0, threads=2) == 0.0


def burn_cpu(seconds: float) -> float:
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        pass
    return seconds


def test_a_bulk_runner_rests_while_queries_arrive_and_not_otherwise():
    rests: list[float] = []
    pressure = QueryPressure(bulk_cores=0.5, window_s=5.0, on_rest=rests.append)
    runner = BulkRunner(2, pressure=pressure)
    try:
        runner.map(burn_cpu, [0.02] * 4)
        assert rests == []
        pressure.note_query()
        started = time.monotonic()
        runner.map(burn_cpu, [0.02] * 4)
        elapsed = time.monotonic() - started
    finally:
        runner.close()
    # Each thread: two runs of 20 ms CPU, each followed by 60 ms of rest.
    assert sum(rests) >= 4 * 0.06 * 0.9
    assert elapsed >= 2 * 0.08 * 0.9


async def test_only_requests_marked_interactive_slow_the_bulk_runs(model_dir):  # noqa: F811
    registry = ModelRegistry(model_dir.parent, (model_dir.name,), max_batch_texts=8, max_wait_ms=1, threads=1)
    clock = FakeClock()
    registry.pressure = QueryPressure(bulk_cores=0.1, clock=clock)
    servicer = EmbedderServicer(registry)
    await registry.load()

    async def stream(priority):
        yield pb.StreamEmbedTextsRequest(texts=["first"], priority=priority)
        yield pb.StreamEmbedTextsRequest(texts=["second"])

    try:
        # A document's chunks, and unmarked requests (a worker's image labels): no sign of people waiting.
        await servicer.EmbedTexts(pb.EmbedTextsRequest(texts=["a chunk"], priority=pb.PRIORITY_BULK), None)
        await servicer.EmbedTexts(pb.EmbedTextsRequest(texts=["a label"]), None)
        assert [r async for r in servicer.StreamEmbedTexts(stream(pb.PRIORITY_BULK), None)]
        assert not registry.pressure.busy()
        await servicer.EmbedTexts(pb.EmbedTextsRequest(texts=["a query"], priority=pb.PRIORITY_INTERACTIVE), None)
        assert registry.pressure.busy()
        clock.now += 5
        assert not registry.pressure.busy()
        assert [r async for r in servicer.StreamEmbedTexts(stream(pb.PRIORITY_INTERACTIVE), None)]
        assert registry.pressure.busy()
    finally:
        await registry.close()


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_bulk_embedding_gives_the_query_paths_vectors(model_dir, precision):  # noqa: F811
    model = OnnxTextEmbedder(model_dir, precision=precision, providers=[CPU], bulk_threads=2)
    try:
        alone = model.embed(TEXTS)
        bulk = model.embed_bulk(TEXTS)
    finally:
        model.close()
    assert bulk.token_counts == alone.token_counts
    assert bulk.truncated == alone.truncated
    # One text's run on one thread or on several: the same numbers up to float summation order.
    np.testing.assert_allclose(bulk.vectors, alone.vectors, atol=2e-5)
    assert model.texts_embedded == 2 * len(TEXTS)


def test_sessions_sleep_between_operators(model_dir):  # noqa: F811
    """onnxruntime's default busy-wait took the CPU from the rest of the mesh on few cores."""
    model = OnnxTextEmbedder(model_dir, providers=[CPU])
    try:
        options = model._session.get_session_options()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert options.intra_op_num_threads == 1  # on the CPU: bulk runs side by side instead
    finally:
        model.close()


def test_the_export_venv_still_imports_the_text_models_helpers():
    """tools/export_text_model.py imports text_model in the export venv, which has no
    prometheus_client or grpc: text_model and what it imports must do without them."""
    from .clip_fixture import ExportVenvMissing, run_export_python

    try:
        result = run_export_python(
            ["-c", "import sys; sys.path[:0] = ['services/embedder', 'libs']; import mivaa_embedder.text_model"]
        )
    except ExportVenvMissing as missing:
        pytest.skip(str(missing))
    assert result.returncode == 0, result.stderr[-2000:]
