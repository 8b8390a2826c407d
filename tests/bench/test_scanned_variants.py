"""Scanned variants of the ground truth (bench/ground_truth/scanned.py) and their in-process OCR (bench/quality_ocr.py).

A generated PDF is rasterised into an image-only copy; our extraction finds no text layer on any page,
flags it, and OCR (Tesseract, loaded in this process as the OCR service's worker loads it) reads back
the words of the truth. Skipped with the reason where Tesseract is not installed.
"""

from __future__ import annotations

import collections
import re

import pymupdf
import pytest

from bench.ground_truth import generated_truths
from bench.ground_truth.scanned import FAMILY, scanned_truths
from bench.quality_ocr import extract_with_ocr, ocr_missing


def _words(text: str) -> collections.Counter[str]:
    return collections.Counter(re.findall(r"\w+", text.casefold()))


def test_a_scanned_variant_has_no_text_layer_and_ocr_reads_its_words(tmp_path):
    reason = ocr_missing()
    if reason:
        pytest.skip(reason)
    originals = [t for t in generated_truths(tmp_path / "generated") if t.name == "generated-single-column.pdf"]
    (scan,) = scanned_truths(originals, tmp_path / FAMILY)
    assert scan.name == "scanned-generated-single-column.pdf" and scan.family == FAMILY
    assert not scan.born_digital and scan.blocks == originals[0].blocks  # the original's truth
    with pymupdf.open(scan.pdf) as doc, pymupdf.open(originals[0].pdf) as original:
        assert doc.page_count == original.page_count
        assert all(not page.get_text().strip() and page.get_images() for page in doc)

    again = scanned_truths(originals, tmp_path / FAMILY)[0]
    assert again.pdf.read_bytes() == scan.pdf.read_bytes()  # cached (and deterministic)

    result = extract_with_ocr(scan.pdf)
    assert all(page.ocr_reason == "NO_TEXT_LAYER" for page in result.pages)
    expected, found = _words(scan.body_text), _words(result.body_text())
    recall = sum((expected & found).values()) / sum(expected.values())
    assert recall >= 0.9, f"OCR recall {recall:.3f}; missing {list((expected - found).elements())[:30]}"
