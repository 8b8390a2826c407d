"""Backup and restore of a mesh's state: the PostgreSQL database and what NATS keeps for good.

What a restored mesh needs to serve the same documents and the same search hits:
- the `mivaa` database (pg_dump, custom format): documents, pages, chunks, vectors, images,
  entities, tenants' usage, original references, and the answer service's conversations
  (schema `answer`), with both schema migration levels;
- the object store `mivaa-originals`: every uploaded PDF, by sha256 (retries, page rendering);
- the KV buckets `mivaa-jobs` (every job's record: a document's current job, `mivaa jobs list`,
  retries), `mivaa-batches` and `mivaa-webhooks` (tenants' subscriptions and their secrets).
Left out on purpose: the work queue (tasks in flight; take a backup while no job runs), the job
event stream (a week of replay for watchers, not state) and webhook delivery attempts (a week's
log). A job that was queued or running at backup time keeps that record but is not worked on
again after a restore: retry it (`mivaa admin retry`).

The database is dumped first and the originals read after it, so every document in the dump
has its original in the backup even while uploads go on.

Restore goes only into an empty mesh (no document, job, batch, webhook or original), running, with
its services started once so that their schemas exist: it never merges into live data. It refuses
a backup whose schema is newer than the target's, and a corrupt one, before touching anything.
"""

from __future__ import annotations

import dataclasses
import pathlib
import shutil
import subprocess
import tempfile

import nats
import psycopg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from mivaa_cli import backup_archive as archive
from mivaa_cli.backup_archive import BackupError
from mivaa_platform.kv_keys import live_keys
from mivaa_platform.messaging import (
    BATCHES_BUCKET,
    JOBS_BUCKET,
    ORIGINALS_BUCKET,
    WEBHOOKS_BUCKET,
    NatsSettings,
    OriginalsStore,
)

KV_BUCKETS = (JOBS_BUCKET, BATCHES_BUCKET, WEBHOOKS_BUCKET)
# Each component's migration table: the schema level a backup records and a restore compares.
MIGRATION_TABLES = {"search": "public.schema_migrations", "answer": "answer.schema_migrations"}
PG_TOOL_SECONDS = 1800


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """Where the mesh's state is. database_url: the mivaa database as a superuser (or its owner
    with rights on every schema); nats: a user allowed the whole bus (the mesh's `ops`);
    bin_dir: where pg_dump and pg_restore are, of the server's major version (None: PATH)."""

    database_url: str
    nats: NatsSettings
    bin_dir: pathlib.Path | None = None

    def tool(self, name: str) -> str:
        found = str(self.bin_dir / name) if self.bin_dir else shutil.which(name)
        if not found or not pathlib.Path(found).exists():
            raise BackupError("POSTGRES_TOOLS_MISSING", f"{name} was not found; install PostgreSQL's client tools.")
        return found


