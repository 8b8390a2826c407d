"""Page recognizers that misbehave for real on chosen page ids: a hang and a segfault.

A top-level function with recognize_page's signature, so the spawned OCR
workers import it by name; every other page is recognized for real.
"""

from __future__ import annotations

import os
import signal
import time

from mivaa_ocr.recognition import PageResult, PageTask, recognize_page

HANG = "hang"
CRASH = "crash"


def recognize_with_faults(task: PageTask) -> PageResult:
    if task.page_id == HANG:
        time.sleep(3600)
    if task.page_id == CRASH:
        os.kill(os.getpid(), signal.SIGSEGV)
    return recognize_page(task)
