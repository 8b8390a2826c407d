"""Page text extraction with PyMuPDF, in worker processes.

`extract_page_range` is a plain top-level function so a process pool can run
it: it opens the document once and returns the text of a range of pages.
`PageExtractor` owns such a pool and streams a document's pages, in page
order, to asyncio code without ever blocking the event loop.

Text of a page is built from MuPDF's text blocks in content-stream order (not
sorted by position: sorting by coordinates interleaves the columns of
two-column layouts), one paragraph per block with a blank line between
blocks. Inside a block the lines are re-flowed with single spaces, a word
hyphenated across a line break is joined ("exam-" + "ple" -> "example", when
the next line starts in lower case), ligatures are expanded and whitespace and
control characters are normalised.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import multiprocessing
import os
import re
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import pymupdf

from mivaa_extractor.validation import DOMAIN, mupdf_warnings, open_pdf, quiet_mupdf
from mivaa_platform.errors import Internal, InvalidArgument, MivaaError, Unavailable

log = logging.getLogger("mivaa.extractor.text")

quiet_mupdf()

# Blocks and lines, ligatures expanded (no TEXT_PRESERVE_LIGATURES), no images.
_TEXT_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP | pymupdf.TEXT_CID_FOR_UNKNOWN_UNICODE


@dataclass(frozen=True)
class PageText:
    """The text of one page. `number` is 1-based.

    When the page could not be read, `text` is "" and `error` says so in words
    that are safe to show a user; `warnings` holds MuPDF's diagnostics for the page.
    """

    number: int
    text: str
    error: str | None = None
    warnings: tuple[str, ...] = ()
    # Why the page needs OCR (NO_TEXT_LAYER, GARBLED_TEXT_LAYER), or None when its text layer is usable.
    ocr_reason: str | None = None


# Fewer visible characters than this on a page that shows an image means "no text layer".
MIN_TEXT_LAYER_CHARS = 20
# More than this share of unmappable glyphs (U+FFFD, private use) means the text layer is garbage.
MAX_GARBLED_SHARE = 0.3


def ocr_reason(page: pymupdf.Page, text: str) -> str | None:
    """Whether a page's text layer is unusable, and why; None when it is fine.

    A page with almost no text but an image on it is a scan; a page whose text
    is mostly unmappable glyphs has a broken font map. A blank page is neither.
    """
    visible = [c for c in text if not c.isspace()]
    if visible:
        garbled = sum(1 for c in visible if c == "\ufffd" or "\ue000" <= c <= "\uf8ff")
        if garbled / len(visible) > MAX_GARBLED_SHARE:
            return "GARBLED_TEXT_LAYER"
    if len(visible) < MIN_TEXT_LAYER_CHARS and page.get_images(full=False):
        return "NO_TEXT_LAYER"
    return None


def render_page_range(path: str, password: str | None, numbers: list[int], dpi: int) -> list[tuple[int, bytes]]:
    """PNG renderings (grayscale) of the 1-based pages `numbers`, for OCR; runs in the pool's workers."""
    path = os.fspath(path)
    doc = _open_cached(path, password) if _worker_cache is not None else open_pdf(path, password)
    try:
        rendered = []
        for number in numbers:
            pixmap = doc.load_page(number - 1).get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
            rendered.append((number, pixmap.tobytes("png")))
        return rendered
    finally:
        if _worker_cache is None:
            doc.close()


