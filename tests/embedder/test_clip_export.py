"""tools/export_clip.py and `mivaa models export-clip`, on the tiny random-weight CLIP.

The export runs in the export venv (subprocesses, see clip_fixture.py); everything
here runs the exported graphs the way the embedder will: onnxruntime in the service
venv, no torch.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.embedder.clip_fixture import (
    EXPORT_CLIP,
    TINY_DIMENSION,
    TINY_IMAGE_SIZE,
    TINY_MAX_TEXT_TOKENS,
    TINY_NAME,
    TINY_SOURCE,
    build_tiny_clip,
    export_python,
    run_export_python,
    tiny_clip_checkpoint,
)

FILES = {
    "fp32": {"image": "image.fp32.onnx", "text": "text.fp32.onnx"},
    "fp16": {"image": "image.fp16.onnx", "text": "text.fp16.onnx"},
}
PREPROCESS_KEYS = {
    "resize_shortest_edge",
    "crop_height",
    "crop_width",
    "resample",
    "rescale_factor",
    "mean",
    "std",
    "convert_rgb",
    "max_text_tokens",
}
# What the exporter promises to check (tools/export_clip.py); the manifest must say the same.
TOLERANCES = {
    "fp32_vs_torch_min_cosine": 0.9999,
    "fp32_vs_torch_max_abs_diff": 1e-4,
    "fp16_vs_fp32_min_cosine": 0.99,
}


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def session(path: pathlib.Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def unit(rows) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def parity_pixels(preprocess: dict, seed: int, count: int) -> np.ndarray:
    """The exporter's check images, rebuilt with numpy alone from parity.json's recipe."""
    h, w = preprocess["crop_height"], preprocess["crop_width"]
    rgb = np.random.default_rng(seed).integers(0, 256, (count, h, w, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    rgb[0, :, :, 0] = (255 * xx / max(w - 1, 1)).astype(np.uint8)
    rgb[0, :, :, 1] = (255 * yy / max(h - 1, 1)).astype(np.uint8)
    rgb[0, :, :, 2] = 128
    pixels = rgb.astype(np.float32) * np.float32(preprocess["rescale_factor"])
    pixels = (pixels - np.asarray(preprocess["mean"], np.float32)) / np.asarray(preprocess["std"], np.float32)
    return np.ascontiguousarray(pixels.transpose(0, 3, 1, 2), dtype=np.float32)


def padded(id_lists: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(ids) for ids in id_lists)
    ids = np.full((len(id_lists), width), pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, seq in enumerate(id_lists):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return ids, mask


# -- the exported folder ----------------------------------------------------------


def test_manifest_and_checksums(tiny_clip_dir):
    manifest = json.loads((tiny_clip_dir / "manifest.json").read_text())
    assert manifest["name"] == TINY_NAME
    assert manifest["kind"] == "clip"
    assert manifest["dimension"] == TINY_DIMENSION
    assert manifest["source"] == TINY_SOURCE
    assert manifest["variants"] == FILES
    assert manifest["tokenizer"] == "tokenizer.json"
    assert manifest["preprocess"] == "preprocess.json"
    assert manifest["max_text_tokens"] == TINY_MAX_TEXT_TOKENS
    assert manifest["tolerances"] == TOLERANCES
    files = {p.name for p in tiny_clip_dir.iterdir() if p.is_file()} - {"manifest.json"}
    assert files == {
        "image.fp32.onnx",
        "text.fp32.onnx",
        "image.fp16.onnx",
        "text.fp16.onnx",
        "tokenizer.json",
        "preprocess.json",
        "parity.json",
    }
    assert set(manifest["checksums"]) == files
    for rel, digest in manifest["checksums"].items():
        assert sha256(tiny_clip_dir / rel) == digest, rel
    # Interface as recorded: dynamic batch (and sequence), fixed image size, D outputs.
    onnx_info = manifest["onnx"]
    assert onnx_info["image"]["inputs"] == {"pixel_values": ["batch", 3, TINY_IMAGE_SIZE, TINY_IMAGE_SIZE]}
    assert onnx_info["image"]["outputs"] == {"image_embeds": ["batch", TINY_DIMENSION]}
    assert onnx_info["text"]["inputs"] == {"input_ids": ["batch", "sequence"], "attention_mask": ["batch", "sequence"]}
    assert onnx_info["text"]["outputs"] == {"text_embeds": ["batch", TINY_DIMENSION]}


def test_preprocess_json_is_clip_image_processor(tiny_clip_dir):
    preprocess = json.loads((tiny_clip_dir / "preprocess.json").read_text())
    assert set(preprocess) == PREPROCESS_KEYS
    assert preprocess == {
        "resize_shortest_edge": TINY_IMAGE_SIZE,
        "crop_height": TINY_IMAGE_SIZE,
        "crop_width": TINY_IMAGE_SIZE,
        "resample": "bicubic",
        "rescale_factor": pytest.approx(1 / 255),
        "mean": pytest.approx([0.48145466, 0.4578275, 0.40821073]),
        "std": pytest.approx([0.26862954, 0.26130258, 0.27577711]),
        "convert_rgb": True,
        "max_text_tokens": TINY_MAX_TEXT_TOKENS,
    }


def test_parity_within_tolerances(tiny_clip_dir):
    parity = json.loads((tiny_clip_dir / "parity.json").read_text())
    assert parity["tolerances"] == TOLERANCES
    for tower in ("image", "text"):
        fp32 = parity["fp32_vs_torch"][tower]
        assert fp32["min_cosine"] >= TOLERANCES["fp32_vs_torch_min_cosine"], (tower, fp32)
        assert fp32["max_abs_diff"] <= TOLERANCES["fp32_vs_torch_max_abs_diff"], (tower, fp32)
        assert parity["fp16_vs_fp32"][tower]["min_cosine"] >= TOLERANCES["fp16_vs_fp32_min_cosine"], tower
    # The check texts include the empty one and one cut to max_text_tokens.
    counts = [len(ids) for ids in parity["texts"]["input_ids"]]
    assert min(counts) == 2 and max(counts) == TINY_MAX_TEXT_TOKENS


def test_tokenizer_json_alone_gives_the_checked_ids(tiny_clip_dir):
    from tokenizers import Tokenizer

    parity = json.loads((tiny_clip_dir / "parity.json").read_text())["texts"]
    tokenizer = Tokenizer.from_file(str(tiny_clip_dir / "tokenizer.json"))
    encodings = tokenizer.encode_batch(parity["texts"])
    assert [e.ids for e in encodings] == parity["input_ids"]
    assert encodings[-1].overflowing  # the long text was truncated, by the file's own settings
    bos, eos = tokenizer.token_to_id("<|startoftext|>"), tokenizer.token_to_id("<|endoftext|>")
    assert all(e.ids[0] == bos and e.ids[-1] == eos for e in encodings)
    assert parity["pad_id"] == eos


# -- onnxruntime in the service venv -----------------------------------------------------


def test_fp32_graphs_dynamic_batch(tiny_clip_dir):
    image = session(tiny_clip_dir / FILES["fp32"]["image"])
    text = session(tiny_clip_dir / FILES["fp32"]["text"])
    assert [(i.name, i.type) for i in image.get_inputs()] == [("pixel_values", "tensor(float)")]
    assert [(o.name, o.type) for o in image.get_outputs()] == [("image_embeds", "tensor(float)")]
    assert [(i.name, i.type) for i in text.get_inputs()] == [
        ("input_ids", "tensor(int64)"),
        ("attention_mask", "tensor(int64)"),
    ]
    assert [(o.name, o.type) for o in text.get_outputs()] == [("text_embeds", "tensor(float)")]

    rng = np.random.default_rng(7)
    parity = json.loads((tiny_clip_dir / "parity.json").read_text())
    bos, eos = parity["texts"]["input_ids"][0][0], parity["texts"]["pad_id"]
    for n in (1, 5):
        pixels = rng.standard_normal((n, 3, TINY_IMAGE_SIZE, TINY_IMAGE_SIZE), dtype=np.float32)
        (vectors,) = image.run(["image_embeds"], {"pixel_values": pixels})
        assert vectors.shape == (n, TINY_DIMENSION) and vectors.dtype == np.float32
        assert np.all(np.isfinite(vectors))
        for length in (2, 9, TINY_MAX_TEXT_TOKENS):
            ids = np.concatenate(
                [np.full((n, 1), bos), rng.integers(256, bos, (n, length - 2)), np.full((n, 1), eos)], axis=1
            ).astype(np.int64)
            (vectors,) = text.run(["text_embeds"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})
            assert vectors.shape == (n, TINY_DIMENSION) and vectors.dtype == np.float32
            assert np.all(np.isfinite(vectors))


def test_fp32_graphs_reproduce_pytorch_vectors(tiny_clip_dir):
    """parity.json's PyTorch vectors, from its recipe, with numpy + tokenizers + onnxruntime only."""
    from tokenizers import Tokenizer

    parity = json.loads((tiny_clip_dir / "parity.json").read_text())
    preprocess = json.loads((tiny_clip_dir / "preprocess.json").read_text())
    pixels = parity_pixels(preprocess, parity["images"]["seed"], parity["images"]["count"])
    (got,) = session(tiny_clip_dir / FILES["fp32"]["image"]).run(["image_embeds"], {"pixel_values": pixels})
    want = np.asarray(parity["images"]["vectors"])
    assert np.min(np.sum(unit(got) * unit(want), axis=1)) >= 0.9999
    assert np.max(np.abs(got - want)) <= 1e-4

    tokenizer = Tokenizer.from_file(str(tiny_clip_dir / "tokenizer.json"))
    ids, mask = padded([e.ids for e in tokenizer.encode_batch(parity["texts"]["texts"])], parity["texts"]["pad_id"])
    (got,) = session(tiny_clip_dir / FILES["fp32"]["text"]).run(
        ["text_embeds"], {"input_ids": ids, "attention_mask": mask}
    )
    want = np.asarray(parity["texts"]["vectors"])
    assert np.min(np.sum(unit(got) * unit(want), axis=1)) >= 0.9999
    assert np.max(np.abs(got - want)) <= 1e-4
    # Different inputs, clearly different vectors (the tiny model is not degenerate).
    similarity = unit(want) @ unit(want).T
    assert np.max(similarity[np.triu_indices(len(want), 1)]) < 0.95


