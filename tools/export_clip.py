"""Exports a CLIP checkpoint to ONNX for the embedder (image and text towers), verified before it is used.

Run with the export venv (requirements/export.txt), never the service venv:

    .cache/export-venv/bin/python tools/export_clip.py --checkpoint PATH --out models/NAME [--name NAME]

PATH is a Hugging Face transformers CLIP folder, as `CLIPModel.save_pretrained` plus
`CLIPProcessor.save_pretrained` write it (config.json with model_type "clip", the
weights, the tokenizer files, and the image processor settings in
processor_config.json or, as published checkpoints such as
openai/clip-vit-base-patch32 ship them, preprocessor_config.json). Nothing is
downloaded. open_clip checkpoints (open_clip_config.json + open_clip_pytorch_model.bin)
are NOT supported: converting them means mapping open_clip's state dict onto
CLIPModel, which is not cheap; use the transformers version of the model (the LAION
repositories publish one beside the open_clip files).
`tools/make_tiny_clip.py` writes a tiny random-weight checkpoint for tests and CI.

The output folder holds:

    image.fp32.onnx   pixel_values float32 [N,3,H,W] -> image_embeds float32 [N,D]
    text.fp32.onnx    input_ids int64 [N,L], attention_mask int64 [N,L] -> text_embeds float32 [N,D]
    image.fp16.onnx   the same in float16 inside, float32 inputs and outputs (for the CUDA provider)
    text.fp16.onnx
    tokenizer.json    the CLIP tokenizer for `tokenizers.Tokenizer.from_file`, truncating to
                      max_text_tokens (77 for real CLIP), no padding
    preprocess.json   what CLIPImageProcessor does to an image before the image tower
    parity.json       the check inputs, PyTorch's vectors for them and the measured differences
    manifest.json     written last, only once every check below has passed

Embeddings are the projected ones (CLIPModel.get_image_features / get_text_features),
NOT L2-normalised: normalise them before comparing. N is dynamic, and so is L up to
max_text_tokens; H and W are fixed (the checkpoint's image size). The text tower
pools at the first <|endoftext|> (or, for checkpoints whose config still says
eos_token_id 2, at the highest token id, as transformers does), so rows may be padded
with anything after it as long as attention_mask is 0 there.

Checks (the export fails, exit status 1 and no manifest, when one is missed):
  * fp32 ONNX (onnxruntime, CPU) against PyTorch, for a padded batch and for one input
    per run: min cosine >= FP32_MIN_COSINE and max |diff| <= FP32_MAX_ABS_DIFF;
  * fp16 ONNX (onnxruntime, CPU) against fp32 ONNX: min cosine >= FP16_MIN_COSINE;
  * tokenizer.json (tokenizers alone) gives the same ids as the checkpoint's tokenizer in
    transformers, truncation to max_text_tokens included.

A folder whose manifest's checksums still match its files and whose source files are
unchanged is left alone ("up to date") without importing torch; --force re-exports.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from export_common import replace_folder, sha256_file

DEFAULT_OPSET = 17
# Bump when the layout or content of the exported folder changes.
EXPORT_FORMAT = 1
MANIFEST = "manifest.json"
KIND = "clip"

FP32_MIN_COSINE = 0.9999
FP32_MAX_ABS_DIFF = 1e-4
FP16_MIN_COSINE = 0.99
TOLERANCES = {
    "fp32_vs_torch_min_cosine": FP32_MIN_COSINE,
    "fp32_vs_torch_max_abs_diff": FP32_MAX_ABS_DIFF,
    "fp16_vs_fp32_min_cosine": FP16_MIN_COSINE,
}

FILES = {
    "fp32": {"image": "image.fp32.onnx", "text": "text.fp32.onnx"},
    "fp16": {"image": "image.fp16.onnx", "text": "text.fp16.onnx"},
}
IMAGE_INPUTS, IMAGE_OUTPUT = ["pixel_values"], "image_embeds"
TEXT_INPUTS, TEXT_OUTPUT = ["input_ids", "attention_mask"], "text_embeds"
# What onnxruntime.transformers.float16.convert_float_to_float16 is asked to do, recorded in the manifest.
FP16_CONVERSION = {
    "method": "onnxruntime.transformers.float16.convert_float_to_float16",
    "keep_io_types": True,
}

# The checkpoint's files that decide the export (fingerprinted for the up-to-date check).
SOURCE_FILES = (
    "config.json",
    "tokenizer.json",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "processor_config.json",
    "preprocessor_config.json",
)
WEIGHT_PATTERNS = ("*.safetensors", "*.safetensors.index.json", "pytorch_model*.bin", "pytorch_model.bin.index.json")

PARITY_TEXTS = [
    "a photo of a cat",
    "a diagram of the extraction pipeline",
    "",
    "Figure 3: p95 latency (ms) = 12.5 ± 0.3 for n=1,024 requests — see §4.2",
    "Die Katze sitzt auf der Matte, und draußen regnet es seit Stunden. 🐈",
    " ".join(["A scanned page of a thesis with formulas, tables and a chart of revenue by quarter."] * 12),
]
PARITY_IMAGE_SEED = 1234
PARITY_IMAGE_COUNT = 4

_RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


class NotAClipCheckpoint(Exception):
    pass


def source_fingerprint(src: pathlib.Path) -> dict[str, str]:
    names = {name for name in SOURCE_FILES if (src / name).is_file()}
    names.update(p.name for pattern in WEIGHT_PATTERNS for p in src.glob(pattern) if p.is_file())
    return {name: sha256_file(src / name) for name in sorted(names)}


def up_to_date(out: pathlib.Path, src: pathlib.Path) -> tuple[bool, str]:
    """Whether `out` already holds an intact export of the checkpoint `src` as it is now."""
    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        return False, "no manifest"
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("export_format") != EXPORT_FORMAT:
            return False, "export format changed"
        if manifest.get("tolerances") != TOLERANCES:
            return False, "tolerances changed"
        if manifest.get("source_files") != source_fingerprint(src):
            return False, "checkpoint changed"
        for rel, digest in manifest["checksums"].items():
            path = out / rel
            if not path.is_file() or sha256_file(path) != digest:
                return False, f"{rel} missing or changed"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return False, f"unreadable manifest ({type(exc).__name__})"
    return True, "checksums match"


# ---------------------------------------------------------------------------
# the checkpoint, read without torch
# ---------------------------------------------------------------------------


def _size(value, keys: tuple[str, ...]) -> dict:
    """CLIPImageProcessor's size/crop_size: an int (old configs) or a dict."""
    if isinstance(value, int):
        return {key: value for key in keys}
    if isinstance(value, dict):
        return value
    raise NotAClipCheckpoint(f"unreadable image size {value!r}")


