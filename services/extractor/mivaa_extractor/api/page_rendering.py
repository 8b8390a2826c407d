"""RenderPage: one page of a tenant's stored original as a PNG, for the console's document view.

The catalog says whether the caller's tenant has the document (another tenant's is NOT_FOUND,
as search answers) and which stored original (sha256) and how many pages it has; the page is
then rendered in a supervised worker process (MuPDF never runs on the event loop or in the API
process; a page that hangs is killed with its worker) and kept in a small LRU cache with a byte
budget, keyed by (tenant, sha256, page, size): paging back and forth renders nothing twice, and
two callers asking for the same page at once share one rendering. Thumbnails (api.thumbnails) use
the same worker and cache: a document's first page at the size class's side, or a stored image
(fetched from search for the caller's tenant) shrunk in the worker, keyed by the image's name.

The extractor keeps no uploader's password once a document is processed (the sealed copy lives
in the work item, which is gone when acked), so an encrypted document renders only with the
password in the request; without it the answer is FAILED_PRECONDITION PDF_ENCRYPTED. A cached
page is served without a password: the tenant already reads that document's text and images.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import Counter

from mivaa_extractor.extraction.rendering import (
    PageImage,
    page_out_of_range,
    picture_thumbnail,
    render_page_image,
    render_side,
)
from mivaa_extractor.extraction.validation import DOMAIN
from mivaa_extractor.ports import DocumentCatalog, Originals, StoredImages
from mivaa_platform import limits as field_limits
from mivaa_platform.bus_errors import bus_errors
from mivaa_platform.errors import ErrorKind, InvalidArgument, MivaaError, Unavailable
from mivaa_pool import ItemTimeout, MemoryLimitExceeded, PoolClosed, SupervisedPool, WorkerCrashed, WorkerStartFailed

log = logging.getLogger("mivaa.extractor.render")

RENDER_CACHE = Counter(
    "mivaa_extractor_render_cache_total", "RenderPage calls answered from the page cache or rendered.", ["result"]
)

CacheKey = tuple[str, str, int, int, int]


class RenderTimedOut(MivaaError):
    kind = ErrorKind.DEADLINE_EXCEEDED


@dataclass(frozen=True)
class RenderLimits:
    # Wall-clock limit for rendering one page in the worker process (killed past it).
    seconds: float = 20.0
    # Worker processes rendering pages.
    processes: int = 1
    # Address-space limit of a rendering process (None: none).
    memory_limit_bytes: int | None = 2 << 30
    # The page cache's byte budget (PNG bytes); 0 switches it off.
    cache_bytes: int = 64 << 20


@dataclass(frozen=True)
class RenderRequest:
    name: str
    page: int
    max_width: int
    max_height: int
    password: str
    tenant: str


def new_render_request(
    *, name: str, page: int, max_width: int, max_height: int, password: str, tenant: str
) -> RenderRequest:
    """The caller's fields, checked before anything is read."""
    if not name:
        raise InvalidArgument("DOCUMENT_NAME_MISSING", "name is required: documents/{document_id}.", domain=DOMAIN)
    if page < 1:
        raise InvalidArgument(
            "PAGE_OUT_OF_RANGE", "page is 1-based: the first page is 1.", domain=DOMAIN, metadata={"page": str(page)}
        )
    return RenderRequest(
        name=name,
        page=page,
        max_width=render_side(max_width, "max_width"),
        max_height=render_side(max_height, "max_height"),
        password=field_limits.check_password(password, domain=DOMAIN, field="password"),
        tenant=tenant,
    )


