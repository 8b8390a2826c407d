"""`mivaa`: run the local mesh and use it from a terminal.

mivaa up | down | status                 the local mesh (state in ./.mivaa)
mivaa ingest FILE|DIR|URL...             upload PDFs and PNG/JPEG/TIFF pictures: one file, one bar; several or a
                                         folder, one batch with its aggregate progress (--no-batch: one bar each);
                                         an http(s) URL is fetched by the server (ImportDocument)
mivaa batches list | get NAME | watch NAME
mivaa search "text" [-k 5] [--mode ...]   hybrid (or vector, keyword) search with filters
mivaa docs list [--state ready] [--title text] [--meta k=v] [--since 7d] [--order-by "title desc"]
mivaa docs get NAME | delete NAME
mivaa docs update NAME [--title T] [--label L] [--meta k=v]  title, labels, custom metadata
mivaa docs entities NAME [--type person] | related NAME | compare NAME --with OTHER
mivaa jobs list [--state failed] [--label x] [--since 1h] | watch NAME
mivaa webhooks create URL [--event job.failed] | list | delete NAME | deliveries NAME
mivaa admin backup FILE | restore FILE    the mesh's database and stored originals in one file
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

import grpc

from mivaa_cli import (
    admin_cmd,
    ask,
    auth,
    batches_cmd,
    docs_cmd,
    images_cmd,
    ingest_cmd,
    intel_cmd,
    jobs_cmd,
    mesh_cmd,
    models,
    reprocess_cmd,
    search_cmd,
    trace_cmd,
    webhooks_cmd,
)
from mivaa_cli.client import MeshClient
from mivaa_cli.connection import client_state_dir, gateway_client
from mivaa_cli.terminal import printable
from mivaa_platform.grpc_errors import error_reason

# Commands that call the gateway, each with the one client main opens for it.
GATEWAY_COMMANDS: dict[str, Callable[[argparse.Namespace, MeshClient], Awaitable[int]]] = {
    "search": search_cmd.run,
    "docs": docs_cmd.run,
    "images": images_cmd.run,
    "jobs": jobs_cmd.run,
    "batches": batches_cmd.run,
    "ask": ask.run,
    "admin": admin_cmd.run,
    "reprocess": reprocess_cmd.run,
    "webhooks": webhooks_cmd.run,
}
# Commands that run here, without the gateway (trace reads the local mesh's span store).
LOCAL_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "up": mesh_cmd.cmd_up,
    "down": mesh_cmd.cmd_down,
    "status": mesh_cmd.cmd_status,
    "models": models.run,
    "auth": auth.run,
    "trace": lambda args: trace_cmd.run(args, args.state_dir or client_state_dir()),
}


async def on_gateway(args: argparse.Namespace) -> int:
    if args.command == "ingest":
        return await ingest_cmd.run(args)  # its own clients: URLs are imported before files are uploaded
    if args.command == "admin" and args.action in admin_cmd.STATE_ACTIONS:
        return await admin_cmd.run_on_state(args, client_state_dir())  # the database and NATS themselves
    async with gateway_client(args) as client:
        return await GATEWAY_COMMANDS[args.command](args, client)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mivaa", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--address", help="gateway host:port (default $MIVAA_ADDR or 127.0.0.1:8080)")
    sub = parser.add_subparsers(dest="command", required=True)
    mesh_cmd.add_parsers(sub)
    ingest_cmd.add_parser(sub)
    reprocess_cmd.add_parser(sub)
    search_cmd.add_parser(sub)
    docs_cmd.add_parser(sub)
    images_cmd.add_parser(sub)
    jobs_cmd.add_parser(sub)
    batches_cmd.add_parser(sub)
    admin_cmd.add_parser(sub)
    webhooks_cmd.add_parser(sub)
    trace_cmd.add_parser(sub)
    ask.add_parser(sub)
    models.add_parser(sub)
    auth.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    needs_name = ("get", "export", "delete", "watch", "summary", *intel_cmd.ACTIONS)
    if args.command in ("docs", "jobs", "batches") and args.action in needs_name and not args.name:
        print(f"mivaa {args.command} {args.action} needs a NAME", file=sys.stderr)
        return 2
    try:
        if args.command in LOCAL_COMMANDS:
            return LOCAL_COMMANDS[args.command](args)
        return asyncio.run(on_gateway(args))
    except grpc.aio.AioRpcError as exc:
        reason = error_reason(exc)
        print(printable(f"error: {exc.code().name}{' ' + reason if reason else ''}: {exc.details()}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
