"""The image stage on broken and hostile images (bombs, bad colour spaces) and on the corpus's encodings."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pymupdf
import pytest

from mivaa_extractor.extraction.structure.images import ImageSettings
from tests.extractor.image_pdfs import (
    RED,
    Image,
    add_raw_image,
    assert_viewable,
    close_to,
    collect_all,
    encoded,
    opened,
    pdf_with_raw_image,
    photo,
)

# -- broken and hostile images --------------------------------------------------------------------


def test_broken_image_gives_a_warning_and_the_page_goes_on():
    doc, page = pdf_with_raw_image(
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
