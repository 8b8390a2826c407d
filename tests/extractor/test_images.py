"""The image stage: placements, dedupe, the decorative filter and viewable encodings.

Generated PDFs (PyMuPDF + Pillow, tests/extractor/image_pdfs.py) give known ground truth and run
without the corpus; test_image_limits.py covers broken and hostile images and the corpus.
"""

from __future__ import annotations

import zlib

import pymupdf
import pytest

from mivaa_extractor.extraction.structure import images as images_module
from mivaa_extractor.extraction.structure.images import ImageCollector, ImageSettings, PageImages
from tests.extractor.image_pdfs import (
    RED,
    Image,
    append_content,
    approx_bbox,
    assert_viewable,
    close_to,
    collect_all,
    encoded,
    pdf_with_raw_image,
    photo,
)

# -- placements and dedupe -------------------------------------------------------------------


def test_placements_dedupe_and_bytes_once(monkeypatch):
    png = encoded(photo(), "PNG")
    jpeg = encoded(photo(160, 120).rotate(180), "JPEG", quality=90)
    doc = pymupdf.open()
    first = doc.new_page()
    first.insert_image(pymupdf.Rect(50, 50, 250, 200), stream=png, keep_proportion=False)
    first.insert_image(pymupdf.Rect(300, 50, 500, 200), stream=png, keep_proportion=False)  # same page, twice
    first.insert_image(pymupdf.Rect(50, 400, 290, 580), stream=jpeg, keep_proportion=False)
    second = doc.new_page()
    second.insert_image(pymupdf.Rect(100, 100, 300, 250), stream=png, keep_proportion=False)
    doc.new_page().insert_text((72, 72), "no pictures here")
    encodings = count_encodings(monkeypatch)

    page1, page2, page3 = collect_all(doc)
    assert len(encodings) == 2  # once per xref: the PNG shown three times is encoded once

    assert [p.bbox for p in page1.placements] == [(50, 50, 250, 200), (300, 50, 500, 200), (50, 400, 290, 580)]
    assert all(p.page == 1 and p.caption == "" for p in page1.placements)
    png_sha = page1.placements[0].sha256
    assert page1.placements[1].sha256 == png_sha
    assert len(page1.new_images) == 2  # the PNG once, the JPEG once
    assert {image.sha256 for image in page1.new_images} == {p.sha256 for p in page1.placements}
    assert page1.skipped == 0 and page1.warnings == []

    assert [(p.sha256, p.page, p.bbox) for p in page2.placements] == [(png_sha, 2, (100, 100, 300, 250))]
    assert page2.new_images == []  # emitted on page 1 already

    assert page3 == PageImages()

    by_sha = {image.sha256: image for image in page1.new_images}
    png_out = assert_viewable(by_sha[png_sha])
    assert (png_out.format, png_out.mode, png_out.size) == ("PNG", "RGB", (200, 150))
    assert png_out.tobytes() == photo().tobytes()  # lossless round trip


def test_jpeg_is_passed_through_untouched():
    jpeg = encoded(photo(), "JPEG", quality=85)
    doc = pymupdf.open()
    doc.new_page().insert_image(pymupdf.Rect(50, 50, 250, 200), stream=jpeg)
    (page,) = collect_all(doc)
    (image,) = page.new_images
    assert image.mime_type == "image/jpeg"
    assert image.data == jpeg
    assert (image.width, image.height) == (200, 150)


def test_same_picture_under_two_xrefs_is_stored_once():
    png = encoded(photo(), "PNG")
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_image(pymupdf.Rect(50, 50, 250, 200), stream=png)
    original = page.get_images(full=True)[0][0]
    # A byte-identical copy of the image object under a new xref (as merged PDFs have).
    copy = doc.get_new_xref()
    doc.update_object(copy, doc.xref_object(original, compressed=True))
    doc.update_stream(copy, doc.xref_stream_raw(original), compress=False)
    page.insert_image(pymupdf.Rect(50, 300, 250, 450), xref=copy)
    assert len({item[0] for item in page.get_images(full=True)}) == 2

    (result,) = collect_all(doc)
    assert len(result.placements) == 2
    assert result.placements[0].sha256 == result.placements[1].sha256
    assert len(result.new_images) == 1


