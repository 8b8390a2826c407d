"""Symmetric keys in files: 32 random bytes, base64 encoded (`openssl rand -base64 32`).

A Kubernetes Secret mounted as a file or a file the local mesh generates under
its state folder, readable by its owner only.
"""

from __future__ import annotations

import base64
import binascii
import os
import pathlib

KEY_BYTES = 32


class KeyFileError(SystemExit):
    """A missing or malformed key file stops start-up with a clear message, not a traceback."""


def load_key(path: str | os.PathLike) -> bytes:
    file = pathlib.Path(path)
    try:
        text = file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"key file {file} cannot be read ({exc.__class__.__name__})") from None
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"key file {file} must hold {KEY_BYTES} random bytes, base64 encoded")
    return key


def write_new_key(path: str | os.PathLike) -> pathlib.Path:
    """Creates a fresh key file readable by its owner only (0600); an existing one is kept."""
    file = pathlib.Path(path)
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return file
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii") + "\n")
    return file
