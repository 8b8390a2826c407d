"""Structured page extraction in supervised worker processes.

`analyze_page_range` is a plain top-level generator so a worker process can
run it: it opens the document once (a worker keeps the last document it read
open) and yields one `PageLayout` per page, as each is done. `PageExtractor`
runs it in a `SupervisedPool` and streams a document's pages, in page order,
to asyncio code without blocking the event loop.

Limits, so that one hostile page never costs the document: a page that takes
longer than `page_time_limit` is killed with its worker (PAGE_TIMEOUT), a page
whose allocations exceed the worker's memory limit is stopped (PAGE_MEMORY_LIMIT),
a page that crashes its worker (a MuPDF segfault) is reported
(PAGE_WORKER_CRASHED); the rest of the batch resumes after it on a fresh
worker. A document that runs past its own time limit has its remaining pages
reported (DOCUMENT_TIME_LIMIT). Workers are recycled after a number of tasks
and when their memory grows, so nothing accumulates across documents. Pages
whose content inflates past a limit (decompression bombs) are reported
without being parsed (structure/content_limits.py), and a page too large to
render for OCR even at the lowest resolution is PAGE_TOO_LARGE_FOR_OCR.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import math
import os
import time
from collections.abc import AsyncIterator, Hashable, Iterator
from dataclasses import dataclass

import pymupdf

from mivaa_extractor.extraction.structure.content_limits import ContentLimits
from mivaa_extractor.extraction.structure.document import iter_layouts, profile_document
from mivaa_extractor.extraction.structure.model import DocumentInfo, FontProfile, PageError, PageLayout
from mivaa_extractor.extraction.structure.page_analysis import AnalysisSettings, failed_page
from mivaa_extractor.extraction.validation import DOMAIN, mupdf_warnings, open_pdf, quiet_mupdf
from mivaa_platform.errors import Internal, InvalidArgument, MivaaError, Unavailable
from mivaa_pool import (
    ItemTimeout,
    MemoryLimitExceeded,
    PoolClosed,
    SupervisedPool,
    WorkerCrashed,
    WorkerError,
    WorkerStartFailed,
    available_cores,
)

log = logging.getLogger("mivaa.extractor.text")

quiet_mupdf()

# A page rendered for OCR is at most this many pixels (the OCR service takes 60 M):
# larger pages are rendered at a lower resolution, down to the floor.
DEFAULT_OCR_MAX_PIXELS = 40_000_000
DEFAULT_OCR_MIN_DPI = 72


@dataclass(frozen=True, slots=True)
class RenderedPage:
    """A page rendered for OCR: its PNG and the resolution used, or why it was not rendered."""

    number: int
    dpi: int = 0
    png: bytes = b""
    error: PageError | None = None


def ocr_dpi_for(width_points: float, height_points: float, dpi: int, max_pixels: int, min_dpi: int) -> int | None:
    """`dpi`, lowered until the page fits in `max_pixels`; None when even `min_dpi` does not fit."""
    square_inches = max(width_points, 1.0) * max(height_points, 1.0) / (72.0 * 72.0)
    fitting = math.floor(math.sqrt(max_pixels / square_inches))
    chosen = min(dpi, fitting)
    return chosen if chosen >= min(min_dpi, dpi) else None


def render_page(path: str, password: str | None, number: int, dpi: int, max_pixels: int, min_dpi: int) -> RenderedPage:
    """A grayscale PNG of 1-based page `number` for OCR, within `max_pixels`; runs in the pool's workers."""
    with _document(path, password) as doc:
        page = doc.load_page(number - 1)
        chosen = ocr_dpi_for(page.rect.width, page.rect.height, dpi, max_pixels, min_dpi)
        if chosen is None:
            return RenderedPage(
                number,
                error=PageError(
                    "PAGE_TOO_LARGE_FOR_OCR",
                    f"Page {number} has no usable text layer and is too large to read with OCR "
                    f"({page.rect.width / 72:.0f} x {page.rect.height / 72:.0f} inches).",
                ),
            )
        pixmap = page.get_pixmap(dpi=chosen, colorspace=pymupdf.csGRAY, alpha=False)
        return RenderedPage(number, dpi=chosen, png=pixmap.tobytes("png"))


