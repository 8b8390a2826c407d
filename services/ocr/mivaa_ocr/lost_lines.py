"""Text lines Tesseract's layout analysis dropped or cut, found by the ink and read on their own.

On short pages and with some scripts (Arabic on the bench: one line of three lost; Korean: lines cut
short, split into "columns" or doubled by a phantom line) Tesseract's page layout damages whole
lines while reading the others confidently. The ink tells where lines are: bands of ink rows
separated by (near) blank rows. A band at text-line height is read again alone (cut out with a
margin) when no recognized line overlaps it (lost), or when the lines over it leave part of its ink
uncovered or include a line read with very low confidence (damaged), unless confident lines sit
side by side on it (columns, which reading the band across the page would merge). A damaged band
keeps its new reading only when that covers at least as much of its ink at least as confidently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

import numpy as np
from PIL import Image

from mivaa_ocr.engines.base_engine import Box, Line, PageOcr, Word
from mivaa_ocr.imaging import gray, ink_mask

# At most this many bands are read again on one page (a noisy scan would otherwise cost a read per speck).
MAX_RECOVERED_BANDS = 12
# A row belongs to a band when its ink is at least this share of the inkiest row's.
ROW_INK_SHARE = 0.03
# A band is damaged when its lines leave more than this share of its ink's width uncovered...
UNCOVERED_SHARE = 0.1
# ...or one of them is read under this confidence; lines this sure, side by side, are columns.
PHANTOM_CONFIDENCE = 0.5
COLUMN_CONFIDENCE = 0.7

Reader = Callable[[Image.Image], PageOcr]


@dataclass(frozen=True)
class Band:
    y0: int
    y1: int
    x0: int  # the ink's horizontal extent
    x1: int


def ink_bands(image: Image.Image) -> list[Band]:
    """The bands of ink rows with their ink's horizontal extent, in the image's pixels."""
    pixels, scale = gray(image, 2400)
    mask = ink_mask(pixels)
    rows = mask.sum(axis=1)
    if rows.size == 0 or rows.max() == 0:
        return []
    inked = rows >= max(2, ROW_INK_SHARE * rows.max())
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked.astype(np.int8), [0]))))
    bands = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        columns = np.flatnonzero(mask[a:b].sum(axis=0) >= 2)
        if columns.size:
            bands.append(
                Band(
                    round(int(a) / scale),
                    round(int(b) / scale),
                    round(int(columns[0]) / scale),
                    round(int(columns[-1] + 1) / scale),
                )
            )
    return bands


def _over(band: Band, lines: list[Line]) -> list[Line]:
    """The lines that sit on the band: overlapping it by 40% of the lower of the two heights."""

    def overlap(line: Line) -> bool:
        height = max(1.0, min(band.y1 - band.y0, line.box.y1 - line.box.y0))
        return min(band.y1, line.box.y1) - max(band.y0, line.box.y0) >= 0.4 * height

    return [line for line in lines if overlap(line)]


def _coverage(band: Band, lines: list[Line]) -> float:
    """The share of the band's ink width under the lines' boxes."""
    width = max(1, band.x1 - band.x0)
    covered = np.zeros(width, dtype=bool)
    for line in lines:
        a, b = max(0, round(line.box.x0) - band.x0), min(width, round(line.box.x1) - band.x0)
        if b > a:
            covered[a:b] = True
    return float(covered.mean())


def _confidence(lines: list[Line]) -> float:
    words = [word.confidence for line in lines for word in line.words]
    return sum(words) / len(words) if words else 0.0


def _columns(lines: list[Line]) -> bool:
    sure = [line for line in lines if line.confidence >= COLUMN_CONFIDENCE]
    return any(a.box.x1 <= b.box.x0 or b.box.x1 <= a.box.x0 for i, a in enumerate(sure) for b in sure[i + 1 :])


def _shifted(line: Line, dy: float, block: int) -> Line:
    def move(box: Box) -> Box:
        return Box(box.x0, box.y0 + dy, box.x1, box.y1 + dy)

    return Line(
        text=line.text,
        box=move(line.box),
        confidence=line.confidence,
        words=tuple(Word(w.text, move(w.box), w.confidence) for w in line.words),
        block=block,
    )


def _middle(line: Line) -> float:
    return (line.box.y0 + line.box.y1) / 2


def recover_lost_lines(image: Image.Image, page: PageOcr, read: Reader) -> PageOcr:
    """`page` with the ink bands it lost or damaged read alone by `read` (see the module's docstring)."""
    if not page.lines:
        return page
    typical = median(line.box.y1 - line.box.y0 for line in page.lines)
    lines = list(page.lines)
    redo: list[tuple[Band, list[Line]]] = []
    for band in ink_bands(image):
        if not 0.5 * typical <= band.y1 - band.y0 <= 2.5 * typical:
            continue
        over = _over(band, lines)
        if (
            not over
            or not _columns(over)
            and (
                _coverage(band, over) < 1 - UNCOVERED_SHARE
                or min(line.confidence for line in over) < PHANTOM_CONFIDENCE
            )
        ):
            redo.append((band, over))
    if not redo or len(redo) > MAX_RECOVERED_BANDS:
        return page
    block = max(line.block for line in lines) + 1
    for band, old in redo:
        pad = round(0.5 * typical)
        top, bottom = max(0, band.y0 - pad), min(image.height, band.y1 + pad)
        found = [_shifted(line, float(top), block) for line in read(image.crop((0, top, image.width, bottom))).lines]
        if not found:
            continue
        if old:
            if _coverage(band, found) < _coverage(band, old) - 0.02 or _confidence(found) < _confidence(old) - 0.03:
                continue
            at = lines.index(old[0])
            block_of_old = old[0].block
            lines = [line for line in lines if not any(line is gone for gone in old)]
            lines[at:at] = [Line(line.text, line.box, line.confidence, line.words, block_of_old) for line in found]
            continue
        for line in found:
            # before the first line below it, so the other lines keep their (column) order
            at = next((i for i, other in enumerate(lines) if _middle(other) > _middle(line)), len(lines))
            lines.insert(at, line)
        block += 1
    return PageOcr(lines=tuple(lines), width=page.width, height=page.height)
