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
import json
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from export_clip_checkpoint import NotAClipCheckpoint, preprocess_settings, read_checkpoint
from export_clip_onnx import (
    FILES,
    FP16_CONVERSION,
    IMAGE_INPUTS,
    IMAGE_OUTPUT,
    PARITY_IMAGE_SEED,
    TEXT_INPUTS,
    TEXT_OUTPUT,
    OnnxRunner,
    check_graph,
    compare,
    convert_fp16,
    export_towers,
    load_model,
    parity_images,
    reference_vectors,
    run_image,
    run_text,
    write_tokenizer,
)
from export_common import MANIFEST, hub_offline, needs_export, publish, sha256_file, work_folder

DEFAULT_OPSET = 17
# Bump when the layout or content of the exported folder changes.
EXPORT_FORMAT = 1
KIND = "clip"

FP32_MIN_COSINE = 0.9999
FP32_MAX_ABS_DIFF = 1e-4
FP16_MIN_COSINE = 0.99
TOLERANCES = {
    "fp32_vs_torch_min_cosine": FP32_MIN_COSINE,
    "fp32_vs_torch_max_abs_diff": FP32_MAX_ABS_DIFF,
    "fp16_vs_fp32_min_cosine": FP16_MIN_COSINE,
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

    if not args.force and not needs_export(out, up_to_date(out, src), source=str(src)):
        return 0

    # Everything comes from the checkpoint folder.
    hub_offline()

    with work_folder(out) as work:
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
        image32 = OnnxRunner(work / FILES["fp32"]["image"], IMAGE_OUTPUT)
        text32 = OnnxRunner(work / FILES["fp32"]["text"], TEXT_OUTPUT)
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
        img16_single, img16_batch = run_image(OnnxRunner(work / FILES["fp16"]["image"], IMAGE_OUTPUT), pixels)
        txt16_single, txt16_batch = run_text(OnnxRunner(work / FILES["fp16"]["text"], TEXT_OUTPUT), id_lists, pad_id)
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
        }
        return publish(
            work, out, manifest, export_format=EXPORT_FORMAT, files_key="checksums", files=checksums, started=t0
        )


if __name__ == "__main__":
    sys.exit(main())
