"""Entity recognizers that misbehave on a marked text: a real hang and a real crash (spawned workers import these)."""

from __future__ import annotations

import os
import signal
import time

from mivaa_extractor.extraction.entities import FoundEntity, recognize_texts

HANG = "HANG-HERE"
CRASH = "CRASH-HERE"


def misbehaving_recognizer(texts: list[str]) -> list[list[FoundEntity]]:
    if any(HANG in text for text in texts):
        time.sleep(3600)
    if any(CRASH in text for text in texts):
        os.kill(os.getpid(), signal.SIGSEGV)
    return recognize_texts(texts)