def extract_page_range(path: str, password: str | None, first: int, last: int) -> list[PageText]:
    """Extracts pages ``first`` .. ``last - 1`` (0-based, half-open, like range()).

    Opens the document once per call (inside PageExtractor's workers, once per
    worker and document: a worker keeps the last document it read open). A
    page that fails yields a PageText with `error` set instead of failing the
    range. Raises PDF_UNREADABLE / PDF_ENCRYPTED when the document itself
    cannot be opened, and PAGE_RANGE_INVALID when the range is outside it.
    """
    mupdf_warnings(reset=True)
    path = os.fspath(path)
    doc = _open_cached(path, password) if _worker_cache is not None else open_pdf(path, password)
    try:
        page_count = doc.page_count
        if not 0 <= first <= last <= page_count:
            raise InvalidArgument(
                "PAGE_RANGE_INVALID",
                f"Pages {first}..{last} are outside the document's {page_count} pages.",
                domain=DOMAIN,
                metadata={"first": str(first), "last": str(last), "page_count": str(page_count)},
            )
        results: list[PageText] = []
        for index in range(first, last):
            mupdf_warnings(reset=True)
            try:
                page = doc.load_page(index)
                text = page_text(page)
            except Exception as exc:  # noqa: BLE001 - one bad page must not fail the document
                log.warning("page %d: text extraction failed: %s", index + 1, type(exc).__name__, exc_info=True)
                results.append(
                    PageText(
                        number=index + 1,
                        text="",
                        error=f"The text of page {index + 1} could not be extracted.",
                        warnings=mupdf_warnings(reset=True),
                    )
                )
                continue
            results.append(
                PageText(
                    number=index + 1, text=text, warnings=mupdf_warnings(reset=True), ocr_reason=ocr_reason(page, text)
                )
            )
        return results
    finally:
        if _worker_cache is None:
            doc.close()


# In a PageExtractor worker process: the last document opened, keyed by what
# identifies that file's content, so the batches of one document that land on
# the same worker do not each re-parse it (opening a 600-page file costs ~15 ms).
# None outside workers, where every call opens and closes its document.
_worker_cache: dict[tuple, pymupdf.Document] | None = None


def _init_worker() -> None:
    global _worker_cache
    _worker_cache = {}
    quiet_mupdf()


def _open_cached(path: str, password: str | None) -> pymupdf.Document:
    assert _worker_cache is not None
    try:
        stat = os.stat(path)
        key: tuple = (path, password, stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    except OSError:
        key = ()
    doc = _worker_cache.get(key) if key else None
    if doc is not None:
        return doc
    for old in _worker_cache.values():
        old.close()
    _worker_cache.clear()
    doc = open_pdf(path, password)
    if key:
        _worker_cache[key] = doc
    return doc


def page_text(page: pymupdf.Page) -> str:
    """The normalised text of one page: paragraphs (text blocks) separated by a blank line."""
    paragraphs: list[str] = []
    for block in page.get_text("blocks", flags=_TEXT_FLAGS):
        if block[6] != 0:  # an image block
            continue
        paragraph = _reflow(block[4])
        if not paragraph:
            continue
        # A word hyphenated across blocks (a column or frame break) joins the blocks.
        if paragraphs and _ends_hyphenated(paragraphs[-1]) and paragraph[0].islower():
            paragraphs[-1] = paragraphs[-1][:-1] + paragraph
        else:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


# Hyphens that can end a line: ASCII hyphen-minus, HYPHEN U+2010; SOFT HYPHEN is handled apart.
_HYPHENS = "-\u2010"
_SOFT_HYPHEN = "\u00ad"
# Everything that is whitespace to a reader, including NBSP, thin and ideographic spaces.
_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Control and invisible format characters (MuPDF passes them through from broken fonts).
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\ufffe]")


def _ends_hyphenated(text: str) -> bool:
    """A letter followed by a hyphen at the very end ("exam-", not "--" or "x -")."""
    return len(text) >= 2 and text[-1] in _HYPHENS and text[-2].isalpha()


def _reflow(block: str) -> str:
    """Joins a block's lines into one paragraph line, undoing hyphenation."""
    out = ""
    for raw in block.split("\n"):
        line = _SPACES.sub(" ", _INVISIBLE.sub("", raw)).strip()
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith(_SOFT_HYPHEN):
            out = out[:-1] + line
        elif _ends_hyphenated(out):
            # "exam-" + "ple" -> "example"; "Vitamin-" + "C" -> "Vitamin-C".
            out = (out[:-1] if line[0].islower() else out) + line
        else:
            out = out + " " + line
    return out.replace(_SOFT_HYPHEN, "")


