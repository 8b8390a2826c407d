"""Text lines Tesseract's layout analysis dropped, found by the ink and read on their own.

On short pages and with some scripts (Arabic on the bench: one line of three; Korean with wide line
spacing: lines split into "columns") Tesseract's page layout loses whole lines while reading the
others confidently. The ink tells where lines are: rows of ink separated by (near) blank rows. A band
of ink at text-line height that no recognized line overlaps is cut out with a margin and read again;
its lines join the page in vertical order.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import median

import numpy as np
from PIL import Image

from mivaa_ocr.engines.base_engine import Box, Line, PageOcr, Word
from mivaa_ocr.imaging import gray, ink_mask

# At most this many bands are read again on one page (a noisy scan would otherwise cost a read per speck).
MAX_RECOVERED_BANDS = 12
# A row belongs to a band when its ink is at least this share of the inkiest row's.
ROW_INK_SHARE = 0.03

Reader = Callable[[Image.Image], PageOcr]


def ink_bands(image: Image.Image) -> list[tuple[int, int]]:
    """Vertical extents (y0, y1) of the bands of ink rows, in the image's pixels."""
    pixels, scale = gray(image, 2400)
    rows = ink_mask(pixels).sum(axis=1)
    if rows.size == 0 or rows.max() == 0:
        return []
    inked = rows >= max(2, ROW_INK_SHARE * rows.max())
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked.astype(np.int8), [0]))))
    return [(round(int(a) / scale), round(int(b) / scale)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _covered(band: tuple[int, int], lines: tuple[Line, ...]) -> bool:
    y0, y1 = band
    height = max(1, y1 - y0)
    return any(min(y1, line.box.y1) - max(y0, line.box.y0) >= 0.4 * height for line in lines)


def _shifted(line: Line, dx: float, dy: float, block: int) -> Line:
    def move(box: Box) -> Box:
        return Box(box.x0 + dx, box.y0 + dy, box.x1 + dx, box.y1 + dy)

    return Line(
        text=line.text,
        box=move(line.box),
        confidence=line.confidence,
        words=tuple(Word(w.text, move(w.box), w.confidence) for w in line.words),
        block=block,
    )


def recover_lost_lines(image: Image.Image, page: PageOcr, read: Reader) -> PageOcr:
    """`page` with the lines of the ink bands it missed, each read alone by `read`."""
    if not page.lines:
        return page
    heights = [line.box.y1 - line.box.y0 for line in page.lines]
    typical = median(heights)
    lost = [
        band
        for band in ink_bands(image)
        if 0.5 * typical <= band[1] - band[0] <= 2.5 * typical and not _covered(band, page.lines)
    ]
    if not lost or len(lost) > MAX_RECOVERED_BANDS:
        return page
    lines = list(page.lines)
    block = max(line.block for line in lines) + 1

    def middle(line: Line) -> float:
        return (line.box.y0 + line.box.y1) / 2

    for y0, y1 in lost:
        pad = round(0.5 * typical)
        top, bottom = max(0, y0 - pad), min(image.height, y1 + pad)
        found = read(image.crop((0, top, image.width, bottom)))
        for line in found.lines:
            moved = _shifted(line, 0.0, float(top), block)
            # before the first line below it, so the other lines keep their (column) order
            at = next((i for i, other in enumerate(lines) if middle(other) > middle(moved)), len(lines))
            lines.insert(at, moved)
        block += 1
    return PageOcr(lines=tuple(lines), width=page.width, height=page.height)
