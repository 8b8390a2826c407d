"""The search service's settings (SEARCH_<FIELD>): no dependencies, so launchers can build its environment."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "SEARCH"


@dataclass(frozen=True)
class SearchSettings:
    database_url: str
    # NATS (the originals of deleted documents): SEARCH_NATS_URL, _USER, _PASSWORD_FILE, _CA_FILE.
    embedder_addr: str
    # Text model for queries; empty means the embedder's default text model.
    model: str = ""
    pool_size: int = 10
    # Vector search: candidate sets up to this many chunks are scanned exactly; larger ones use
    # HNSW at this ef_search (figures behind both: services/search/README.md).
    exact_scan_max_chunks: int = 20_000
    hnsw_ef_search: int = 400
    # Every this many seconds: rebuild the vector index when due and probe its recall (0: never).
    maintenance_interval_seconds: float = 600.0
    recall_probe_sample: int = 50
    # Tenants' retention policies (admin RPCs): the shortest allowed, and how often the sweep runs.
    retention_min_seconds: int = 86400
    retention_sweep_seconds: float = 300.0
    # Re-embedding (admin RPCs): chunks embedded and written per batch (a crash redoes one at most).
    reembed_batch_chunks: int = 64
    # Every this many seconds: the originals sweep (usecases.originals; 0: never). Objects in the
    # store without a row are removed once stored longer ago than the grace period.
    originals_sweep_interval_seconds: float = 3600.0
    orphan_original_grace_seconds: float = 3600.0
