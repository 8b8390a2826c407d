"""Images as CLIP's image tower wants them: decoded with limits, made 8-bit RGB, preprocessed in numpy.

Images are decoded with Pillow (any format it reads; EXIF orientation applied; palette,
alpha, CMYK and 16-bit images made 8-bit RGB, transparency composited on white) and
preprocessed in numpy exactly as transformers' CLIPImageProcessor (PIL backend) does:
bicubic resize of the shortest edge, center crop, rescale, normalise.

Domain code: no torch, no grpc. Failures are mivaa_platform.errors exceptions.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import pathlib

import numpy as np

from mivaa_embedder.settings import DEFAULT_MAX_IMAGE_PIXELS
from mivaa_embedder.text_model import DOMAIN, model_invalid
from mivaa_platform.errors import InvalidArgument

log = logging.getLogger("mivaa.embedder.clip")

FORMATS_HINT = "PNG, JPEG, WebP, GIF, BMP or TIFF"
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


# -- decoding -----------------------------------------------------------------


def _unreadable(message: str, **metadata: str) -> InvalidArgument:
    return InvalidArgument("IMAGE_UNREADABLE", message, domain=DOMAIN, metadata=metadata)


def _too_large(width: int | None, height: int | None, max_pixels: int) -> InvalidArgument:
    if width is None or height is None:  # Pillow refused the header's size before we saw it
        size, metadata = "far larger than that", {}
    else:
        size, metadata = f"{width}x{height} pixels", {"width": str(width), "height": str(height)}
    return InvalidArgument(
        "IMAGE_TOO_LARGE",
        f"The image is {size}; at most {max_pixels} pixels are decoded (scale it down first).",
        domain=DOMAIN,
        metadata={**metadata, "max_pixels": str(max_pixels)},
    )


def _to_8bit(image):
    """16-bit and 32-bit grey images as 8-bit "L" (Pillow's own conversion would clip at 255)."""
    from PIL import Image

    if image.mode in _SIXTEEN_BIT_MODES or image.mode == "I":
        values = np.asarray(image)
        if image.mode == "I" and values.size and values.max() <= 255 and values.min() >= 0:
            scaled = values
        else:
            scaled = np.rint(values.astype(np.float64) / 257.0)
        return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), "L")
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        if values.size and values.min() >= 0.0 and values.max() <= 1.0:
            values = values * 255.0
        return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), "L")
    return image


