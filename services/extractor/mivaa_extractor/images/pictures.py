"""Reading a picture safely, its properties and its dominant colours (PyMuPDF and numpy: the extractor
already decodes images with MuPDF, so it carries no second image library)."""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass

import numpy as np
import pymupdf

from mivaa_platform.errors import InvalidArgument

DOMAIN = "images.mivaa"
# Formats a caller may send (MuPDF decodes them all; it has no WebP), by their file signatures.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "TIFF": "image/tiff", "GIF": "image/gif", "BMP": "image/bmp"}
COLOR_SPACES = {"DeviceRGB": "RGB", "DeviceGray": "grayscale", "DeviceCMYK": "CMYK"}
# Colours are counted on a copy at most this large (either side): plenty for shares of the pixels.
COLOR_SAMPLE_SIDE = 128
# What MuPDF's warnings say of a damaged file (others, such as an unsupported GIF extension, are harmless).
DAMAGE_WORDS = ("truncat", "premature", "missing", "corrupt", "damage", "broken", "invalid", "bad ", "error")
# MuPDF's warnings are one store per process: decodes take turns so each reads its own.
_DECODING = threading.Lock()


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
    # MuPDF's resolution of the file: what it states, 96 when it states none.
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


def _invalid(message: str) -> InvalidArgument:
    return InvalidArgument("IMAGE_INVALID", message, domain=DOMAIN)


def _too_large(message: str, limit: int) -> InvalidArgument:
    return InvalidArgument("IMAGE_TOO_LARGE", message, domain=DOMAIN, metadata={"limit": str(limit)})


def sniff_format(data: bytes) -> str:
    for signature, name in SIGNATURES:
        if data.startswith(signature):
            return name
    raise _invalid("The bytes are not a PNG, JPEG, TIFF, GIF or BMP picture.")


def header_size(data: bytes, fmt: str) -> tuple[int, int]:
    """(width, height) as the file's header states them, read before any pixel is decoded."""
    try:
        if fmt == "PNG":
            return struct.unpack(">II", data[16:24])
        if fmt == "GIF":
            return struct.unpack("<HH", data[6:10])
        if fmt == "BMP":
            width, height = struct.unpack("<ii", data[18:26])
            return width, abs(height)
        if fmt == "JPEG":
            return _jpeg_size(data)
        return _tiff_size(data)
    except (struct.error, IndexError) as exc:
        raise _invalid("The image's header is cut short.") from exc


def _jpeg_size(data: bytes) -> tuple[int, int]:
    offset = 2
    while offset + 9 < len(data):
        if data[offset] != 0xFF:
            raise _invalid("The JPEG's markers are broken.")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        length = struct.unpack(">H", data[offset + 2 : offset + 4])[0]
        # Start of frame (baseline, progressive, lossless...; C4, C8 and CC are other tables).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return width, height
        offset += 2 + length
    raise _invalid("The JPEG has no frame header.")


def _tiff_size(data: bytes) -> tuple[int, int]:
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    found: dict[int, int] = {}
    for index in range(min(count, 4096)):
        entry = data[ifd + 2 + 12 * index : ifd + 14 + 12 * index]
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag in (256, 257):
            value = struct.unpack(order + ("H" if kind == 3 else "I"), entry[8:10] if kind == 3 else entry[8:12])[0]
            found[tag] = value
    if 256 not in found or 257 not in found:
        raise _invalid("The TIFF states no size.")
    return found[256], found[257]


def read_picture(data: bytes, limits: AnalysisLimits) -> Picture:
    """Decodes `data` within the limits, or raises IMAGE_INVALID / IMAGE_TOO_LARGE (CPU work: call off the loop).

    The signature picks the format and the header's size is checked against max_pixels before
    MuPDF decodes a pixel; a file MuPDF warns about (truncated, pixel data missing) is refused.
    """
    if not data:
        raise _invalid("The image is empty.")
    if len(data) > limits.max_bytes:
        raise _too_large(f"The image is larger than {limits.max_bytes} bytes.", limits.max_bytes)
    fmt = sniff_format(data)
    width, height = header_size(data, fmt)
    if width < 1 or height < 1:
        raise _invalid("The image has no pixels.")
    if width * height > limits.max_pixels:
        raise _too_large(f"The image has {width}x{height} pixels, more than {limits.max_pixels}.", limits.max_pixels)
    with _DECODING:
        pymupdf.TOOLS.mupdf_warnings(reset=True)
        try:
            pixmap = pymupdf.Pixmap(data)
        except Exception as exc:  # MuPDF raises its own error classes for every kind of broken file
            raise _invalid("The image could not be decoded.") from exc
        finally:
            warnings = pymupdf.TOOLS.mupdf_warnings(reset=True)
    if any(word in warnings.lower() for word in DAMAGE_WORDS):
        raise _invalid("The image is damaged (truncated, or its header does not match its data).")
    if (pixmap.width, pixmap.height) != (width, height):
        raise _invalid("The image's header does not match its data.")
    space = pixmap.colorspace.name if pixmap.colorspace else ""
    properties = Properties(
        format=fmt,
        mime_type=MIME_TYPES[fmt],
        width=width,
        height=height,
        size_bytes=len(data),
        color_space=COLOR_SPACES.get(space, space or "none") + ("A" if pixmap.alpha and space == "DeviceRGB" else ""),
        bits_per_channel=8,
        has_alpha=bool(pixmap.alpha),
        file_dpi=(float(pixmap.xres), float(pixmap.yres)),
    )
    rgb = pymupdf.Pixmap(pixmap, 0) if pixmap.alpha else pixmap
    if space != "DeviceRGB":
        rgb = pymupdf.Pixmap(pymupdf.csRGB, rgb)
    array = np.frombuffer(rgb.samples, dtype=np.uint8).reshape(rgb.height, rgb.width, rgb.n)[:, :, :3]
    return Picture(properties, array, rgb.tobytes("png") if fmt not in ("PNG", "JPEG", "TIFF") else data)


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
