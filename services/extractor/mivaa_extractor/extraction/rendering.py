"""One page of a PDF as a PNG that fits a box, for people to look at (the console's document view).

Runs in a supervised worker process (api.page_rendering): MuPDF meets the untrusted file there,
never in the API process. Unlike rendering for OCR (text_extraction.render_page: grayscale, by
resolution) the size here is what the caller's screen has room for, in colour.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import pymupdf

from mivaa_extractor import picture_reader
from mivaa_extractor.extraction.validation import DOMAIN, open_pdf
from mivaa_extractor.picture_reader import PictureLimits
from mivaa_platform.errors import InvalidArgument

# The largest side a caller may ask for, and what 0 means.
MAX_RENDER_SIDE_PX = 2000
DEFAULT_RENDER_SIDE_PX = 1000
# Never more than this many pixels per point (a tiny page is not blown up past ~430 dpi).
MAX_RENDER_SCALE = 6.0
# A stored image larger than this is not decoded for a thumbnail (the image stage stores less).
MAX_THUMBNAIL_SOURCE_PIXELS = 64_000_000
THUMBNAIL_SOURCE_LIMITS = PictureLimits(
    max_pixels=MAX_THUMBNAIL_SOURCE_PIXELS, max_side_px=MAX_THUMBNAIL_SOURCE_PIXELS, max_frames=1
)


@dataclass(frozen=True, slots=True)
class PageImage:
    png: bytes
    width: int
    height: int
    # The page as displayed (rotation applied), in PDF points: what block boxes are measured in.
    page_width: float
    page_height: float
    page_count: int


def render_side(value: int, field: str) -> int:
    """A requested side in pixels: 0 means the default; 1..MAX_RENDER_SIDE_PX, else RENDER_SIZE_INVALID."""
    if value == 0:
        return DEFAULT_RENDER_SIDE_PX
    if not 1 <= value <= MAX_RENDER_SIDE_PX:
        raise InvalidArgument(
            "RENDER_SIZE_INVALID",
            f"{field} must be between 1 and {MAX_RENDER_SIDE_PX} pixels (0 for {DEFAULT_RENDER_SIDE_PX}).",
            domain=DOMAIN,
            metadata={"field": field, "max_pixels": str(MAX_RENDER_SIDE_PX)},
        )
    return value


def fit_scale(page_width: float, page_height: float, max_width: int, max_height: int) -> float:
    """Pixels per point so that the page fits in max_width x max_height (whole pixels, rounded up, included)."""
    width, height = max(page_width, 1.0), max(page_height, 1.0)
    scale = min(max_width / width, max_height / height, MAX_RENDER_SCALE)
    # MuPDF rounds the pixmap's size up: step down until the rounded size fits too.
    while scale > 0 and (math.ceil(width * scale) > max_width or math.ceil(height * scale) > max_height):
        scale *= 0.999
    return scale


def page_out_of_range(number: int, page_count: int) -> InvalidArgument:
    return InvalidArgument(
        "PAGE_OUT_OF_RANGE",
        f"Page {number} is not in the document: it has pages 1 to {page_count}.",
        domain=DOMAIN,
        metadata={"page": str(number), "page_count": str(page_count)},
    )


def render_page_image(data: bytes, password: str | None, number: int, max_width: int, max_height: int) -> PageImage:
    """Page `number` (1-based) as an RGB PNG within max_width x max_height pixels.

    PDF_ENCRYPTED (FAILED_PRECONDITION) without the right password, PDF_UNREADABLE for a file MuPDF
    cannot open, PAGE_OUT_OF_RANGE for a page the file does not have.
    """
    doc = open_pdf(data, password)
    try:
        page_count = doc.page_count
        if not 1 <= number <= page_count:
            raise page_out_of_range(number, page_count)
        page = doc.load_page(number - 1)
        rect = page.rect  # as displayed: the page's rotation is applied
        scale = fit_scale(rect.width, rect.height, max_width, max_height)
        pixmap = page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), colorspace=pymupdf.csRGB, alpha=False)
        return PageImage(
            png=pixmap.tobytes("png"),
            width=pixmap.width,
            height=pixmap.height,
            page_width=rect.width,
            page_height=rect.height,
            page_count=page_count,
        )
    finally:
        doc.close()


def picture_thumbnail(data: bytes, side: int) -> PageImage:
    """A stored image (PNG or JPEG) as an RGB PNG whose longer side is at most `side` (never enlarged).

    page_width and page_height are the picture's own size in pixels; page_count is 0.
    """
    picture_format = picture_reader.sniff(data[: picture_reader.SNIFF_BYTES])
    if picture_format not in (picture_reader.PNG, picture_reader.JPEG):
        raise picture_reader.invalid(DOMAIN, "The stored image could not be read.")
    # A JPEG decodes at a reduced scale already.
    decoded = picture_reader.decode_first_frame(
        data, picture_format, THUMBNAIL_SOURCE_LIMITS, domain=DOMAIN, reduce_to=side
    )
    picture, width, height = decoded.image, decoded.width, decoded.height
    picture.thumbnail((side, side))
    out = io.BytesIO()
    picture.convert("RGB").save(out, "PNG")
    small = picture.size
    return PageImage(
        png=out.getvalue(), width=small[0], height=small[1], page_width=width, page_height=height, page_count=0
    )
