"""Orientation and skew are detected and undone; boxes come back in the coordinates of the image as sent."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mivaa_ocr.engines.factory import create_engine
from mivaa_ocr.orientation import _Osd, confidence_score, correct, detect_rotation, detect_skew
from mivaa_ocr.pool import RecognizeOptions
from tests.ocr.conftest import require_engine
from tests.ocr.groundtruth import render_text_page, rotate_clockwise, skew_clockwise


@pytest.fixture(scope="module")
def upright() -> Image.Image:
    return render_text_page(dpi=150)


@pytest.fixture(scope="module")
def tesseract():
    require_engine("tesseract")
    engine = create_engine("tesseract")
    yield engine
    engine.close()


def _scorer(engine):
    def score(image):
        page = engine.recognize(image)
        return confidence_score(
            [
                (w.text, w.confidence, w.box.x1 - w.box.x0, w.box.y1 - w.box.y0)
                for line in page.lines
                for w in line.words
            ]
        )

    return score


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_rotation_is_detected_by_osd(upright, tesseract, degrees):
    if _Osd.detect(upright) is None:
        pytest.skip("osd.traineddata is not installed (Debian: tesseract-ocr-osd)")
    assert detect_rotation(rotate_clockwise(upright, degrees)) == (degrees, "osd")


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_rotation_fallback_by_engine_confidence(upright, tesseract, degrees):
    """Without OSD the engine reads the page four ways; the most confident horizontal reading wins."""
    found = detect_rotation(rotate_clockwise(upright, degrees), _scorer(tesseract), use_osd=False)
    assert found == (degrees, "confidence")


@pytest.mark.parametrize("skew", [-7.0, -3.0, -0.8, 1.5, 3.0, 9.0])
def test_skew_is_measured(upright, skew):
    assert detect_skew(skew_clockwise(upright, skew)) == pytest.approx(skew, abs=0.15)


def test_blank_page_has_no_skew_or_rotation():
    blank = Image.new("L", (800, 1000), 255)
    assert detect_skew(blank) == 0.0
    image, correction = correct(blank, scorer=lambda image: 0.0, use_osd=False)
    assert (correction.rotation_degrees, correction.skew_degrees, correction.is_identity) == (0, 0.0, True)
    assert image is blank


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_mapping_is_exact(upright, degrees):
    sent = rotate_clockwise(upright, degrees)
    corrected, correction = correct(sent, scorer=None, use_osd=False)  # no detector: rotation 0
    assert correction.rotation_degrees == 0
    from mivaa_ocr.orientation import _undo_rotation

    corrected, matrix = _undo_rotation(sent, degrees)
    assert corrected.size == upright.size
    assert np.array_equal(np.asarray(corrected), np.asarray(upright))
    # a pixel of the upright page maps to the pixel of the sent page that holds the same value
    pixels_sent = np.asarray(sent)
    pixels_up = np.asarray(upright)
    ys, xs = np.nonzero(pixels_up < 100)
    for x, y in list(zip(xs, ys))[::997][:50]:
        cx, cy = matrix[:2] @ np.array([x + 0.5, y + 0.5, 1.0])
        assert pixels_sent[int(cy), int(cx)] == pixels_up[y, x]


async def _words_in_sent_image(pool, image: Image.Image) -> tuple[list, Image.Image]:
    out = io.BytesIO()
    image.save(out, format="PNG")
    result = await pool.recognize(
        "m", out.getvalue(), 150, RecognizeOptions(engine="tesseract", correct_orientation=True)
    )
    return result, image


@pytest.mark.parametrize("degrees,skew", [(90, 0.0), (270, 0.0), (180, 0.0), (0, 3.0)])
async def test_boxes_are_in_the_coordinates_of_the_image_as_sent(ocr_pool, tesseract, upright, degrees, skew):
    require_engine("tesseract")
    sent = rotate_clockwise(skew_clockwise(upright, skew) if skew else upright, degrees)
    result, _ = await _words_in_sent_image(ocr_pool, sent)
    assert result.rotation_degrees == degrees and result.skew_degrees == pytest.approx(skew, abs=0.3)
    assert (result.width, result.height) == sent.size
    long_words = [w for line in result.lines for w in line.words if len(w.text) >= 8 and w.text.isalpha()]
    assert len(long_words) >= 8
    for word in long_words[:8]:
        box = word.box
        assert 0 <= box.x0 < box.x1 <= sent.width and 0 <= box.y0 < box.y1 <= sent.height
        # Cut the box out of the image as sent, turn it upright, and read it on its own.
        crop = sent.crop((int(box.x0) - 4, int(box.y0) - 4, int(box.x1) + 4, int(box.y1) + 4))
        crop = crop.rotate(degrees, expand=True, fillcolor=255)
        if skew:
            crop = crop.rotate(skew, expand=True, fillcolor=255, resample=Image.BICUBIC)
        text = tesseract.recognize(crop).text
        assert word.text in text, (word, text)