def _to_rgb(image):
    """RGB the way transformers' convert_to_rgb does it: transparency composited on white."""
    from PIL import Image

    image = _to_8bit(image)
    if "A" in image.getbands() or image.info.get("transparency") is not None:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS):
    """Encoded image bytes -> an 8-bit RGB PIL image, upright per its EXIF orientation.

    Animated and multi-page files give their first frame. Raises InvalidArgument
    IMAGE_UNREADABLE (not an image, truncated, unsupported colour mode) or
    IMAGE_TOO_LARGE (more than max_pixels, checked from the header before decoding).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise _unreadable(f"The image must be bytes, not {type(data).__name__}.")
    if len(data) == 0:
        raise _unreadable("The image is empty (0 bytes).")
    try:
        image: Image.Image = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError:
        raise _too_large(None, None, max_pixels) from None
    except UnidentifiedImageError:
        raise _unreadable(f"The bytes are not an image in a format the embedder reads ({FORMATS_HINT}).") from None
    except Exception:  # noqa: BLE001 - Pillow raises many types for broken headers
        raise _unreadable("The image header is corrupt.") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise _unreadable(f"The image has no pixels ({width}x{height}).")
    if width * height > max_pixels:
        raise _too_large(width, height, max_pixels)
    try:
        image.load()
    except Image.DecompressionBombError:
        raise _too_large(width, height, max_pixels) from None
    except MemoryError:
        raise _too_large(width, height, max_pixels) from None
    except Exception:  # noqa: BLE001 - truncated or corrupt data: OSError, SyntaxError, ValueError, ...
        raise _unreadable(
            f"The {image.format or 'image'} data is truncated or corrupt.", format=str(image.format or "")
        ) from None
    try:
        upright = ImageOps.exif_transpose(image)
        if upright is not None:
            image = upright
    except Exception:  # noqa: BLE001 - a broken EXIF block does not spoil the pixels
        log.debug("ignoring unreadable EXIF orientation")
    try:
        return _to_rgb(image)
    except Exception:  # noqa: BLE001 - e.g. a colour mode Pillow cannot convert
        raise _unreadable(
            f"The image's colour mode {image.mode} cannot be converted to RGB.", mode=str(image.mode)
        ) from None


# -- preprocessing ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ClipPreprocess:
    """CLIPImageProcessor's steps, from preprocess.json, on a PIL RGB image (numpy + Pillow only).

    Bit for bit what transformers' PIL backend does: the shortest edge is resized to
    resize_shortest_edge (the long edge to int(S * long / short)) with Pillow's resampling,
    the center crop takes rows (H - crop_height) // 2 on (zero padding when the image is
    smaller), uint8 * rescale_factor is computed in float64 and stored as float32, and
    (x - mean) / std in float32.
    """

    resize_shortest_edge: int
    crop_height: int
    crop_width: int
    resample: str = "bicubic"
    rescale_factor: float = 1 / 255
    # Three values each (one per RGB channel); from_file checks the length of what it reads.
    mean: tuple[float, ...] = (0.48145466, 0.4578275, 0.40821073)
    std: tuple[float, ...] = (0.26862954, 0.26130258, 0.27577711)
    convert_rgb: bool = True

    _RESAMPLE = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")

    @classmethod
    def from_file(cls, path: pathlib.Path) -> ClipPreprocess:
        root = path.parent
        try:
            raw = json.loads(path.read_text())
            config = cls(
                resize_shortest_edge=int(raw["resize_shortest_edge"]),
                crop_height=int(raw["crop_height"]),
                crop_width=int(raw["crop_width"]),
                resample=str(raw.get("resample", "bicubic")).lower(),
                rescale_factor=float(raw.get("rescale_factor", 1 / 255)),
                mean=tuple(float(v) for v in raw.get("mean", cls.mean)),
                std=tuple(float(v) for v in raw.get("std", cls.std)),
                convert_rgb=bool(raw.get("convert_rgb", True)),
            )
        except (OSError, ValueError, KeyError, TypeError):
            raise model_invalid(root, f"{path} is not a readable preprocessing config.", file=path.name) from None
        if (
            min(config.resize_shortest_edge, config.crop_height, config.crop_width) < 1
            or len(config.mean) != 3
            or len(config.std) != 3
            or min(config.std) <= 0
            or config.resample not in cls._RESAMPLE
        ):
            raise model_invalid(root, f"{path} has out-of-range values.", file=path.name)
        return config

    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) after the shortest-edge resize, as transformers computes it."""
        size = self.resize_shortest_edge
        short, long = (width, height) if width <= height else (height, width)
        new_long = int(size * long / short)
        return (size, new_long) if width <= height else (new_long, size)

    def __call__(self, image) -> np.ndarray:
        """An RGB PIL image -> float32 [3, crop_height, crop_width]."""
        from PIL import Image

        resample = getattr(Image.Resampling, self.resample.upper())
        image = image.resize(self.resized_size(*image.size), resample=resample)
        pixels = self._center_crop(np.asarray(image))
        scaled = (pixels.astype(np.float64) * self.rescale_factor).astype(np.float32)
        normalised = (scaled - np.asarray(self.mean, dtype=np.float32)) / np.asarray(self.std, dtype=np.float32)
        return np.ascontiguousarray(normalised.transpose(2, 0, 1), dtype=np.float32)

    def _center_crop(self, pixels: np.ndarray) -> np.ndarray:
        height, width = pixels.shape[:2]
        ch, cw = self.crop_height, self.crop_width
        top, left = (height - ch) // 2, (width - cw) // 2
        if top >= 0 and left >= 0:
            return pixels[top : top + ch, left : left + cw]
        # Smaller than the crop: zero-padded, centred the way transformers pads.
        new_h, new_w = max(ch, height), max(cw, width)
        padded = np.zeros((new_h, new_w, pixels.shape[2]), dtype=pixels.dtype)
        top_pad, left_pad = -(-(new_h - height) // 2), -(-(new_w - width) // 2)
        padded[top_pad : top_pad + height, left_pad : left_pad + width] = pixels
        top, left = top + top_pad, left + left_pad
        return padded[max(0, top) : min(new_h, top + ch), max(0, left) : min(new_w, left + cw)]
