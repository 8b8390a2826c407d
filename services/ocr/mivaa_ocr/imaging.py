"""Decoding page images (PNG, JPEG, TIFF) with limits, and small pixel helpers shared by the engines."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from mivaa_ocr.errors import DOMAIN, image_too_large, image_unreadable
from mivaa_platform.errors import InvalidArgument

FORMATS = ("PNG", "JPEG", "TIFF")
DEFAULT_MAX_PIXELS = 60_000_000


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # "L" or "RGB"
    format: str
    dpi: int  # from the caller, else from the file, else 0


def decode(data: bytes, *, dpi: int = 0, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decodes the first frame; IMAGE_UNREADABLE / IMAGE_TOO_LARGE / IMAGE_FORMAT_UNSUPPORTED as domain errors."""
    if not data:
        raise image_unreadable("the image is empty")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: the size check below decides
        try:
            image = Image.open(io.BytesIO(data))
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise image_unreadable("not a PNG, JPEG or TIFF image") from None
        except Image.DecompressionBombError:
            raise image_too_large(0, 0, max_pixels) from None
        if image.format not in FORMATS:
            raise InvalidArgument(
                "IMAGE_FORMAT_UNSUPPORTED",
                f"{image.format} images are not accepted; send PNG, JPEG or TIFF.",
                domain=DOMAIN,
                metadata={"format": str(image.format), "accepted": ",".join(FORMATS)},
            )
        width, height = image.size
        if width <= 0 or height <= 0:
            raise image_unreadable("the image has no pixels")
        if width * height > max_pixels:
            raise image_too_large(width, height, max_pixels)
        try:
            image.load()
        except Image.DecompressionBombError:
            raise image_too_large(width, height, max_pixels) from None
        except (OSError, ValueError, SyntaxError, EOFError):
            raise image_unreadable("the image data is truncated or corrupt") from None
    file_dpi = 0
    info_dpi = image.info.get("dpi")
    if isinstance(info_dpi, tuple) and info_dpi and info_dpi[0]:
        try:
            file_dpi = int(round(float(info_dpi[0])))
        except (TypeError, ValueError):
            file_dpi = 0
    return DecodedImage(image=normalise_mode(image), format=image.format, dpi=dpi if dpi > 0 else file_dpi)


def normalise_mode(image: Image.Image) -> Image.Image:
    """L or RGB; transparency composited onto white; 16-bit and 1-bit scaled to 8-bit."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("1",):
        return image.convert("L")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        pixels = np.asarray(image, dtype=np.float64)
        top = pixels.max() or 1.0
        return Image.fromarray((pixels * (255.0 / (65535.0 if top > 255 else 255.0))).clip(0, 255).astype(np.uint8))
    if image.mode in ("LA", "RGBA", "PA", "P") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def gray(image: Image.Image, max_side: int | None = None) -> tuple[np.ndarray, float]:
    """Grayscale pixels, downscaled so the long side is at most max_side; returns (pixels, scale)."""
    scale = 1.0
    if max_side and max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BILINEAR
        )
    return np.asarray(image.convert("L"), dtype=np.uint8), scale


def otsu_threshold(pixels: np.ndarray) -> int:
    histogram = np.bincount(pixels.ravel(), minlength=256).astype(np.float64)
    total = histogram.sum()
    if total == 0:
        return 128
    levels = np.arange(256)
    weight0 = np.cumsum(histogram)
    weight1 = total - weight0
    mean0 = np.cumsum(histogram * levels)
    mean_total = mean0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_total * weight0 / total - mean0) ** 2 / (weight0 * weight1)
    between[~np.isfinite(between)] = 0
    return int(np.argmax(between))


def ink_mask(pixels: np.ndarray) -> np.ndarray:
    """Dark-on-light ink as booleans (Otsu); an almost uniform image has no ink."""
    if int(pixels.max()) - int(pixels.min()) < 32:
        return np.zeros(pixels.shape, dtype=bool)
    mask = pixels < otsu_threshold(pixels)
    if mask.mean() > 0.5:  # light text on a dark background
        mask = ~mask
    return mask


def content_bounds(image: Image.Image, margin: int = 24) -> tuple[int, int, int, int] | None:
    """The box around all ink plus a margin, in full-resolution pixels; None for a blank image."""
    pixels, scale = gray(image, 1200)
    mask = ink_mask(pixels)
    # ignore isolated specks (noise): keep rows/columns with a few ink pixels
    rows = np.flatnonzero(mask.sum(axis=1) >= 2)
    cols = np.flatnonzero(mask.sum(axis=0) >= 2)
    if rows.size == 0 or cols.size == 0:
        return None
    x0 = max(0, int(cols[0] / scale) - margin)
    y0 = max(0, int(rows[0] / scale) - margin)
    x1 = min(image.width, int((cols[-1] + 1) / scale) + margin)
    y1 = min(image.height, int((rows[-1] + 1) / scale) + margin)
    return x0, y0, x1, y1
