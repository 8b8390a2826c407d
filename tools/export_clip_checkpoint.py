"""Reading a Hugging Face transformers CLIP checkpoint folder without torch: config and image processor.

Part of tools/export_clip.py (run in the export venv); NotAClipCheckpoint says why a folder cannot be exported.
"""

from __future__ import annotations

import json
import pathlib

_RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


class NotAClipCheckpoint(Exception):
    pass


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
