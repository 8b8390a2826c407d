"""The originals sweep: finishes what document deletes left, and removes what no row accounts for.

Run on a timer by the search service (main.sweep_originals). One round:
- tombstones: originals whose last reference went but whose object deletion failed or never ran
  (the deleting process died) are finished: object deleted, row removed;
- rows without references ('stored', held by no document: none should exist) become tombstones
  and are finished the same way;
- objects in the store without a row, stored more than `grace` ago (an upload whose document was
  deleted before its bytes landed, a crash between the two), get a tombstone row and are finished.
Every step locks the original's row as a document delete does (store.originals), so an upload of
the same bytes during a round either keeps them or stores them again. Counts go to
mivaa_search_originals_swept_total by kind, the tombstones left to
mivaa_search_originals_pending_deletion.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from mivaa_search.store import SearchStore
from mivaa_search.usecases.ports import Originals

log = logging.getLogger("mivaa.search.originals")

BATCH = 500  # rows looked at per kind and round; the next round takes the rest
_SHA256 = re.compile(r"[0-9a-f]{64}")  # other names are not originals; left alone
TOMBSTONE, UNREFERENCED_ROW, ORPHAN_OBJECT = "tombstone", "unreferenced_row", "orphan_object"


@dataclass(frozen=True)
class SweepReport:
    tombstones: int = 0  # tombstones finished
    unreferenced_rows: int = 0  # 'stored' rows without a reference, removed with their objects
    orphan_objects: int = 0  # objects without a row, removed
    pending_deletions: int = 0  # tombstones left after the round (their object deletes failed)


class OriginalsSweep:
    def __init__(
        self,
        store: SearchStore,
        originals: Originals,
        grace: dt.timedelta,
        on_swept: Callable[[str, int], object] | None = None,
    ):
        self._store = store
        self._originals = originals
        self._grace = grace
        self._on_swept = on_swept

    async def run_once(self) -> SweepReport:
        originals = self._store.originals
        tombstones = await self._finish(await originals.tombstones(BATCH))
        retired = [
            sha256 for sha256 in await originals.unreferenced(BATCH) if await originals.retire_if_unreferenced(sha256)
        ]
        unreferenced = await self._finish(retired)
        orphans = await self._finish(await self._adopt_orphans())
        report = SweepReport(tombstones, unreferenced, orphans, await originals.count_tombstones())
        for kind, count in ((TOMBSTONE, tombstones), (UNREFERENCED_ROW, unreferenced), (ORPHAN_OBJECT, orphans)):
            if count and self._on_swept is not None:
                self._on_swept(kind, count)
        if tombstones or unreferenced or orphans or report.pending_deletions:
            log.info("originals swept", extra={"fields": vars(report)})
        return report

    async def _adopt_orphans(self) -> list[str]:
        """Tombstones for the objects without a row stored before the grace period."""
        now = dt.datetime.now(dt.UTC)
        old = [
            o
            for o in await self._originals.list_objects()
            if _SHA256.fullmatch(o.name) and o.stored is not None and now - o.stored > self._grace
        ]
        adopted: list[str] = []
        for start in range(0, len(old), BATCH):
            batch = old[start : start + BATCH]
            known = await self._store.originals.known(o.name for o in batch)
            for stored in batch:
                if stored.name not in known and await self._store.originals.adopt_orphan(stored.name, stored.size):
                    adopted.append(stored.name)
        return adopted

    async def _finish(self, digests: list[str]) -> int:
        done = 0
        for sha256 in digests:
            try:
                done += await self._store.originals.finish_deletion(sha256, self._originals.delete)
            except Exception:  # one object's trouble must not stop the round; the next retries it
                log.warning("could not delete a stored original", exc_info=True, extra={"fields": {"sha256": sha256}})
        return done
