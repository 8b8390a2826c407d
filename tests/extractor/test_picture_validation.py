"""Pictures as documents: the upload check (validate_upload) and the image-only PDF every reader opens."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mivaa_extractor.api.thumbnails import new_thumbnail_request
from mivaa_extractor.extraction.pictures import PictureLimits
from mivaa_extractor.extraction.rendering import picture_thumbnail, render_page_image
from mivaa_extractor.extraction.validation import media_type_of, open_pdf, validate_upload
from mivaa_platform.errors import InvalidArgument
from tests.support.picture_documents import (
    encode,
    jpeg_bomb,
    png_scan,
    png_with_lying_header,
    tiff_scan,
    tiff_with_frames,
    truncated_png,
)
from tests.support.pictures import gallery

LIMITS = PictureLimits()


def check(data: bytes, *, max_pages: int = 10_000, limits: PictureLimits = LIMITS):
    return validate_upload(data, password=None, max_bytes=64 << 20, max_pages=max_pages, picture_limits=limits)


def refused(data: bytes, **kwargs) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as failure:
        check(data, **kwargs)
    assert failure.value.domain == "extractor.mivaa"
    return failure.value


def test_pictures_are_told_by_signature_not_name():
    png = gallery(1)[0]
    assert media_type_of(png[:1024]) == "image/png"
    assert media_type_of(b"%PDF-1.7\n") == "application/pdf"
    jpeg = encode(Image.open(io.BytesIO(png)).convert("RGB"), "JPEG")
    assert media_type_of(jpeg[:1024]) == "image/jpeg"
    assert media_type_of(tiff_with_frames(1)[:1024]) == "image/tiff"
    with pytest.raises(InvalidArgument) as failure:
        media_type_of(b"GIF89a" + bytes(100))
    assert failure.value.reason == "IMAGE_FORMAT_UNSUPPORTED"
    with pytest.raises(InvalidArgument) as failure:
        media_type_of(b"hello")
    assert failure.value.reason == "NOT_A_PDF"


def test_png_and_multi_page_tiff_pass_with_their_pages():
    png = check(png_scan("picture"))
    assert (png.media_type, png.page_count) == ("image/png", 1)
    tiff = check(tiff_scan("picture", 2))
    assert (tiff.media_type, tiff.page_count) == ("image/tiff", 2)


def test_a_picture_opens_as_an_image_only_pdf_with_one_page_per_frame():
    data = tiff_scan("opened", 2)
    doc = open_pdf(data, None)
    try:
        assert doc.page_count == 2
        for page in doc:
            assert page.get_text().strip() == ""  # only pixels: the OCR stage reads it
            assert len(page.get_images()) == 1
    finally:
        doc.close()
    page = render_page_image(data, None, 2, 200, 200)
    assert max(page.width, page.height) <= 200 and page.page_count == 2


def test_a_jpeg_bomb_is_refused_from_its_header():
    error = refused(jpeg_bomb())
    assert error.reason == "IMAGE_TOO_LARGE"
    assert error.metadata["max_pixels"] == str(LIMITS.max_pixels)
    # Under Pillow's own bomb threshold the declared size is in the answer.
    error = refused(jpeg_bomb(9000, 9000))
    assert error.reason == "IMAGE_TOO_LARGE" and error.metadata["width"] == "9000"


def test_a_long_thin_picture_is_refused_by_its_side():
    limits = PictureLimits(max_pixels=10**9, max_side_px=1000)
    error = refused(encode(Image.new("L", (1001, 2), 0), "PNG"), limits=limits)
    assert error.reason == "IMAGE_TOO_LARGE"


@pytest.mark.parametrize("data", [png_with_lying_header(), truncated_png()], ids=["lying-header", "truncated"])
def test_a_png_whose_data_does_not_match_its_header_is_invalid(data):
    assert refused(data).reason == "IMAGE_INVALID"


def test_a_png_with_a_broken_checksum_is_invalid():
    data = bytearray(png_scan("crc"))
    data[20] ^= 0xFF  # inside IHDR: its checksum no longer matches
    assert refused(bytes(data)).reason == "IMAGE_INVALID"


def test_a_tiff_over_the_frame_cap_is_refused():
    error = refused(tiff_with_frames(6), limits=PictureLimits(max_frames=5))
    assert error.reason == "IMAGE_TOO_MANY_PAGES" and error.metadata["max_pages"] == "5"
    # The upload's page limit caps frames too.
    assert refused(tiff_with_frames(4), max_pages=3).reason == "IMAGE_TOO_MANY_PAGES"
    assert check(tiff_with_frames(5), limits=PictureLimits(max_frames=5)).page_count == 5


def test_a_picture_over_the_byte_cap_is_refused():
    data = png_scan("big")
    with pytest.raises(InvalidArgument) as failure:
        validate_upload(data, password=None, max_bytes=len(data) - 1, max_pages=10, picture_limits=LIMITS)
    assert failure.value.reason == "FILE_TOO_LARGE"


# -- thumbnails -----------------------------------------------------------------------------------


def test_a_stored_image_shrinks_to_its_size_class_and_is_never_enlarged():
    picture = encode(Image.new("RGB", (800, 400), "red"), "JPEG")
    small = picture_thumbnail(picture, 128)
    assert (small.width, small.height) == (128, 64) and (small.page_width, small.page_height) == (800, 400)
    assert Image.open(io.BytesIO(small.png)).size == (128, 64)
    tiny = picture_thumbnail(encode(Image.new("L", (20, 10), 0), "PNG"), 512)
    assert (tiny.width, tiny.height) == (20, 10)
    with pytest.raises(InvalidArgument) as failure:
        picture_thumbnail(b"\x89PNG\r\n\x1a\n" + bytes(40), 128)
    assert failure.value.reason == "IMAGE_INVALID"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "documents/",
        "documents/a/b",
        "documents/a/images/xyz",
        "documents/a/../b",
        "jobs/1",
        "documents/" + "a" * 65,
    ],
)
def test_a_thumbnail_name_is_a_document_or_one_of_its_images(name):
    with pytest.raises(InvalidArgument) as failure:
        new_thumbnail_request(name=name, size=0, password="", tenant="t")
    assert failure.value.reason == "THUMBNAIL_NAME_INVALID"


def test_a_thumbnail_size_is_one_of_three_classes():
    image = "documents/abc/images/" + "0" * 64
    assert new_thumbnail_request(name=image, size=1, password="", tenant="t").side == 128
    assert new_thumbnail_request(name="documents/abc", size=0, password="", tenant="t").side == 256
    with pytest.raises(InvalidArgument) as failure:
        new_thumbnail_request(name="documents/abc", size=9, password="", tenant="t")
    assert failure.value.reason == "THUMBNAIL_SIZE_INVALID"
