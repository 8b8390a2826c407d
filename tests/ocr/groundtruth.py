"""Ground truth by construction: known text rendered with PyMuPDF, degraded variants, CER.

Shared by the OCR tests and bench/ocr_quality.py. Nothing here knows about OCR
engines: a page is PNG bytes plus the text it was rendered from.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import pymupdf
from PIL import Image, ImageFilter

PARAGRAPHS = (
    "The river town woke slowly on market day. Farmers carried baskets of apples, pears and "
    "fresh bread across the old stone bridge, while the baker opened his shutters and set "
    "warm loaves on the counter. Children ran between the stalls and the smell of coffee "
    "drifted along the narrow street.",
    "By noon the square was crowded with visitors from nearby villages. A musician played a "
    "quiet tune beside the fountain, and an old man sold maps, postcards and small wooden toys. "
    "Most people stayed until the afternoon, when the clouds gathered over the hills and the "
    "first drops of rain began to fall.",
    "In the evening the traders packed their carts and the square was empty again. The lamps "
    "along the river were lit one by one, and the water reflected their yellow light. Tomorrow "
    "the town would return to its ordinary rhythm, but for one day it had felt like the center "
    "of the world.",
)

GERMAN_PARAGRAPH = (
    "Die kleine Stadt am Fluss erwachte langsam. Auf dem Markt verkauften die Bauern Äpfel, "
    "Birnen und frisches Brot, und über die alte Brücke gingen viele Leute zur Kirche."
)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def edit_distance(a: str | list[str], b: str | list[str]) -> int:
    """Levenshtein distance, one numpy row at a time (insertions via a running minimum)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    vocab: dict[object, int] = {}
    av = np.array([vocab.setdefault(x, len(vocab)) for x in a])
    bv = np.array([vocab.setdefault(x, len(vocab)) for x in b])
    idx = np.arange(len(bv) + 1)
    row = idx.copy()
    for i, symbol in enumerate(av, start=1):
        tmp = np.empty_like(row)
        tmp[0] = i
        # substitution (or match) from the diagonal, deletion from above
        tmp[1:] = np.minimum(row[:-1] + (bv != symbol), row[1:] + 1)
        # insertion from the left: new[j] = min_k<=j tmp[k] + (j - k)
        row = np.minimum.accumulate(tmp - idx) + idx
    return int(row[-1])


def cer(truth: str, hypothesis: str) -> float:
    truth, hypothesis = normalise(truth), normalise(hypothesis)
    return edit_distance(truth, hypothesis) / max(1, len(truth))


def word_accuracy(truth: str, hypothesis: str) -> float:
    """1 - word error rate (word-level edit distance), floored at 0."""
    t, h = normalise(truth).split(), normalise(hypothesis).split()
    return max(0.0, 1.0 - edit_distance(t, h) / max(1, len(t)))


@dataclass(frozen=True)
class Page:
    name: str
    png: bytes
    text: str
    dpi: int
    rotation: int = 0  # clockwise rotation applied to the upright page
    skew: float = 0.0  # clockwise skew applied, degrees


def render_text_page(paragraphs=PARAGRAPHS, dpi: int = 200, fontsize: float = 11) -> Image.Image:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)  # A4 in points
    y = 72.0
    for paragraph in paragraphs:
        rect = pymupdf.Rect(72, y, 523, 770)
        left = page.insert_textbox(rect, paragraph, fontsize=fontsize, fontname="helv")
        used = rect.height - left
        y += used + fontsize * 1.2
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    image = Image.open(io.BytesIO(pix.tobytes("png")))
    image.load()
    doc.close()
    return image


def to_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def to_jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.convert("L").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def rotate_clockwise(image: Image.Image, degrees: int) -> Image.Image:
    return image.rotate(-degrees, expand=True) if degrees else image


def skew_clockwise(image: Image.Image, degrees: float) -> Image.Image:
    return image.rotate(-degrees, expand=True, resample=Image.BICUBIC, fillcolor=255)


def add_noise(image: Image.Image, sigma: float = 20.0, seed: int = 7) -> Image.Image:
    pixels = np.asarray(image.convert("L"), dtype=np.float32)
    noisy = pixels + np.random.default_rng(seed).normal(0.0, sigma, pixels.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def text_of(paragraphs=PARAGRAPHS) -> str:
    return "\n\n".join(paragraphs)


def clean_page(dpi: int = 200) -> Page:
    return Page("clean-200dpi", to_png(render_text_page(dpi=dpi)), text_of(), dpi)


def degraded_pages() -> list[Page]:
    """The clean page degraded the ways scans are: rotation, skew, blur, noise, JPEG, low resolution."""
    base = render_text_page(dpi=200)
    text = text_of()
    return [
        Page("rotated-90", to_png(rotate_clockwise(base, 90)), text, 200, rotation=90),
        Page("rotated-180", to_png(rotate_clockwise(base, 180)), text, 200, rotation=180),
        Page("rotated-270", to_png(rotate_clockwise(base, 270)), text, 200, rotation=270),
        Page("skewed-3deg", to_png(skew_clockwise(base, 3.0)), text, 200, skew=3.0),
        Page("blur", to_png(base.filter(ImageFilter.GaussianBlur(1.2))), text, 200),
        Page("noise", to_png(add_noise(base, 25.0)), text, 200),
        Page("jpeg-q30", to_jpeg(base, 30), text, 200),
        Page("low-100dpi", to_png(render_text_page(dpi=100)), text, 100),
    ]
