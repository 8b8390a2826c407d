"""Image analysis' own logic on real pictures: decoding within limits, properties, colours, DPI as placed,
tag scoring and option checks (the mesh-level behaviour is in tests/e2e/test_image_analysis.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mivaa_extractor.images.analysis import Kind, check_options
from mivaa_extractor.images.pictures import AnalysisLimits, dominant_colors, placed_dpi, read_picture
from mivaa_extractor.images.tags import MAX_LABELS, check_labels, prompts, score_tags
from mivaa_platform.errors import InvalidArgument
from tests.support.pictures import encode, png_header_only

LIMITS = AnalysisLimits(max_bytes=1 << 20, max_pixels=4_000_000)


def solid(color: tuple[int, int, int], size=(64, 48), mode="RGB") -> Image.Image:
    return Image.new(mode, size, color)


def reason_of(data: bytes, limits: AnalysisLimits = LIMITS) -> str:
    with pytest.raises(InvalidArgument) as raised:
        read_picture(data, limits)
    return raised.value.reason


def test_properties_of_a_png_and_a_jpeg_with_its_stated_dpi():
    png = read_picture(encode(solid((10, 20, 30))), LIMITS).properties
    assert (png.format, png.mime_type, png.width, png.height) == ("PNG", "image/png", 64, 48)
    assert (png.color_space, png.bits_per_channel, png.has_alpha) == ("RGB", 8, False)
    assert png.file_dpi == (96.0, 96.0)  # MuPDF's default when a file states none
    jpeg_bytes = encode(solid((200, 10, 10), size=(30, 20)), "JPEG", dpi=(300, 150))
    jpeg = read_picture(jpeg_bytes, LIMITS).properties
    assert (jpeg.format, jpeg.mime_type, jpeg.size_bytes) == ("JPEG", "image/jpeg", len(jpeg_bytes))
    assert jpeg.file_dpi == (300.0, 150.0)
    gray = read_picture(encode(Image.new("L", (8, 8), 128)), LIMITS).properties
    assert gray.color_space == "grayscale"
    rgba = read_picture(encode(Image.new("RGBA", (8, 8), (1, 2, 3, 100))), LIMITS).properties
    assert rgba.has_alpha and rgba.color_space == "RGBA"


def test_a_solid_picture_has_one_colour_exactly_and_halves_share_evenly():
    picture = read_picture(encode(solid((12, 200, 99))), LIMITS)
    [only] = dominant_colors(picture, 5)
    assert only.rgb == (12, 200, 99) and only.hex == "#0cc863" and only.fraction == 1.0
    halves = Image.new("RGB", (100, 100), (255, 0, 0))
    halves.paste((0, 0, 255), (0, 50, 100, 100))
    colors = dominant_colors(read_picture(encode(halves), LIMITS), 5)
    assert {c.rgb for c in colors} == {(255, 0, 0), (0, 0, 255)}
    assert all(abs(c.fraction - 0.5) < 0.02 for c in colors)
    noisy = Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    many = dominant_colors(read_picture(encode(noisy), LIMITS), 4)
    assert len(many) == 4 and abs(sum(c.fraction for c in many) - 1.0) < 1e-6
    assert [c.fraction for c in many] == sorted((c.fraction for c in many), reverse=True)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "IMAGE_INVALID"),
        (b"%PDF-1.7 not a picture", "IMAGE_INVALID"),
        (encode(solid((1, 2, 3)), "WEBP"), "IMAGE_INVALID"),
        (encode(solid((1, 2, 3)), "JPEG")[:200], "IMAGE_INVALID"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "IMAGE_INVALID"),
        (png_header_only(50, 50), "IMAGE_INVALID"),
        (png_header_only(100_000, 100_000), "IMAGE_TOO_LARGE"),
        (b"\xff\xd8\xff" + b"x" * (LIMITS.max_bytes + 1), "IMAGE_TOO_LARGE"),
    ],
    ids=[
        "empty",
        "not-a-picture",
        "webp",
        "jpeg-header-only",
        "broken-png",
        "lying-header",
        "bomb-dimensions",
        "too-many-bytes",
    ],
)
def test_bad_pictures_get_clear_reasons(data, reason):
    assert reason_of(data) == reason


def test_a_truncated_jpeg_is_invalid():
    data = encode(Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)), "JPEG")
    assert reason_of(data[: len(data) // 3]) == "IMAGE_INVALID"


def test_dpi_as_placed():
    # 600 px drawn 2 inches wide (144 pt) is 300 dpi; 300 px drawn 72 pt high is 300 dpi.
    assert placed_dpi(600, 300, 144.0, 72.0) == (300.0, 300.0)
    assert placed_dpi(100, 100, 0.0, 50.0) == (0.0, 144.0)


def test_tags_are_a_softmax_ranked_by_similarity():
    labels = ["cat", "dog", "car"]
    image = [1.0, 0.0, 0.0]
    vectors = [[0.9, 0.1, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.7]]
    tags = score_tags(image, vectors, labels, top=3)
    assert [t.label for t in tags] == ["cat", "car", "dog"]
    assert abs(sum(t.score for t in tags) - 1.0) < 1e-6
    assert tags[0].similarity == pytest.approx(0.9 / np.hypot(0.9, 0.1))
    assert len(score_tags(image, vectors, labels, top=2)) == 2
    assert prompts(["cat"]) == ["a photo of a cat"]


def test_labels_and_options_are_checked():
    assert check_labels([" cat ", "cat", "dog"]) == ("cat", "dog")
    for bad in (["x" * 65], [""], ["tab\there"], ["l"] * (MAX_LABELS + 1)):
        with pytest.raises(InvalidArgument) as raised:
            check_labels(bad)
        assert raised.value.reason == "LABELS_INVALID"
    defaults = check_options(kinds=[], labels=[], max_tags=0, max_colors=0, threshold=0.0, limit=0)
    assert defaults.kinds == frozenset(Kind) and (defaults.max_tags, defaults.max_colors) == (5, 5)
    assert (defaults.threshold, defaults.similar_limit) == (0.9, 10)
    for bad in ({"max_colors": 17}, {"max_tags": -1}, {"threshold": 1.5}, {"limit": 51}):
        arguments = {"kinds": [], "labels": [], "max_tags": 0, "max_colors": 0, "threshold": 0.0, "limit": 0} | bad
        with pytest.raises(InvalidArgument) as raised:
            check_options(**arguments)
        assert raised.value.reason == "OPTIONS_INVALID"


def test_tiff_and_bmp_sizes_come_from_their_headers():
    for fmt in ("TIFF", "BMP"):
        properties = read_picture(encode(solid((5, 6, 7), size=(33, 17)), fmt), LIMITS).properties
        assert (properties.format, properties.width, properties.height) == (fmt, 33, 17)
    with pytest.raises(InvalidArgument) as raised:
        read_picture(encode(solid((5, 6, 7), size=(3000, 2000)), "TIFF"), AnalysisLimits(1 << 30, 1_000_000))
    assert raised.value.reason == "IMAGE_TOO_LARGE"


def test_a_multi_frame_gif_is_read_as_one_of_its_frames():
    frames = [solid((255, 0, 0), (20, 20)), solid((0, 255, 0), (20, 20))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    picture = read_picture(out.getvalue(), LIMITS)
    assert picture.properties.format == "GIF" and picture.properties.mime_type == "image/gif"
    # MuPDF shows one frame (this build: the last); never a blend of frames.
    [only] = dominant_colors(picture, 3)
    assert only.rgb in {(255, 0, 0), (0, 255, 0)} and only.fraction == 1.0