def read_checkpoint(src: pathlib.Path) -> tuple[dict, dict]:
    """(config.json, the image processor's settings), or NotAClipCheckpoint saying why not."""
    if not src.is_dir():
        raise NotAClipCheckpoint(f"{src} is not a directory")
    if (src / "open_clip_config.json").is_file() and not (src / "config.json").is_file():
        raise NotAClipCheckpoint(
            f"{src} is an open_clip checkpoint; only Hugging Face transformers CLIP checkpoints are supported "
            "(use the model's transformers version: config.json + model.safetensors)"
        )
    config_path = src / "config.json"
    if not config_path.is_file():
        raise NotAClipCheckpoint(f"{src} has no config.json: not a Hugging Face transformers checkpoint")
    try:
        config = json.loads(config_path.read_text())
    except ValueError as exc:
        raise NotAClipCheckpoint(f"{config_path} is not valid JSON: {exc}") from None
    if config.get("model_type") != "clip":
        raise NotAClipCheckpoint(
            f"{src} is not a CLIP checkpoint: config.json has model_type {config.get('model_type')!r}, "
            "expected 'clip' (a CLIPModel with both towers)"
        )
    weights = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
    if not any((src / name).is_file() for name in weights):
        raise NotAClipCheckpoint(f"{src} has no weights (model.safetensors or pytorch_model.bin)")
    if not ((src / "tokenizer.json").is_file() or ((src / "vocab.json").is_file() and (src / "merges.txt").is_file())):
        raise NotAClipCheckpoint(f"{src} has no tokenizer (tokenizer.json, or vocab.json + merges.txt)")

    image_processor = None
    if (src / "processor_config.json").is_file():  # CLIPProcessor.save_pretrained, transformers >= 5
        image_processor = json.loads((src / "processor_config.json").read_text()).get("image_processor")
    if image_processor is None and (src / "preprocessor_config.json").is_file():
        image_processor = json.loads((src / "preprocessor_config.json").read_text())
    if image_processor is None:
        raise NotAClipCheckpoint(
            f"{src} has no image processor settings (processor_config.json or preprocessor_config.json): "
            "save it with CLIPProcessor.save_pretrained"
        )
    return config, image_processor


