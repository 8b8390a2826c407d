"""The two sides of a CLIP export: the towers exported with torch, and run and compared with onnxruntime.

Part of tools/export_clip.py (run in the export venv, where torch, onnx and onnxruntime are installed;
each is imported where it is used, so reading a checkpoint needs none of them).
"""

from __future__ import annotations

import pathlib

from export_common import export_onnx

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

PARITY_IMAGE_SEED = 1234
PARITY_IMAGE_COUNT = 4


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


class OnnxRunner:
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


def run_text(runner: OnnxRunner, id_lists: list[list[int]], pad_id: int):
    """One text per run (no padding), then all in one padded batch; returns both."""
    import numpy as np

    singles = [
        runner(input_ids=np.asarray([ids], np.int64), attention_mask=np.ones((1, len(ids)), np.int64))[0]
        for ids in id_lists
    ]
    ids, mask = pad_batch(id_lists, pad_id)
    return np.stack(singles), runner(input_ids=ids, attention_mask=mask)


def run_image(runner: OnnxRunner, pixels):
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
    kinds["image"] = export_onnx(
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
    kinds["text"] = export_onnx(
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
