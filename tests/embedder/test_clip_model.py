"""CLIP in the embedder: OnnxClipModel on the tiny random-weight export, its text tower, its model
folder checks, and image batching across callers.

Everything runs on the tiny random-weight CLIP export of tests/embedder/clip_fixture.py
(dimension 32, 64x64 images); decoding and preprocessing are in test_clip_images.py, the gRPC
surface in test_clip_grpc.py.
"""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from mivaa_embedder.clip_model import ImageEmbeddings, OnnxClipModel, l2_normalize, read_clip_manifest
from mivaa_embedder.registry import ModelRegistry, discover_image_models
from mivaa_embedder.text_model import CPU, CUDA
from mivaa_platform.errors import FailedPrecondition, InvalidArgument
from tests.embedder.clip_support import (
    copy_export,
    models_dir_with,
    png_header_only,
)
from tests.support.pictures import gallery, jpeg_copy, resized_copy

# -- the model ----------------------------------------------------------------------


def test_metadata_comes_from_the_manifest(clip, clip_dir):
    manifest = json.loads((clip_dir / "manifest.json").read_text())
    assert clip.name == manifest["name"] == "tiny-clip"
    assert clip.dimension == manifest["dimension"] == 32
    assert clip.max_text_tokens == clip.max_tokens == 77
    assert clip.device == "CPUExecutionProvider/fp32" and clip.precision == "fp32"
    assert clip.source == manifest["source"]
    assert clip.image_size == (64, 64)


