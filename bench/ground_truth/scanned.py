"""Scanned variants: a few documents of the set rasterised into image-only PDFs, with the truth of the original.

Each page is rendered by PyMuPDF at 200 dpi in grey, turned by a small angle (0.3-0.6 degrees, as a
sheet lies on a scanner's glass), given light Gaussian noise (sigma 6 of 255, fixed seed) and placed as
one image filling a page of the original's size. Nothing of the text layer is left, so the extractor
flags every page (NO_TEXT_LAYER) and only OCR can read it. The truth is the original's: the same
words in the same order, the same headings and tables (which OCR'd text does not recover: a scan is
scored as a user sees it); `born_digital` is False, so the targets do not apply to these files: the
bench reports them in a family of their own ("scanned").

The variants are cached beside the other converted families, keyed by the source PDF's bytes and this
module, so they are rebuilt only when either changes.
"""

from __future__ import annotations

import dataclasses
import io
import pathlib
import random

import pymupdf

from bench.ground_truth import converters
from bench.ground_truth.types import GroundTruth

FAMILY = "scanned"
SCAN_DPI = 200
NOISE_SIGMA = 6.0
# The documents scanned: one per layout family that OCR can be expected to read (single and two
# columns, an office document with tables, a LaTeX article with its equations, an HTML table page).
SCANNED_SOURCES = (
    "generated-single-column.pdf",
    "office-000.pdf",
    "html-columns-000.pdf",
    "latex-article-000.pdf",
    "html-tables-001.pdf",
)


def scanned_truths(sources: list[GroundTruth], out_dir: pathlib.Path) -> list[GroundTruth]:
    """The scanned variant of each truth of `sources` named in SCANNED_SOURCES (built or reused)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    module = pathlib.Path(__file__).read_bytes()
    truths = []
    for truth in sources:
        if truth.name not in SCANNED_SOURCES:
            continue
        pdf = out_dir / f"scanned-{truth.name}"
        key = converters.content_key(truth.pdf.read_bytes(), module)
        if not converters.is_cached(pdf, key):
            scan_pdf(truth.pdf, pdf, seed=SCANNED_SOURCES.index(truth.name))
            converters.mark_cached(pdf, key)
        truths.append(
            dataclasses.replace(
                truth,
                name=pdf.name,
                pdf=pdf,
                origin="scan",
                family_name=FAMILY,
                born_digital=False,
                notes=f"{truth.name} rasterised at {SCAN_DPI} dpi, turned and noised: image only",
            )
        )
    return truths


def scan_pdf(source: pathlib.Path, target: pathlib.Path, seed: int) -> None:
    """Writes an image-only copy of `source`: every page a grey, slightly turned, noisy 200-dpi image."""
    import numpy as np
    from PIL import Image

    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    with pymupdf.open(source) as original, pymupdf.open() as scan:
        for page in original:
            pixmap = page.get_pixmap(dpi=SCAN_DPI, colorspace=pymupdf.csGRAY, alpha=False)
            image = Image.frombytes("L", (pixmap.width, pixmap.height), pixmap.samples)
            angle = rng.choice((-1, 1)) * rng.uniform(0.3, 0.6)
            image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255)
            pixels = np.asarray(image, dtype=np.float32) + noise.normal(0.0, NOISE_SIGMA, (image.height, image.width))
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))  # 2-D uint8: grey ("L")
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=False)
            target_page = scan.new_page(width=page.rect.width, height=page.rect.height)
            target_page.insert_image(target_page.rect, stream=buffer.getvalue())
        scan.save(target, garbage=3, deflate=True)
