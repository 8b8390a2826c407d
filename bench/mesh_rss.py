"""Memory and CPU time of every process of a running local mesh, PostgreSQL included, sampled over time.

Each process is measured with its children (worker pools, PostgreSQL's backends) by PSS, the
proportional set size: a page shared by N processes counts 1/N in each. Summed RSS would count
PostgreSQL's shared buffers once per backend and the forked workers' shared libraries once per
worker, and report a mesh far bigger than the memory it takes. CPU seconds are the tree's too
(live processes and the children they reaped), and this process's own beside them: a bench's
client shares the machine with the mesh.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import resource
import time

from bench.process_rss import descendants, proc_field_bytes, process_cpu_seconds, process_rss, slope

MIB = 1 << 20


def _pss(pid: int) -> int:
    """PSS from smaps_rollup; RSS where the kernel has no rollup (or it cannot be read)."""
    pss = proc_field_bytes(f"/proc/{pid}/smaps_rollup", "Pss:")
    return process_rss(pid) if pss is None else pss


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process, not its children
    return usage.ru_utime + usage.ru_stime


def mesh_roots(mesh) -> dict[str, int]:
    """Each mesh process's pid, and PostgreSQL's postmaster (not one of mesh.processes)."""
    roots = {name: process.pid for name, process in mesh.processes.items()}
    if mesh.postgres.pid:
        roots["postgres"] = mesh.postgres.pid
    return roots


def slope_mib_per_minute(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of memory over time in MiB a minute (0 for fewer than three samples)."""
    return slope((t / 60, rss / MIB) for t, rss in samples) if len(samples) >= 3 else 0.0


class MeshRssSampler:
    """Every mesh process's memory and CPU seconds (with its children) every `interval` seconds;
    times in seconds since `start` (time.monotonic() when it was made)."""

    def __init__(self, mesh, interval: float):
        self.mesh, self.interval = mesh, interval
        self.samples: dict[str, list[tuple[float, int]]] = collections.defaultdict(list)
        self.totals: list[tuple[float, int]] = []
        self.cpu: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)  # "this process" too
        self.start = time.monotonic()

    def sample(self) -> dict[str, int]:
        now = time.monotonic() - self.start
        sizes = {}
        for name, pid in mesh_roots(self.mesh).items():
            tree = [pid, *descendants(pid)]
            sizes[name] = sum(_pss(member) for member in tree)
            self.samples[name].append((now, sizes[name]))
            self.cpu[name].append((now, sum(process_cpu_seconds(member) for member in tree)))
        self.cpu["this process"].append((now, own_cpu_seconds()))
        self.totals.append((now, sum(sizes.values())))
        return sizes

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(self.sample)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)

    def peaks(self) -> dict[str, int]:
        return {name: max(size for _, size in samples) for name, samples in self.samples.items()}

    def peak_total(self) -> int:
        return max((size for _, size in self.totals), default=0)

    def slopes(self) -> dict[str, float]:
        """Slope over the second half: the first is warm-up (caches, pools, models filling)."""
        return {name: slope_mib_per_minute(s[len(s) // 2 :]) for name, s in self.samples.items()}