def analyze_page_range(
    path: str,
    password: str | None,
    first: int,
    last: int,
    info: DocumentInfo | None = None,
    profile: FontProfile | None = None,
    settings: AnalysisSettings | None = None,
    missing_pages_are_errors: bool = False,
) -> Iterator[PageLayout]:
    """Yields pages ``first`` .. ``last - 1`` (0-based, half-open, like range()), one at a time.

    With `missing_pages_are_errors` (the service's way), pages the document no
    longer has come back as page errors instead of failing the range: MuPDF
    may repair a broken page tree down to fewer pages than the upload declared.

    Without `info`/`profile` they are learned from the document first. A page
    that fails yields a PageLayout with `error` set instead of failing the
    range (MemoryError propagates: the worker must be replaced). Raises
    PDF_UNREADABLE / PDF_ENCRYPTED when the document cannot be opened and
    PAGE_RANGE_INVALID when the range is outside it.
    """
    mupdf_warnings(reset=True)
    with _document(path, password) as doc:
        page_count = doc.page_count
        if not 0 <= first <= last or (last > page_count and not missing_pages_are_errors):
            raise InvalidArgument(
                "PAGE_RANGE_INVALID",
                f"Pages {first}..{last} are outside the document's {page_count} pages.",
                domain=DOMAIN,
                metadata={"first": str(first), "last": str(last), "page_count": str(page_count)},
            )
        if info is None or profile is None:
            info, profile = profile_document(doc, (settings or AnalysisSettings()).content)
        yield from iter_layouts(doc, info, profile, settings, first + 1, last)


def extract_page_range(path: str, password: str | None, first: int, last: int) -> list[PageLayout]:
    """The pages ``first`` .. ``last - 1`` in this process (tests, tools); see analyze_page_range."""
    return list(analyze_page_range(path, password, first, last))


def profile_pdf(
    path: str, password: str | None, limits: ContentLimits | None = None
) -> tuple[DocumentInfo, FontProfile]:
    """Content sizes, metadata, outline, language and font profile; runs in a worker (it parses the file)."""
    with _document(path, password) as doc:
        return profile_document(doc, limits)


# In a PageExtractor worker process: the last document opened, keyed by what
# identifies that file's content, so the batches of one document that land on
# the same worker do not each re-parse it (opening a 600-page file costs ~15 ms).
# None outside workers, where every call opens and closes its document.
_worker_cache: dict[tuple, pymupdf.Document] | None = None


def _init_worker() -> None:
    global _worker_cache
    _worker_cache = {}
    quiet_mupdf()


@contextlib.contextmanager
def _document(path: str | os.PathLike[str], password: str | None) -> Iterator[pymupdf.Document]:
    """The open document: a worker's cached one, or (outside workers) one opened and closed here."""
    path = os.fspath(path)
    if _worker_cache is not None:
        yield _open_cached(path, password)
        return
    doc = open_pdf(path, password)
    try:
        yield doc
    finally:
        doc.close()


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


# Defaults sized for one page of a hostile PDF on a small machine.
DEFAULT_PAGE_TIME_LIMIT = 30.0
DEFAULT_WORKER_MEMORY_LIMIT = 2 << 30  # address space per worker (RLIMIT_AS), not resident memory
DEFAULT_RECYCLE_ABOVE_RSS = 768 << 20
DEFAULT_RECYCLE_AFTER_TASKS = 200

_FAILURE_REASONS = {
    ItemTimeout: ("PAGE_TIMEOUT", "Page {n} took longer than the {limit:g} s limit and was skipped."),
    MemoryLimitExceeded: ("PAGE_MEMORY_LIMIT", "Page {n} needed more memory than the limit allows and was skipped."),
    WorkerCrashed: ("PAGE_WORKER_CRASHED", "Page {n} crashed its extraction process and was skipped."),
}


