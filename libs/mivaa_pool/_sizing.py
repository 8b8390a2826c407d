"""How many worker processes a host can hold: one per core, fewer where memory runs out first.

Cores are those this process may use (its affinity and the container's CPU limit, not the node's).

A pool whose workers each keep models loaded (OCR engines, torch) can ask for more memory than the
host has long before it runs out of cores: on a 16-core node with 8 GiB, sixteen 560 MiB EasyOCR
workers would be killed by the OOM killer. So the count is the smaller of the cores and what the
memory available now (the container's cgroup limit where it is lower than the host's) holds at the
expected resident size per worker, keeping a share back for the parent and everything else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Memory left for the parent process, the other services and the page cache.
DEFAULT_RESERVE_FRACTION = 0.25
# cgroup v1 writes "no limit" as a huge number near 2**63.
_NO_LIMIT = 1 << 60


@dataclass(frozen=True)
class WorkerCount:
    workers: int
    cores: int
    # Bytes of memory available when counted (None: unknown, cores alone decided).
    available_bytes: int | None
    per_worker_bytes: int
    # Why the count is what it is: "cores", "memory" or "setting".
    limited_by: str

    def fields(self) -> dict[str, object]:
        """The count for a structured log line."""
        return {
            "workers": self.workers,
            "cores": self.cores,
            "available_mib": None if self.available_bytes is None else self.available_bytes >> 20,
            "per_worker_mib": self.per_worker_bytes >> 20,
            "limited_by": self.limited_by,
        }


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The container's CPU limit in whole cores, rounded up (cgroup v2, then v1); None without one."""
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        if quota != "max":
            return max(1, -(-int(quota) // int(period)))
    except (OSError, ValueError):
        quota_us, period_us = (
            _read_int(root / "cpu" / "cpu.cfs_quota_us"),
            _read_int(root / "cpu" / "cpu.cfs_period_us"),
        )
        if quota_us and period_us:  # v1 writes -1 for none, which reads as None
            return max(1, -(-quota_us // period_us))
    return None


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by the container's CPU limit."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return min(cores, quota) if quota else cores


def _mem_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """The container's memory limit less what it uses now (cgroup v2, then v1); None without a limit."""
    for limit_file, usage_file in (
        (root / "memory.max", root / "memory.current"),
        (root / "memory" / "memory.limit_in_bytes", root / "memory" / "memory.usage_in_bytes"),
    ):
        limit = _read_int(limit_file)  # v2 writes "max" for none, which reads as None
        if limit is not None and limit < _NO_LIMIT:
            return max(0, limit - (_read_int(usage_file) or 0))
    return None


def available_memory_bytes() -> int | None:
    """Memory this process's workers may still take: the host's MemAvailable, capped by the cgroup's headroom."""
    known = [value for value in (_mem_available(), _cgroup_headroom()) if value is not None]
    return min(known) if known else None


def count_workers(
    per_worker_bytes: int,
    *,
    requested: int = 0,
    cores: int | None = None,
    available_bytes: int | None = None,
    reserve_fraction: float = DEFAULT_RESERVE_FRACTION,
) -> WorkerCount:
    """`requested` when positive (a setting overrides); else one per core, no more than the memory holds (at least 1).

    `available_bytes` defaults to what available_memory_bytes() reads now; `per_worker_bytes` is the
    resident size one worker is expected to reach.
    """
    cores = cores or available_cores()
    if available_bytes is None:
        available_bytes = available_memory_bytes()
    if requested > 0:
        return WorkerCount(requested, cores, available_bytes, per_worker_bytes, "setting")
    if available_bytes is None or per_worker_bytes <= 0:
        return WorkerCount(cores, cores, available_bytes, per_worker_bytes, "cores")
    by_memory = max(1, int(available_bytes * (1 - reserve_fraction)) // per_worker_bytes)
    if by_memory < cores:
        return WorkerCount(by_memory, cores, available_bytes, per_worker_bytes, "memory")
    return WorkerCount(cores, cores, available_bytes, per_worker_bytes, "cores")
