"""A picture to analyse: its properties, its pixels and its dominant colours.

Decoding and its limits are the picture reader's (mivaa_extractor.picture_reader), as for uploads
and thumbnails; this module adds what analysis takes (GIF and BMP besides PNG, JPEG and TIFF; the
first frame of several) and what it reports of the picture."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from mivaa_extractor import picture_reader
from mivaa_extractor.picture_reader import BMP, GIF, PictureLimits
from mivaa_platform.errors import InvalidArgument

DOMAIN = "images.mivaa"
# Colours are counted on a copy at most this large (either side): plenty for shares of the pixels.
COLOR_SAMPLE_SIDE = 128
# What a file that states no resolution is taken to have (MuPDF's and the browsers' default).
DEFAULT_DPI = 96.0
# Pillow's modes by the colour space reported; any other mode (RGB, RGBA, a palette, YCbCr...) is RGB.
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


@dataclass(frozen=True)
class AnalysisLimits:
    max_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class Properties:
    format: str
    mime_type: str
    width: int
    height: int
    size_bytes: int
    color_space: str
    bits_per_channel: int
    has_alpha: bool
    # The resolution the file states, 96 when it states none.
    file_dpi: tuple[float, float]


@dataclass(frozen=True)
class Color:
    rgb: tuple[int, int, int]
    fraction: float

    @property
    def hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)


@dataclass(frozen=True)
class Picture:
    """A decoded picture: its properties and its pixels as an RGB array (height x width x 3, uint8)."""

    properties: Properties
    rgb: np.ndarray
    png: bytes


def read_picture(data: bytes, limits: AnalysisLimits) -> Picture:
    """Decodes `data` within the limits, or raises IMAGE_INVALID / IMAGE_TOO_LARGE (CPU work: call off the loop).

    The signature picks the format and the header's size is checked against max_pixels before a
    pixel is decoded; a damaged file (truncated, a header that does not match its data) is refused.
    """
    if not data:
        raise picture_reader.invalid(DOMAIN, "The image is empty.")
    if len(data) > limits.max_bytes:
        raise InvalidArgument(
            "IMAGE_TOO_LARGE",
            f"The image is larger than {limits.max_bytes} bytes.",
            domain=DOMAIN,
            metadata={"limit": str(limits.max_bytes)},
        )
    picture_format = picture_reader.sniff(data[: picture_reader.SNIFF_BYTES])
    if picture_format is None:
        raise picture_reader.invalid(DOMAIN, "The bytes are not a PNG, JPEG, TIFF, GIF or BMP picture.")
    # No limit on a side of its own: any shape within max_pixels is analysed.
    reader_limits = PictureLimits(max_pixels=limits.max_pixels, max_side_px=limits.max_pixels, max_frames=1)
    decoded = picture_reader.decode_first_frame(data, picture_format, reader_limits, domain=DOMAIN)
    image = decoded.image
    alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    gray = image.mode in _GRAY_MODES
    properties = Properties(
        format=picture_format.name,
        mime_type=picture_format.media_type,
        width=decoded.width,
        height=decoded.height,
        size_bytes=len(data),
        color_space="CMYK" if image.mode == "CMYK" else "grayscale" if gray else "RGBA" if alpha else "RGB",
        bits_per_channel=8,
        has_alpha=alpha,
        file_dpi=_file_dpi(image),
    )
    rgb = _rgb(image)
    return Picture(properties, rgb, _png(rgb) if picture_format in (GIF, BMP) else data)


def _file_dpi(image: Image.Image) -> tuple[float, float]:
    """The resolution the file states (to a whole dot per inch, as MuPDF reads it), else DEFAULT_DPI."""
    try:
        x, y = (float(value) for value in image.info.get("dpi", (0, 0)))
    except (TypeError, ValueError):
        x = y = 0.0
    return (float(round(x)) if x >= 1 else DEFAULT_DPI, float(round(y)) if y >= 1 else DEFAULT_DPI)


def _rgb(image: Image.Image) -> np.ndarray:
    """The pixels as RGB, 8 bits a channel (alpha dropped, 16-bit grey scaled down rather than clipped)."""
    if image.mode.startswith("I;16"):
        gray = (np.asarray(image, dtype=np.uint16) >> 8).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    return np.asarray(image.convert("RGB"))


def _png(rgb: np.ndarray) -> bytes:
    """What OCR reads of a GIF or BMP."""
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return out.getvalue()


def dominant_colors(picture: Picture, count: int) -> list[Color]:
    """The `count` main colours by median cut, most common first, with their share of the pixels.

    Median cut splits the colour box with the widest spread at its median until there are `count`
    boxes; each colour is its box's mean. A picture of one colour gives that colour alone, at its
    exact value and a share of 1.
    """
    height, width, _ = picture.rgb.shape
    step = max(1, -(-max(height, width) // COLOR_SAMPLE_SIDE))
    pixels = picture.rgb[::step, ::step].reshape(-1, 3).astype(np.int32)
    boxes = [pixels]
    while len(boxes) < count:
        spreads = [int((box.max(axis=0) - box.min(axis=0)).max()) if len(box) > 1 else 0 for box in boxes]
        widest = int(np.argmax(spreads))
        if spreads[widest] == 0:
            break
        box = boxes.pop(widest)
        channel = int(np.argmax(box.max(axis=0) - box.min(axis=0)))
        ordered = box[np.argsort(box[:, channel], kind="stable")]
        middle = len(ordered) // 2
        # Split between different values, so that a box of one colour never straddles two.
        values = ordered[:, channel]
        while 0 < middle < len(values) and values[middle] == values[middle - 1]:
            middle += 1
        if middle >= len(values):
            middle = int(np.searchsorted(values, values[len(values) // 2], side="left"))
        boxes += [ordered[:middle], ordered[middle:]]
    total = len(pixels)
    merged: dict[tuple[int, int, int], int] = {}
    for box in boxes:
        mean = np.rint(box.mean(axis=0)).astype(int)
        key = (int(mean[0]), int(mean[1]), int(mean[2]))
        merged[key] = merged.get(key, 0) + len(box)
    colors = [Color(rgb, n / total) for rgb, n in sorted(merged.items(), key=lambda item: -item[1])]
    return colors[:count]


def placed_dpi(width_px: int, height_px: int, width_points: float, height_points: float) -> tuple[float, float]:
    """Pixels per inch of an image drawn `width_points` x `height_points` (1/72 inch) on a page."""

    def per_inch(pixels: int, points: float) -> float:
        return round(pixels * 72.0 / points, 1) if points > 0 else 0.0

    return per_inch(width_px, width_points), per_inch(height_px, height_points)