class PageExtractor:
    """Extracts a document's pages in supervised worker processes.

    The pool (``workers`` processes, default one per usable core: mivaa_pool.available_cores) is created on
    first use and shared by all documents; see the module docstring for the
    limits it enforces.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        page_time_limit: float = DEFAULT_PAGE_TIME_LIMIT,
        memory_limit_bytes: int | None = DEFAULT_WORKER_MEMORY_LIMIT,
        recycle_after_tasks: int | None = DEFAULT_RECYCLE_AFTER_TASKS,
        recycle_above_rss_bytes: int | None = DEFAULT_RECYCLE_ABOVE_RSS,
        max_in_flight: int | None = None,
        settings: AnalysisSettings | None = None,
    ):
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        if page_time_limit <= 0:
            raise ValueError("page_time_limit must be positive")
        self.workers = workers or available_cores()
        self.page_time_limit = page_time_limit
        # Batches submitted but not yet yielded; bounds the memory held per document.
        self.max_in_flight = max_in_flight or 2 * self.workers
        self.settings = settings or AnalysisSettings()
        self._pool = SupervisedPool(
            self.workers,
            item_timeout=page_time_limit,
            memory_limit_bytes=memory_limit_bytes,
            recycle_after_tasks=recycle_after_tasks,
            recycle_above_rss_bytes=recycle_above_rss_bytes,
            initializer=_init_worker,
        )
        self._closed = False
        # What runs in the workers for a range of pages; a top-level generator
        # function with analyze_page_range's signature (tests inject faults here).
        self.analyze_function = analyze_page_range

    async def profile(
        self, path: str | os.PathLike[str], password: str | None, *, owner: Hashable = None
    ) -> tuple[DocumentInfo, FontProfile]:
        """The document-level facts every page's analysis needs, read once in a worker."""
        try:
            return await self._pool.call(
                profile_pdf,
                os.fspath(path),
                password,
                self.settings.content,
                timeout=4 * self.page_time_limit,
                fair_key=owner,
            )
        except MivaaError:
            raise
        except PoolClosed:
            raise _closed() from None
        except (ItemTimeout, MemoryLimitExceeded, WorkerCrashed, WorkerError, WorkerStartFailed) as exc:
            log.warning("profiling the document failed: %s", type(exc).__name__)
            # The pages may still be fine; analyse them with neutral defaults.
            return DocumentInfo(page_count=0), FontProfile()

    async def iter_pages(
        self,
        path: str | os.PathLike[str],
        password: str | None,
        page_count: int,
        batch_pages: int = 16,
        *,
        first: int = 0,
        info: DocumentInfo | None = None,
        profile: FontProfile | None = None,
        time_limit: float | None = None,
        owner: Hashable = None,
        images: bool = True,
    ) -> AsyncIterator[list[PageLayout]]:
        """Yields the pages first + 1 .. page_count in order, `batch_pages` at a time.

        Without `images` (a task with images off) the pages' pictures are only located: no image is
        decoded or encoded, and the pages carry neither images nor FIGURE blocks.

        Up to `max_in_flight` batches are extracted concurrently; a batch is
        yielded as soon as it and every batch before it are done. Stopping the
        iteration early cancels the batches that have not started. Documents
        of different `owner`s (tenants) that run at once get the worker
        processes in turn, and a long one gives a process up at a page
        boundary as soon as another owner waits without any.
        """
        if batch_pages < 1:
            raise ValueError("batch_pages must be at least 1")
        if page_count <= first:
            return
        if self._closed:
            raise _closed()
        if info is None or profile is None:
            info, profile = await self.profile(path, password, owner=owner)
        path = os.fspath(path)
        deadline = time.monotonic() + time_limit if time_limit else None
        settings = self.settings if images else dataclasses.replace(self.settings, emit_images=False)
        ranges = iter(
            [(start, min(start + batch_pages, page_count)) for start in range(first, page_count, batch_pages)]
        )
        pending: collections.deque[asyncio.Task[list[PageLayout]]] = collections.deque()

        def submit_next() -> bool:
            page_range = next(ranges, None)
            if page_range is None:
                return False
            pending.append(
                asyncio.create_task(
                    self._extract_range(path, password, *page_range, info, profile, settings, deadline, owner)
                )
            )
            return True

        try:
            while len(pending) < self.max_in_flight and submit_next():
                pass
            while pending:
                batch = await pending[0]
                pending.popleft()
                submit_next()  # keep the workers busy while the caller handles this batch
                yield batch
        except PoolClosed:
            raise _closed() from None
        except MivaaError:
            raise
        except Exception:
            if self._closed:
                raise _closed() from None
            log.error("page extraction failed", exc_info=True)
            raise _extraction_failed() from None
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _extract_range(
        self,
        path: str,
        password: str | None,
        first: int,
        last: int,
        info: DocumentInfo,
        profile: FontProfile,
        settings: AnalysisSettings,
        deadline: float | None,
        owner: Hashable = None,
    ) -> list[PageLayout]:
        """Pages first..last-1 (0-based); a page that times out, crashes or blows memory is reported and skipped."""
        pages: list[PageLayout] = []
        start = first
        while start < last:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                pages.extend(
                    failed_page(
                        n + 1, "DOCUMENT_TIME_LIMIT", f"Page {n + 1} was not reached within the document's time limit."
                    )
                    for n in range(start, last)
                )
                break
            try:
                # The document's clock runs while this range waits for a worker, too.
                async with asyncio.timeout(remaining):
                    stream = self._pool.stream(
                        self.analyze_function,
                        path,
                        password,
                        start,
                        last,
                        info,
                        profile,
                        settings,
                        True,
                        item_timeout=self.page_time_limit,
                        fair_key=owner,
                    )
                    async with contextlib.aclosing(stream):
                        async for page in stream:
                            pages.append(page)
                            start += 1
                            if start < last and self._pool.starved(owner):
                                break  # another tenant waits with no process at all: it goes first
            except TimeoutError:
                continue  # the document's limit: the pages not reached are reported on the next turn
            except (ItemTimeout, MemoryLimitExceeded, WorkerCrashed) as failure:
                number = first + len(pages) + 1  # the page the worker was on
                reason, message = _FAILURE_REASONS[type(failure)]
                log.warning("page %d: %s", number, reason)
                pages.append(failed_page(number, reason, message.format(n=number, limit=self.page_time_limit)))
                start = first + len(pages)
            except WorkerError as failure:
                log.error("page extraction raised %s: %s", failure.type_name, failure.message)
                raise _extraction_failed() from None
            except WorkerStartFailed as failure:
                log.error("an extraction worker could not start: %s", failure)
                raise Unavailable(
                    "EXTRACTION_WORKER_UNAVAILABLE", "No extraction process could be started.", domain=DOMAIN
                ) from None
        return pages

    def close(self) -> None:
        """Stops the worker processes; later use fails with EXTRACTOR_CLOSED."""
        self._closed = True
        self._pool.close()

    async def aclose(self) -> None:
        self._closed = True
        await self._pool.aclose()

    def __enter__(self) -> PageExtractor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> PageExtractor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def render(
        self,
        path: str | os.PathLike[str],
        password: str | None,
        numbers: list[int],
        dpi: int,
        *,
        max_pixels: int = DEFAULT_OCR_MAX_PIXELS,
        min_dpi: int = DEFAULT_OCR_MIN_DPI,
        owner: Hashable = None,
    ) -> list[RenderedPage]:
        """Renders pages to PNG in the worker processes (never on the event loop), each on its own.

        A page that cannot be rendered (too large, over the time or memory
        limit, crashing its worker) comes back with its error; the others do not pay for it.
        """
        path = os.fspath(path)

        async def one(number: int) -> RenderedPage:
            try:
                return await self._pool.call(
                    render_page,
                    path,
                    password,
                    number,
                    dpi,
                    max_pixels,
                    min_dpi,
                    timeout=self.page_time_limit,
                    fair_key=owner,
                )
            except PoolClosed:
                raise _closed() from None
            except WorkerStartFailed:
                raise Unavailable(
                    "EXTRACTION_WORKER_UNAVAILABLE", "No extraction process could be started.", domain=DOMAIN
                ) from None
            except Exception as failure:  # noqa: BLE001 - timeouts, crashes, MuPDF's own errors: this page's alone
                log.warning("page %d: rendering for OCR failed: %s", number, type(failure).__name__)
                return RenderedPage(
                    number, error=PageError("PAGE_RENDER_FAILED", f"Page {number} could not be rendered for OCR.")
                )

        return list(await asyncio.gather(*(one(number) for number in numbers)))

    async def warm_up(self) -> None:
        """Starts every worker process now, so the first document does not pay for it."""
        await self._pool.warm_up()

    def worker_pids(self) -> list[int]:
        return self._pool.worker_pids()


def _extraction_failed() -> Internal:
    return Internal("EXTRACTION_FAILED", "The text of the document could not be extracted.", domain=DOMAIN)


def _closed() -> Unavailable:
    return Unavailable("EXTRACTOR_CLOSED", "The page extractor is shutting down.", domain=DOMAIN)