def test_decorative_images_are_counted_not_extracted():
    doc = pymupdf.open()
    page = doc.new_page()  # 595 x 842
    icon = encoded(Image.new("RGB", (8, 8), RED), "PNG")
    page.insert_image(pymupdf.Rect(72, 72, 80, 80), stream=icon)  # 8 x 8 px icon
    big_icon = encoded(Image.new("RGB", (8, 8), (0, 0, 255)), "PNG")
    page.insert_image(pymupdf.Rect(100, 100, 400, 400), stream=big_icon)  # few pixels, shown large
    bullet = encoded(photo(100, 100), "PNG")
    page.insert_image(pymupdf.Rect(300, 600, 310, 610), stream=bullet)  # enough pixels, tiny on the page
    page.insert_image(pymupdf.Rect(100, 450, 300, 600), stream=encoded(photo(), "PNG"))  # content

    (result,) = collect_all(doc)
    # An 8 x 8 icon shown small and a bullet are decorative; 8 x 8 pixels shown over
    # 300 x 300 points is a picture somebody meant to show.
    assert result.skipped == 2
    assert len(result.placements) == 2 and len(result.new_images) == 2
    assert sorted(p.bbox for p in result.placements) == [(100, 100, 400, 400), (100, 450, 300, 600)]

    # The thresholds are settings.
    (lenient,) = collect_all(doc, ImageSettings(min_side_px=1, min_area_ratio=0))
    assert lenient.skipped == 0 and len(lenient.placements) == 4


def test_pages_without_images_are_not_interpreted(monkeypatch):
    doc = pymupdf.open()
    for number in range(3):
        doc.new_page().insert_text((72, 72), f"text only page {number} BIG BI words")
    calls = []
    monkeypatch.setattr(ImageCollector, "_trace", lambda self, *args: calls.append(args))
    results = collect_all(doc)
    assert calls == []
    assert all(result == PageImages() for result in results)


def test_bbox_is_clipped_to_the_page_and_follows_rotation():
    png = encoded(photo(), "PNG")
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=300)
    page.insert_image(pymupdf.Rect(300, 200, 500, 350), stream=png, keep_proportion=False)  # hangs off
    rotated = doc.new_page(width=400, height=300)
    rotated.insert_image(pymupdf.Rect(20, 30, 220, 180), stream=png, keep_proportion=False)
    rotated.set_rotation(90)

    clipped, turned = collect_all(doc)
    assert clipped.placements[0].bbox == (300, 200, 400, 300)
    (info,) = rotated.get_image_info()
    assert approx_bbox(turned.placements[0].bbox, info["bbox"])
    assert turned.placements[0].bbox[2] <= rotated.rect.width + 0.01  # displayed (rotated) page space


def test_downscaled_to_max_side():
    doc = pymupdf.open()
    doc.new_page().insert_image(pymupdf.Rect(50, 50, 450, 250), stream=encoded(photo(400, 200), "PNG"))
    doc.new_page().insert_image(pymupdf.Rect(50, 50, 450, 250), stream=encoded(photo(400, 200), "JPEG"))
    png_page, jpeg_page = collect_all(doc, ImageSettings(max_side_px=100))
    for page, mime in ((png_page, "image/png"), (jpeg_page, "image/jpeg")):
        (image,) = page.new_images
        assert image.mime_type == mime
        assert assert_viewable(image).size == (100, 50)


# -- colours and encodings -----------------------------------------------------------------------


def test_cmyk_jpeg_becomes_rgb_with_the_right_colours():
    cmyk = Image.new("CMYK", (120, 80), (0, 255, 255, 0))  # red ink: magenta + yellow
    for x in range(60, 120):
        for y in range(80):
            cmyk.putpixel((x, y), (0, 0, 0, 255))  # black ink
    doc = pymupdf.open()
    doc.new_page().insert_image(pymupdf.Rect(50, 50, 290, 210), stream=encoded(cmyk, "JPEG", quality=95))
    (page,) = collect_all(doc)
    (image,) = page.new_images
    out = assert_viewable(image)
    assert image.mime_type == "image/jpeg" and out.mode == "RGB"
    assert close_to(out.getpixel((20, 40)), (237, 28, 36))  # red stays red
    assert max(out.getpixel((100, 40))) < 60  # black stays black


def test_grayscale_stays_gray_and_lossless():
    gray = photo().convert("L")
    doc = pymupdf.open()
    doc.new_page().insert_image(pymupdf.Rect(50, 50, 250, 200), stream=encoded(gray, "PNG"))
    (page,) = collect_all(doc)
    out = assert_viewable(page.new_images[0])
    assert (out.format, out.mode) == ("PNG", "L")
    assert out.tobytes() == gray.tobytes()


