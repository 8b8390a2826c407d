"""bench/load.py's run window by window: how SearchChunks answered, and which processes had the
cores meanwhile. A p95 over ten minutes hides whether slow searches are spread evenly (the
machine is simply full) or bunched in stalls (a long document's commit, a checkpoint, the client's
own pauses); the per-window CPU of every mesh process, and of the client (which shares the cores
and whose pauses count in every latency it measures), says which."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from bench.stats import percentile


def cpu_share(samples: Sequence[tuple[float, float]], start: float, end: float) -> float:
    """Cores used on average from `start` to `end`, from cumulative (time, CPU seconds) samples:
    between the last samples at or before each end (the first sample for a start before it; 0
    without two samples, or across a restart)."""
    times = [t for t, _ in samples]
    first, last = max(0, bisect.bisect_right(times, start) - 1), bisect.bisect_right(times, end) - 1
    if last <= first:
        return 0.0
    return max(0.0, samples[last][1] - samples[first][1]) / (times[last] - times[first])


def timeline(
    finished: Sequence[float],
    latencies_ms: Sequence[float],
    cpu: dict[str, list[tuple[float, float]]],
    *,
    start: float,
    elapsed: float,
    window: float,
) -> list[str]:
    """Lines of a table: per `window` seconds since `start` (time.monotonic()), the calls that
    ended in it and their p50/p95/p99, and each process's CPU in % of one core; then the same
    over the whole run."""
    names = sorted(cpu, key=lambda name: -cpu_share(cpu[name], 0, elapsed))
    lines = [
        f"  {'from s':>6s} {'calls':>6s} {'p50':>6s} {'p95':>6s} {'p99':>6s}  "
        + " ".join(f"{name[:10]:>10s}" for name in names)
    ]
    ends = [t - start for t in finished]

    def line(label: str, begin: float, end: float) -> str:
        inside = [ms for t, ms in zip(ends, latencies_ms, strict=True) if begin <= t < end]
        shares = " ".join(f"{100 * cpu_share(cpu[name], begin, end):10.0f}" for name in names)
        return (
            f"  {label:>6s} {len(inside):6d} {percentile(inside, 0.5):6.1f} {percentile(inside, 0.95):6.1f} "
            f"{percentile(inside, 0.99):6.1f}  {shares}"
        )

    begin = 0.0
    while begin < elapsed:
        end = min(begin + window, elapsed)
        lines.append(line(f"{begin:.0f}", begin, end))
        begin = end
    lines.append(line("all", 0, elapsed))
    return lines
