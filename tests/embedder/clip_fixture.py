"""A tiny exported CLIP model for tests: `tiny_clip_dir` (session fixture) and `build_tiny_clip()`.

Use it from any test module with

    from tests.embedder.clip_fixture import tiny_clip_dir  # noqa: F401 - the fixture

The model is tools/make_tiny_clip.py's random-weight CLIP (dimension 32, 64x64 images,
77 text tokens), exported by tools/export_clip.py, both run by the export venv
(.cache/export-venv, or the Python in $MIVAA_EXPORT_PYTHON) as subprocesses; the test
process itself never imports torch. The export is cached in
.cache/models/tiny-clip-<hash of the two tools>/ (the checkpoint beside it, in
...-checkpoint/), so only the first run after either tool changes pays the ~10 s (and removes the
folders of earlier versions); a cached folder is reused while its manifest's checksums match. Without the export venv
the fixture skips, saying how to create it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
EXPORT_PYTHON_ENV = "MIVAA_EXPORT_PYTHON"
EXPORT_VENV_PYTHON = REPO / ".cache" / "export-venv" / "bin" / "python"
EXPORT_CLIP = REPO / "tools" / "export_clip.py"
# What export_clip.py imports from beside it: a change to any of them makes a new tiny export.
EXPORTER_MODULES = ("export_clip_checkpoint.py", "export_clip_onnx.py", "export_common.py")
MAKE_TINY_CLIP = REPO / "tools" / "make_tiny_clip.py"
CACHE_ROOT = REPO / ".cache" / "models"
TINY_NAME = "tiny-clip"
TINY_SOURCE = "tools/make_tiny_clip.py (random weights, fixed seed)"
TINY_DIMENSION = 32
TINY_IMAGE_SIZE = 64
TINY_MAX_TEXT_TOKENS = 77
SUBPROCESS_TIMEOUT_S = 600


class ExportVenvMissing(RuntimeError):
    pass


def export_python() -> pathlib.Path:
    """The export venv's Python, or ExportVenvMissing saying how to make one."""
    configured = os.environ.get(EXPORT_PYTHON_ENV)
    python = pathlib.Path(configured) if configured else EXPORT_VENV_PYTHON
    if not (python.is_file() and os.access(python, os.X_OK)):
        raise ExportVenvMissing(
            f"no export venv Python at {python} (torch/transformers/onnx live only there): create it with "
            "`make export-venv` (python3 -m venv .cache/export-venv; .cache/export-venv/bin/pip install "
            "torch==2.13.0; .cache/export-venv/bin/pip install -r requirements/export.txt)"
        )
    return python


def tools_hash() -> str:
    digest = hashlib.sha256()
    exporter = [EXPORT_CLIP, *(EXPORT_CLIP.with_name(name) for name in EXPORTER_MODULES)]
    for path in (*exporter, MAKE_TINY_CLIP):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_dirs() -> tuple[pathlib.Path, pathlib.Path]:
    """(exported model folder, checkpoint folder) for the current tools."""
    base = CACHE_ROOT / f"{TINY_NAME}-{tools_hash()}"
    return base, base.with_name(base.name + "-checkpoint")


def _matches(root: pathlib.Path, checksums: dict[str, str]) -> bool:
    return bool(checksums) and all(
        hashlib.sha256((root / rel).read_bytes()).hexdigest() == digest for rel, digest in checksums.items()
    )


def export_is_intact(model_dir: pathlib.Path, checkpoint_dir: pathlib.Path | None = None) -> bool:
    """The manifest's checksums match its files (and, given checkpoint_dir, the checkpoint it was made from)."""
    try:
        manifest = json.loads((model_dir / "manifest.json").read_text())
        if checkpoint_dir is not None and not _matches(checkpoint_dir, manifest["source_files"]):
            return False
        return _matches(model_dir, manifest["checksums"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def run_export_python(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Runs the export venv's Python (offline) from the repository root; output captured as text."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run(
        [str(export_python()), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        check=False,
        **kwargs,
    )


def _check(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )


@contextlib.contextmanager
def _lock(path: pathlib.Path):
    """One builder at a time (pytest-xdist workers, parallel sessions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _move_into_place(src: pathlib.Path, dst: pathlib.Path) -> None:
    """Renames src to dst; a dst that appeared meanwhile (another builder) is kept. Both are
    deterministic builds of the same tools, so either is as good."""
    try:
        src.rename(dst)
    except OSError:
        if not dst.is_dir():
            raise


@functools.lru_cache(maxsize=1)
def build_tiny_clip() -> pathlib.Path:
    """The exported tiny CLIP folder, built (and cached) if needed; ExportVenvMissing without the venv."""
    model_dir, checkpoint_dir = cache_dirs()
    if export_is_intact(model_dir, checkpoint_dir):
        return model_dir
    export_python()  # fail fast, with the hint, before taking the lock
    with _lock(CACHE_ROOT / f".{TINY_NAME}.lock"):
        if export_is_intact(model_dir, checkpoint_dir):
            return model_dir
        # This tool version's broken leftovers, and the exports of earlier versions of the tools.
        for stale in CACHE_ROOT.glob(f"{TINY_NAME}-*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        work = pathlib.Path(tempfile.mkdtemp(prefix=f".{model_dir.name}.", dir=CACHE_ROOT))
        try:
            _check(run_export_python([str(MAKE_TINY_CLIP), "--out", str(work / "checkpoint")]), "make_tiny_clip.py")
            _move_into_place(work / "checkpoint", checkpoint_dir)
            _check(
                run_export_python(
                    [
                        str(EXPORT_CLIP),
                        "--checkpoint",
                        str(checkpoint_dir),
                        "--out",
                        str(work / "export"),
                        "--name",
                        TINY_NAME,
                        "--source",
                        TINY_SOURCE,
                    ]
                ),
                "export_clip.py",
            )
            _move_into_place(work / "export", model_dir)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if not export_is_intact(model_dir, checkpoint_dir):
        raise RuntimeError(f"{model_dir}: the export's checksums do not match right after it was written")
    return model_dir


def tiny_clip_checkpoint() -> pathlib.Path:
    """The Hugging Face checkpoint the cached export was made from (after build_tiny_clip())."""
    return cache_dirs()[1]


@pytest.fixture(scope="session")
def tiny_clip_dir() -> pathlib.Path:
    """The exported tiny CLIP folder (manifest.json, image/text .fp32/.fp16.onnx, tokenizer.json, ...)."""
    try:
        return build_tiny_clip()
    except ExportVenvMissing as exc:
        pytest.skip(str(exc))
