"""Pictures uploaded as documents: scans of known text, and hostile pictures that lie about themselves."""

from __future__ import annotations

import io
import struct
import zlib

import pymupdf
from PIL import Image

from tests.support.pdfs import make_pdf


def text_scans(tag: str, pages: int, *, dpi: int = 200) -> list[Image.Image]:
    """Pictures of make_pdf(tag, pages)'s pages (grayscale, `dpi`): their text exists only in pixels."""
    source = pymupdf.open(stream=make_pdf(tag, pages, filler_sentences=3), filetype="pdf")
    try:
        scans = []
        for page in source:
            pixmap = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
            scans.append(Image.open(io.BytesIO(pixmap.tobytes("png"))).copy())
        return scans
    finally:
        source.close()


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def png_scan(tag: str) -> bytes:
    return encode(text_scans(tag, 1)[0], "PNG", dpi=(200, 200))


def tiff_scan(tag: str, pages: int) -> bytes:
    """A multi-page TIFF, one frame per page (Deflate, as scanners write it)."""
    frames = text_scans(tag, pages)
    return encode(frames[0], "TIFF", save_all=True, append_images=frames[1:], compression="tiff_adobe_deflate")


def jpeg_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny JPEG whose frame header declares width x height (a decompression bomb)."""
    data = bytearray(encode(Image.new("L", (16, 16), 255), "JPEG", quality=50))
    sof = data.index(b"\xff\xc0")
    # SOF0: marker, length (2), precision (1), height (2), width (2).
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def png_with_lying_header() -> bytes:
    """A PNG whose IHDR (checksum fixed, so it looks sound) declares far more pixels than its data holds."""
    data = bytearray(encode(Image.new("RGB", (32, 32), "white"), "PNG"))
    ihdr = data.index(b"IHDR")
    struct.pack_into(">II", data, ihdr + 4, 2000, 2000)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    struct.pack_into(">I", data, ihdr + 17, crc)
    return bytes(data)


def truncated_png() -> bytes:
    data = encode(Image.effect_noise((400, 400), 60).convert("RGB"), "PNG")
    return data[: len(data) // 2]


def tiff_with_frames(count: int) -> bytes:
    frames = [Image.new("L", (8, 8), index % 256) for index in range(count)]
    return encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
