"""PDFs with known pictures (PyMuPDF + Pillow) and checks of what the image stage made of them."""

from __future__ import annotations

import hashlib
import io

import pymupdf
import pytest

from mivaa_extractor.extraction.structure.images import ImageCollector, ImageSettings, PageImages
from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource

Image = pytest.importorskip("PIL.Image", reason="Pillow makes the test images and checks the outputs")

RED = (255, 0, 0)


def encoded(image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def photo(width: int = 200, height: int = 150) -> Image.Image:
    """A deterministic RGB picture: a gradient with a red block, so colours can be checked."""
    image = Image.new("RGB", (width, height))
    pixels = image.load()
    for x in range(width):
        for y in range(height):
            pixels[x, y] = (x * 255 // width, y * 255 // height, 128)
    for x in range(width // 4, width // 2):
        for y in range(height // 4, height // 2):
            pixels[x, y] = RED
    return image


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()  # decodes fully: a broken file raises here
    return image


def assert_viewable(extracted) -> Image.Image:
    image = opened(extracted.data)
    assert image.format == {"image/png": "PNG", "image/jpeg": "JPEG"}[extracted.mime_type]
    assert image.mode in ("RGB", "L", "RGBA")
    assert image.size == (extracted.width, extracted.height)
    assert hashlib.sha256(extracted.data).hexdigest() == extracted.sha256
    return image


def close_to(pixel, expected, tolerance: int = 40) -> bool:
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, expected))


def approx_bbox(actual, expected, tolerance: float = 0.5) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(actual, expected))


def collect_all(doc: pymupdf.Document, settings: ImageSettings | None = None) -> list[PageImages]:
    collector = ImageCollector(doc, settings or ImageSettings())
    return [collector.collect(PageSource(page)) for page in doc]


def add_raw_image(doc: pymupdf.Document, page: pymupdf.Page, rect, dictionary: str, stream: bytes, name: str) -> int:
    """An image XObject written by hand (stream stored as given), drawn in rect of a fresh page."""
    xref = doc.get_new_xref()
    doc.update_object(xref, dictionary)
    doc.update_stream(xref, stream, compress=False)
    if "/FlateDecode" in dictionary:
        doc.xref_set_key(xref, "Filter", "/FlateDecode")  # update_stream(compress=False) drops it
    doc.xref_set_key(page.xref, "Resources", f"<</XObject<</{name} {xref} 0 R>>>>")
    x0, y0, x1, y1 = rect
    content = f"q {x1 - x0} 0 0 {y1 - y0} {x0} {page.rect.height - y1} cm /{name} Do Q\n".encode()
    append_content(doc, page, content)
    return xref


def append_content(doc: pymupdf.Document, page: pymupdf.Page, content: bytes) -> None:
    xref = doc.get_new_xref()
    doc.update_object(xref, "<<>>")
    doc.update_stream(xref, content)
    kind, value = doc.xref_get_key(page.xref, "Contents")
    if kind == "xref":
        doc.xref_set_key(page.xref, "Contents", f"[{value} {xref} 0 R]")
    elif kind == "array":
        doc.xref_set_key(page.xref, "Contents", value[:-1] + f" {xref} 0 R]")
    else:
        doc.xref_set_key(page.xref, "Contents", f"{xref} 0 R")


def pdf_with_raw_image(rect, dictionary: str, stream: bytes, name: str) -> tuple[pymupdf.Document, pymupdf.Page]:
    """A new one-page PDF that draws one hand-written image XObject (see add_raw_image)."""
    doc = pymupdf.open()
    page = doc.new_page()
    add_raw_image(doc, page, rect, dictionary, stream, name)
    return doc, page
