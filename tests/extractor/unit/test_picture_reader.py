"""The one picture reader (mivaa_extractor.picture_reader): every way a picture comes in (an upload
that becomes a document, a picture to analyse, a stored image to shrink) sniffs, limits and decodes
it the same way, so a hostile picture gets the same reason from each, in each caller's domain."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mivaa_extractor import picture_reader
from mivaa_extractor.extraction.pictures import PictureLimits
from mivaa_extractor.extraction.rendering import picture_thumbnail
from mivaa_extractor.extraction.validation import validate_upload
from mivaa_extractor.images.pictures import AnalysisLimits, read_picture
from mivaa_platform.errors import InvalidArgument
from tests.support.picture_documents import png_with_lying_header, tiff_with_frames, truncated_png
from tests.support.pictures import encode, png_header_only

UPLOAD_LIMITS = PictureLimits(max_pixels=4_000_000, max_side_px=30_000, max_frames=10)
ANALYSIS_LIMITS = AnalysisLimits(max_bytes=1 << 24, max_pixels=4_000_000)


def upload(data: bytes):
    return validate_upload(data, password=None, max_bytes=1 << 24, max_pages=100, picture_limits=UPLOAD_LIMITS)


def analyse(data: bytes):
    return read_picture(data, ANALYSIS_LIMITS)


def thumbnail(data: bytes):
    return picture_thumbnail(data, 128)


def refusal(read, data: bytes) -> tuple[str, str]:
    with pytest.raises(InvalidArgument) as raised:
        read(data)
    return raised.value.reason, raised.value.domain


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (png_with_lying_header(), "IMAGE_INVALID"),
        (truncated_png(), "IMAGE_INVALID"),
        (png_header_only(50, 50), "IMAGE_INVALID"),
        (png_header_only(9000, 9000), "IMAGE_TOO_LARGE"),
        (png_header_only(100_000, 100_000), "IMAGE_TOO_LARGE"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "IMAGE_INVALID"),
    ],
    ids=["lying-header", "truncated", "no-pixel-data", "over-the-pixel-limit", "bomb", "broken-header"],
)
def test_a_hostile_picture_gets_one_reason_from_every_reader(data, reason):
    assert refusal(upload, data) == (reason, "extractor.mivaa")
    assert refusal(analyse, data) == (reason, "images.mivaa")
    assert refusal(thumbnail, data) == (reason, "extractor.mivaa")


def test_formats_are_told_by_signature():
    red = Image.new("RGB", (4, 4), "red")
    for fmt in ("PNG", "JPEG", "TIFF", "GIF", "BMP"):
        assert picture_reader.sniff(encode(red, fmt)[: picture_reader.SNIFF_BYTES]).name == fmt
    assert picture_reader.sniff(encode(red, "WEBP")) is None
    assert picture_reader.sniff(b"%PDF-1.7") is None
    assert picture_reader.other_picture(b"II+\x00" + bytes(12))  # BigTIFF
    assert not picture_reader.other_picture(encode(red, "PNG"))


def test_a_multi_page_tiff_is_counted_as_a_document_and_analysed_by_its_first_frame():
    data = tiff_with_frames(3)
    assert upload(data).page_count == 3
    assert picture_reader.count_frames(data, picture_reader.TIFF, UPLOAD_LIMITS, domain="d") == 3
    with pytest.raises(InvalidArgument) as raised:
        picture_reader.count_frames(data, picture_reader.TIFF, PictureLimits(max_frames=2), domain="d")
    assert raised.value.reason == "IMAGE_TOO_MANY_PAGES" and raised.value.domain == "d"
    assert analyse(data).properties.format == "TIFF"


def test_a_side_limit_and_a_pixel_limit_are_named_in_the_refusal():
    data = encode(Image.new("L", (1001, 2), 0), "PNG")
    limits = PictureLimits(max_pixels=10**9, max_side_px=1000)
    with pytest.raises(InvalidArgument) as raised:
        picture_reader.decode_first_frame(data, picture_reader.PNG, limits, domain="d")
    assert raised.value.metadata == {"max_pixels": str(10**9), "max_side_px": "1000", "width": "1001", "height": "2"}


def test_analysis_reports_colour_spaces_and_alpha_as_decoded():
    cmyk = analyse(encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG")).properties
    assert cmyk.color_space == "CMYK" and not cmyk.has_alpha
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    transparent = analyse(encode(palette, "PNG", transparency=0))
    assert transparent.properties.color_space == "RGBA" and transparent.properties.has_alpha
    assert tuple(transparent.rgb[0, 0]) == (255, 0, 0)
    gray_alpha = analyse(encode(Image.new("LA", (8, 8), (100, 50)), "PNG")).properties
    assert gray_alpha.color_space == "grayscale" and gray_alpha.has_alpha


def test_sixteen_bit_grey_is_scaled_to_eight_bits_not_clipped():
    deep = Image.fromarray(np.full((6, 6), 40_000, dtype=np.uint16))
    picture = analyse(encode(deep, "PNG"))
    assert picture.properties.color_space == "grayscale"
    assert tuple(picture.rgb[0, 0]) == (156, 156, 156)  # 40000 >> 8


def test_gif_and_bmp_reach_ocr_as_png_and_the_others_as_sent():
    red = Image.new("RGB", (10, 6), (200, 0, 0))
    for fmt in ("GIF", "BMP"):
        png = analyse(encode(red, fmt)).png
        assert Image.open(io.BytesIO(png)).format == "PNG"
    jpeg = encode(red, "JPEG")
    assert analyse(jpeg).png == jpeg


def test_a_thumbnail_takes_png_and_jpeg_only_and_decodes_a_jpeg_reduced():
    large = encode(Image.new("RGB", (2000, 1000), "blue"), "JPEG")
    shrunk = thumbnail(large)
    assert (shrunk.width, shrunk.height, shrunk.page_width, shrunk.page_height) == (128, 64, 2000, 1000)
    decoded = picture_reader.decode_first_frame(large, picture_reader.JPEG, PictureLimits(), domain="d", reduce_to=128)
    assert decoded.image.size == (500, 250) and (decoded.width, decoded.height) == (2000, 1000)
    assert refusal(thumbnail, encode(Image.new("RGB", (8, 8)), "GIF")) == ("IMAGE_INVALID", "extractor.mivaa")
