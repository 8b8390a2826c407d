"""Bulk embedding: the same vectors as a query's embed(), from low-priority threads side by side."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from mivaa_embedder.bulk_runs import BULK_NICE, BulkRunner
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
