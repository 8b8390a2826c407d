"""Running page headers and footers, recognised across pages as they stream in.

A block near the top or bottom edge of a page is furniture when text of the
same shape (digits ignored, so "Chapter 3 - page 12" matches "page 13") sits
in the same margin of other pages nearby. Pages are held back until the
pages after them have been seen (`window` pages), so the decision for page n
uses pages n - window .. n + window and the stream never holds more than
2 * window + 1 pages, however long the document.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import replace

from mivaa_extractor.extraction.structure.lexicon import DIGITS
from mivaa_extractor.extraction.structure.model import BlockKind, PageLayout


def _shape(text: str) -> str:
    return DIGITS.sub("#", " ".join(text.casefold().split()))


class FurnitureDetector:
    def __init__(self, *, window: int = 6, margin_share: float = 0.1, min_repeats: int = 3):
        self._window = window
        self._margin_share = margin_share
        self._min_repeats = min_repeats
        self._pages: deque[tuple[PageLayout, list[tuple[int, str]]]] = deque()
        self._released = 0  # how many of the held pages are already returned (kept for look-back)

    def push(self, page: PageLayout) -> list[PageLayout]:
        """Adds the next page (in page order); returns the pages whose decision is now final."""
        self._pages.append((page, self._candidates(page)))
        ready: list[PageLayout] = []
        while len(self._pages) - self._released > self._window:
            ready.append(self._release())
        return ready

    def finish(self) -> list[PageLayout]:
        ready: list[PageLayout] = []
        while self._released < len(self._pages):
            ready.append(self._release())
        self._pages.clear()
        self._released = 0
        return ready

    def _release(self) -> PageLayout:
        index = self._released
        page, candidates = self._pages[index]
        self._released += 1
        if candidates:
            low = max(0, index - self._window)
            high = min(len(self._pages), index + self._window + 1)
            seen: Counter[str] = Counter()
            for other in range(low, high):
                if other != index:
                    seen.update({shape for _, shape in self._pages[other][1]})
            # Matches needed on *other* pages; a two-page document can only agree once.
            needed = max(1, min(self._min_repeats - 1, high - low - 1))
            repeated = [block_index for block_index, shape in candidates if seen[shape] >= needed]
            content = [
                i for i, block in enumerate(page.blocks) if block.kind not in (BlockKind.PAGE_NUMBER, BlockKind.FIGURE)
            ]
            # A page whose only text would be furniture (every page says the same
            # single line) is content, not furniture.
            if repeated and len(repeated) < len(content):
                for block_index in repeated:
                    block = page.blocks[block_index]
                    top = block.bbox[1] < page.height / 2
                    page.blocks[block_index] = replace(
                        block, kind=BlockKind.PAGE_HEADER if top else BlockKind.PAGE_FOOTER
                    )
        # Drop pages that can no longer be in anyone's window.
        while self._released > self._window:
            self._pages.popleft()
            self._released -= 1
        return page

    def _candidates(self, page: PageLayout) -> list[tuple[int, str]]:
        if page.error or not page.height:
            return []
        margin = self._margin_share * page.height
        content = [block.bbox for block in page.blocks if block.kind not in (BlockKind.PAGE_NUMBER,)]
        if not content:
            return []
        top = min(bbox[1] for bbox in content)
        bottom = max(bbox[3] for bbox in content)
        found = []
        for index, block in enumerate(page.blocks):
            if block.kind not in (BlockKind.PARAGRAPH, BlockKind.HEADING, BlockKind.CAPTION) or len(block.text) > 200:
                continue
            x0, y0, x1, y1 = block.bbox
            # In the margins, or the first or last line of the page even when the margins are narrow.
            if y1 <= margin or y0 >= page.height - margin or y0 <= top + 1 or y1 >= bottom - 1:
                found.append((index, _shape(block.text)))
        return found
