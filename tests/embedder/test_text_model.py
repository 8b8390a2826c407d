"""OnnxTextEmbedder against the real exported all-MiniLM-L6-v2 (models/all-MiniLM-L6-v2).

The default embedder is precision="auto", which is the int8 variant on this (CPU)
test machine; checks that need fp32's exactness ask for precision="fp32".
"""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np
import pytest

from mivaa_embedder.registry import ModelRegistry
from mivaa_embedder.text_model import CPU, CUDA, EmbeddingBatch, OnnxTextEmbedder, read_manifest
from mivaa_platform.errors import FailedPrecondition, InvalidArgument

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
PASSAGES = [
    "Satz (Heine-Borel). Eine Teilmenge des R^n ist genau dann kompakt, wenn sie abgeschlossen und "
    "beschränkt ist. Da jede offene Überdeckung eine endliche Teilüberdeckung besitzt, ist K beschränkt.",
    "for page in pdf.pages:\n    blocks = extract(page, dpi=150)\n    chunks += split(blocks, max_tokens=256)\n"
    "assert all(len(c) <= 256 for c in chunks), f'{len(chunks)} chunks'",
    "Revenue by quarter (EUR million): Q1 412.7, Q2 398.1, Q3 455.9, Q4 501.3; margin 11.4 %, 10.9 %, "
    "12.8 %, 14.1 %; headcount 3,214 / 3,187 / 3,240 / 3,301.",
    "When the railway reached the valley in 1872, the village changed almost overnight. Farmers who had "
    "sold their cheese only at the weekly market could now send it to the cities. " * 4,
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


@pytest.fixture(scope="module")
def fp32_embedder(model_dir) -> OnnxTextEmbedder:
    return OnnxTextEmbedder(model_dir, precision="fp32")


@pytest.fixture(scope="module")
def int8_embedder(model_dir) -> OnnxTextEmbedder:
    if "int8" not in json.loads((model_dir / "manifest.json").read_text()).get("variants", {}):
        pytest.skip("the export has no int8 variant: re-run `make models`")
    return OnnxTextEmbedder(model_dir, precision="int8", providers=[CPU])


def copy_export(
    src: pathlib.Path, dst: pathlib.Path, *, manifest: dict | None = None, skip: tuple[str, ...] = ()
) -> pathlib.Path:
    """A model folder of symlinks to the real export's files, with a manifest of our own."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir():
        if path.name != "manifest.json" and path.name not in skip:
            os.symlink(path, dst / path.name)
    if manifest is None:
        manifest = json.loads((src / "manifest.json").read_text())
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst


def without_int8(manifest: dict) -> dict:
    """A manifest as the export tool wrote it before variants existed."""
    manifest = json.loads(json.dumps(manifest))
    manifest.pop("variants", None)
    manifest["files"].pop("model.int8.onnx", None)
    return manifest


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
    # Small sub-batches force several length-sorted model runs inside one call. Exact for
    # fp32 only: int8 quantizes activations per model run (see the int8 test below).
    small = OnnxTextEmbedder(model_dir, max_batch_size=3, intra_op_threads=1, precision="fp32")
    batch = small.embed(MIXED)
    for i, text in enumerate(MIXED):
        alone = small.embed([text])
        np.testing.assert_allclose(batch.vectors[i], alone.vectors[0], rtol=0, atol=1e-5, err_msg=repr(text[:40]))
        assert batch.token_counts[i] == alone.token_counts[0]
        assert batch.truncated[i] == alone.truncated[0]
    reversed_batch = small.embed(MIXED[::-1])
    np.testing.assert_allclose(reversed_batch.vectors[::-1], batch.vectors, rtol=0, atol=1e-5)


def test_matches_sentence_transformers_reference(fp32_embedder, model_dir):
    """parity.json holds sentence-transformers' own vectors, written by the export tool."""
    assert fp32_embedder.precision == "fp32"
    parity = json.loads((model_dir / "parity.json").read_text())
    want = np.asarray(parity["vectors"], dtype=np.float32)
    got = fp32_embedder.embed(parity["sentences"])
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
    for rel in manifest["files"]:
        if rel not in ("manifest.json", "tokenizer.json", "parity.json", "model.onnx"):
            os.symlink(model_dir / rel, tmp_path / rel)  # model.int8.onnx: intact
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(FailedPrecondition) as err:
        read_manifest(tmp_path)
    assert err.value.reason == "MODEL_INVALID"
    assert err.value.metadata["file"] == "model.onnx"


# -- precision variants ----------------------------------------------------------------------


def test_int8_agrees_with_fp32(int8_embedder, fp32_embedder):
    texts = MIXED + PASSAGES
    int8 = int8_embedder.embed(texts)
    fp32 = fp32_embedder.embed(texts)
    cosines = np.sum(int8.vectors * fp32.vectors, axis=1)
    assert cosines.min() >= 0.97, dict(zip([t[:30] for t in texts], cosines.round(4)))
    assert cosines.mean() >= 0.985, cosines.mean()
    np.testing.assert_allclose(np.linalg.norm(int8.vectors, axis=1), 1.0, atol=1e-5)
    assert int8.token_counts == fp32.token_counts and int8.truncated == fp32.truncated


def test_int8_matches_sentence_transformers_loosely(int8_embedder, model_dir):
    parity = json.loads((model_dir / "parity.json").read_text())
    want = np.asarray(parity["vectors"], dtype=np.float32)
    got = int8_embedder.embed(parity["sentences"]).vectors
    cosines = np.sum(got * want, axis=1) / np.linalg.norm(want, axis=1)
    assert cosines.min() >= 0.97, cosines


def test_int8_vectors_do_not_depend_on_the_other_texts_in_a_call(model_dir, int8_embedder):
    """Dynamic quantization scales activations per model run, so int8 runs one text at a time."""
    small = OnnxTextEmbedder(model_dir, max_batch_size=3, precision="int8", providers=[CPU])
    assert small.run_batch_size == 1
    batch = small.embed(MIXED)
    for i, text in enumerate(MIXED):
        alone = small.embed([text])
        np.testing.assert_array_equal(batch.vectors[i], alone.vectors[0])
        assert batch.token_counts[i] == alone.token_counts[0]
    # The same texts in the same runs give the same vectors.
    np.testing.assert_array_equal(small.embed(MIXED).vectors, batch.vectors)


def test_auto_picks_int8_on_the_cpu(model_dir):
    auto = OnnxTextEmbedder(model_dir, providers=[CPU])
    assert (auto.precision, auto.device) == ("int8", CPU)
    assert "precision='int8'" in repr(auto)
    explicit = OnnxTextEmbedder(model_dir, providers=[CPU], precision="fp32")
    assert (explicit.precision, explicit.device) == ("fp32", CPU)


def test_missing_variant_is_a_failed_precondition_and_auto_falls_back_to_fp32(tmp_path, model_dir):
    manifest = without_int8(json.loads((model_dir / "manifest.json").read_text()))
    folder = copy_export(model_dir, tmp_path / "old", manifest=manifest, skip=("model.int8.onnx",))
    auto = OnnxTextEmbedder(folder, providers=[CPU])
    assert auto.precision == "fp32"
    with pytest.raises(FailedPrecondition) as err:
        OnnxTextEmbedder(folder, precision="int8")
    assert err.value.reason == "MODEL_VARIANT_NOT_FOUND"
    assert err.value.metadata["precision"] == "int8"
    assert err.value.metadata["available"] == "fp32"
    assert "export_text_model" in err.value.message


def test_malformed_variants_entry_is_invalid(tmp_path, model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest.setdefault("variants", {})["int4"] = None
    with pytest.raises(FailedPrecondition) as err:
        read_manifest(copy_export(model_dir, tmp_path / "bad", manifest=manifest))
    assert err.value.reason == "MODEL_INVALID"


def test_variant_listed_without_its_file_entry_is_invalid(tmp_path, model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest.setdefault("variants", {})["int8"] = {"file": "model.int8.onnx"}
    manifest["files"].pop("model.int8.onnx", None)
    with pytest.raises(FailedPrecondition) as err:
        read_manifest(copy_export(model_dir, tmp_path / "unlisted", manifest=manifest))
    assert err.value.reason == "MODEL_INVALID"


def test_unknown_precision_is_an_invalid_argument(model_dir):
    with pytest.raises(InvalidArgument) as err:
        OnnxTextEmbedder(model_dir, precision="fp16")
    assert err.value.reason == "INVALID_PRECISION"


def test_auto_uses_fp32_when_cuda_runs_the_model(pretend_cuda, model_dir):
    model = OnnxTextEmbedder(model_dir)
    assert (model.device, model.precision) == (CUDA, "fp32")
    assert pretend_cuda == ["model.onnx"]


def test_auto_reopens_as_int8_when_cuda_is_asked_for_but_the_cpu_runs_it(monkeypatch, model_dir):
    import onnxruntime as ort

    # onnxruntime without CUDA support warns and falls back to the CPU provider.
    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    with pytest.warns(UserWarning, match="CUDAExecutionProvider"):
        model = OnnxTextEmbedder(model_dir)
    assert (model.device, model.precision) == (CPU, "int8")


def test_export_recorded_the_int8_agreement(model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    int8 = manifest["variants"]["int8"]
    assert manifest["variants"]["fp32"]["file"] == manifest["onnx"]["file"] == "model.onnx"
    assert int8["file"] in manifest["files"]
    assert int8["cosine_vs_fp32_mean"] >= 0.985 and int8["cosine_vs_fp32_min"] >= 0.97


@pytest.mark.parametrize("precision", ["auto", "fp32"])
async def test_registry_reports_provider_and_precision(model_dir, precision):
    registry = ModelRegistry(
        model_dir.parent, (model_dir.name,), max_batch_texts=8, max_wait_ms=1, threads=1, precision=precision
    )
    await registry.load()
    try:
        (info,) = registry.describe()
        served = registry.text_model("")
        assert info.device == f"{served.model.device}/{served.model.precision}"
        if served.model.device == CPU:
            assert info.device == ("CPUExecutionProvider/int8" if precision == "auto" else "CPUExecutionProvider/fp32")
        result = await served.embed(["A man is playing a guitar."])
        assert result.vectors.shape == (1, 384)
    finally:
        await registry.close()