def test_image_vectors_are_unit_length_and_deterministic(clip, images):
    first = clip.embed_images(images[:5])
    again = clip.embed_images(images[:5])
    assert first.vectors.shape == (5, 32) and first.vectors.dtype == np.float32
    assert first.errors == [None] * 5 and first.ok == [True] * 5
    np.testing.assert_allclose(np.linalg.norm(first.vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(first.vectors, again.vectors)


def test_matches_the_exporters_parity_vectors(clip, clip_dir):
    """The export recorded torch's vectors for fixed inputs; onnxruntime here gives the same."""
    parity_file = clip_dir / "parity.json"
    if not parity_file.is_file():
        pytest.skip("this export has no parity.json")
    parity = json.loads(parity_file.read_text())
    texts = parity["texts"]
    result = clip.embed_texts(texts["texts"])
    np.testing.assert_allclose(result.vectors, l2_normalize(np.array(texts["vectors"])), atol=1e-4)
    assert result.token_counts == [len(ids) for ids in texts["input_ids"]]
    assert clip.pad_id == texts["pad_id"]


def test_same_image_ranks_first_and_light_edits_stay_in_the_top_three(clip, images):
    gallery_vectors = clip.embed_images(images).vectors
    off_diagonal = (gallery_vectors @ gallery_vectors.T)[~np.eye(len(images), dtype=bool)]
    assert off_diagonal.max() < 0.99  # the gallery really is varied
    for label, edit, top in (("itself", lambda d: d, 1), ("0.9x", resized_copy, 3), ("JPEG q85", jpeg_copy, 3)):
        for i, data in enumerate(images):
            query = clip.embed_images([edit(data)]).vectors[0]  # embedded on its own
            scores = gallery_vectors @ query
            rank = int((scores > scores[i]).sum()) + 1
            assert rank <= top, (
                f"{label}: image {i} ranked {rank} (self {scores[i]:.4f}, best other {np.delete(scores, i).max():.4f})"
            )
            if top == 1:
                assert scores[i] - np.delete(scores, i).max() > 0.02


def test_bad_images_fail_alone_and_the_rest_of_the_batch_embeds(clip, images):
    truncated = images[1][: len(images[1]) // 2]
    batch = [images[0], b"not an image at all", images[2], b"", truncated, png_header_only(100_000, 100_000), images[3]]
    result = clip.embed_images(batch)
    assert len(result) == len(batch)
    assert result.ok == [True, False, True, False, False, False, True]
    reasons = {i: e.reason for i, e in enumerate(result.errors) if e is not None}
    assert reasons == {1: "IMAGE_UNREADABLE", 3: "IMAGE_UNREADABLE", 4: "IMAGE_UNREADABLE", 5: "IMAGE_TOO_LARGE"}
    for i, error in enumerate(result.errors):
        if error is not None:
            assert isinstance(error, InvalidArgument) and error.domain == "embedder.mivaa"
            assert error.metadata["index"] == str(i)
            np.testing.assert_array_equal(result.vectors[i], 0.0)
    alone = clip.embed_images([images[0], images[2], images[3]]).vectors
    np.testing.assert_allclose(result.vectors[[0, 2, 6]], alone, atol=1e-5)
    with pytest.raises(InvalidArgument):
        result.raise_first_error()


# -- texts ------------------------------------------------------------------------


def test_text_tower_counts_tokens_truncates_and_ignores_padding(clip):
    long = "a scanned page of a thesis with formulas " * 30
    texts = ["a photo of a cat", long, "", "a photo of a dog"]
    batch = clip.embed_texts(texts)
    assert batch.vectors.shape == (4, 32)
    np.testing.assert_allclose(np.linalg.norm(batch.vectors, axis=1), 1.0, atol=1e-5)
    assert batch.token_counts[1] == 77 and batch.truncated == [False, True, False, False]
    assert batch.token_counts[2] == 2  # <|startoftext|> <|endoftext|>
    assert batch.token_counts == clip.count_tokens(texts)
    # Each text's vector is the same alone as padded next to a long one.
    for i, text in enumerate(texts):
        np.testing.assert_allclose(clip.embed_texts([text]).vectors[0], batch.vectors[i], atol=1e-5)
    with pytest.raises(InvalidArgument) as err:
        clip.embed_texts(["fine", 7])
    assert err.value.reason == "INVALID_TEXT"
    assert clip.embed_texts([]).vectors.shape == (0, 32)


# -- the model folder ------------------------------------------------------------------


def test_bad_model_folders_are_reported(tmp_path, clip_dir):
    with pytest.raises(FailedPrecondition) as err:
        OnnxClipModel(tmp_path / "nothing-here")
    assert err.value.reason == "MODEL_NOT_FOUND" and "export-clip" in err.value.message

    wrong_kind = copy_export(clip_dir, tmp_path / "wrong-kind")
    manifest = json.loads((wrong_kind / "manifest.json").read_text())
    (wrong_kind / "manifest.json").write_text(json.dumps({**manifest, "kind": "text"}))
    with pytest.raises(FailedPrecondition) as err:
        read_clip_manifest(wrong_kind)
    assert err.value.reason == "MODEL_INVALID"

    (tmp_path / "garbled").mkdir()
    (tmp_path / "garbled" / "manifest.json").write_text("{not json")
    with pytest.raises(FailedPrecondition) as err:
        OnnxClipModel(tmp_path / "garbled")
    assert err.value.reason == "MODEL_INVALID"

    missing = copy_export(clip_dir, tmp_path / "missing")
    (missing / "text.fp32.onnx").unlink()
    with pytest.raises(FailedPrecondition) as err:
        OnnxClipModel(missing)
    assert err.value.reason == "MODEL_INVALID" and err.value.metadata["file"] == "text.fp32.onnx"

    tampered = copy_export(clip_dir, tmp_path / "tampered")
    manifest = json.loads((tampered / "manifest.json").read_text())
    manifest["checksums"]["image.fp32.onnx"] = "0" * 64  # as if the file had changed since the export
    (tampered / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FailedPrecondition) as err:
        OnnxClipModel(tampered, providers=[CPU])
    assert err.value.reason == "MODEL_INVALID" and "checksum" in err.value.message
    assert err.value.metadata["file"] == "image.fp32.onnx"
    assert OnnxClipModel(tampered, providers=[CPU], verify_checksums=False).dimension == 32

    (tampered / "image.fp32.onnx").write_bytes(b"not onnx")
    with pytest.raises(FailedPrecondition) as err:
        OnnxClipModel(tampered, providers=[CPU], verify_checksums=False)
    assert err.value.reason == "MODEL_INVALID" and "onnxruntime could not load" in err.value.message

    with pytest.raises(InvalidArgument) as err:
        OnnxClipModel(clip_dir, precision="int8")
    assert err.value.reason == "INVALID_PRECISION"


def test_explicit_fp16_runs_and_agrees_with_fp32(clip_dir, clip, images):
    fp16 = OnnxClipModel(clip_dir, providers=[CPU], precision="fp16")
    assert fp16.device == "CPUExecutionProvider/fp16"
    cosines = (fp16.embed_images(images[:6]).vectors * clip.embed_images(images[:6]).vectors).sum(axis=1)
    assert cosines.min() > 0.99


def test_auto_picks_fp16_when_cuda_runs_the_model(pretend_cuda, clip_dir):
    model = OnnxClipModel(clip_dir)
    assert model.device == "CUDAExecutionProvider/fp16"
    assert pretend_cuda == ["image.fp16.onnx", "text.fp16.onnx"]


def test_auto_uses_fp32_when_cuda_is_offered_but_the_cpu_runs_it(monkeypatch, clip_dir):
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    with pytest.warns(UserWarning, match="CUDAExecutionProvider"):
        model = OnnxClipModel(clip_dir)
    assert model.device == "CPUExecutionProvider/fp32"


# -- batching across callers ------------------------------------------------------------


async def test_fifty_concurrent_callers_share_a_few_batches_and_get_their_own_vectors(tmp_path, clip_dir, clip):
    images = gallery(50, size=(96, 80))
    alone = np.stack([clip.embed_images([image]).vectors[0] for image in images])
    registry = ModelRegistry(
        models_dir_with(tmp_path, clip_dir, text=False),
        (),
        image_models=("tiny-clip",),
        max_batch_texts=64,
        max_wait_ms=10,
        threads=None,
        max_batch_images=32,
    )
    await registry.load()
    try:
        served = registry.image_model("")
        vectors = await asyncio.gather(*(served.embed_image(image) for image in images))
        batcher, model = served.image_batcher, served.model
        for i, vector in enumerate(vectors):
            np.testing.assert_allclose(vector, alone[i], rtol=0, atol=1e-5)
        assert batcher.requests == 50 and batcher.texts_embedded == 50
        assert model.image_runs == batcher.batches_run <= 6, batcher.batches_run
        assert batcher.max_batch_seen <= 32
        print(f"50 concurrent callers: {batcher.batches_run} model calls, largest batch {batcher.max_batch_seen}")

        # A caller with a bad image gets its own error; the callers around it get vectors.
        results = await asyncio.gather(
            *(served.embed_image(image) for image in [images[0], b"broken", images[1]]), return_exceptions=True
        )
        assert isinstance(results[1], InvalidArgument) and results[1].reason == "IMAGE_UNREADABLE"
        np.testing.assert_allclose(results[0], alone[0], atol=1e-5)
        np.testing.assert_allclose(results[2], alone[1], atol=1e-5)
    finally:
        await registry.close()


def test_image_embeddings_slice_and_concat():
    a = ImageEmbeddings(np.ones((2, 4), np.float32), [None, None])
    b = ImageEmbeddings(np.zeros((1, 4), np.float32), [InvalidArgument("IMAGE_UNREADABLE", "x")])
    both = ImageEmbeddings.concat([a, b], 4)
    assert len(both) == 3 and both.ok == [True, True, False]
    assert both.slice(1, 3).ok == [True, False]
    assert ImageEmbeddings.empty(4).vectors.shape == (0, 4)


async def test_registry_discovers_clip_exports(tmp_path, clip_dir):
    root = models_dir_with(tmp_path, clip_dir)
    (root / "half-written").mkdir()
    assert discover_image_models(root) == ("tiny-clip",)
    registry = ModelRegistry(root, (), image_models=None, max_batch_texts=8, max_wait_ms=1, threads=1)
    await registry.load()
    try:
        (info,) = registry.describe()
        assert (info.name, info.modality, info.input_modalities, info.dimension) == (
            "tiny-clip",
            "image",
            ("text", "image"),
            32,
        )
        assert info.device == "CPUExecutionProvider/fp32" and info.max_tokens == 77
        assert registry.text_model("").name == "tiny-clip"  # no text model: EmbedTexts uses CLIP's text tower
    finally:
        await registry.close()
