"""The backup file's format: what `mivaa admin restore` accepts and what it refuses, before any mesh is touched."""

from __future__ import annotations

import hashlib
import io
import json
import pathlib
import tarfile

import pytest

from mivaa_cli import backup_archive as archive
from mivaa_cli.backup_archive import BackupError

ORIGINAL = b"%PDF-1.7 not really a pdf, but bytes with a known hash" * 20


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_backup(path: pathlib.Path, **manifest) -> pathlib.Path:
    writer = archive.ArchiveWriter(path)
    writer.add_bytes(archive.POSTGRES_DUMP, b"PGDMP dump bytes")
    writer.add_bytes("kv/mivaa-jobs.jsonl", archive.kv_lines(iter([("tenant.job1", b'{"state": 3}')])))
    writer.add_bytes(f"originals/{sha256(ORIGINAL)}", ORIGINAL)
    writer.finish(archive.new_manifest(schema={"search": ["0001_init"]}, **manifest))
    return path


def refused(path: pathlib.Path, tmp_path: pathlib.Path) -> BackupError:
    into = tmp_path / "unpacked"
    into.mkdir(parents=True)
    with pytest.raises(BackupError) as caught:
        archive.unpack(path, into)
    return caught.value


def test_round_trip_keeps_members_and_manifest(tmp_path):
    path = write_backup(tmp_path / "b.backup")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not path.with_name("b.backup.partial").exists()
    into = tmp_path / "out"
    into.mkdir()
    manifest = archive.unpack(path, into)
    assert manifest["schema"] == {"search": ["0001_init"]} and manifest["format_version"] == archive.FORMAT_VERSION
    assert set(manifest["files"]) == {"postgres.dump", "kv/mivaa-jobs.jsonl", f"originals/{sha256(ORIGINAL)}"}
    assert archive.read_kv(into / "kv/mivaa-jobs.jsonl") == [("tenant.job1", b'{"state": 3}')]


def test_an_existing_file_is_never_overwritten(tmp_path):
    path = write_backup(tmp_path / "b.backup")
    with pytest.raises(BackupError) as caught:
        archive.ArchiveWriter(path)
    assert caught.value.reason == "FILE_EXISTS"


def test_truncated_altered_and_foreign_files_are_refused(tmp_path):
    data = write_backup(tmp_path / "b.backup").read_bytes()
    truncated = tmp_path / "truncated"
    truncated.write_bytes(data[: len(data) // 2])
    assert refused(truncated, tmp_path / "t").reason == "ARCHIVE_CORRUPT"
    altered = bytearray(data)
    altered[altered.index(b"with a known hash") + 3] ^= 0x20
    (tmp_path / "altered").write_bytes(bytes(altered))
    error = refused(tmp_path / "altered", tmp_path / "a")
    assert error.reason == "ARCHIVE_CORRUPT" and "checksum" in error.message
    (tmp_path / "foreign").write_bytes(b"not a tar" * 200)
    assert refused(tmp_path / "foreign", tmp_path / "f").reason == "ARCHIVE_CORRUPT"
    assert refused(tmp_path / "missing", tmp_path / "m").reason == "ARCHIVE_NOT_FOUND"


def test_unexpected_members_and_formats_are_refused(tmp_path):
    for name in ("../escape", "/etc/passwd", "originals/not-a-hash"):
        path = tmp_path / f"bad{len(name)}.tar"
        with tarfile.open(path, "w") as tar:
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        assert refused(path, tmp_path / f"u{len(name)}").reason == "ARCHIVE_CORRUPT"
    future = tmp_path / "future.backup"
    with tarfile.open(future, "w") as tar:
        body = json.dumps({"format": archive.FORMAT, "format_version": 99, "files": {}}).encode()
        info = tarfile.TarInfo(archive.MANIFEST)
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    assert refused(future, tmp_path / "fu").reason == "ARCHIVE_UNSUPPORTED"