def _run_tool(endpoints: Endpoints, name: str, args: list[str]) -> str:
    try:
        done = subprocess.run(
            [endpoints.tool(name), *args], capture_output=True, text=True, timeout=PG_TOOL_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise BackupError("POSTGRES_TOOL_TIMEOUT", f"{name} ran over {PG_TOOL_SECONDS} s.") from None
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        raise BackupError(f"{name.upper()}_FAILED", f"{name} failed: {tail}")
    return done.stdout


def schema_levels(conn: psycopg.Connection) -> dict[str, list[str]]:
    levels: dict[str, list[str]] = {}
    for component, table in MIGRATION_TABLES.items():
        row = conn.execute("SELECT to_regclass(%s)", [table]).fetchone()
        if row is None or row[0] is None:
            levels[component] = []
            continue
        rows = conn.execute(f"SELECT version FROM {table} ORDER BY version").fetchall()
        levels[component] = [version for (version,) in rows]
    return levels


def _connect(endpoints: Endpoints) -> psycopg.Connection:
    try:
        return psycopg.connect(endpoints.database_url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise BackupError(
            "DATABASE_UNREACHABLE", f"PostgreSQL did not accept the connection: {' '.join(str(error).split())}"
        ) from None


async def _reported_below(_error: Exception) -> None:
    """nats-py prints each failed attempt's traceback unless given this; the failure is raised once."""


async def _jetstream(endpoints: Endpoints) -> tuple[nats.NATS, JetStreamContext]:
    try:
        client = await nats.connect(
            connect_timeout=5, max_reconnect_attempts=2, error_cb=_reported_below, **endpoints.nats.connect_options()
        )
    except (OSError, TimeoutError, nats.errors.Error) as error:
        raise BackupError(
            "NATS_UNREACHABLE",
            f"NATS did not accept the connection: {' '.join(str(error).split()) or type(error).__name__}",
        ) from None
    return client, client.jetstream(timeout=30)


async def _kv_entries(js: JetStreamContext, bucket: str) -> list[tuple[str, bytes]]:
    kv = await js.key_value(bucket)
    entries = []
    # Keys as the services list them (mivaa_platform.kv_keys), not kv.keys(), which could
    # answer "no keys" for a full bucket; tenant keys hold '%', outside nats-py's key check.
    for key in sorted(await live_keys(js, f"$KV.{bucket}.>", bucket=bucket)):
        try:
            entry = await kv.get(key, validate_keys=False)
        except (NotFoundError, KeyError):
            continue  # deleted since listed
        if entry.value is not None:
            entries.append((key, entry.value))
    return entries


async def _original_names(js: JetStreamContext) -> list[str]:
    return sorted(stored.name for stored in await OriginalsStore(js).list_objects())


async def backup(endpoints: Endpoints, path: pathlib.Path) -> dict:
    """Writes the backup file at `path`; returns its manifest."""
    with _connect(endpoints) as conn:
        server_version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        levels = schema_levels(conn)
    writer = archive.ArchiveWriter(path)
    try:
        with tempfile.TemporaryDirectory(prefix="mivaa-backup-") as scratch:
            dump = pathlib.Path(scratch) / archive.POSTGRES_DUMP
            _run_tool(endpoints, "pg_dump", ["--format=custom", f"--file={dump}", f"--dbname={endpoints.database_url}"])
            writer.add_file(archive.POSTGRES_DUMP, dump)
        counts = await _backup_bus(endpoints, writer)
        manifest = archive.new_manifest(
            mivaa_version=_mivaa_version(),
            postgres={"server_version": server_version, "pg_dump": _run_tool(endpoints, "pg_dump", ["--version"])},
            schema=levels,
            counts=counts,
        )
        writer.finish(manifest)
    except BaseException:
        writer.abandon()
        raise
    return {**manifest, "files": writer.files}


async def _backup_bus(endpoints: Endpoints, writer: archive.ArchiveWriter) -> dict[str, int]:
    client, js = await _jetstream(endpoints)
    try:
        counts: dict[str, int] = {}
        for bucket in KV_BUCKETS:
            entries = await _kv_entries(js, bucket)
            writer.add_bytes(f"{archive.KV_PREFIX}{bucket}.jsonl", archive.kv_lines(iter(entries)))
            counts[bucket] = len(entries)
        originals = OriginalsStore(js)
        names = await _original_names(js)
        for sha256 in names:
            writer.add_bytes(f"{archive.ORIGINALS_PREFIX}{sha256}", await originals.get(sha256))
        counts[ORIGINALS_BUCKET] = len(names)
        return counts
    finally:
        await client.close()


def _mivaa_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("mivaa")
    except metadata.PackageNotFoundError:
        return "unknown"


async def restore(endpoints: Endpoints, path: pathlib.Path) -> dict:
    """Restores the backup at `path` into the empty mesh at `endpoints`; returns the backup's
    manifest with `migrate_after` set when the target's schema is newer (restart its services)."""
    with tempfile.TemporaryDirectory(prefix="mivaa-restore-") as scratch:
        folder = pathlib.Path(scratch)
        manifest = archive.unpack(path, folder)
        with _connect(endpoints) as conn:
            target_levels = schema_levels(conn)
            _check_schema(manifest.get("schema") or {}, target_levels)
            _check_database_empty(conn)
        client, js = await _jetstream(endpoints)
        try:
            await _check_bus_empty(js)
            _restore_database(endpoints, folder / archive.POSTGRES_DUMP)
            await _restore_bus(js, folder, manifest)
        finally:
            await client.close()
    older = any(set(manifest["schema"].get(c, [])) != set(target_levels[c]) for c in target_levels)
    return {**manifest, "migrate_after": older}


def _restore_database(endpoints: Endpoints, dump: pathlib.Path) -> None:
    """Replaces the (empty) target's tables and schemas by the dump's, in one transaction, all but
    the extensions: dropping pgvector would give its type a new oid, and the running services'
    connections know the old one (`cache lookup failed for type`). The target made them already."""
    listing = _run_tool(endpoints, "pg_restore", ["--list", str(dump)])
    kept = [line for line in listing.splitlines() if " EXTENSION " not in line]
    contents = dump.with_name("restore.list")
    contents.write_text("\n".join(kept) + "\n")
    _run_tool(
        endpoints,
        "pg_restore",
        ["--clean", "--if-exists", "--single-transaction", "--exit-on-error", f"--use-list={contents}"]
        + [f"--dbname={endpoints.database_url}", str(dump)],
    )


def _check_schema(backup_levels: dict, target_levels: dict[str, list[str]]) -> None:
    for component, versions in target_levels.items():
        if not versions:
            raise BackupError(
                "TARGET_SCHEMA_MISSING",
                f"The target database has no {component} schema yet: start the mesh once (`mivaa up`) and restore then.",
            )
        newer = sorted(set(backup_levels.get(component, [])) - set(versions))
        if newer:
            raise BackupError(
                "BACKUP_SCHEMA_NEWER",
                f"The backup's {component} schema has migrations this mesh does not know ({', '.join(newer)}): "
                "restore it with the mivaa version that made it, or a newer one.",
            )


def _check_database_empty(conn: psycopg.Connection) -> None:
    row = conn.execute("SELECT count(*) FROM public.documents").fetchone()
    if row is not None and row[0]:
        raise BackupError(
            "TARGET_NOT_EMPTY",
            f"The target database holds {row[0]} document(s); restore goes only into an empty mesh "
            "(start one on a fresh state folder).",
        )


async def _check_bus_empty(js: JetStreamContext) -> None:
    for bucket in KV_BUCKETS:
        if await _kv_entries(js, bucket):
            raise BackupError("TARGET_NOT_EMPTY", f"The target's NATS bucket {bucket} is not empty.")
    if await _original_names(js):
        raise BackupError("TARGET_NOT_EMPTY", "The target's NATS object store holds originals already.")


async def _restore_bus(js: JetStreamContext, folder: pathlib.Path, manifest: dict) -> None:
    originals = OriginalsStore(js)
    for name in sorted(manifest["files"]):
        if name.startswith(archive.ORIGINALS_PREFIX):
            await originals.put(name.removeprefix(archive.ORIGINALS_PREFIX), (folder / name).read_bytes())
    for bucket in KV_BUCKETS:
        member = folder / f"{archive.KV_PREFIX}{bucket}.jsonl"
        if not member.exists():
            continue
        kv = await js.key_value(bucket)
        for key, value in archive.read_kv(member):
            await kv.put(key, value, validate_keys=False)  # keys as the bus held them