def test_alpha_is_composited_onto_white():
    rgba = Image.new("RGBA", (100, 100), (0, 0, 255, 0))  # fully transparent blue
    for x in range(25, 75):
        for y in range(25, 75):
            rgba.putpixel((x, y), (255, 0, 0, 255))
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_image(pymupdf.Rect(50, 50, 250, 250), stream=encoded(rgba, "PNG"))
    assert page.get_images(full=True)[0][1] > 0  # stored with an SMask
    (result,) = collect_all(doc)
    out = assert_viewable(result.new_images[0])
    assert out.mode == "RGB"
    assert out.getpixel((5, 5)) == (255, 255, 255)
    assert out.getpixel((50, 50)) == RED


def test_lab_image_is_converted_to_rgb():
    # L=53 a=80 b=67 is sRGB red; default Lab ranges: a, b in [-100, 100].
    sample = bytes((round(53 / 100 * 255), round(180 / 200 * 255), round(167 / 200 * 255)))
    doc, page = pdf_with_raw_image(
        (100, 100, 300, 300),
        "<</Type/XObject/Subtype/Image/Width 64/Height 64/BitsPerComponent 8"
        "/ColorSpace[/Lab<</WhitePoint[0.9505 1 1.089]>>]/Filter/FlateDecode>>",
        zlib.compress(sample * 64 * 64),
        "Lab0",
    )
    (result,) = collect_all(doc)
    out = assert_viewable(result.new_images[0])
    assert (out.format, out.mode) == ("PNG", "RGB")
    assert close_to(out.getpixel((32, 32)), (237, 28, 36), tolerance=50)


def test_stencil_mask_is_black_on_white():
    rows = []
    for _ in range(64):
        # 1 bits are not painted (Decode [0 1]): paint the left half.
        rows.append(bytes([0x00] * 4 + [0xFF] * 4))
    doc, page = pdf_with_raw_image(
        (100, 100, 300, 300),
        "<</Type/XObject/Subtype/Image/Width 64/Height 64/ImageMask true/BitsPerComponent 1/Filter/FlateDecode>>",
        zlib.compress(b"".join(rows)),
        "Mask0",
    )
    (result,) = collect_all(doc)
    out = assert_viewable(result.new_images[0])
    assert (out.format, out.mode) == ("PNG", "L")
    assert out.getpixel((10, 10)) == 0 and out.getpixel((50, 10)) == 255


def count_encodings(monkeypatch) -> list[int]:
    """Counts calls of the (expensive) encoder: dedupe must happen before it."""
    calls: list[int] = []
    encode = images_module.encode_image

    def counting(*args, **kwargs):
        calls.append(1)
        return encode(*args, **kwargs)

    monkeypatch.setattr(images_module, "encode_image", counting)
    return calls


def test_inline_images_are_found_and_deduplicated(monkeypatch):
    pixels = bytes(RED) * (48 * 48)
    inline = (
        b"q 150 0 0 150 100 400 cm BI /W 48 /H 48 /CS /RGB /BPC 8 /F /AHx ID " + pixels.hex().encode() + b"> EI Q\n"
    )
    doc = pymupdf.open()
    for _ in range(2):
        page = doc.new_page()
        page.insert_text((72, 72), "an inline image below")
        append_content(doc, page, inline)
    assert doc[0].get_images() == []  # not a resource: the content stream is searched
    encodings = count_encodings(monkeypatch)

    first, second = collect_all(doc)
    assert len(encodings) == 1  # recognised on page 2 by its compressed bytes, not re-encoded
    (placement,) = first.placements
    assert approx_bbox(placement.bbox, (100, 842 - 550, 250, 842 - 400))
    out = assert_viewable(first.new_images[0])
    assert out.size == (48, 48) and out.getpixel((24, 24)) == RED
    assert [p.sha256 for p in second.placements] == [placement.sha256]
    assert second.new_images == []


def test_jpeg2000_becomes_png():
    features = pytest.importorskip("PIL.features")
    if not features.check("jpg_2000"):
        pytest.skip("Pillow was built without OpenJPEG: no JPEG 2000 test image")
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_image(pymupdf.Rect(50, 50, 250, 200), stream=encoded(photo(), "JPEG2000"))
    assert "JPX" in page.get_images(full=True)[0][8]
    (result,) = collect_all(doc)
    out = assert_viewable(result.new_images[0])
    assert (out.format, out.mode, out.size) == ("PNG", "RGB", (200, 150))
    assert close_to(out.getpixel((70, 50)), RED)