class PageExtractor:
    """Extracts a document's pages in a pool of worker processes.

    The pool (``workers`` processes, default os.cpu_count(), started with the
    "spawn" method so it is safe next to threads and an event loop) is created
    on first use and shared by all documents. A worker that dies breaks the
    pool: the document being read fails with EXTRACTION_WORKER_CRASHED and the
    next document gets a fresh pool.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        mp_context: str = "spawn",
        max_tasks_per_child: int | None = None,
        max_in_flight: int | None = None,
    ):
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        if mp_context not in ("spawn", "forkserver"):
            raise ValueError("mp_context must be 'spawn' or 'forkserver'")
        self.workers = workers or os.cpu_count() or 1
        # Batches submitted but not yet yielded; bounds the memory held per document.
        self.max_in_flight = max_in_flight or 2 * self.workers
        self._context = multiprocessing.get_context(mp_context)
        self._max_tasks_per_child = max_tasks_per_child
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    async def iter_pages(
        self, path: str | os.PathLike[str], password: str | None, page_count: int, batch_pages: int = 16
    ) -> AsyncIterator[list[PageText]]:
        """Yields the pages 1..page_count in order, `batch_pages` at a time.

        Up to `max_in_flight` batches are extracted concurrently; a batch is
        yielded as soon as it and every batch before it are done. Stopping the
        iteration early cancels the batches that have not started.
        """
        if batch_pages < 1:
            raise ValueError("batch_pages must be at least 1")
        if page_count <= 0:
            return
        pool = self._get_pool()
        path = os.fspath(path)
        ranges = iter([(start, min(start + batch_pages, page_count)) for start in range(0, page_count, batch_pages)])
        pending: collections.deque[asyncio.Future[list[PageText]]] = collections.deque()

        async def submit_next() -> bool:
            page_range = next(ranges, None)
            if page_range is None:
                return False
            # submit() may start a worker process (fork/exec plus a pipe write):
            # do it off the event loop.
            future = await asyncio.to_thread(pool.submit, extract_page_range, path, password, *page_range)
            pending.append(asyncio.wrap_future(future))
            return True

        try:
            while len(pending) < self.max_in_flight and await submit_next():
                pass
            while pending:
                batch = await pending[0]
                pending.popleft()
                await submit_next()  # keep the workers busy while the caller handles this batch
                yield batch
        except BrokenProcessPool:
            self._discard_pool(pool)
            raise Internal(
                "EXTRACTION_WORKER_CRASHED",
                "A text extraction process stopped unexpectedly while reading the document.",
                domain=DOMAIN,
                metadata={"page_count": str(page_count)},
            ) from None
        except MivaaError:
            raise
        except Exception as exc:  # noqa: BLE001 - anything else is a bug or a shutdown; say so safely
            if self._closed:
                raise Unavailable("EXTRACTOR_CLOSED", "The page extractor is shutting down.", domain=DOMAIN) from exc
            log.error("text extraction failed", exc_info=True)
            raise _extraction_failed() from None
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stops the worker processes (waiting for running batches); later use fails."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def __enter__(self) -> PageExtractor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> PageExtractor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def render(self, path: str | os.PathLike[str], password: str | None, numbers: list[int], dpi: int) -> list[tuple[int, bytes]]:
        """Renders pages to PNG in the worker processes (never on the event loop)."""
        pool = await asyncio.to_thread(self._get_pool)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, render_page_range, os.fspath(path), password, list(numbers), dpi)
        except BrokenProcessPool as exc:
            self._discard_pool(pool)
            raise Internal("EXTRACTION_WORKER_CRASHED", "A page could not be rendered for OCR.", domain=DOMAIN) from exc

    async def warm_up(self) -> None:
        """Starts every worker process now, so the first document does not pay for it."""
        pool = await asyncio.to_thread(self._get_pool)
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(pool, _no_op) for _ in range(self.workers)))

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise Unavailable("EXTRACTOR_CLOSED", "The page extractor is shutting down.", domain=DOMAIN)
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=self._context,
                    max_tasks_per_child=self._max_tasks_per_child,
                    initializer=_init_worker,
                )
            return self._pool

    def _discard_pool(self, pool: ProcessPoolExecutor) -> None:
        """Drops a broken pool so the next document starts a fresh one."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        log.warning("an extraction worker process died; the pool will be recreated")
        pool.shutdown(wait=False, cancel_futures=True)


def _no_op() -> None:
    """Submitted once per worker by warm_up: importing this module in the child is the work."""


def _extraction_failed() -> Internal:
    return Internal("EXTRACTION_FAILED", "The text of the document could not be extracted.", domain=DOMAIN)
