"""The image stage: placements, dedupe, decorative filter, viewable encodings, bomb guard, captions.

Generated PDFs (PyMuPDF + Pillow) give known ground truth and run without
the corpus; the corpus tests cover the encodings found in the wild.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pymupdf
import pytest

from mivaa_extractor.extraction.structure import images as images_module
from mivaa_extractor.extraction.structure.images import (
    FIGURE_CAPTION_PREFIXES,
    TABLE_CAPTION_PREFIXES,
    ImageCollector,
    ImageSettings,
    PageImages,
    find_caption,
)
from mivaa_extractor.extraction.structure.lexicon import caption_label
from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource

Image = pytest.importorskip("PIL.Image", reason="Pillow makes the test images and checks the outputs")

RED = (255, 0, 0)


# -- helpers -----------------------------------------------------------------------------


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
    doc = pymupdf.open()
    page = doc.new_page()
    add_raw_image(
        doc,
        page,
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
    doc = pymupdf.open()
    page = doc.new_page()
    add_raw_image(
        doc,
        page,
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


# -- broken and hostile images --------------------------------------------------------------------


def test_broken_image_gives_a_warning_and_the_page_goes_on():
    doc = pymupdf.open()
    page = doc.new_page()
    add_raw_image(
        doc,
        page,
        (50, 50, 250, 250),
        "<</Type/XObject/Subtype/Image/Width 64/Height 64/BitsPerComponent 8/ColorSpace/NoSuchSpace>>",
        bytes(64 * 64 * 3),
        "Bad0",
    )
    page.insert_image(pymupdf.Rect(50, 400, 250, 550), stream=encoded(photo(), "PNG"))
    (result,) = collect_all(doc)
    assert len(result.warnings) == 1 and "could not" in result.warnings[0]
    assert len(result.placements) == 1 and len(result.new_images) == 1


def test_icc_colour_space_without_n_is_repaired():
    image_cms = pytest.importorskip("PIL.ImageCms")
    profile = image_cms.ImageCmsProfile(image_cms.createProfile("sRGB")).tobytes()
    doc = pymupdf.open()
    page = doc.new_page()
    icc = doc.get_new_xref()
    doc.update_object(icc, "<<>>")  # no /N: MuPDF rejects the colour space, and so the image
    doc.update_stream(icc, profile)
    add_raw_image(
        doc,
        page,
        (100, 100, 300, 300),
        f"<</Type/XObject/Subtype/Image/Width 64/Height 64/BitsPerComponent 8"
        f"/ColorSpace[/ICCBased {icc} 0 R]/Filter/FlateDecode>>",
        zlib.compress(bytes(RED) * 64 * 64),
        "Icc0",
    )
    (result,) = collect_all(doc)
    assert result.warnings == []
    out = assert_viewable(result.new_images[0])
    assert close_to(out.getpixel((32, 32)), RED, tolerance=10)
    assert doc.xref_get_key(icc, "N") == ("int", "3")  # repaired in memory from the profile header


def test_oversized_indexed_image_is_refused_before_decoding():
    doc = pymupdf.open()
    page = doc.new_page()
    compressor = zlib.compressobj(9)
    row = bytes(20000)
    data = b"".join(compressor.compress(row) for _ in range(20000)) + compressor.flush()
    add_raw_image(
        doc,
        page,
        (50, 50, 550, 550),
        "<</Type/XObject/Subtype/Image/Width 20000/Height 20000/BitsPerComponent 8"
        "/ColorSpace[/Indexed/DeviceRGB 1<FF000000FF00>]/Filter/FlateDecode>>",
        data,
        "Idx0",
    )
    (result,) = collect_all(doc)
    assert result.placements == [] and result.new_images == []
    assert len(result.warnings) == 1 and "limit" in result.warnings[0]


BOMB_SCRIPT = textwrap.dedent(
    """
    import io, json, resource, sys, time, zlib
    import pymupdf
    from PIL import Image
    from mivaa_extractor.extraction.structure.images import ImageCollector, ImageSettings
    from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource

    side = 20000  # 20000 x 20000 RGB: 1.2 GB decoded, about 1 MB compressed
    black = bytes(side * 3 * 100)  # 100 rows
    red = bytes((255, 0, 0)) * (side * 100)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: zlib header and checksum added below
    compressor.compress(black)
    compressor.flush(zlib.Z_FULL_FLUSH)
    # After a full flush a deflate block refers to nothing before it: blocks of 100 rows,
    # repeated, make a valid stream of all the rows, built in a fraction of a second.
    black_block = compressor.compress(black) + compressor.flush(zlib.Z_FULL_FLUSH)
    red_block = compressor.compress(red) + compressor.flush(zlib.Z_FULL_FLUSH)
    half = side // 200
    adler = 1
    for rows in [black] * half + [red] * half:
        adler = zlib.adler32(rows, adler)
    data = (bytes((0x78, 0xDA)) + black_block * half + red_block * half + compressor.flush()
            + adler.to_bytes(4, "big"))  # top half black, bottom half red

    doc = pymupdf.open()
    page = doc.new_page()
    xref = doc.get_new_xref()
    doc.update_object(xref, f"<</Type/XObject/Subtype/Image/Width {side}/Height {side}"
                            "/ColorSpace/DeviceRGB/BitsPerComponent 8>>")
    doc.update_stream(xref, data, compress=False)
    doc.xref_set_key(xref, "Filter", "/FlateDecode")  # after update_stream, which drops it
    doc.xref_set_key(page.xref, "Resources", f"<</XObject<</Im0 {xref} 0 R>>>>")
    contents = doc.get_new_xref()
    doc.update_object(contents, "<<>>")
    doc.update_stream(contents, b"q 500 0 0 500 50 50 cm /Im0 Do Q")
    doc.xref_set_key(page.xref, "Contents", f"{contents} 0 R")
    del black, red
    source = PageSource(page)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = ImageCollector(doc, ImageSettings(max_side_px=1024)).collect(source)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    images = [(i.mime_type, i.width, i.height) for i in result.new_images]
    pixels = []
    if result.new_images:
        out = Image.open(io.BytesIO(result.new_images[0].data)).convert("RGB")
        pixels = [out.getpixel((out.width // 2, out.height // 4)), out.getpixel((out.width // 2, out.height * 3 // 4))]
    print(json.dumps({"grew_kib": after - before, "images": images, "pixels": pixels,
                      "warnings": result.warnings + pymupdf.TOOLS.mupdf_warnings().splitlines(),
                      "placements": len(result.placements), "seconds": seconds}))
    """
)


def test_decompression_bomb_is_decoded_small_without_allocating_gigabytes():
    # In a child process: its peak RSS is the measure, untouched by the other tests.
    completed = subprocess.run(
        [sys.executable, "-c", BOMB_SCRIPT], capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["warnings"] == [], report  # no "padding truncated image": all 1.2 GB were inflated
    assert report["placements"] == 1
    assert report["images"] == [["image/png", 1024, 1024]]
    assert [tuple(p) for p in report["pixels"]] == [(0, 0, 0), RED]
    assert report["grew_kib"] < 300 * 1024, report  # far below the 1.2 GB the image declares


# -- captions ----------------------------------------------------------------------------------------

FIGURE = (100.0, 100.0, 400.0, 300.0)


def test_caption_directly_below_with_a_label():
    blocks = [
        ((100, 60, 400, 90), "Some paragraph above the figure that is body text."),
        ((110, 306, 390, 318), "Figure 3: The distribution of things."),
        ((100, 340, 400, 400), "Body text continues here.\nMore body text.\nAnd more."),
    ]
    assert find_caption(FIGURE, blocks) == 1


def test_labelled_caption_wins_over_a_nearer_plain_block():
    blocks = [
        ((100, 304, 400, 316), "Source: own survey"),
        ((100, 322, 400, 334), "Abb. 2 – Verteilung der Dinge"),
    ]
    assert find_caption(FIGURE, blocks) == 1


def test_caption_above_when_nothing_below():
    blocks = [
        ((100, 80, 400, 94), "Fig. 7 Results"),
        ((100, 500, 400, 600), "Far away paragraph."),
    ]
    assert find_caption(FIGURE, blocks) == 0


def test_no_caption_for_far_or_unrelated_text():
    far = [((100, 400, 400, 412), "Figure 4: too far below to be this figure's caption")]
    assert find_caption(FIGURE, far) is None
    beside = [((420, 310, 560, 322), "Figure 4: caption of another column")]
    assert find_caption(FIGURE, beside) is None
    long_paragraph = " ".join(["Body text that is not a caption."] * 20)
    assert find_caption(FIGURE, [((100, 304, 400, 360), long_paragraph)]) is None
    assert find_caption(FIGURE, [((100, 304, 400, 316), "Image processing is a field of study.")]) == 0  # short
    # A five-line paragraph whose lines were joined into one string is body text, not a caption.
    joined = "word " * 50
    assert find_caption(FIGURE, [((100, 304, 400, 364), joined)]) is None
    assert find_caption(FIGURE, [((100, 304, 400, 364), "Figure 2: " + joined)]) == 0  # a long labelled one is
    assert find_caption(FIGURE, []) is None


def test_label_patterns():
    label = caption_label(FIGURE_CAPTION_PREFIXES)
    labels = ("Figure 3: x", "FIG. 2.1 x", "Abbildung 4", "Abb. 12a –", "Photo: Jane Doe", "Chart IV", "Diagram 1")
    for text in labels:
        assert label.match(text), text
    for text in ("Image processing is hard", "Figures are nice", "Photographs of", "The Figure 3", "Image civil"):
        assert not label.match(text), text


def test_table_captions_use_their_own_prefixes():
    table = (100.0, 100.0, 400.0, 300.0)
    blocks = [
        ((100, 304, 400, 316), "Note: values in EUR"),
        ((100, 80, 400, 94), "Tabelle 2: Umsätze"),
    ]
    assert find_caption(table, blocks, TABLE_CAPTION_PREFIXES) == 1
    assert find_caption(table, blocks) == 0  # with figure prefixes the short note below wins
    assert "Table" in TABLE_CAPTION_PREFIXES


# -- the corpus ----------------------------------------------------------------------------------------

# file -> (settings, the mime types expected among the outputs)
TINY = ImageSettings(min_side_px=1)  # the ImageMagick samples are 16 x 16 pixels: decorative by default
CORPUS = {
    "pdflatex-image.pdf": (ImageSettings(), {"image/jpeg"}),  # DCT RGB, passed through
    "imagemagick-images.pdf": (TINY, {"image/png", "image/jpeg"}),  # Flate, LZW, RunLength, DCT; ICC gray
    "imagemagick-ASCII85Decode.pdf": (TINY, {"image/png"}),
    "imagemagick-CCITTFaxDecode.pdf": (TINY, {"image/png"}),  # 1-bit fax
    "imagemagick-lzw.pdf": (TINY, {"image/png"}),
    "base64image.pdf": (ImageSettings(), {"image/png"}),  # Flate RGB with an SMask
    "grayscale-image.pdf": (ImageSettings(), {"image/png"}),  # Indexed gray
    "cmyk-image.pdf": (ImageSettings(), {"image/png"}),  # Indexed CMYK
    "inline-image.pdf": (TINY, {"image/png"}),  # inline, no xref, 16 x 16
    "unstructured/embedded-images-tables.pdf": (ImageSettings(), {"image/jpeg"}),
    "unstructured/chevron-page.pdf": (ImageSettings(), {"image/jpeg"}),  # DCT with an opaque SMask
    "unstructured/pdf-bad-color-space.pdf": (ImageSettings(), {"image/jpeg"}),  # ICCBased without /N
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_file_yields_viewable_images(corpus_dir: Path, name: str):
    path = corpus_dir / name
    if not path.exists():
        pytest.skip(f"{path} is not in the corpus")
    settings, mimes = CORPUS[name]
    with pymupdf.open(path) as doc:
        results = collect_all(doc, settings)
        page_rects = [page.rect for page in doc]
    new_images = [image for result in results for image in result.new_images]
    placements = [placement for result in results for placement in result.placements]
    assert new_images, [result.warnings for result in results]
    assert {image.mime_type for image in new_images} == mimes
    assert len({image.sha256 for image in new_images}) == len(new_images)  # each stored once
    for image in new_images:
        out = assert_viewable(image)
        assert max(out.size) <= settings.max_side_px
    emitted = {image.sha256 for image in new_images}
    for placement in placements:
        assert placement.sha256 in emitted
        rect = page_rects[placement.page - 1]
        x0, y0, x1, y1 = placement.bbox
        assert rect.x0 - 0.01 <= x0 < x1 <= rect.x1 + 0.01 and rect.y0 - 0.01 <= y0 < y1 <= rect.y1 + 0.01


@pytest.mark.corpus
def test_corpus_tiny_samples_filling_their_page_are_kept_by_default(corpus_dir: Path):
    # 16 x 16 pixels, but the image is the whole (tiny) page: not decoration.
    with pymupdf.open(corpus_dir / "imagemagick-lzw.pdf") as doc:
        (result,) = collect_all(doc)
    assert len(result.new_images) == 1 and result.skipped == 0


@pytest.mark.corpus
def test_corpus_repeated_image_is_stored_once(corpus_dir: Path):
    # imagemagick-images.pdf: the same 16 x 16 picture six times, in Flate, LZW, RunLength and DCT.
    with pymupdf.open(corpus_dir / "imagemagick-images.pdf") as doc:
        results = collect_all(doc, TINY)
    assert sum(len(result.placements) for result in results) == 6
    lossless = {p.sha256 for result in results for p in result.placements}
    assert len(lossless) == 2  # one PNG for the five lossless encodings, one JPEG
    assert sum(len(result.new_images) for result in results) == 2


@pytest.mark.corpus
def test_corpus_cmyk_colours_match_the_rendered_page(corpus_dir: Path):
    with pymupdf.open(corpus_dir / "cmyk-image.pdf") as doc:
        page = doc[0]
        (result,) = collect_all(doc)
        (placement,) = result.placements
        rendered = page.get_pixmap(clip=pymupdf.Rect(placement.bbox), matrix=pymupdf.Matrix(0.5, 0.5))
    out = opened(result.new_images[0].data).convert("RGB")
    page_image = Image.frombytes("RGB", (rendered.width, rendered.height), rendered.samples)
    ours = np.asarray(out.resize(page_image.size), dtype=np.int16)
    theirs = np.asarray(page_image, dtype=np.int16)
    assert np.abs(ours - theirs).mean() < 12  # the same picture, the same colours as MuPDF renders