def test_fp16_graphs_run_on_cpu(tiny_clip_dir):
    rng = np.random.default_rng(3)
    pixels = rng.standard_normal((5, 3, TINY_IMAGE_SIZE, TINY_IMAGE_SIZE), dtype=np.float32)
    parity = json.loads((tiny_clip_dir / "parity.json").read_text())["texts"]
    ids, mask = padded(parity["input_ids"], parity["pad_id"])
    for tower, feeds, output in (
        ("image", {"pixel_values": pixels}, "image_embeds"),
        ("text", {"input_ids": ids, "attention_mask": mask}, "text_embeds"),
    ):
        fp16 = session(tiny_clip_dir / FILES["fp16"][tower])
        fp32 = session(tiny_clip_dir / FILES["fp32"][tower])
        # keep_io_types: float32 in and out, like fp32's
        assert [(i.name, i.type) for i in fp16.get_inputs()] == [(i.name, i.type) for i in fp32.get_inputs()]
        (half,) = fp16.run([output], feeds)
        (full,) = fp32.run([output], feeds)
        rows = len(next(iter(feeds.values())))
        assert half.dtype == np.float32 and half.shape == full.shape == (rows, TINY_DIMENSION)
        assert np.min(np.sum(unit(half) * unit(full), axis=1)) >= TOLERANCES["fp16_vs_fp32_min_cosine"], tower


