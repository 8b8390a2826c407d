"""Limits a worker process sets on itself: its address space, and its life tied to the parent's."""

from __future__ import annotations

import os
import signal
import sys


def exit_with_parent(expected_parent_pid: int | None) -> None:
    """Makes the kernel SIGKILL this process when the parent dies, even while it is stuck in C code."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - exotic libc; EOF detection still works
            pass
    # The parent may have died before prctl took effect.
    if expected_parent_pid is not None and os.getppid() != expected_parent_pid:
        os._exit(0)


def limit_address_space(limit_bytes: int) -> None:
    """Caps this process's address space, so a huge allocation raises MemoryError instead of swapping the host."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit_bytes = min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, hard))
