"""Reading a picture safely, its properties and its dominant colours (Pillow and numpy)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from mivaa_platform.errors import InvalidArgument

DOMAIN = "images.mivaa"
# Formats a caller may send, by Pillow's name, with their media types.
FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "TIFF": "image/tiff",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
}
# The file signatures of those formats: bytes that start otherwise are refused before any decoder sees them.
SIGNATURES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"II*\x00",
    b"MM\x00*",
    b"GIF87a",
    b"GIF89a",
    b"BM",
)
COLOR_SPACES = {
    "1": "bilevel",
    "L": "grayscale",
    "LA": "grayscale",
    "I;16": "grayscale",
    "I;16B": "grayscale",
    "I": "grayscale",
    "F": "grayscale",
    "P": "palette",
    "PA": "palette",
    "RGB": "RGB",
    "RGBA": "RGBA",
    "RGBX": "RGB",
    "CMYK": "CMYK",
    "YCbCr": "YCbCr",
    "LAB": "LAB",
    "HSV": "HSV",
}
BITS = {"1": 1, "I;16": 16, "I;16B": 16, "I": 32, "F": 32}
# Colours are counted on a copy at most this large (either side): plenty for shares of the pixels.
COLOR_SAMPLE_SIDE = 128


@dataclass(frozen=True)
class PictureLimits:
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
    """A decoded picture: its properties and its pixels as RGB (the first frame of a multi-frame file)."""

    properties: Properties
    rgb: Image.Image


def _invalid(message: str) -> InvalidArgument:
    return InvalidArgument("IMAGE_INVALID", message, domain=DOMAIN)


def _too_large(message: str, limit: int) -> InvalidArgument:
    return InvalidArgument("IMAGE_TOO_LARGE", message, domain=DOMAIN, metadata={"limit": str(limit)})


def read_picture(data: bytes, limits: PictureLimits) -> Picture:
    """Decodes `data` within the limits, or raises IMAGE_INVALID / IMAGE_TOO_LARGE (CPU work: call off the loop)."""
    if not data:
        raise _invalid("The image is empty.")
    if len(data) > limits.max_bytes:
        raise _too_large(f"The image is larger than {limits.max_bytes} bytes.", limits.max_bytes)
    webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if not (webp or data.startswith(SIGNATURES)):
        raise _invalid("The bytes are not a PNG, JPEG, TIFF, GIF, WebP or BMP picture.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            # The header's dimensions, checked before a single pixel is decoded.
            width, height = image.size
            if width < 1 or height < 1:
                raise _invalid("The image has no pixels.")
            if width * height > limits.max_pixels:
                raise _too_large(
                    f"The image has {width}x{height} pixels, more than {limits.max_pixels}.", limits.max_pixels
                )
            if image.format not in FORMATS:
                raise _invalid("The bytes are not a PNG, JPEG, TIFF, GIF, WebP or BMP picture.")
            image.load()
    except InvalidArgument:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large("The image decodes to too many pixels.", limits.max_pixels) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        # A truncated file, a header that lies about its data, a broken stream.
        raise _invalid("The image could not be decoded.") from exc
    mode = image.mode
    dpi = image.info.get("dpi") or (0.0, 0.0)
    properties = Properties(
        format=image.format,
        mime_type=FORMATS[image.format],
        width=width,
        height=height,
        size_bytes=len(data),
        color_space=COLOR_SPACES.get(mode, mode),
        bits_per_channel=BITS.get(mode, 8),
        has_alpha=mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info),
        file_dpi=(_positive(dpi[0]), _positive(dpi[1])),
    )
    return Picture(properties, image.convert("RGB"))


def _positive(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return round(number, 2) if number > 0 else 0.0


def dominant_colors(picture: Picture, count: int) -> list[Color]:
    """The `count` main colours by median cut, most common first, with their share of the pixels.

    Median cut splits the colour cube where the pixels are; a picture of one colour gives that
    colour alone, at its exact value and a share of 1.
    """
    sample = picture.rgb.copy()
    sample.thumbnail((COLOR_SAMPLE_SIDE, COLOR_SAMPLE_SIDE), Image.Resampling.NEAREST)
    quantized = sample.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    palette: list[int] = [int(v) for v in quantized.getpalette() or []]
    counts = quantized.getcolors(maxcolors=256) or []
    total = sum(n for n, _ in counts) or 1
    colors = []
    for n, index in sorted(counts, key=lambda item: -item[0]):
        i = int(index)  # type: ignore[call-overload]  # a palette index in a "P" image
        colors.append(Color(rgb=(palette[3 * i], palette[3 * i + 1], palette[3 * i + 2]), fraction=n / total))
    return colors[:count]


def placed_dpi(width_px: int, height_px: int, width_points: float, height_points: float) -> tuple[float, float]:
    """Pixels per inch of an image drawn `width_points` x `height_points` (1/72 inch) on a page."""

    def per_inch(pixels: int, points: float) -> float:
        return round(pixels * 72.0 / points, 1) if points > 0 else 0.0

    return per_inch(width_px, width_points), per_inch(height_px, height_points)
