"""The search service's own metrics (the RPC ones come from mivaa_platform.telemetry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from mivaa_platform.metrics import DEFAULT_TENANT, tenant_label

VECTOR_RECALL = Gauge(
    "mivaa_search_vector_recall_ratio",
    "Share of sampled chunks found among the 10 nearest by their own vector through the HNSW index "
    "of their dimension (the last recall probe; NaN before the first or without chunks), by dimension.",
    ["dimension"],
)
INDEX_REBUILDS = Counter("mivaa_search_index_rebuilds_total", "Rebuilds of chunk vector indexes by maintenance.")
ORIGINALS_SWEPT = Counter(
    "mivaa_search_originals_swept_total",
    "Stored originals removed by the originals sweep, by kind: tombstone (a delete left it unfinished), "
    "unreferenced_row (a row no document held), orphan_object (an object without a row).",
    ["kind"],
)
for _kind in ("tombstone", "unreferenced_row", "orphan_object"):
    ORIGINALS_SWEPT.labels(_kind)
ORIGINALS_PENDING = Gauge(
    "mivaa_search_originals_pending_deletion",
    "Stored originals no document holds whose object delete has not succeeded yet (after the last sweep).",
)
SEARCHES = Counter("mivaa_tenant_searches_total", "Searches (chunks and images), by tenant.", ["tenant"])
SEARCHES.labels(tenant_label(DEFAULT_TENANT))


def searched(tenant: str) -> None:
    SEARCHES.labels(tenant_label(tenant)).inc()


DOCUMENTS_EXPIRED = Counter(
    "mivaa_search_documents_expired_total",
    "Documents deleted by their tenant's retention policy, by tenant.",
    ["tenant"],
)
