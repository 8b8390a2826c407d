"""CLIP image decoding and preprocessing: clear errors, colour modes, EXIF, and pixels equal to
transformers' CLIPImageProcessor.

The reference pixel arrays come from transformers' CLIPImageProcessor run by the export venv in a
subprocess (this venv has no torch or transformers); those tests skip when the export venv or its
Pillow is missing.
"""

from __future__ import annotations

import io
import json
import textwrap

import numpy as np
import pytest
from PIL import Image

from mivaa_embedder.images import ClipPreprocess, decode_image
from mivaa_platform.errors import InvalidArgument
from tests.embedder.clip_fixture import ExportVenvMissing, run_export_python
from tests.embedder.clip_support import (
    png_header_only,
    reference_images,
    scene,
)
from tests.support.pictures import encode

# What transformers' PIL backend computes, we compute: the same Pillow resize, the same float ops.
EXACT_BOUND = 1e-6
# transformers 5's default CLIPImageProcessor resizes with torchvision (antialiased bicubic in
# float, rounded once) where Pillow rounds between its two passes: up to 2 uint8 levels apart,
# 2 / 255 / min(std) = 0.030 after normalisation, on a few pixels (mean ~1e-4).
TORCHVISION_BOUND = 0.035


def test_decode_errors_are_clear(clip):
    with pytest.raises(InvalidArgument) as err:
        clip.preprocess_image(b"GIF89a but then nothing")
    assert err.value.reason == "IMAGE_UNREADABLE"
    with pytest.raises(InvalidArgument) as err:
        clip.preprocess_image(b"")
    assert err.value.reason == "IMAGE_UNREADABLE" and "empty" in err.value.message
    with pytest.raises(InvalidArgument) as err:
        clip.preprocess_image(b"\x00\x01garbage" * 10)
    assert err.value.reason == "IMAGE_UNREADABLE" and "PNG, JPEG" in err.value.message


def test_decompression_bombs_are_refused_before_decoding():
    # Over our limit (checked from the header): the size is named.
    with pytest.raises(InvalidArgument) as err:
        decode_image(png_header_only(10_000, 6_000), max_pixels=50_000_000)
    assert err.value.reason == "IMAGE_TOO_LARGE"
    assert (err.value.metadata["width"], err.value.metadata["height"]) == ("10000", "6000")
    # Far over Pillow's own limit: refused while opening.
    with pytest.raises(InvalidArgument) as err:
        decode_image(png_header_only(100_000, 100_000))
    assert err.value.reason == "IMAGE_TOO_LARGE"
    # The limit is the model's setting.
    with pytest.raises(InvalidArgument) as err:
        decode_image(encode(scene(200, 100, 1)), max_pixels=10_000)
    assert err.value.reason == "IMAGE_TOO_LARGE" and err.value.metadata["max_pixels"] == "10000"


def test_colour_modes_become_rgb_like_clip_expects():
    # Transparency is composited on white.
    clear = Image.new("RGBA", (20, 10), (255, 0, 0, 0))
    assert np.asarray(decode_image(encode(clear))).min() == 255
    half = Image.new("LA", (20, 10), (0, 128))
    assert decode_image(encode(half)).mode == "RGB"
    assert np.abs(np.asarray(decode_image(encode(half))).astype(int) - 127).max() <= 1
    # CMYK, bilevel, palette and grey images come out as RGB.
    for image in (
        scene(30, 20, 1).convert("CMYK"),
        scene(30, 20, 2).convert("1"),
        scene(30, 20, 3).convert("P"),
        scene(30, 20, 4).convert("L"),
    ):
        fmt = "JPEG" if image.mode == "CMYK" else "PNG"
        decoded = decode_image(encode(image, fmt))
        assert decoded.mode == "RGB" and decoded.size == (30, 20)
    # 16-bit grey is scaled to 8 bits, not clipped at 255 (Pillow's own convert clips).
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (4, 1))
    decoded = np.asarray(decode_image(encode(Image.fromarray(ramp))))[..., 0].astype(int)
    assert np.abs(decoded - np.rint(ramp / 257)).max() <= 1 and decoded.max() == 255 and decoded[0, 128] == 128
    # An animation gives its first frame.
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    animated = io.BytesIO()
    frames[0].save(animated, "GIF", save_all=True, append_images=frames[1:])
    assert tuple(np.asarray(decode_image(animated.getvalue()))[8, 8]) == (255, 0, 0)