def test_graphs_need_no_torch(tiny_clip_dir):
    """Loading and running every graph works in a process where torch cannot be imported."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # any `import torch` now raises ImportError
        import numpy as np, onnxruntime as ort
        root = sys.argv[1]
        for precision in ("fp32", "fp16"):
            image = ort.InferenceSession(f"{root}/image.{precision}.onnx", providers=["CPUExecutionProvider"])
            text = ort.InferenceSession(f"{root}/text.{precision}.onnx", providers=["CPUExecutionProvider"])
            (v,) = image.run(None, {"pixel_values": np.zeros((2, 3, 64, 64), np.float32)})
            ids = np.array([[3, 4, 5, 6]] * 3, np.int64)
            (t,) = text.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
            print(precision, v.shape, t.shape)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tiny_clip_dir)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [
        f"fp32 (2, {TINY_DIMENSION}) (3, {TINY_DIMENSION})",
        f"fp16 (2, {TINY_DIMENSION}) (3, {TINY_DIMENSION})",
    ]


# -- the exporter's refusals and reruns --------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({}, "has no config.json"),
        ({"config.json": {"model_type": "bert", "hidden_size": 384}}, "not a CLIP checkpoint"),
        ({"open_clip_config.json": {"model_cfg": {}}}, "open_clip checkpoint"),
        ({"config.json": {"model_type": "clip"}}, "has no weights"),
    ],
)
def test_export_refuses_what_is_not_a_clip_checkpoint(tmp_path, layout, message):
    try:
        export_python()
    except Exception as exc:  # noqa: BLE001 - ExportVenvMissing
        pytest.skip(str(exc))
    src = tmp_path / "not-clip"
    src.mkdir()
    for name, content in layout.items():
        (src / name).write_text(json.dumps(content))
    out = tmp_path / "out"
    result = run_export_python([str(EXPORT_CLIP), "--checkpoint", str(src), "--out", str(out)])
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_rerun_is_up_to_date_without_torch(tiny_clip_dir, tmp_path):
    build_tiny_clip()
    copy = tmp_path / "copy"
    shutil.copytree(tiny_clip_dir, copy)
    result = run_export_python([str(EXPORT_CLIP), "--checkpoint", str(tiny_clip_checkpoint()), "--out", str(copy)])
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    # A damaged file is noticed (and would be re-exported; not done here, to stay quick).
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["checksums"]["text.fp16.onnx"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    script = (
        "import sys, pathlib; sys.path.insert(0, 'tools'); import export_clip as e; "
        f"print(e.up_to_date(pathlib.Path({str(copy)!r}), pathlib.Path({str(tiny_clip_checkpoint())!r})))"
    )
    result = run_export_python(["-c", script])
    assert "(False, 'text.fp16.onnx missing or changed')" in result.stdout, result.stderr


@pytest.mark.parametrize("tolerance", ["FP32_MAX_ABS_DIFF", "FP16_MIN_COSINE"])
def test_export_fails_without_manifest_when_a_tolerance_is_missed(tiny_clip_dir, tmp_path, tolerance):
    """The real exporter with one tolerance made impossible: exit 1, FAILED, no output folder."""
    build_tiny_clip()
    out = tmp_path / "out"
    impossible = {"FP32_MAX_ABS_DIFF": 0.0, "FP16_MIN_COSINE": 1.000001}[tolerance]
    script = (
        "import sys; sys.path.insert(0, 'tools'); import export_clip as e; "
        f"e.{tolerance} = {impossible!r}; "
        f"sys.exit(e.main(['--checkpoint', {str(tiny_clip_checkpoint())!r}, '--out', {str(out)!r}]))"
    )
    result = run_export_python(["-c", script])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no work folder left behind


# -- the CLI -----------------------------------------------------------------------------------


def test_cli_export_clip_tiny_end_to_end(tiny_clip_dir, tmp_path, capfd):
    from mivaa_cli.main import main

    out = tmp_path / "models" / "my-tiny-clip"
    assert main(["models", "export-clip", "--tiny", "--out", str(out)]) == 0
    printed = capfd.readouterr().out
    assert "make_tiny_clip.py" in printed and "export_clip.py" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["name"] == TINY_NAME and manifest["kind"] == "clip" and manifest["source"] == TINY_SOURCE
    for rel, digest in manifest["checksums"].items():
        assert sha256(out / rel) == digest, rel
    # The same deterministic model as the fixture's export.
    cached = json.loads((tiny_clip_dir / "manifest.json").read_text())["checksums"]
    for rel in ("image.fp32.onnx", "text.fp32.onnx", "tokenizer.json", "preprocess.json"):
        assert manifest["checksums"][rel] == cached[rel], rel
    (vectors,) = session(out / "image.fp32.onnx").run(
        ["image_embeds"], {"pixel_values": np.zeros((1, 3, TINY_IMAGE_SIZE, TINY_IMAGE_SIZE), np.float32)}
    )
    assert vectors.shape == (1, TINY_DIMENSION)


def test_cli_without_export_venv_says_how_to_make_it(tmp_path, monkeypatch, capsys):
    from mivaa_cli.main import main

    monkeypatch.setenv("MIVAA_EXPORT_PYTHON", str(tmp_path / "no-such-python"))
    assert main(["models", "export-clip", "--tiny", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "make export-venv" in err and "requirements/export.txt" in err
    assert not (tmp_path / "out").exists()


def test_cli_refuses_a_non_clip_checkpoint(tmp_path, capfd):
    from mivaa_cli.main import main

    try:
        export_python()
    except Exception as exc:  # noqa: BLE001 - ExportVenvMissing
        pytest.skip(str(exc))
    src = tmp_path / "bert"
    src.mkdir()
    (src / "config.json").write_text(json.dumps({"model_type": "bert"}))
    assert main(["models", "export-clip", "--checkpoint", str(src), "--out", str(tmp_path / "out")]) != 0
    assert "not a CLIP checkpoint" in capfd.readouterr().err
