"""The backup file of `mivaa admin backup`: one uncompressed tar with a manifest.

    postgres.dump           pg_dump's custom format (compressed by pg_dump itself)
    kv/<bucket>.jsonl       one {"key", "value" (base64)} per line, per NATS KV bucket kept
    originals/<sha256>      each stored original, named by the hash of its bytes
    manifest.json           last: format, created time, versions, schema levels, and the
                            sha256 and size of every other member

The manifest comes last because it holds the others' checksums; a reader reads the whole file
and checks every member against it before anything is restored, so a truncated, altered or
foreign file is refused with its reason and nothing is touched.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import json
import os
import pathlib
import re
import tarfile
from collections.abc import Iterator

FORMAT = "mivaa-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
POSTGRES_DUMP = "postgres.dump"
KV_PREFIX = "kv/"
ORIGINALS_PREFIX = "originals/"
# Member names a reader accepts; anything else (absolute paths, `..`, links) is refused.
_MEMBER_NAME = re.compile(r"^(postgres\.dump|manifest\.json|kv/[A-Za-z0-9_-]+\.jsonl|originals/[0-9a-f]{64})$")
_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup or restore that cannot go on: `reason` (UPPER_SNAKE_CASE) and a sentence for people."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"


def _sha256_file(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


class ArchiveWriter:
    """Writes members to `<path>.partial` (0600: it holds every tenant's data) and renames it
    into place only when the manifest is written, so a failed backup leaves no file that looks whole."""

    def __init__(self, path: pathlib.Path):
        if path.exists():
            raise BackupError("FILE_EXISTS", f"{path} exists already; name a new file.")
        self.path = path
        self._partial = path.with_name(path.name + ".partial")
        descriptor = os.open(self._partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        # Open for the writer's life (finish or abandon closes it), not one block's.
        self._file = os.fdopen(descriptor, "wb")
        self._tar = tarfile.TarFile(fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT)
        self.files: dict[str, dict[str, object]] = {}

    def add_bytes(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o600, int(datetime.datetime.now().timestamp())
        self._tar.addfile(info, io.BytesIO(data))
        self.files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def add_file(self, name: str, path: pathlib.Path) -> None:
        info = self._tar.gettarinfo(str(path), arcname=name)
        info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
        with path.open("rb") as stream:
            self._tar.addfile(info, stream)
        self.files[name] = {"sha256": _sha256_file(path), "size": info.size}

    def finish(self, manifest: dict) -> None:
        body = {**manifest, "files": self.files}
        self.add_bytes(MANIFEST, json.dumps(body, indent=2, sort_keys=True).encode())
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._partial, self.path)

    def abandon(self) -> None:
        self._tar.close()
        self._file.close()
        self._partial.unlink(missing_ok=True)


def new_manifest(**fields) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **fields,
    }


def unpack(path: pathlib.Path, into: pathlib.Path) -> dict:
    """Extracts the backup at `path` into the empty folder `into` and returns its manifest, after
    checking every member against it. Raises BackupError (ARCHIVE_UNREADABLE, ARCHIVE_CORRUPT,
    ARCHIVE_UNSUPPORTED) without restoring anything."""
    try:
        members = _extract(path, into)
    except FileNotFoundError:
        raise BackupError("ARCHIVE_NOT_FOUND", f"There is no backup file at {path}.") from None
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError("ARCHIVE_CORRUPT", f"{path} is no readable backup (a tar file): {error}.") from None
    if MANIFEST not in members:
        raise BackupError("ARCHIVE_CORRUPT", f"{path} has no manifest: it is truncated or no mivaa backup.")
    try:
        manifest = json.loads((into / MANIFEST).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupError("ARCHIVE_CORRUPT", f"The manifest of {path} is no JSON: {error}.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("ARCHIVE_CORRUPT", f"{path} is no mivaa backup (its manifest names no {FORMAT} format).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            "ARCHIVE_UNSUPPORTED",
            f"{path} is format version {manifest.get('format_version')}; this mivaa reads version {FORMAT_VERSION}.",
        )
    _check_members(manifest.get("files") or {}, members - {MANIFEST}, into)
    return manifest


def _extract(path: pathlib.Path, into: pathlib.Path) -> set[str]:
    names: set[str] = set()
    with tarfile.open(path, mode="r:") as archive:
        for member in archive:
            if not (member.isfile() and _MEMBER_NAME.match(member.name)) or member.name in names:
                raise BackupError("ARCHIVE_CORRUPT", f"The backup holds an unexpected member {member.name!r}.")
            source = archive.extractfile(member)
            if source is None:
                raise BackupError("ARCHIVE_CORRUPT", f"The backup's member {member.name!r} cannot be read.")
            target = into / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as sink:
                while block := source.read(_CHUNK):
                    sink.write(block)
            names.add(member.name)
    return names


def _check_members(files: dict, present: set[str], into: pathlib.Path) -> None:
    missing = sorted(set(files) - present)
    if missing:
        raise BackupError(
            "ARCHIVE_CORRUPT", f"The backup lacks {len(missing)} file(s) its manifest lists: {missing[:3]}."
        )
    extra = sorted(present - set(files))
    if extra:
        raise BackupError("ARCHIVE_CORRUPT", f"The backup holds file(s) its manifest does not list: {extra[:3]}.")
    for name, expected in sorted(files.items()):
        actual = _sha256_file(into / name)
        if not isinstance(expected, dict) or actual != expected.get("sha256"):
            raise BackupError("ARCHIVE_CORRUPT", f"{name} in the backup does not match its checksum: it was altered.")
        if name.startswith(ORIGINALS_PREFIX) and actual != name.removeprefix(ORIGINALS_PREFIX):
            raise BackupError("ARCHIVE_CORRUPT", f"{name} in the backup does not hash to its name.")


def kv_lines(entries: Iterator[tuple[str, bytes]]) -> bytes:
    return b"".join(
        json.dumps({"key": key, "value": base64.b64encode(value).decode()}).encode() + b"\n" for key, value in entries
    )


def read_kv(path: pathlib.Path) -> list[tuple[str, bytes]]:
    entries = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        entries.append((record["key"], base64.b64decode(record["value"])))
    return entries
