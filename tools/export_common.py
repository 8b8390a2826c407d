"""What every model export shares: file checksums, a work folder, and swapping it into place verified.

Used by tools/export_text_model.py and tools/export_clip.py, which run in the
export venv (where the services' packages are not installed), so this lives
beside them rather than in libs/.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import pathlib
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator

MANIFEST = "manifest.json"


def sha256_file(path: pathlib.Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def replace_folder(work: pathlib.Path, out: pathlib.Path) -> None:
    """Moves the finished `work` folder to `out`, replacing an older export only once the new one is complete."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        work.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        work.rename(out)


def exported_at() -> str:
    """When the manifest was written, in UTC to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def work_folder(out: pathlib.Path) -> Iterator[pathlib.Path]:
    """A fresh folder beside `out` to export into; removed on the way out unless `publish` moved it to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    work.chmod(0o755)  # mkdtemp makes it 0700; the services may run as another user
    try:
        yield work
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def publish(work: pathlib.Path, out: pathlib.Path, manifest: dict, files: Iterable[str], started: float) -> int:
    """Writes the manifest last, then replaces `out` with the verified `work` folder; returns exit status 0."""
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    replace_folder(work, out)  # only now, verified, does it replace an older export
    print(f"wrote {out} ({', '.join(files)}, {MANIFEST}) in {time.perf_counter() - started:.1f}s")
    return 0
