"""Task functions for the SupervisedPool tests: well-behaved ones and real faults.

They live at module top level in a light module so that spawned workers can
import them by name (pickle sends functions by reference).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

# Memory a task keeps after it returns, to push the worker's RSS up.
_hoard: list[bytes] = []
# Set by the initializer; shows that it ran in the worker.
_initialized_by: str | None = None


def count(n: int, delay: float = 0.0) -> Iterator[int]:
    for index in range(n):
        if delay:
            time.sleep(delay)
        yield index


def timed_items(n: int, delay: float) -> Iterator[tuple[int, float]]:
    """Each item carries the worker's clock when it was produced (CLOCK_MONOTONIC is system-wide)."""
    for index in range(n):
        time.sleep(delay)
        yield index, time.monotonic()


def tagged(tag: str, n: int) -> Iterator[tuple[str, int, int]]:
    for index in range(n):
        yield tag, index, os.getpid()


def interval(tag: int, duration: float) -> Iterator[tuple[int, int, float, float]]:
    """One item: when this task ran in the worker."""
    start = time.monotonic()
    time.sleep(duration)
    yield tag, os.getpid(), start, time.monotonic()


def hang_at(k: int, n: int = 10) -> Iterator[int]:
    for index in range(n):
        if index == k:
            time.sleep(3600)
        yield index


def exit_at(k: int, code: int = 3) -> Iterator[int]:
    yield from range(k)
    os._exit(code)


def segfault_at(k: int) -> Iterator[int]:
    yield from range(k)
    os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(10)


def allocate_at(k: int, nbytes: int) -> Iterator[int]:
    yield from range(k)
    block = bytearray(nbytes)
    yield len(block)


def raise_at(k: int, message: str) -> Iterator[int]:
    yield from range(k)
    raise ValueError(message)


class Unrebuildable(Exception):
    """Pickles, but cannot be unpickled: its __init__ takes two arguments, args holds one."""

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"{left}/{right}")


def raise_unrebuildable() -> Iterator[int]:
    yield 1
    raise Unrebuildable("left", "right")


def hoard(nbytes: int) -> Iterator[int]:
    _hoard.append(b"\x01" * nbytes)  # b"\x01" * n touches every page: it is resident
    yield os.getpid()


def pid() -> Iterator[int]:
    yield os.getpid()


def big_item(nbytes: int) -> Iterator[bytes]:
    yield b"\x02" * nbytes


def slow_after_first(delay: float) -> Iterator[str]:
    yield "first"
    time.sleep(delay)
    yield "second"


def square(x: int) -> int:
    return x * x


def sleep_then_return(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def fail_plain(message: str) -> int:
    raise KeyError(message)


def set_initialized() -> None:
    global _initialized_by
    _initialized_by = f"initializer in {os.getpid()}"


def initialized_by() -> str | None:
    return _initialized_by


def broken_initializer() -> None:
    raise RuntimeError("initializer is broken")


def unpicklable_item() -> Iterator[object]:
    import threading

    yield "fine"
    yield threading.Lock()
    yield "never sent"
