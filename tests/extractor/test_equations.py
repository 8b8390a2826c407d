"""Equations in LaTeX documents (the bench's latex-article and latex-twocolumn families, typeset by pdflatex)
come out whole and in place: a display equation between the paragraph it closes and the next one, an
inline equation inside its sentence.

The truth writes each equation as it prints (bench/ground_truth/latex_gen.py): "E = mc2", "v = d/t".
Skipped with the reason where pdflatex is not installed.
"""

from __future__ import annotations

import pathlib
import unicodedata

import pytest

from bench.ground_truth.converters import missing_converter
from bench.ground_truth.latex_gen import EQUATIONS, latex_truths
from mivaa_extractor.extraction.structure.document import extract_document

PRINTED = {printed for _, printed in EQUATIONS}


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _tail(text: str, words: int = 5) -> str:
    return " ".join(text.split()[-words:])


def _head(text: str, words: int = 5) -> str:
    return " ".join(text.split()[:words])


@pytest.mark.parametrize("family", ["latex-article", "latex-twocolumn"])
def test_display_and_inline_equations_are_kept_whole_and_in_place(tmp_path: pathlib.Path, family: str):
    if missing_converter("pdflatex"):
        pytest.skip(missing_converter("pdflatex") or "")
    for truth in latex_truths(family, tmp_path / family, range(2)):
        body = _normal(extract_document(truth.pdf).body_text())
        blocks = list(truth.blocks)
        displays = [index for index, block in enumerate(blocks) if block in PRINTED]
        inline = [block for block in blocks if any(f" {printed} for each reading." in block for printed in PRINTED)]
        assert len(displays) == 1 and len(inline) == 1, truth.name
        index = displays[0]
        # The display equation right after the end of the paragraph it closes, right before the next paragraph.
        around = _normal(f"{_tail(blocks[index - 1])} {blocks[index]} {_head(blocks[index + 1])}")
        assert around in body, f"{truth.name}: {around!r} not in the body"
        assert _normal(inline[0]) in body, f"{truth.name}: {inline[0]!r} not in the body"
