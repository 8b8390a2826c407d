"""What every model export shares: file checksums and swapping a verified folder into place.

Used by tools/export_text_model.py and tools/export_clip.py, which run in the
export venv (where the services' packages are not installed), so this lives
beside them rather than in libs/.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil


def sha256_file(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def replace_folder(work: pathlib.Path, out: pathlib.Path) -> None:
    """Moves the finished `work` folder to `out`, replacing an older export only once the new one is complete."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        work.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        work.rename(out)
