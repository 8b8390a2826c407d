"""OnnxTextEmbedder against the real exported all-MiniLM-L6-v2 (models/all-MiniLM-L6-v2)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from mivaa_platform.errors import FailedPrecondition, InvalidArgument
from mivaa_embedder.text_model import EmbeddingBatch, OnnxTextEmbedder, read_manifest

REPO = pathlib.Path(__file__).resolve().parents[2]
MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"

LONG = " ".join(["Dynamic batching groups many small requests into one model call to keep the cores busy."] * 40)
MIXED = [
    "A man is playing a guitar.",
    "",
    "Hi",
    LONG,
    "Someone plays an instrument.",
    "The stock market fell sharply after the central bank raised interest rates by half a point.",
    "x " * 120,
    "Photosynthesis converts light energy into chemical energy.",
    "Table 2 — recall@10 = 0.93 (n = 1,024).",
    "Die Katze sitzt auf der Matte.",
    "The quick brown fox jumps over the lazy dog. " * 6,
]


@pytest.fixture(scope="module")
def model_dir() -> pathlib.Path:
    if not (MODEL_DIR / "manifest.json").is_file():
        pytest.skip(
            f"text model not exported at {MODEL_DIR}: run "
            "`.cache/export-venv/bin/python tools/export_text_model.py --out models/all-MiniLM-L6-v2` "
            "(the Makefile does this before the tests)"
        )
    return MODEL_DIR


@pytest.fixture(scope="module")
def embedder(model_dir) -> OnnxTextEmbedder:
    return OnnxTextEmbedder(model_dir)


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_metadata_comes_from_the_manifest(embedder):
    assert embedder.name == "all-MiniLM-L6-v2"
    assert embedder.dimension == 384
    assert embedder.max_tokens == 256
    assert embedder.device in ("CPUExecutionProvider", "CUDAExecutionProvider")


def test_vectors_are_unit_length_float32_of_model_dimension(embedder):
    batch = embedder.embed(MIXED)
    assert isinstance(batch, EmbeddingBatch)
    assert batch.vectors.shape == (len(MIXED), 384)
    assert batch.vectors.dtype == np.float32
    assert np.all(np.isfinite(batch.vectors))
    np.testing.assert_allclose(np.linalg.norm(batch.vectors, axis=1), 1.0, atol=1e-5)
    assert len(batch.token_counts) == len(batch.truncated) == len(MIXED)


def test_paraphrases_score_clearly_higher_than_unrelated_sentences(embedder):
    guitar, instrument, stocks = embedder.embed(
        ["A man is playing a guitar.", "Someone plays an instrument.", "The stock market fell sharply."]
    ).vectors
    related = cos(guitar, instrument)
    unrelated = max(cos(guitar, stocks), cos(instrument, stocks))
    assert related > 0.5, related
    assert unrelated < 0.2, unrelated
    assert related - unrelated > 0.4


def test_embedding_is_deterministic(embedder):
    first = embedder.embed(MIXED).vectors
    second = embedder.embed(MIXED).vectors
    np.testing.assert_allclose(first, second, rtol=0, atol=1e-6)


def test_long_text_is_truncated_to_max_tokens(embedder):
    batch = embedder.embed([LONG, "A short sentence."])
    assert batch.truncated == [True, False]
    assert batch.token_counts[0] == embedder.max_tokens == 256
    assert batch.token_counts[1] == embedder.count_tokens(["A short sentence."])[0] < 256


def test_empty_inputs(embedder):
    none = embedder.embed([])
    assert none.vectors.shape == (0, 384) and none.token_counts == [] and none.truncated == []
    blank = embedder.embed([""])
    assert blank.token_counts == [2]  # [CLS] [SEP]
    assert blank.truncated == [False]
    assert abs(np.linalg.norm(blank.vectors[0]) - 1.0) < 1e-5


def test_results_do_not_depend_on_batch_composition_or_order(model_dir):
    # Small sub-batches force several length-sorted model runs inside one call.
    small = OnnxTextEmbedder(model_dir, max_batch_size=3, intra_op_threads=1)
    batch = small.embed(MIXED)
    for i, text in enumerate(MIXED):
        alone = small.embed([text])
        np.testing.assert_allclose(batch.vectors[i], alone.vectors[0], rtol=0, atol=1e-5, err_msg=repr(text[:40]))
        assert batch.token_counts[i] == alone.token_counts[0]
        assert batch.truncated[i] == alone.truncated[0]
    reversed_batch = small.embed(MIXED[::-1])
    np.testing.assert_allclose(reversed_batch.vectors[::-1], batch.vectors, rtol=0, atol=1e-5)


def test_matches_sentence_transformers_reference(embedder, model_dir):
    """parity.json holds sentence-transformers' own vectors, written by the export tool."""
    parity = json.loads((model_dir / "parity.json").read_text())
    want = np.asarray(parity["vectors"], dtype=np.float32)
    got = embedder.embed(parity["sentences"])
    cosines = np.sum(got.vectors * want, axis=1) / np.linalg.norm(want, axis=1)
    assert cosines.min() >= 0.9999
    assert np.abs(got.vectors - want).max() <= 1e-4
    assert got.token_counts == parity["token_counts"]
    assert got.truncated == parity["truncated"]


def test_non_string_text_is_an_invalid_argument(embedder):
    with pytest.raises(InvalidArgument) as err:
        embedder.embed(["fine", 42])  # type: ignore[list-item]
    assert err.value.reason == "INVALID_TEXT"


def test_missing_model_is_a_failed_precondition(tmp_path):
    with pytest.raises(FailedPrecondition) as err:
        OnnxTextEmbedder(tmp_path / "nowhere")
    assert err.value.reason == "MODEL_NOT_FOUND"
    assert "export_text_model" in err.value.message


def test_damaged_model_folder_is_reported(tmp_path, model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "tokenizer.json").write_bytes((model_dir / "tokenizer.json").read_bytes())
    (tmp_path / "parity.json").write_bytes((model_dir / "parity.json").read_bytes())
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(FailedPrecondition) as err:
        read_manifest(tmp_path)
    assert err.value.reason == "MODEL_INVALID"
    assert err.value.metadata["file"] == "model.onnx"
