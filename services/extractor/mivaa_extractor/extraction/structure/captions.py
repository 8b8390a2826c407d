"""Which text block is an image's (or a table's) caption: labelled or short, right below or above it."""

from __future__ import annotations

import math
from collections.abc import Sequence

from mivaa_extractor.extraction.structure.lexicon import FIGURE_CAPTION_PREFIXES, caption_label
from mivaa_extractor.extraction.structure.model import BBox

_DEFAULT_LINE_HEIGHT = 12.0
_CAPTION_LINES = 3.0  # how far (in line heights) a caption may sit from its figure
_PLAIN_CAPTION_MAX_CHARS = 300  # an unlabelled caption is short; a long paragraph is body text
_PLAIN_CAPTION_MAX_LINES = 4


def _line_height(bbox: BBox, text: str, lines: int) -> float:
    """A block's line height, also when its lines were joined into one string.

    Text of font size s takes about 0.5 s per character and 1.2 s per line, so
    a block of width W and height H holding N characters has s ~ sqrt(H W / 0.6 N).
    """
    width, height = bbox[2] - bbox[0], bbox[3] - bbox[1]
    if width <= 0 or height <= 0:
        return _DEFAULT_LINE_HEIGHT
    estimate = height / lines
    size = math.sqrt(height * width / (0.6 * max(1, len(text))))
    return min(max(min(estimate, 1.2 * size), 6.0), 30.0)


def find_caption(
    image_bbox: BBox,
    blocks: Sequence[tuple[BBox, str]],
    prefixes: Sequence[str] = FIGURE_CAPTION_PREFIXES,
) -> int | None:
    """Index of the text block that is this image's (or table's) caption, or None.

    Candidates overlap the image horizontally and sit directly below it, or
    else above it, within ~3 of their own line heights. A block starting with
    one of `prefixes` ("Figure 3:", "Abb. 2", ...) wins over an unlabelled
    one; an unlabelled block counts only when it is short (a caption, not body
    text). Among equals: below before above, then the nearest.
    """
    label = caption_label(prefixes)
    x0, y0, x1, y1 = image_bbox
    image_width = max(1e-6, x1 - x0)
    best: tuple[tuple[int, int, float], int] | None = None
    for index, (bbox, text) in enumerate(blocks):
        stripped = text.strip()
        if not stripped:
            continue
        bx0, by0, bx1, by1 = bbox
        overlap = min(x1, bx1) - max(x0, bx0)
        if overlap <= 0 or overlap < 0.25 * min(image_width, max(1e-6, bx1 - bx0)):
            continue
        line_height = _line_height(bbox, stripped, stripped.count("\n") + 1)
        lines = max(stripped.count("\n") + 1, round((by1 - by0) / line_height))
        tolerance = 0.5 * line_height  # a caption may touch or slightly overlap its figure's box
        below_gap = by0 - y1
        above_gap = y0 - by1
        if -tolerance <= below_gap <= _CAPTION_LINES * line_height:
            side, gap = 0, max(0.0, below_gap)
        elif -tolerance <= above_gap <= _CAPTION_LINES * line_height:
            side, gap = 1, max(0.0, above_gap)
        else:
            continue
        labelled = bool(label.match(stripped))
        if not labelled and (len(stripped) > _PLAIN_CAPTION_MAX_CHARS or lines > _PLAIN_CAPTION_MAX_LINES):
            continue
        rank = (0 if labelled else 1, side, gap)
        if best is None or rank < best[0]:
            best = (rank, index)
    return None if best is None else best[1]
