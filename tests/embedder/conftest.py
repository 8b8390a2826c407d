"""The embedder tests' fixtures: the tiny random CLIP, exported once per session (clip_fixture.py)."""

from tests.embedder.clip_fixture import tiny_clip_dir

__all__ = ["tiny_clip_dir"]
