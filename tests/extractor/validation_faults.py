"""Validation entries that misbehave for real: a hang, a segfault, an unexpected exception.

Top-level functions with validate_pdf_in_worker's signature, so the spawned
validator process imports them by name.
"""

from __future__ import annotations

import os
import signal
import time


def hang(data: bytes, password: str | None, max_bytes: int, max_pages: int, picture_limits=None):
    time.sleep(3600)


def segfault(data: bytes, password: str | None, max_bytes: int, max_pages: int, picture_limits=None):
    os.kill(os.getpid(), signal.SIGSEGV)


def unexpected(data: bytes, password: str | None, max_bytes: int, max_pages: int, picture_limits=None):
    raise KeyError("an internal name that must not reach the uploader")
