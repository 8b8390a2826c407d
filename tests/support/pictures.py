"""Generated pictures with clearly different content, and lightly edited copies: ground truth for image search."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw


def encode(image: Image.Image, fmt: str = "PNG", **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def gallery(n: int = 20, size: tuple[int, int] = (160, 120)) -> list[bytes]:
    """n PNGs with clearly different content: stripes, checkerboards, gradients, textures, shapes."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    images = []
    for i in range(n):
        rng = np.random.default_rng(1000 + i)
        c1, c2 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        kind = i % 5
        if kind == 0:
            angle, freq = rng.uniform(0, np.pi), rng.uniform(0.05, 0.3)
            arr = np.where((np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * freq) > 0)[..., None], c1, c2)
        elif kind == 1:
            step = int(rng.integers(6, 30))
            arr = np.where((((xx // step) + (yy // step)) % 2 == 0)[..., None], c1, c2)
        elif kind == 2:
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)[..., None] / max(w, h)
            arr = c1 * (1 - d) + c2 * d
        elif kind == 3:
            small = rng.integers(0, 256, (h // 16 + 1, w // 16 + 1, 3)).astype(np.uint8)
            arr = np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC))
        else:
            image = Image.new("RGB", (w, h), tuple(int(v) for v in c2))
            draw = ImageDraw.Draw(image)
            for _ in range(6):
                x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
                box = [x0, y0, x0 + int(rng.integers(10, w // 2)), y0 + int(rng.integers(10, h // 2))]
                fill = tuple(int(v) for v in rng.integers(0, 256, 3))
                (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
            arr = np.asarray(image)
        images.append(encode(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))))
    return images


def resized_copy(data: bytes, factor: float = 0.9) -> bytes:
    image = Image.open(io.BytesIO(data))
    return encode(image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS))


def jpeg_copy(data: bytes, quality: int = 85) -> bytes:
    return encode(Image.open(io.BytesIO(data)).convert("RGB"), "JPEG", quality=quality)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height over one tiny compressed row: a lying header (or a bomb's)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    )
