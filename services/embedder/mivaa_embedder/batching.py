"""Dynamic batching: many concurrent small embed requests become few model calls.

`await batcher.embed(items)` queues the caller's items. One background task takes
the first waiting request, gathers whatever else arrives until `max_batch_texts`
items are collected or `max_wait_ms` has passed, runs the (synchronous) model
function once on a single-thread executor, never on the event loop, and hands
every caller exactly its own rows. A request larger than `max_batch_texts` is
split into several queue entries and reassembled in order.

Requests are interactive (a person waits: a search query) or bulk (a document's
chunks). Interactive ones are taken before any bulk one still waiting and are
batched only with each other, so a query waits at most for the one bulk batch
already running, never behind a queue of them.

Items are texts for the text models (the default, `result_type=EmbeddingBatch`),
but may be anything the model function takes (preprocessed images for CLIP): the
function gets a list of items and returns a batch result with one row per item,
which must offer `len()`, `.vectors`, `.slice(start, stop)` and the classmethods
`empty(dimension)` and `concat(parts, dimension)` (as EmbeddingBatch does).

Domain code: no grpc. Counters are plain attributes for the service to export.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any

from mivaa_embedder.text_model import EmbeddingBatch
from mivaa_platform.errors import Internal, InvalidArgument, Unavailable

EmbedFn = Callable[[list[Any]], Any]  # list of items -> a batch result, one row per item


@dataclasses.dataclass(eq=False)
class _Pending:
    texts: list[Any]  # the caller's items (texts, or whatever the model function takes)
    future: asyncio.Future
    bulk: bool = False
    order: int = 0  # its place in the queue, kept when it goes back (see _run)


_STOP = None  # the queue's stop marker: close() puts it after the last request
# Queue order: interactive, then bulk, then the stop marker; first come first served within each.
_INTERACTIVE, _BULK, _LAST = 0, 1, 2


class DynamicBatcher:
    """Coalesces concurrent `embed` calls into batched calls of `embed_fn`.

    Counters (monotonic, read freely from the event loop thread; "texts" means
    items when the batcher serves something else, such as images):
      requests        embed() calls accepted
      batches_run     model calls made (successful or not)
      batch_errors    model calls that raised
      texts_embedded  texts returned to callers from successful model calls
      model_seconds   wall time spent inside embed_fn
      max_batch_seen  largest number of texts in one model call
    `queued_texts` is the number of texts waiting for a batch right now.
    """

    def __init__(
        self,
        embed_fn: EmbedFn,
        *,
        max_batch_texts: int = 128,
        max_wait_ms: float = 5.0,
        dimension: int | None = None,
        name: str = "embedder",
        result_type: Any = EmbeddingBatch,
    ):
        if max_batch_texts < 1:
            raise InvalidArgument("INVALID_BATCH_SIZE", "max_batch_texts must be at least 1.")
        if max_wait_ms < 0:
            raise InvalidArgument("INVALID_BATCH_WAIT", "max_wait_ms must not be negative.")
        self._embed_fn = embed_fn
        self.max_batch_texts = int(max_batch_texts)
        self.max_wait_s = float(max_wait_ms) / 1000.0
        self.dimension = dimension
        self.name = name
        self.result_type = result_type  # for empty() and concat(); see the module docstring
        # start() makes the queue and the model thread, on the event loop that will use them.
        self._queue: asyncio.PriorityQueue[tuple[int, int, _Pending | None]]
        self._order = itertools.count()
        self._executor: concurrent.futures.ThreadPoolExecutor
        self._task: asyncio.Task | None = None
        self._closing = False

        self.requests = 0
        self.batches_run = 0
        self.batch_errors = 0
        self.texts_embedded = 0
        self.model_seconds = 0.0
        self.max_batch_seen = 0
        self.queued_texts = 0

    # -- lifecycle ---------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Starts the background task on the running event loop (idempotent)."""
        if self._closing:
            raise Unavailable("EMBEDDER_CLOSED", f"The {self.name} batcher is shut down.")
        if self.running:
            return
        self._queue = asyncio.PriorityQueue()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-model")
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"{self.name}-batcher")

    async def close(self) -> None:
        """Stops taking requests, finishes the ones already queued, then stops."""
        if self._closing:
            if self._task is not None:
                await asyncio.shield(self._task)
            return
        self._closing = True
        if self._task is None:
            return
        self._put(_LAST, _STOP)
        try:
            await asyncio.shield(self._task)
        finally:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> DynamicBatcher:
        self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- API ---------------------------------------------------------------

    async def embed(self, texts: Sequence[Any], *, bulk: bool = False) -> Any:
        """Embeds `texts` (or other items) as part of whatever batch forms; returns exactly these rows, in order.

        bulk: nobody waits for these in person; every interactive request queued meanwhile goes first."""
        if self._closing:
            raise Unavailable("EMBEDDER_CLOSED", f"The {self.name} batcher is shut down.")
        if not self.running:
            self.start()
        texts = list(texts)
        self.requests += 1
        if not texts:
            if self.dimension is not None:
                return self.result_type.empty(self.dimension)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._embed_fn, [])
        loop = asyncio.get_running_loop()
        parts = [
            _Pending(texts[i : i + self.max_batch_texts], loop.create_future(), bulk)
            for i in range(0, len(texts), self.max_batch_texts)
        ]
        for part in parts:
            self.queued_texts += len(part.texts)
            self._put(_BULK if bulk else _INTERACTIVE, part)
        if len(parts) == 1:
            return await parts[0].future
        results = await asyncio.gather(*(p.future for p in parts), return_exceptions=True)
        rows = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            rows.append(result)
        return self.result_type.concat(rows, self.dimension or rows[0].vectors.shape[1])

    # -- background task ---------------------------------------------------

    def _put(self, rank: int, item: _Pending | None) -> None:
        order = next(self._order)
        if item is not None:
            item.order = order
        self._queue.put_nowait((rank, order, item))

    def _put_back(self, item: _Pending) -> None:
        """An item that does not fit the batch being made returns to its own place in the queue, so
        an interactive request queued meanwhile still goes before it."""
        self._queue.put_nowait((_BULK if item.bulk else _INTERACTIVE, item.order, item))

    async def _next(self, timeout: float | None) -> _Pending | None:
        if timeout is None:
            return (await self._queue.get())[2]
        try:
            return self._queue.get_nowait()[2]
        except asyncio.QueueEmpty:
            pass
        if timeout <= 0:
            raise TimeoutError
        return (await asyncio.wait_for(self._queue.get(), timeout))[2]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await self._next(None)
            if first is _STOP:
                break
            batch: list[_Pending] = [first]
            size = len(first.texts)
            deadline = loop.time() + self.max_wait_s
            while size < self.max_batch_texts:
                try:
                    item = await self._next(deadline - loop.time())
                except TimeoutError:
                    break
                if item is _STOP:
                    stopping = True  # run what we have, then stop
                    break
                if size + len(item.texts) > self.max_batch_texts or item.bulk != first.bulk:
                    self._put_back(item)
                    break
                batch.append(item)
                size += len(item.texts)
            await self._dispatch(batch)
        # Anything still queued after the stop marker (none normally) is refused.
        leftovers = []
        while not self._queue.empty():
            item = self._queue.get_nowait()[2]
            if item is not _STOP:
                leftovers.append(item)
        for item in leftovers:
            self.queued_texts -= len(item.texts)
            if not item.future.done():
                item.future.set_exception(Unavailable("EMBEDDER_CLOSED", f"The {self.name} batcher is shut down."))

    async def _dispatch(self, batch: list[_Pending]) -> None:
        for item in batch:
            self.queued_texts -= len(item.texts)
        # Callers that gave up (cancelled) cost nothing.
        live = [item for item in batch if not item.future.done()]
        if not live:
            return
        texts = [t for item in live for t in item.texts]
        loop = asyncio.get_running_loop()
        self.batches_run += 1
        self.max_batch_seen = max(self.max_batch_seen, len(texts))
        started = time.perf_counter()
        try:
            result = await loop.run_in_executor(self._executor, self._embed_fn, texts)
            if len(result) != len(texts) or result.vectors.shape[0] != len(texts):
                raise Internal("EMBED_SIZE_MISMATCH", "The model returned a different number of vectors than inputs.")
        except asyncio.CancelledError:
            # The batcher itself is being torn down mid-call: its callers are cancelled too.
            for item in live:
                item.future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - every waiting caller gets it
            self.model_seconds += time.perf_counter() - started
            self.batch_errors += 1
            for item in live:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        self.model_seconds += time.perf_counter() - started
        self.texts_embedded += len(texts)
        offset = 0
        for item in live:
            n = len(item.texts)
            if not item.future.done():
                item.future.set_result(result.slice(offset, offset + n))
            offset += n
