"""The embedder tests' fixtures: the tiny random CLIP (exported once per session, clip_fixture.py), the model
and pictures on it, and onnxruntime pretending to run on CUDA."""

import pathlib

import pytest

from mivaa_embedder.clip_model import OnnxClipModel
from mivaa_embedder.text_model import CPU, CUDA
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


@pytest.fixture
def pretend_cuda(monkeypatch) -> list[str]:
    """onnxruntime offering CUDA, its sessions CPU sessions that say they run on CUDA (no GPU here);
    returns the model files opened, in order."""
    import onnxruntime as ort

    real = ort.InferenceSession
    opened: list[str] = []

    class PretendCuda:
        """A CPU session that says it runs on CUDA (this test machine has no GPU)."""

        def __init__(self, path, sess_options=None, providers=None):
            opened.append(pathlib.Path(path).name)
            self._session = real(path, sess_options=sess_options, providers=[CPU])

        def get_providers(self):
            return [CUDA, CPU]

        def __getattr__(self, name):
            return getattr(self._session, name)

    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(ort, "InferenceSession", PretendCuda)
    return opened
