"""Vector index upkeep, for the index of every dimension in use: a rebuild once deletes and
replacements pile up, and a recall probe.

The catalog calls `changed()` after it removes chunks; a rebuild, when due, runs in the
background (REINDEX CONCURRENTLY takes as long as the index is large, and the caller's write
is already committed). The service's main also calls `run_once()` on a timer and exports the
probe's recall as a metric.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from mivaa_search.store import SearchStore

log = logging.getLogger("mivaa.search.maintenance")

PROBE_SAMPLE = 50


@dataclass(frozen=True)
class MaintenanceReport:
    rebuilt: bool  # an index was rebuilt
    # Per dimension with an index: the share of sampled chunks found by their own vectors
    # through it; None with no chunks of that dimension.
    recall: dict[int, float | None]


class IndexUpkeep:
    def __init__(
        self, store: SearchStore, probe_sample: int = PROBE_SAMPLE, on_rebuilt: Callable[[], object] | None = None
    ):
        self._store = store
        self._probe_sample = probe_sample
        self._on_rebuilt = on_rebuilt
        self._running: asyncio.Task[bool] | None = None

    def changed(self) -> None:
        """Chunks were removed: check, in the background, whether the index needs a rebuild."""
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._rebuild_if_due(), name="mivaa-search-index-upkeep")

    async def _rebuild_if_due(self) -> bool:
        rebuilt = False
        try:
            for dimension in await self._store.maintenance.dimensions():
                if await self._store.maintenance.rebuild_due(dimension):
                    log.info("rebuilding a chunk vector index", extra={"fields": {"dimension": dimension}})
                    if await self._store.maintenance.rebuild(dimension):
                        rebuilt = True
                        if self._on_rebuilt is not None:
                            self._on_rebuilt()
        except Exception:  # upkeep must never take the service down; the next change or timer retries
            log.exception("vector index upkeep failed")
        return rebuilt

    async def run_once(self) -> MaintenanceReport:
        """Rebuild what is due, then probe each index's recall at the ef_search searches use."""
        rebuilt = await self._rebuild_if_due()
        ef_search = self._store.chunks.tuning.ef_search
        recall = {
            dimension: await self._store.maintenance.probe_recall(self._probe_sample, ef_search, dimension)
            for dimension in await self._store.maintenance.dimensions()
        }
        return MaintenanceReport(rebuilt, recall)

    async def close(self) -> None:
        if self._running is not None and not self._running.done():
            self._running.cancel()
            await asyncio.gather(self._running, return_exceptions=True)
