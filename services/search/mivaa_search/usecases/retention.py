"""Tenants' retention policies and the sweep that enforces them.

A policy is a maximum age; the sweep deletes each tenant's documents created longer ago through
the catalog's own delete (chunks, vectors, pages, images and, with the last reference, the stored
original), a bounded number per tenant per pass, so a policy that suddenly covers a large archive
is worked off over several passes instead of one long transaction. Any number of search replicas
may sweep at once: deleting a deleted document is NOT_FOUND, which the sweep skips.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from mivaa_platform.errors import InvalidArgument, NotFound
from mivaa_platform.metrics import tenant_label
from mivaa_search.metrics import DOCUMENTS_EXPIRED
from mivaa_search.store import RetentionRecord, SearchStore
from mivaa_search.store.records import DOMAIN
from mivaa_search.usecases.documents import DocumentCatalog

log = logging.getLogger("mivaa.search.retention")

MAX_RETENTION_SECONDS = 100 * 366 * 86400
DELETES_PER_TENANT_PER_SWEEP = 100


@dataclass(frozen=True)
class RetentionBounds:
    # Shorter policies are refused: a slip of the unit ("30" meaning days) must not empty a tenant.
    min_seconds: int = 86400
    max_seconds: int = MAX_RETENTION_SECONDS


class Retention:
    def __init__(self, store: SearchStore, catalog: DocumentCatalog, bounds: RetentionBounds | None = None):
        self._store = store
        self._catalog = catalog
        self.bounds = bounds or RetentionBounds()

    async def get(self, *, tenant: str) -> RetentionRecord | None:
        return await self._store.retention.get(tenant=tenant)

    async def set(self, max_age_seconds: int, *, tenant: str) -> RetentionRecord | None:
        """Sets the tenant's maximum age (0 clears the policy)."""
        if max_age_seconds < 0 or 0 < max_age_seconds < self.bounds.min_seconds:
            raise InvalidArgument(
                "RETENTION_TOO_SHORT",
                f"A retention policy keeps documents at least {self.bounds.min_seconds} s (0 clears the policy).",
                domain=DOMAIN,
                metadata={"max_age_seconds": str(max_age_seconds), "min_seconds": str(self.bounds.min_seconds)},
            )
        if max_age_seconds > self.bounds.max_seconds:
            raise InvalidArgument(
                "RETENTION_TOO_LONG",
                f"A retention policy keeps documents at most {self.bounds.max_seconds} s.",
                domain=DOMAIN,
                metadata={"max_age_seconds": str(max_age_seconds), "max_seconds": str(self.bounds.max_seconds)},
            )
        return await self._store.retention.set(max_age_seconds, tenant=tenant)

    async def sweep_once(self) -> int:
        """One pass over every policy; how many documents it deleted."""
        deleted = 0
        for policy in await self._store.retention.all():
            ids = await self._store.retention.expired_documents(policy, limit=DELETES_PER_TENANT_PER_SWEEP)
            for document_id in ids:
                with contextlib.suppress(NotFound):  # deleted meanwhile (by the tenant or another replica)
                    await self._catalog.delete(document_id, tenant=policy.tenant)
                    deleted += 1
                    DOCUMENTS_EXPIRED.labels(tenant_label(policy.tenant)).inc()
            if ids:
                log.info(
                    "retention deleted documents", extra={"fields": {"tenant": policy.tenant, "documents": len(ids)}}
                )
        return deleted

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        """Sweeps every `interval` seconds until `stop`; a failed pass (database away) is logged
        and tried again at the next interval."""
        while not stop.is_set():
            try:
                await self.sweep_once()
            except Exception:
                log.warning("retention sweep failed; trying again later", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
