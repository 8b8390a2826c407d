"""`mivaa admin backup FILE` and `mivaa admin restore FILE`: the state of a mesh in one file.

Against the local mesh (default: the state folder of `mivaa up`) nothing is needed but the mesh
running. Against a deployed one, name its database and NATS (see docs/operations.md):
--database-url (a superuser of the mivaa database; a libpq URL, with passfile= rather than a
password), --nats-url with --nats-user, --nats-password-file and --nats-ca-file (a user with the
whole bus, as the mesh's `ops`), and pg_dump/pg_restore of the server's major version on PATH
(or --pg-bin-dir).
"""

from __future__ import annotations

import argparse
import pathlib
from typing import TYPE_CHECKING

from mivaa_cli.backup_archive import BackupError
from mivaa_cli.terminal import printable

if TYPE_CHECKING:  # psycopg and nats come with the `local` extra: imported only when these run
    from mivaa_cli.backup import Endpoints

ACTIONS = ("backup", "restore")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("backup and restore")
    group.add_argument("--state-dir", type=pathlib.Path, help="the local mesh's state folder (default: ./.mivaa)")
    group.add_argument("--database-url", help="a deployed mesh's database, as a superuser (libpq URL)")
    group.add_argument("--nats-url", help="a deployed mesh's NATS (tls://host:port)")
    group.add_argument("--nats-user", default="", help="its user with the whole bus")
    group.add_argument("--nats-password-file", default="", help="that user's password, alone in a file")
    group.add_argument("--nats-ca-file", default="", help="the CA of NATS's certificate")
    group.add_argument("--pg-bin-dir", type=pathlib.Path, help="where pg_dump and pg_restore are (default: PATH)")


def endpoints(args: argparse.Namespace, default_state_dir: pathlib.Path) -> Endpoints:
    from mivaa_cli.backup import Endpoints
    from mivaa_platform.messaging import NatsSettings

    if args.database_url or args.nats_url:
        if not (args.database_url and args.nats_url):
            raise BackupError("USAGE", "--database-url and --nats-url go together (a deployed mesh needs both).")
        nats = NatsSettings(args.nats_url, args.nats_user, args.nats_password_file, args.nats_ca_file)
        return Endpoints(args.database_url, nats, args.pg_bin_dir)
    from mivaa_cli.localmesh.mesh import LocalMesh

    state_dir = args.state_dir or default_state_dir
    mesh = LocalMesh.load(state_dir)
    if mesh is None or mesh.postgres.pid is None or mesh.status().get("nats") != "running":
        raise BackupError("MESH_NOT_RUNNING", f"No running mesh in {state_dir}: start it with `mivaa up` first.")
    return Endpoints(
        mesh.postgres.superuser_dsn(mesh.postgres.database), mesh.nats_settings("ops"), mesh.postgres.bin_dir
    )


def summary(manifest: dict) -> str:
    counts = manifest.get("counts") or {}
    parts = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    levels = ", ".join(f"{c} {v[-1] if v else 'none'}" for c, v in sorted((manifest.get("schema") or {}).items()))
    return f"created {manifest.get('created_time')}, schema {levels}; {parts}"


async def run(args: argparse.Namespace, default_state_dir: pathlib.Path) -> int:
    if not args.name:
        print(f"mivaa admin {args.action} needs the backup FILE")
        return 2
    from mivaa_cli import backup

    path = pathlib.Path(args.name)
    try:
        target = endpoints(args, default_state_dir)
        if args.action == "backup":
            manifest = await backup.backup(target, path)
            print(printable(f"backup written to {path}: {summary(manifest)}"))
        else:
            manifest = await backup.restore(target, path)
            print(printable(f"restored {path}: {summary(manifest)}"))
            if manifest["migrate_after"]:
                print("the backup's schema is older: restart the mesh (`mivaa down`, `mivaa up`) so it is migrated")
    except BackupError as error:
        print(printable(f"error: {error}"))
        return 1
    return 0
