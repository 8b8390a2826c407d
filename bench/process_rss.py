"""RSS of a process tree, from /proc (psutil is not a dependency), and a sampler that records it over time."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Iterable

SAMPLE_SECONDS = 0.05

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0  # the process ended between listing and reading


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) a process used, with those of the children it has reaped."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return sum(int(ticks) for ticks in fields[11:15]) / _CLOCK_TICKS  # utime stime cutime cstime
    except (OSError, IndexError, ValueError):
        return 0.0  # the process ended between listing and reading


def descendants(root: int) -> list[int]:
    """Every live descendant of `root` (workers, their helpers), by parent pid from /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))  # fields[1] is ppid
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


def tree_rss(root: int | None = None) -> int:
    root = root or os.getpid()
    return process_rss(root) + sum(process_rss(pid) for pid in descendants(root))


def peak_rss(pid: int) -> int:
    """The kernel's high-water mark of a process's RSS (VmHWM), 0 when unreadable.

    Unlike getrusage's ru_maxrss, VmHWM belongs to the process's current
    address space, so a child does not inherit the size its parent had when it
    forked (this bench's parent holds pymupdf4llm's model by then).
    """
    return proc_field_bytes(f"/proc/{pid}/status", "VmHWM:") or 0


def proc_field_bytes(path: str, field: str) -> int | None:
    """A "<field> <n> kB" line of a /proc file (status, smaps_rollup) in bytes; None when the
    file cannot be read (the process ended, another user's) or has no such line."""
    try:
        with open(path, encoding="ascii", errors="replace") as lines:
            for line in lines:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class RssSampler:
    """Samples tree_rss(root) every `interval` seconds in a thread: (time.monotonic(), bytes).

    Run it in a process that is otherwise idle (the bench's parent, while the
    child extracts): a thread inside the extracting process would be starved
    of the GIL while MuPDF works and sample far less often than asked.
    """

    def __init__(self, root: int, interval: float = SAMPLE_SECONDS):
        self.root, self.interval = root, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            rss = tree_rss(self.root)
            if rss:
                self.samples.append((time.monotonic(), rss))
            if self._stop.wait(self.interval):
                break

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def slope(points: Iterable[tuple[float, float]]) -> float:
    """Least-squares slope of y over x; 0.0 for fewer than two distinct x."""
    pairs = list(points)
    if len(pairs) < 2:
        return 0.0
    mean_x = statistics.fmean(x for x, _ in pairs)
    mean_y = statistics.fmean(y for _, y in pairs)
    denominator = sum((x - mean_x) ** 2 for x, _ in pairs)
    if not denominator:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in pairs) / denominator
