"""Metric helpers the services share beside the RPC ones (telemetry.py): a tenant label with a
bounded number of values, the free space of a service's volumes, and a connection pool's use.

Per-tenant series are useful until the tenants number in the thousands, when they swamp the
time-series store: `TenantLabel` gives the first MIVAA_METRICS_MAX_TENANTS tenants (default 50)
a value of their own and every later one the value "other", so a series per metric stays bounded.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterable

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

DEFAULT_MAX_TENANTS = 50
OTHER_TENANTS = "other"


class TenantLabel:
    """The label value of a tenant: its name for the first `limit` seen, then OTHER_TENANTS."""

    def __init__(self, limit: int | None = None):
        self.limit = (
            limit if limit is not None else int(os.environ.get("MIVAA_METRICS_MAX_TENANTS", DEFAULT_MAX_TENANTS))
        )
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, tenant: str) -> str:
        with self._lock:
            if tenant in self._seen:
                return tenant
            if len(self._seen) < self.limit:
                self._seen.add(tenant)
                return tenant
        return OTHER_TENANTS


tenant_label = TenantLabel()
# The tenant whose series exist from the start (at zero): the local mesh's, and a caller's without one.
DEFAULT_TENANT = "default"


class _VolumeCollector(Collector):
    """mivaa_volume_{size,avail}_bytes of named folders' filesystems, read at each scrape."""

    def __init__(self, service: str, volumes: dict[str, str]):
        self._service = service
        self._volumes = volumes

    def collect(self) -> Iterable[GaugeMetricFamily]:
        size = GaugeMetricFamily(
            "mivaa_volume_size_bytes", "Size of the filesystem a volume lives on.", labels=("service", "volume")
        )
        avail = GaugeMetricFamily(
            "mivaa_volume_avail_bytes",
            "Bytes still free for the service on a volume's filesystem.",
            labels=("service", "volume"),
        )
        for volume, path in self._volumes.items():
            try:
                usage = shutil.disk_usage(path)
            except OSError:
                continue  # not there (yet): no sample rather than a wrong one
            size.add_metric((self._service, volume), usage.total)
            avail.add_metric((self._service, volume), usage.free)
        yield size
        yield avail


def watch_volumes(service: str, volumes: dict[str, str]) -> None:
    """Exports the free space of `volumes` (name -> folder) for the storage-near-full alert."""
    REGISTRY.register(_VolumeCollector(service, {name: path for name, path in volumes.items() if path}))


class _PoolCollector(Collector):
    def __init__(self, service: str, stats: Callable[[], dict[str, int]]):
        self._service = service
        self._stats = stats

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "mivaa_db_pool_connections",
            "Database connection pool: size (open), available (idle), max, and requests waiting for one.",
            labels=("service", "state"),
        )
        stats = self._stats()
        for state, key in (("size", "pool_size"), ("available", "pool_available"), ("max", "pool_max")):
            family.add_metric((self._service, state), stats.get(key, 0))
        family.add_metric((self._service, "waiting"), stats.get("requests_waiting", 0))
        yield family


def watch_pool(service: str, stats: Callable[[], dict[str, int]]) -> None:
    """Exports a connection pool's use; `stats` is psycopg_pool's get_stats (a dict of counts)."""
    REGISTRY.register(_PoolCollector(service, stats))