def preprocess_settings(image_processor: dict, vision_config: dict, max_text_tokens: int) -> dict:
    """preprocess.json: CLIPImageProcessor's steps, with its defaults where the settings leave them out."""
    for flag in ("do_resize", "do_center_crop", "do_rescale", "do_normalize"):
        if not image_processor.get(flag, True):
            raise NotAClipCheckpoint(f"unsupported image processor: {flag} is false (the embedder always does it)")
    size = _size(image_processor.get("size", 224), ("shortest_edge",))
    if "shortest_edge" not in size:
        raise NotAClipCheckpoint(f"unsupported image processor size {size} (only shortest_edge resizing)")
    crop = _size(image_processor.get("crop_size", 224), ("height", "width"))
    resample = image_processor.get("resample", 3)
    resample = _RESAMPLE.get(resample, str(resample)) if isinstance(resample, int) else str(resample).lower()
    settings = {
        "resize_shortest_edge": int(size["shortest_edge"]),
        "crop_height": int(crop["height"]),
        "crop_width": int(crop["width"]),
        "resample": resample,
        "rescale_factor": float(image_processor.get("rescale_factor", 1 / 255)),
        "mean": [float(x) for x in image_processor.get("image_mean", [0.48145466, 0.4578275, 0.40821073])],
        "std": [float(x) for x in image_processor.get("image_std", [0.26862954, 0.26130258, 0.27577711])],
        "convert_rgb": bool(image_processor.get("do_convert_rgb", True)),
        "max_text_tokens": int(max_text_tokens),
    }
    image_size = int(vision_config.get("image_size", 224))
    if (settings["crop_height"], settings["crop_width"]) != (image_size, image_size):
        raise NotAClipCheckpoint(
            f"image processor crops to {settings['crop_height']}x{settings['crop_width']} but the vision tower "
            f"takes {image_size}x{image_size}"
        )
    if len(settings["mean"]) != 3 or len(settings["std"]) != 3:
        raise NotAClipCheckpoint("image_mean and image_std must have 3 values (RGB)")
    return settings


# ---------------------------------------------------------------------------
# numpy / onnxruntime side
# ---------------------------------------------------------------------------


def parity_images(preprocess: dict, count: int = PARITY_IMAGE_COUNT, seed: int = PARITY_IMAGE_SEED):
    """Check images as the image tower sees them: uint8 RGB images at crop size (noise, plus a
    gradient), rescaled and normalised as preprocess.json says. Reproducible with numpy alone:
    numpy.random.default_rng(seed).integers(0, 256, (count, H, W, 3), dtype=uint8), image 0
    replaced by a gradient."""
    import numpy as np

    h, w = preprocess["crop_height"], preprocess["crop_width"]
    rgb = np.random.default_rng(seed).integers(0, 256, (count, h, w, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    rgb[0, :, :, 0] = (255 * xx / max(w - 1, 1)).astype(np.uint8)
    rgb[0, :, :, 1] = (255 * yy / max(h - 1, 1)).astype(np.uint8)
    rgb[0, :, :, 2] = 128
    pixels = rgb.astype(np.float32) * np.float32(preprocess["rescale_factor"])
    pixels = (pixels - np.asarray(preprocess["mean"], np.float32)) / np.asarray(preprocess["std"], np.float32)
    return np.ascontiguousarray(pixels.transpose(0, 3, 1, 2), dtype=np.float32)


def pad_batch(id_lists: list[list[int]], pad_id: int):
    import numpy as np

    width = max(len(ids) for ids in id_lists)
    ids = np.full((len(id_lists), width), pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, seq in enumerate(id_lists):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return ids, mask


class _OnnxRunner:
    """Runs an exported tower with onnxruntime on the CPU, with full graph optimisations."""

    def __init__(self, model_path: pathlib.Path, output: str):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._sess = ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
        self._output = output
        self.backend = f"onnxruntime {ort.__version__}"

    def __call__(self, **feeds):
        return self._sess.run([self._output], feeds)[0]


def cosines(got, want):
    import numpy as np

    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    return np.sum(got * want, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))


def compare(name: str, got, want, min_cosine: float, max_abs_diff: float | None) -> tuple[bool, float, float]:
    import numpy as np

    cos = float(np.min(cosines(got, want)))
    diff = float(np.max(np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64))))
    ok = bool(np.all(np.isfinite(got))) and cos >= min_cosine and (max_abs_diff is None or diff <= max_abs_diff)
    print(f"  {name:<34} min cosine {cos:.8f}  max |diff| {diff:.2e}  {'OK' if ok else 'FAIL'}")
    return ok, cos, diff


