"""The entity recognizer in its real supervised process (spaCy's small English model): entities by
type, and a hung or crashing batch that yields none while the next batch is served again."""

from __future__ import annotations

import pathlib
import time

from mivaa_extractor.extraction.entities import EntityRecognizer, EntitySettings
from tests.extractor.entity_faults import CRASH, HANG, misbehaving_recognizer

TEXT = "On 12 March 2024 Alice Johnson of Acme Corporation paid $4,500 for an office in Paris."


async def test_entities_and_a_hung_or_crashing_batch_never_holds_the_document_up():
    recognizer = EntityRecognizer(EntitySettings(batch_time_limit_seconds=20.0))
    recognizer.recognize_function = misbehaving_recognizer
    try:
        [found] = await recognizer.recognize([TEXT])
        assert {(e.type, e.text) for e in found} >= {
            ("DATE", "12 March 2024"),
            ("PERSON", "Alice Johnson"),
            ("ORGANIZATION", "Acme Corporation"),
            ("PLACE", "Paris"),
            ("AMOUNT", "4,500"),
        }
        assert all(TEXT[e.start : e.end] == e.text for e in found)
        for fault in (HANG, CRASH):
            started = time.monotonic()
            assert await recognizer.recognize([TEXT, fault]) == [[], []]
            assert time.monotonic() - started < 20.0 + 15.0  # the limit, and a little for the kill
        [again] = await recognizer.recognize([TEXT])  # a new process (the model loaded again) serves the next
        assert ("PERSON", "Alice Johnson") in {(e.type, e.text) for e in again}
    finally:
        recognizer.close()


def _maps_torch(pid: int) -> bool:
    return "libtorch" in pathlib.Path(f"/proc/{pid}/maps").read_text()


async def test_the_model_process_keeps_torch_out():
    """thinc would import torch (installed for EasyOCR) into the spaCy process: ~180 MiB for nothing."""
    recognizer = EntityRecognizer()
    try:
        await recognizer.warm_up()
        [found] = await recognizer.recognize([TEXT])
        assert ("PERSON", "Alice Johnson") in {(e.type, e.text) for e in found}
        [pid] = recognizer._pool.worker_pids()
        assert not _maps_torch(pid)
    finally:
        recognizer.close()