class PageCache:
    """Least recently used rendered pages within a byte budget (an entry over the budget is not kept)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self.size_bytes = 0
        self._entries: collections.OrderedDict[CacheKey, PageImage] = collections.OrderedDict()

    def get(self, key: CacheKey) -> PageImage | None:
        image = self._entries.get(key)
        if image is not None:
            self._entries.move_to_end(key)
        return image

    def put(self, key: CacheKey, image: PageImage) -> None:
        if len(image.png) > self.budget_bytes or key in self._entries:
            return
        self._entries[key] = image
        self.size_bytes += len(image.png)
        while self.size_bytes > self.budget_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size_bytes -= len(evicted.png)

    def __len__(self) -> int:
        return len(self._entries)


class PageRenderer:
    """Renders pages of stored originals for one tenant at a time (see the module docstring)."""

    def __init__(
        self,
        catalog: DocumentCatalog,
        originals: Originals,
        limits: RenderLimits = RenderLimits(),
        images: StoredImages | None = None,
    ):
        self._catalog, self._originals, self.limits, self._images = catalog, originals, limits, images
        self.cache = PageCache(limits.cache_bytes)
        self._pool = SupervisedPool(
            limits.processes, item_timeout=limits.seconds, memory_limit_bytes=limits.memory_limit_bytes
        )
        self._in_flight: dict[CacheKey, asyncio.Future[PageImage]] = {}

    async def render(self, request: RenderRequest) -> PageImage:
        document = await self._catalog.get(request.name, tenant=request.tenant)
        if document.page_count and request.page > document.page_count:
            raise page_out_of_range(request.page, document.page_count)
        key = (request.tenant, document.sha256, request.page, request.max_width, request.max_height)
        return await self._cached(key, lambda: self._render(document.sha256, request))

    async def render_image(self, name: str, *, side: int, tenant: str) -> PageImage:
        """A stored image of `tenant`'s within side x side pixels, cached like pages (thumbnails)."""
        if self._images is None:
            raise Unavailable("IMAGES_UNAVAILABLE", "Stored images cannot be read here.", domain=DOMAIN)
        images = self._images
        with bus_errors(domain=DOMAIN):
            await images.check_image(name, tenant=tenant)  # another tenant's is NOT_FOUND, cached or not

        async def shrink() -> PageImage:
            with bus_errors(domain=DOMAIN):
                data = await images.image_content(name, tenant=tenant)
            return await self._in_pool(picture_thumbnail, (data, side), what="The image", fair_key=tenant)

        return await self._cached((tenant, name, 0, side, side), shrink)

    async def _cached(self, key: CacheKey, make: Callable[[], Awaitable[PageImage]]) -> PageImage:
        cached = self.cache.get(key)
        if cached is not None:
            RENDER_CACHE.labels("hit").inc()
            return cached
        task = self._in_flight.get(key)
        if task is not None:  # the same picture asked for twice at once: one rendering
            RENDER_CACHE.labels("hit").inc()
        else:
            RENDER_CACHE.labels("miss").inc()
            # A task of its own: a caller that hangs up does not cancel what another caller waits for.
            task = asyncio.ensure_future(make())
            self._in_flight[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    def _finished(self, key: CacheKey, task: asyncio.Future[PageImage]) -> None:
        del self._in_flight[key]
        if not task.cancelled() and task.exception() is None:
            self.cache.put(key, task.result())

    async def _render(self, sha256: str, request: RenderRequest) -> PageImage:
        with bus_errors(domain=DOMAIN):
            data = await self._originals.get(sha256)
        args = (data, request.password or None, request.page, request.max_width, request.max_height)
        return await self._in_pool(render_page_image, args, what=f"Page {request.page}", fair_key=request.tenant)

    async def _in_pool(self, function: Callable[..., PageImage], args: tuple, *, what: str, fair_key: str) -> PageImage:
        try:
            return await self._pool.call(function, *args, timeout=self.limits.seconds, fair_key=fair_key)
        except MivaaError as error:
            raise error from None  # the caller's answer from the renderer itself (encrypted, out of range)
        except ItemTimeout:
            raise RenderTimedOut("PAGE_RENDER_TIMEOUT", f"{what} took too long to render.", domain=DOMAIN) from None
        except PoolClosed:
            raise Unavailable("EXTRACTOR_CLOSED", "The extractor is shutting down.", domain=DOMAIN) from None
        except WorkerStartFailed:
            raise Unavailable(
                "EXTRACTION_WORKER_UNAVAILABLE", "No rendering process could be started.", domain=DOMAIN
            ) from None
        except (WorkerCrashed, MemoryLimitExceeded, Exception) as failure:  # noqa: BLE001 - this page's alone
            log.warning("%s: rendering failed: %s", what, type(failure).__name__)
            raise InvalidArgument("PAGE_RENDER_FAILED", f"{what} could not be rendered.", domain=DOMAIN) from None

    async def warm_up(self) -> None:
        await self._pool.warm_up()

    def close(self) -> None:
        self._pool.close()