def run_text(runner: _OnnxRunner, id_lists: list[list[int]], pad_id: int):
    """One text per run (no padding), then all in one padded batch; returns both."""
    import numpy as np

    singles = [
        runner(input_ids=np.asarray([ids], np.int64), attention_mask=np.ones((1, len(ids)), np.int64))[0]
        for ids in id_lists
    ]
    ids, mask = pad_batch(id_lists, pad_id)
    return np.stack(singles), runner(input_ids=ids, attention_mask=mask)


def run_image(runner: _OnnxRunner, pixels):
    import numpy as np

    singles = [runner(pixel_values=pixels[i : i + 1])[0] for i in range(len(pixels))]
    return np.stack(singles), runner(pixel_values=pixels)


def convert_fp16(src: pathlib.Path, dst: pathlib.Path) -> None:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    model = onnx.load(str(src))
    model16 = convert_float_to_float16(model, keep_io_types=FP16_CONVERSION["keep_io_types"])
    # The converter puts the input casts after their consumers; onnx.checker wants the nodes in order.
    wrapped = OnnxModel(model16)
    wrapped.topological_sort()
    onnx.save(wrapped.model, str(dst))


def check_graph(path: pathlib.Path, inputs: list[str], output: str) -> dict:
    """onnx.checker, and the graph's interface is exactly what the manifest promises."""
    import onnx

    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    got_inputs = [i.name for i in model.graph.input]
    got_outputs = [o.name for o in model.graph.output]
    if got_inputs != inputs or got_outputs != [output]:
        raise SystemExit(
            f"{path.name}: graph has inputs {got_inputs} and outputs {got_outputs}, expected {inputs} -> [{output}]"
        )

    def shape(value_info):
        return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]

    return {
        "opset": opset,
        "inputs": {i.name: shape(i) for i in model.graph.input},
        "outputs": {o.name: shape(o) for o in model.graph.output},
    }


# ---------------------------------------------------------------------------
# torch side
# ---------------------------------------------------------------------------


def load_model(src: pathlib.Path):
    from transformers import CLIPModel

    model = CLIPModel.from_pretrained(str(src), attn_implementation="eager")
    return model.eval()


