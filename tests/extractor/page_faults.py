"""Page analysers that misbehave on chosen pages: real hangs, crashes and runaway allocations.

Top-level functions so spawned extraction workers can import them; each wraps
the real analyze_page_range and injects its fault when it reaches page FAULT_PAGE.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

from mivaa_extractor.extraction.structure.model import PageLayout
from mivaa_extractor.extraction.text_extraction import analyze_page_range

FAULT_PAGE = 3


def _with_fault(fault, path, password, first, last, *rest) -> Iterator[PageLayout]:
    for page in analyze_page_range(path, password, first, last, *rest):
        if page.number == FAULT_PAGE:
            fault()
        yield page


def hang_on_page(*args) -> Iterator[PageLayout]:
    yield from _with_fault(lambda: time.sleep(3600), *args)


def segfault_on_page(*args) -> Iterator[PageLayout]:
    yield from _with_fault(lambda: os.kill(os.getpid(), signal.SIGSEGV), *args)


def allocate_on_page(*args) -> Iterator[PageLayout]:
    def allocate() -> None:
        # 16 GiB at once, far beyond any worker's address-space limit: refused at the first
        # allocation, so the fault is a MemoryError every time and never a slow page that the
        # page timeout reaches first on a busy machine (as filling 256 MiB blocks one by one was).
        hoard = bytearray(16 << 30)
        del hoard

    yield from _with_fault(allocate, *args)


def slow_pages(*args) -> Iterator[PageLayout]:
    """Every page takes a quarter of a second more (a stand-in for heavy pages in fairness tests)."""
    for page in analyze_page_range(*args):
        time.sleep(0.25)
        yield page