def test_exif_orientation_is_applied():
    upright = scene(300, 400, 16)
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # what a camera stores for orientation 6
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode_image(encode(sideways, "JPEG", quality=95, exif=exif.tobytes()))
    assert decoded.size == (300, 400)

    def distance(a: Image.Image, b: Image.Image) -> float:  # on thumbnails: JPEG noise averages out
        small = [np.asarray(x.resize((30, 40), Image.Resampling.BOX)).astype(float) for x in (a, b)]
        return float(np.abs(small[0] - small[1]).mean())

    assert distance(decoded, upright) < 2
    assert distance(decoded, upright.rotate(180)) > 10 * distance(decoded, upright)


def test_preprocess_shapes_and_crop_padding():
    pre = ClipPreprocess(resize_shortest_edge=48, crop_height=56, crop_width=40)
    assert pre.resized_size(640, 480) == (64, 48) and pre.resized_size(333, 517) == (48, 74)
    pixels = pre(scene(640, 480, 1))
    assert pixels.shape == (3, 56, 40) and pixels.dtype == np.float32
    # Rows outside the resized image are zero before normalisation: (0 - mean) / std.
    np.testing.assert_allclose(pixels[:, 0, 0], -np.array(pre.mean) / np.array(pre.std), rtol=1e-6)


EXPORT_REFERENCE = textwrap.dedent(
    """
    import json, pathlib, sys
    import numpy as np
    try:
        from PIL import Image, ImageOps
    except ImportError:
        sys.exit(3)
    import transformers
    from transformers import CLIPImageProcessorPil
    from transformers.utils import is_torchvision_available
    src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    report = {"transformers": transformers.__version__, "backends": []}
    for cfg_file in sorted(src.glob("*.json")):
        pre = json.loads(cfg_file.read_text())
        kw = dict(size={"shortest_edge": pre["resize_shortest_edge"]},
                  crop_size={"height": pre["crop_height"], "width": pre["crop_width"]},
                  image_mean=pre["mean"], image_std=pre["std"], rescale_factor=pre["rescale_factor"],
                  resample=3, do_convert_rgb=True, do_resize=True, do_center_crop=True)
        processors = {"pil": CLIPImageProcessorPil(**kw)}
        if is_torchvision_available():
            processors["torchvision"] = transformers.CLIPImageProcessor(**kw)
        report["backends"] = sorted(processors)
        for image_file in sorted((src / "images").iterdir()):
            # transformers.image_utils.load_image applies the EXIF orientation the same way.
            image = ImageOps.exif_transpose(Image.open(image_file))
            for backend, processor in processors.items():
                out = processor(images=image, return_tensors="np")["pixel_values"][0]
                np.save(dst / f"{cfg_file.stem}.{image_file.name}.{backend}.npy", out)
    print(json.dumps(report))
    """
)


def test_preprocessing_equals_transformers_clip_image_processor(tmp_path, clip, clip_dir):
    src, dst = tmp_path / "src", tmp_path / "ref"
    (src / "images").mkdir(parents=True)
    dst.mkdir()
    samples = reference_images()
    for name, data in samples.items():
        (src / "images" / name).write_bytes(data)
    configs = {
        "fixture": ClipPreprocess.from_file(clip_dir / "preprocess.json"),
        "openai-224": ClipPreprocess(resize_shortest_edge=224, crop_height=224, crop_width=224),
        "padded": ClipPreprocess(resize_shortest_edge=48, crop_height=56, crop_width=40),
    }
    for name, config in configs.items():
        fields = {k: v for k, v in vars(config).items()}
        (src / f"{name}.json").write_text(json.dumps({**fields, "mean": list(config.mean), "std": list(config.std)}))
    try:
        result = run_export_python(["-c", EXPORT_REFERENCE, str(src), str(dst)])
    except ExportVenvMissing as exc:
        pytest.skip(str(exc))
    if result.returncode == 3:
        pytest.skip(
            "the export venv has no Pillow, which CLIPImageProcessor needs: .cache/export-venv/bin/pip install pillow"
        )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    worst: dict[str, float] = {}
    for config_name, config in configs.items():
        for image_name, data in samples.items():
            ours = config(decode_image(data))
            for backend in report["backends"]:
                reference = np.load(dst / f"{config_name}.{image_name}.{backend}.npy")
                assert reference.shape == ours.shape, (config_name, image_name, backend)
                diff = np.abs(reference.astype(np.float64) - ours)
                worst[backend] = max(worst.get(backend, 0.0), float(diff.max()))
                bound = EXACT_BOUND if backend == "pil" else TORCHVISION_BOUND
                assert diff.max() <= bound, f"{config_name}/{image_name} vs {backend}: max |diff| {diff.max():.3g}"
                if backend != "pil":
                    assert diff.mean() < 1e-3
    print(f"preprocessing vs transformers {report['transformers']}: max |diff| {worst}")
    # The model's own preprocessing is the fixture config.
    assert np.array_equal(
        clip.preprocess_image(samples["photo.jpg"]), configs["fixture"](decode_image(samples["photo.jpg"]))
    )
