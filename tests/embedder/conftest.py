"""The embedder tests' fixtures: the tiny random CLIP, exported once per session (clip_fixture.py)."""

import pathlib

import pytest

from mivaa_embedder.clip_model import OnnxClipModel
from mivaa_embedder.text_model import CPU
from tests.embedder.clip_fixture import tiny_clip_dir
from tests.support.pictures import gallery

__all__ = ["tiny_clip_dir"]


@pytest.fixture(scope="module")
def clip_dir(tiny_clip_dir) -> pathlib.Path:
    return tiny_clip_dir


@pytest.fixture(scope="module")
def clip(clip_dir) -> OnnxClipModel:
    return OnnxClipModel(clip_dir, providers=[CPU])


@pytest.fixture(scope="module")
def images() -> list[bytes]:
    return gallery(20)
