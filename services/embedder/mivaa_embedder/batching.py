"""Dynamic batching: many concurrent small embed requests become few model calls.

`await batcher.embed(items)` queues the caller's items. A background task (one per
lane, below) takes the first waiting request, gathers whatever else arrives until `max_batch_texts`
items are collected or `max_wait_ms` has passed, runs the (synchronous) model
function once on a single-thread executor, never on the event loop, and hands
every caller exactly its own rows. A request larger than `max_batch_texts` is
split into several queue entries and reassembled in order.

Requests are interactive (a person waits: a search query) or bulk (a document's
chunks), and each kind has a lane of its own: its queue, its batches and its
model thread. A query is never queued behind chunks nor batched with them; its
small model call runs beside a bulk one (the session allows concurrent runs),
sharing the cores for its few milliseconds instead of waiting seconds for a
batch of chunks to finish. The bulk lane may call a function of its own (a text
model's embed_bulk: the same rows from low-priority threads, so the query wins
the cores too).

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
import time
from collections.abc import Callable, Sequence
from typing import Any

from mivaa_embedder import metrics
from mivaa_embedder.text_model import EmbeddingBatch
from mivaa_platform.errors import Internal, InvalidArgument, Unavailable

EmbedFn = Callable[[list[Any]], Any]  # list of items -> a batch result, one row per item


@dataclasses.dataclass(eq=False)
class _Pending:
    texts: list[Any]  # the caller's items (texts, or whatever the model function takes)
    future: asyncio.Future


_STOP = None  # a lane's stop marker: close() puts it after the last request


class _Lane:
    """One kind of request: a queue, the task that makes batches from it, and one model thread."""

    def __init__(self, batcher: DynamicBatcher, kind: str):
        self.batcher, self.kind = batcher, kind
        self.queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"{batcher.name}-{kind}-model"
        )
        self.carry: _Pending | None = None
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"{batcher.name}-{kind}-batcher")

    async def stop(self) -> None:
        self.queue.put_nowait(_STOP)
        try:
            await asyncio.shield(self.task)
        finally:
            self.executor.shutdown(wait=False)

    async def _next(self, timeout: float | None) -> _Pending | None:
        if self.carry is not None:
            item, self.carry = self.carry, None
            return item
        if timeout is None:
            return await self.queue.get()
        try:
            return self.queue.get_nowait()
        except asyncio.QueueEmpty:
            pass
        if timeout <= 0:
            raise TimeoutError
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        limit = self.batcher.max_batch_texts
        stopping = False
        while not stopping:
            first = await self._next(None)
            if first is _STOP:
                break
            batch: list[_Pending] = [first]
            size = len(first.texts)
            deadline = loop.time() + self.batcher.max_wait_s
            while size < limit:
                try:
                    item = await self._next(deadline - loop.time())
                except TimeoutError:
                    break
                if item is _STOP:
                    stopping = True  # run what we have, then stop
                    break
                if size + len(item.texts) > limit:
                    self.carry = item  # opens the next batch
                    break
                batch.append(item)
                size += len(item.texts)
            await self.batcher.dispatch(batch, self.executor, bulk=self.kind == "bulk")
        # Anything still queued after the stop marker (none normally) is refused.
        leftovers = [self.carry] if self.carry is not None else []
        self.carry = None
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if item is not _STOP:
                leftovers.append(item)
        for item in leftovers:
            self.batcher.queued_texts -= len(item.texts)
            if not item.future.done():
                item.future.set_exception(self.batcher.closed_error())


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
        bulk_embed_fn: EmbedFn | None = None,
    ):
        """bulk_embed_fn: what the bulk lane calls instead of embed_fn (the same rows, computed
        where they yield to queries: OnnxTextEmbedder.embed_bulk)."""
        if max_batch_texts < 1:
            raise InvalidArgument("INVALID_BATCH_SIZE", "max_batch_texts must be at least 1.")
        if max_wait_ms < 0:
            raise InvalidArgument("INVALID_BATCH_WAIT", "max_wait_ms must not be negative.")
        self._embed_fn = embed_fn
        self._bulk_embed_fn = bulk_embed_fn or embed_fn
        self.max_batch_texts = int(max_batch_texts)
        self.max_wait_s = float(max_wait_ms) / 1000.0
        self.dimension = dimension
        self.name = name
        # The model's series from the start, so its first batches already show in a rate.
        metrics.BATCH_SIZE.labels(name)
        metrics.MODEL_SECONDS.labels(name)
        self.result_type = result_type  # for empty() and concat(); see the module docstring
        # Lanes start on the event loop that uses them: interactive at start(), bulk at its first request.
        self._lanes: dict[bool, _Lane] = {}  # bulk? -> its lane
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
        lane = self._lanes.get(False)
        return lane is not None and not lane.task.done()

    def start(self) -> None:
        """Starts the interactive lane on the running event loop (idempotent)."""
        self._lane(bulk=False)

    def _lane(self, *, bulk: bool) -> _Lane:
        if self._closing:
            raise self.closed_error()
        lane = self._lanes.get(bulk)
        if lane is None or lane.task.done():
            lane = self._lanes[bulk] = _Lane(self, "bulk" if bulk else "interactive")
        return lane

    def closed_error(self) -> Unavailable:
        return Unavailable("EMBEDDER_CLOSED", f"The {self.name} batcher is shut down.")

    async def close(self) -> None:
        """Stops taking requests, finishes the ones already queued, then stops."""
        if self._closing:
            await asyncio.gather(*(asyncio.shield(lane.task) for lane in self._lanes.values()))
            return
        self._closing = True
        await asyncio.gather(*(lane.stop() for lane in self._lanes.values()))

    async def __aenter__(self) -> DynamicBatcher:
        self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- API ---------------------------------------------------------------

    async def embed(self, texts: Sequence[Any], *, bulk: bool = False) -> Any:
        """Embeds `texts` (or other items) as part of whatever batch forms; returns exactly these rows, in order.

        bulk: nobody waits for these in person; they go through the bulk lane, beside the queries."""
        lane = self._lane(bulk=bulk)
        texts = list(texts)
        self.requests += 1
        if not texts:
            if self.dimension is not None:
                return self.result_type.empty(self.dimension)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(lane.executor, self._embed_fn, [])
        loop = asyncio.get_running_loop()
        parts = [
            _Pending(texts[i : i + self.max_batch_texts], loop.create_future())
            for i in range(0, len(texts), self.max_batch_texts)
        ]
        for part in parts:
            self.queued_texts += len(part.texts)
            lane.queue.put_nowait(part)
        if len(parts) == 1:
            return await parts[0].future
        results = await asyncio.gather(*(p.future for p in parts), return_exceptions=True)
        rows = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            rows.append(result)
        return self.result_type.concat(rows, self.dimension or rows[0].vectors.shape[1])

    # -- model calls -------------------------------------------------------

    async def dispatch(
        self, batch: list[_Pending], executor: concurrent.futures.Executor, *, bulk: bool = False
    ) -> None:
        """One model call for a lane's batch; every live caller gets its rows or the error."""
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
        metrics.BATCH_SIZE.labels(self.name).observe(len(texts))
        started = time.perf_counter()
        try:
            embed_fn = self._bulk_embed_fn if bulk else self._embed_fn
            result = await loop.run_in_executor(executor, embed_fn, texts)
            if len(result) != len(texts) or result.vectors.shape[0] != len(texts):
                raise Internal("EMBED_SIZE_MISMATCH", "The model returned a different number of vectors than inputs.")
        except asyncio.CancelledError:
            # The batcher itself is being torn down mid-call: its callers are cancelled too.
            for item in live:
                item.future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - every waiting caller gets it
            self.model_seconds += time.perf_counter() - started
            metrics.MODEL_SECONDS.labels(self.name).observe(time.perf_counter() - started)
            self.batch_errors += 1
            for item in live:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        self.model_seconds += time.perf_counter() - started
        metrics.MODEL_SECONDS.labels(self.name).observe(time.perf_counter() - started)
        self.texts_embedded += len(texts)
        offset = 0
        for item in live:
            n = len(item.texts)
            if not item.future.done():
                item.future.set_result(result.slice(offset, offset + n))
            offset += n
