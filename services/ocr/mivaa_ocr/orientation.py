"""Undo page rotation (0/90/180/270) and small skew before recognition.

Rotation: Tesseract's orientation detector (OSD, needs osd.traineddata: Debian
`tesseract-ocr-osd`) when it is installed and sure; otherwise, or when OSD is
unsure (sparse or low-resolution pages), the engine itself reads the page
downscaled in all four orientations and the one with the most confident words
wins. Skew: projection profiles of the ink within +-10 degrees on a binarised,
downscaled copy (coarse then fine search).

`Correction.to_original` maps a point of the corrected image back into the
image as sent, so boxes are reported in the caller's coordinates.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from mivaa_ocr.imaging import gray, ink_mask

log = logging.getLogger("mivaa.ocr.orientation")

MAX_SKEW_DEGREES = 10.0
MIN_SKEW_DEGREES = 0.15  # below this, resampling costs more than the skew does
OSD_MIN_CONFIDENCE = 2.0
WHITE: dict[str, float | tuple[float, ...]] = {"L": 255, "RGB": (255, 255, 255)}

# A scorer reads an (upright candidate) image and says how plausible its text is: higher is better.
Scorer = Callable[[Image.Image], float]


@dataclass(frozen=True)
class Correction:
    rotation_degrees: int = 0  # clockwise rotation of the image as sent that was undone
    skew_degrees: float = 0.0  # clockwise skew that was undone
    # 3x3 affine: corrected-image point (x, y, 1) -> point in the image as sent
    matrix: np.ndarray = field(default_factory=lambda: np.eye(3))
    method: str = "none"

    def to_original(self, x: float, y: float) -> tuple[float, float]:
        m = self.matrix
        return (float(m[0, 0] * x + m[0, 1] * y + m[0, 2]), float(m[1, 0] * x + m[1, 1] * y + m[1, 2]))

    @property
    def is_identity(self) -> bool:
        return bool(np.allclose(self.matrix, np.eye(3)))


def _undo_rotation(image: Image.Image, degrees: int) -> tuple[Image.Image, np.ndarray]:
    """Rotates counter-clockwise by `degrees` (a multiple of 90), exactly; returns the image and corrected->sent."""
    w, h = image.size
    if degrees == 90:
        return image.transpose(Image.Transpose.ROTATE_90), np.array([[0, -1, w], [1, 0, 0], [0, 0, 1]], float)
    if degrees == 180:
        return image.transpose(Image.Transpose.ROTATE_180), np.array([[-1, 0, w], [0, -1, h], [0, 0, 1]], float)
    if degrees == 270:
        return image.transpose(Image.Transpose.ROTATE_270), np.array([[0, 1, 0], [-1, 0, h], [0, 0, 1]], float)
    return image, np.eye(3)


def _undo_skew(image: Image.Image, degrees: float) -> tuple[Image.Image, np.ndarray]:
    """Rotates counter-clockwise by `degrees` about the centre, canvas expanded; returns image and corrected->input."""
    a = math.radians(degrees)
    cos, sin = math.cos(a), math.sin(a)
    w, h = image.size
    new_w = int(math.ceil(abs(w * cos) + abs(h * sin)))
    new_h = int(math.ceil(abs(w * sin) + abs(h * cos)))
    # output point -> input point: rotate clockwise (y down) about the centres
    matrix = np.array(
        [
            [cos, -sin, w / 2 - cos * new_w / 2 + sin * new_h / 2],
            [sin, cos, h / 2 - sin * new_w / 2 - cos * new_h / 2],
            [0, 0, 1],
        ]
    )
    data = tuple(matrix[:2].ravel())
    corrected = image.transform(
        (new_w, new_h),
        Image.Transform.AFFINE,
        data,
        resample=Image.Resampling.BICUBIC,
        fillcolor=WHITE.get(image.mode, 255),
    )
    return corrected, matrix


def detect_skew(image: Image.Image, max_degrees: float = MAX_SKEW_DEGREES) -> float:
    """Clockwise skew of the text lines in degrees (0 when there is too little ink to tell)."""
    pixels, _ = gray(image, 1400)
    mask = ink_mask(pixels)
    ys, xs = np.nonzero(mask)
    if xs.size < 200:
        return 0.0
    if xs.size > 150_000:
        keep = np.random.default_rng(0).choice(xs.size, 150_000, replace=False)
        xs, ys = xs[keep], ys[keep]
    xs = xs.astype(np.float64) - pixels.shape[1] / 2
    ys = ys.astype(np.float64) - pixels.shape[0] / 2

    def sharpness(degrees: float) -> float:
        a = math.radians(degrees)
        # row of each ink pixel once the page is turned back counter-clockwise by `degrees`
        rows = np.round(-xs * math.sin(a) + ys * math.cos(a)).astype(np.int64)
        counts = np.bincount(rows - rows.min())
        return float(np.dot(counts, counts))

    coarse = np.arange(-max_degrees, max_degrees + 1e-9, 0.5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    best = max(fine, key=sharpness)
    if sharpness(best) <= sharpness(0.0) * 1.0001:
        return 0.0
    return float(round(best, 2))


@dataclass(frozen=True)
class OsdReading:
    """What Tesseract's OSD says of a page: its clockwise rotation and its script, each with OSD's
    own score (unbounded; under about 2 it is unsure)."""

    rotation: int
    rotation_confidence: float
    script: str
    script_confidence: float


class _Osd:
    """Tesseract orientation and script detection, created once per process; None when unavailable."""

    _api = None
    _tried = False

    @classmethod
    def detect(cls, image: Image.Image) -> OsdReading | None:
        if not cls._tried:
            cls._tried = True
            try:
                import tesserocr

                from mivaa_ocr.engines.tesseract_engine import find_tessdata

                tessdata = find_tessdata()
                if tessdata is not None and (tessdata / "osd.traineddata").is_file():
                    cls._api = tesserocr.PyTessBaseAPI(path=str(tessdata) + "/", lang="osd", psm=tesserocr.PSM.OSD_ONLY)
            except Exception:  # noqa: BLE001 - OSD is an optimisation; the scorer fallback remains
                log.warning("Tesseract OSD unavailable; orientation falls back to engine confidence")
                cls._api = None
        if cls._api is None:
            return None
        cls._api.SetImage(image)
        result = cls._api.DetectOrientationScript()
        cls._api.Clear()
        if not result:
            return None
        return OsdReading(
            rotation=int(result["orient_deg"]) % 360,
            rotation_confidence=float(result["orient_conf"]),
            script=str(result.get("script_name") or ""),
            script_confidence=float(result.get("script_conf") or 0.0),
        )


def detect_osd(image: Image.Image) -> OsdReading | None:
    """OSD's reading of the page as sent; None without osd.traineddata or when the page has too little text.

    OSD finds nothing on some pages turned by a quarter (the bench's Arabic page at 90 and 270
    degrees) yet reads them surely once upright or upside down; so when it is unsure, it is asked
    again about the page turned a quarter back, and the surer reading is kept."""
    first = _Osd.detect(image)
    if first is not None and first.rotation_confidence >= OSD_MIN_CONFIDENCE:
        return first
    turned = _Osd.detect(image.transpose(Image.Transpose.ROTATE_90))  # counter-clockwise
    if turned is None or turned.rotation_confidence <= (first.rotation_confidence if first else 0.0):
        return first
    # The turned copy is the page turned clockwise by (rotation - 90): the page's own rotation is 90 more.
    return OsdReading((turned.rotation + 90) % 360, turned.rotation_confidence, turned.script, turned.script_confidence)


def detect_rotation(
    image: Image.Image, scorer: Scorer | None = None, use_osd: bool = True, osd: OsdReading | None = None
) -> tuple[int, str]:
    """Clockwise rotation (0/90/180/270) of the page as sent, and how it was found (`osd`: a reading
    already made, else OSD is asked here when use_osd)."""
    if osd is None and use_osd:
        osd = _Osd.detect(image)
    if osd is not None and osd.rotation_confidence >= OSD_MIN_CONFIDENCE:
        return osd.rotation, "osd"
    if scorer is None:
        return 0, "none"
    small = image
    if max(image.size) > 1800:
        scale = 1800 / max(image.size)
        small = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    scores = {degrees: scorer(_undo_rotation(small, degrees)[0]) for degrees in (0, 90, 180, 270)}
    best = max(scores, key=lambda d: (scores[d], d == 0))
    if scores[best] <= 0 or scores[best] <= scores[0] * 1.05:  # turn the page only when clearly better
        return 0, "confidence"
    return best, "confidence"


def correct(
    image: Image.Image, scorer: Scorer | None = None, *, use_osd: bool = True, osd: OsdReading | None = None
) -> tuple[Image.Image, Correction]:
    """The upright, deskewed image and how to map its coordinates back."""
    rotation, method = detect_rotation(image, scorer, use_osd, osd)
    upright, rotate_matrix = _undo_rotation(image, rotation)
    skew = detect_skew(upright)
    matrix = rotate_matrix
    if abs(skew) >= MIN_SKEW_DEGREES:
        upright, skew_matrix = _undo_skew(upright, skew)
        matrix = rotate_matrix @ skew_matrix
    else:
        skew = 0.0
    return upright, Correction(rotation_degrees=rotation, skew_degrees=skew, matrix=matrix, method=method)


def confidence_score(words: list[tuple[str, float, float, float]]) -> float:
    """Scorer helper over (text, confidence, box width, box height): the summed confidence of
    horizontal words that look like words (two or more letters or digits). Horizontal only, since
    Tesseract reads a page turned by 90 degrees as vertical text almost as confidently."""
    return float(
        sum(
            conf
            for text, conf, width, height in words
            if sum(ch.isalnum() for ch in text) >= 2 and (len(text) < 3 or width > height)
        )
    )
