"""The extractor tests call the shared corpus fixture `corpus`."""

from __future__ import annotations

import pathlib

import pytest


@pytest.fixture(scope="session")
def corpus(corpus_dir) -> pathlib.Path:
    """../shared/corpus, or a skip with the reason (tests/conftest.py decides)."""
    return corpus_dir
