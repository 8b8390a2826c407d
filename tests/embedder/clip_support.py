"""What the CLIP tests share: pictures that exercise the decoder, and models folders built from the tiny export."""

from __future__ import annotations

import pathlib
import shutil
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw

from tests.support.pictures import encode

REPO = pathlib.Path(__file__).resolve().parents[2]
TEXT_MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"
SERVICE = "mivaa.embedder.v1.EmbedderService"


def scene(width: int, height: int, seed: int) -> Image.Image:
    """A noisy picture of overlapping ellipses (content every resampling filter notices)."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        draw.ellipse(
            [x0, y0, x0 + int(rng.integers(5, width)), y0 + int(rng.integers(5, height))],
            fill=tuple(int(v) for v in rng.integers(0, 256, 3)),
        )
    noise = rng.integers(-20, 20, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image).astype(int) + noise, 0, 255).astype(np.uint8))


def reference_images() -> dict[str, bytes]:
    """Every format and colour mode the decoder handles, at sizes that exercise resize and crop."""
    alpha = scene(300, 240, 13).convert("RGBA")
    mask = np.zeros((240, 300), np.uint8)
    mask[:, :150] = 255
    mask[60:180, 150:] = 128
    alpha.putalpha(Image.fromarray(mask))
    palette = scene(160, 160, 14).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    return {
        "landscape.png": encode(scene(640, 480, 1)),
        "portrait.png": encode(scene(333, 517, 2)),
        "square.png": encode(scene(224, 224, 3)),
        "tiny.png": encode(scene(17, 9, 4)),
        "wide.png": encode(scene(1000, 120, 5)),
        "photo.jpg": encode(scene(800, 600, 6), "JPEG", quality=90),
        "image.webp": encode(scene(300, 200, 7), "WEBP", quality=80),
        "image.bmp": encode(scene(250, 260, 8), "BMP"),
        "image.tiff": encode(scene(210, 330, 9), "TIFF"),
        "grey.png": encode(scene(120, 90, 10).convert("L")),
        "cmyk.jpg": encode(scene(120, 90, 11).convert("CMYK"), "JPEG"),
        "bilevel.png": encode(scene(100, 140, 12).convert("1")),
        "alpha.png": encode(alpha),
        "palette-transparent.gif": encode(palette, "GIF", transparency=3),
        "grey-alpha.png": encode(scene(90, 200, 15).convert("LA")),
        "exif-rotated.jpg": encode(scene(400, 300, 16), "JPEG", quality=92, exif=exif.tobytes()),
    }


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries one row of data: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def models_dir_with(
    tmp_path: pathlib.Path, clip_dir: pathlib.Path, *, text: bool = True, clip_name: str = "tiny-clip"
) -> pathlib.Path:
    """A models folder of symlinks: the CLIP export (and the text model, when exported)."""
    root = tmp_path / "models"
    root.mkdir(exist_ok=True)
    (root / clip_name).symlink_to(clip_dir, target_is_directory=True)
    if text and (TEXT_MODEL_DIR / "manifest.json").is_file():
        (root / TEXT_MODEL_DIR.name).symlink_to(TEXT_MODEL_DIR, target_is_directory=True)
    return root


def copy_export(src: pathlib.Path, dst: pathlib.Path) -> pathlib.Path:
    shutil.copytree(src, dst)
    return dst