def _export(
    wrapper,
    dummy: tuple,
    path: pathlib.Path,
    names: list[str],
    output: str,
    dynamic: dict[str, dict[int, tuple[str, int]]],
    opset: int,
    exporter: str,
) -> str:
    """torch.onnx.export, the legacy exporter first, then dynamo; returns the one that worked."""
    import torch

    tries = ["legacy", "dynamo"] if exporter == "auto" else [exporter]
    errors = []
    for kind in tries:
        try:
            with torch.no_grad():
                if kind == "legacy":
                    torch.onnx.export(
                        wrapper,
                        dummy,
                        str(path),
                        dynamo=False,
                        input_names=names,
                        output_names=[output],
                        dynamic_axes={
                            **{n: {axis: label for axis, (label, _) in dynamic[n].items()} for n in names},
                            output: {0: "batch"},
                        },
                        opset_version=opset,
                        do_constant_folding=True,
                    )
                else:
                    dims: dict[str, torch.export.Dim] = {}
                    for axes in dynamic.values():
                        for label, top in axes.values():
                            dims.setdefault(label, torch.export.Dim(label, min=1, max=top))
                    torch.onnx.export(
                        wrapper,
                        dummy,
                        str(path),
                        dynamo=True,
                        external_data=False,
                        input_names=names,
                        output_names=[output],
                        dynamic_shapes={
                            n: {axis: dims[label] for axis, (label, _) in dynamic[n].items()} for n in names
                        },
                        opset_version=opset,
                    )
            return kind
        except Exception as exc:  # noqa: BLE001 - report and try the next exporter
            errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            print(f"  exporter {kind} failed: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
    raise SystemExit(f"ONNX export of {path.name} failed:\n  " + "\n  ".join(errors))


def export_towers(
    model, work: pathlib.Path, image_size: int, max_text_tokens: int, pad_id: int, opset: int, exporter: str
) -> dict[str, str]:
    import torch

    class _ImageTower(torch.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.vision_model = clip.vision_model
            self.visual_projection = clip.visual_projection

        def forward(self, pixel_values):
            return self.visual_projection(self.vision_model(pixel_values=pixel_values).pooler_output)

    class _TextTower(torch.nn.Module):
        def __init__(self, clip):
            super().__init__()
            self.text_model = clip.text_model
            self.text_projection = clip.text_projection

        def forward(self, input_ids, attention_mask):
            pooled = self.text_model(input_ids=input_ids, attention_mask=attention_mask).pooler_output
            return self.text_projection(pooled)

    kinds = {}
    pixels = torch.randn((2, 3, image_size, image_size), generator=torch.Generator().manual_seed(0))
    kinds["image"] = _export(
        _ImageTower(model).eval(),
        (pixels,),
        work / FILES["fp32"]["image"],
        IMAGE_INPUTS,
        IMAGE_OUTPUT,
        {"pixel_values": {0: ("batch", 4096)}},
        opset,
        exporter,
    )
    eos = int(model.config.text_config.eos_token_id)
    bos = int(model.config.text_config.bos_token_id)
    ids = torch.tensor(
        [[bos, 5, 6, 7, 8, eos, pad_id], [bos, 9, eos, pad_id, pad_id, pad_id, pad_id]], dtype=torch.int64
    )
    mask = (torch.arange(7)[None, :] < torch.tensor([[6], [3]])).to(torch.int64)
    kinds["text"] = _export(
        _TextTower(model).eval(),
        (ids, mask),
        work / FILES["fp32"]["text"],
        TEXT_INPUTS,
        TEXT_OUTPUT,
        {n: {0: ("batch", 4096), 1: ("sequence", max_text_tokens)} for n in TEXT_INPUTS},
        opset,
        exporter,
    )
    return kinds


def reference_vectors(model, pixels, id_lists: list[list[int]], pad_id: int):
    """PyTorch's get_image_features / get_text_features for the check inputs (all in one batch)."""
    import numpy as np
    import torch

    ids, mask = pad_batch(id_lists, pad_id)
    with torch.no_grad():
        image = model.get_image_features(pixel_values=torch.from_numpy(pixels))
        text = model.get_text_features(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    # transformers 5 returns a model output whose pooler_output is the projected vector; 4 a tensor.
    image = getattr(image, "pooler_output", image)
    text = getattr(text, "pooler_output", text)
    return np.asarray(image.numpy(), np.float32), np.asarray(text.numpy(), np.float32)


def write_tokenizer(src: pathlib.Path, dst: pathlib.Path, max_text_tokens: int, texts: list[str]):
    """tokenizer.json from the checkpoint's tokenizer, truncating and not padding, checked against
    transformers; returns (ids per text, pad id)."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(src))
    if getattr(hf, "backend_tokenizer", None) is None:
        raise SystemExit(f"{src}: {type(hf).__name__} has no `tokenizers` version to write as tokenizer.json")
    backend = Tokenizer.from_str(hf.backend_tokenizer.to_str())
    backend.no_padding()
    backend.enable_truncation(max_length=max_text_tokens)
    backend.save(str(dst))

    want = hf(texts, truncation=True, max_length=max_text_tokens)["input_ids"]
    served = Tokenizer.from_file(str(dst))
    got = [enc.ids for enc in served.encode_batch(texts)]
    for text, g, w in zip(texts, got, want):
        if list(g) != list(w):
            raise SystemExit(f"tokenizer.json disagrees with transformers on {text[:60]!r}: {g[:12]}... vs {w[:12]}...")
    pad_id = hf.pad_token_id if hf.pad_token_id is not None else hf.eos_token_id
    return [list(ids) for ids in want], int(pad_id), type(hf).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkpoint",
        type=pathlib.Path,
        required=True,
        help="Hugging Face transformers CLIP folder (CLIPModel + CLIPProcessor save_pretrained)",
    )
    parser.add_argument("--out", type=pathlib.Path, required=True, help="output folder (models/NAME)")
    parser.add_argument("--name", help="model name in the manifest (default: the checkpoint folder's name)")
    parser.add_argument("--source", help="what the manifest records as the source (default: the checkpoint path)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    parser.add_argument("--exporter", choices=["auto", "legacy", "dynamo"], default="auto")
    parser.add_argument("--force", action="store_true", help="re-export even when up to date")
    args = parser.parse_args(argv)
    src: pathlib.Path = args.checkpoint.resolve()
    out: pathlib.Path = args.out.resolve()
    name = args.name or src.name

    try:
        config, image_processor = read_checkpoint(src)
        text_config = config.get("text_config") or {}
        vision_config = config.get("vision_config") or {}
        max_text_tokens = int(text_config.get("max_position_embeddings", 77))
        preprocess = preprocess_settings(image_processor, vision_config, max_text_tokens)
    except NotAClipCheckpoint as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if not args.force:
        ok, why = up_to_date(out, src)
        if ok:
            print(f"{out}: up to date ({why})")
            return 0
        print(f"{out}: exporting {src} ({why})")

    # Never reach for the Hub: everything comes from the checkpoint folder.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    out.parent.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    work.chmod(0o755)  # mkdtemp makes it 0700; the services may run as another user
    try:
        t0 = time.perf_counter()
        (work / "preprocess.json").write_text(json.dumps(preprocess, indent=2) + "\n")
        id_lists, pad_id, tokenizer_class = write_tokenizer(src, work / "tokenizer.json", max_text_tokens, PARITY_TEXTS)
        counts = [len(ids) for ids in id_lists]
        if max(counts) != max_text_tokens:
            raise SystemExit(f"the long check text was not truncated to {max_text_tokens} tokens ({counts})")

        model = load_model(src)
        dimension = int(model.config.projection_dim)
        image_size = int(model.config.vision_config.image_size)
        kinds = export_towers(model, work, image_size, max_text_tokens, pad_id, args.opset, args.exporter)
        graphs = {
            tower: check_graph(work / FILES["fp32"][tower], *io)
            for tower, io in (("image", (IMAGE_INPUTS, IMAGE_OUTPUT)), ("text", (TEXT_INPUTS, TEXT_OUTPUT)))
        }
        print(
            f"exported with the {kinds['image']}/{kinds['text']} exporter, opset {graphs['image']['opset']}, "
            f"dimension {dimension} ({time.perf_counter() - t0:.1f}s)"
        )

        # fp32 parity: PyTorch vs ONNX, one input per run and a padded batch.
        pixels = parity_images(preprocess)
        want_image, want_text = reference_vectors(model, pixels, id_lists, pad_id)
        if want_image.shape != (len(pixels), dimension) or want_text.shape != (len(id_lists), dimension):
            raise SystemExit(f"unexpected PyTorch output shapes {want_image.shape}, {want_text.shape}")
        image32 = _OnnxRunner(work / FILES["fp32"]["image"], IMAGE_OUTPUT)
        text32 = _OnnxRunner(work / FILES["fp32"]["text"], TEXT_OUTPUT)
        print(
            f"parity vs PyTorch get_image_features/get_text_features ({len(pixels)} images, "
            f"{len(id_lists)} texts of {min(counts)}-{max(counts)} tokens), ONNX run by {image32.backend}:"
        )
        img_single, img_batch = run_image(image32, pixels)
        txt_single, txt_batch = run_text(text32, id_lists, pad_id)
        tol32 = (FP32_MIN_COSINE, FP32_MAX_ABS_DIFF)
        results = {
            "image_one_per_run": compare("image fp32, one per run", img_single, want_image, *tol32),
            "image_batch": compare("image fp32, batch", img_batch, want_image, *tol32),
            "text_one_per_run": compare("text fp32, one per run", txt_single, want_text, *tol32),
            "text_padded_batch": compare("text fp32, padded batch", txt_batch, want_text, *tol32),
        }
        if not all(ok for ok, _, _ in results.values()):
            print(
                f"parity FAILED (need cosine >= {FP32_MIN_COSINE} and |diff| <= {FP32_MAX_ABS_DIFF})", file=sys.stderr
            )
            return 1

        # fp16 variants, checked against fp32 ONNX (both on the CPU here; meant for the CUDA provider).
        for tower, io in (("image", (IMAGE_INPUTS, IMAGE_OUTPUT)), ("text", (TEXT_INPUTS, TEXT_OUTPUT))):
            convert_fp16(work / FILES["fp32"][tower], work / FILES["fp16"][tower])
            check_graph(work / FILES["fp16"][tower], *io)
        print("fp16 variants vs fp32 ONNX (onnxruntime, CPU):")
        img16_single, img16_batch = run_image(_OnnxRunner(work / FILES["fp16"]["image"], IMAGE_OUTPUT), pixels)
        txt16_single, txt16_batch = run_text(_OnnxRunner(work / FILES["fp16"]["text"], TEXT_OUTPUT), id_lists, pad_id)
        results16 = {
            "image_one_per_run": compare("image fp16, one per run", img16_single, img_batch, FP16_MIN_COSINE, None),
            "image_batch": compare("image fp16, batch", img16_batch, img_batch, FP16_MIN_COSINE, None),
            "text_one_per_run": compare("text fp16, one per run", txt16_single, txt_batch, FP16_MIN_COSINE, None),
            "text_padded_batch": compare("text fp16, padded batch", txt16_batch, txt_batch, FP16_MIN_COSINE, None),
        }
        if not all(ok for ok, _, _ in results16.values()):
            print(f"fp16 variants FAILED (need cosine >= {FP16_MIN_COSINE} vs fp32)", file=sys.stderr)
            return 1

        def measured(table: dict, tower: str) -> dict:
            rows = [v for k, v in table.items() if k.startswith(tower)]
            return {
                "min_cosine": round(min(r[1] for r in rows), 8),
                "max_abs_diff": float(f"{max(r[2] for r in rows):.3e}"),
            }

        (work / "parity.json").write_text(
            json.dumps(
                {
                    "tolerances": TOLERANCES,
                    "fp32_vs_torch": {"image": measured(results, "image"), "text": measured(results, "text")},
                    "fp16_vs_fp32": {"image": measured(results16, "image"), "text": measured(results16, "text")},
                    "backend": image32.backend,
                    "images": {
                        "how": "numpy.random.default_rng(seed).integers(0, 256, (count, crop_height, crop_width, 3), "
                        "dtype=uint8); image 0 replaced by a gradient (R = 255*x/(W-1), G = 255*y/(H-1), B = 128); "
                        "then rescale_factor, mean and std from preprocess.json, NCHW",
                        "seed": PARITY_IMAGE_SEED,
                        "count": len(pixels),
                        "vectors": [[round(float(x), 7) for x in row] for row in want_image],
                    },
                    "texts": {
                        "texts": PARITY_TEXTS,
                        "input_ids": id_lists,
                        "pad_id": pad_id,
                        "vectors": [[round(float(x), 7) for x in row] for row in want_text],
                    },
                },
                ensure_ascii=False,
            )
            + "\n"
        )

        checksums = {p.name: sha256_file(p) for p in sorted(work.iterdir()) if p.is_file() and p.name != MANIFEST}
        manifest = {
            "name": name,
            "kind": KIND,
            "dimension": dimension,
            "source": args.source or str(src),
            "source_files": source_fingerprint(src),
            "variants": FILES,
            "tokenizer": "tokenizer.json",
            "tokenizer_class": tokenizer_class,
            "preprocess": "preprocess.json",
            "parity": "parity.json",
            "max_text_tokens": max_text_tokens,
            "image_size": image_size,
            "normalize": False,
            "onnx": {
                "exporter": kinds,
                "opset": graphs["image"]["opset"],
                "image": {"inputs": graphs["image"]["inputs"], "outputs": graphs["image"]["outputs"]},
                "text": {"inputs": graphs["text"]["inputs"], "outputs": graphs["text"]["outputs"]},
                "fp16": FP16_CONVERSION,
            },
            "tolerances": TOLERANCES,
            "export_format": EXPORT_FORMAT,
            "exported_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "checksums": checksums,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

        replace_folder(work, out)  # only now, verified, does it replace an older export
        print(f"wrote {out} ({', '.join(checksums)}, {MANIFEST}) in {time.perf_counter() - t0:.1f}s")
        return 0
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
