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
import codecs
import os
import pathlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from google.protobuf import json_format

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa.webhooks.v1 import webhook_service_pb2 as webhook_pb
from mivaa_cli import (
    admin_cmd,
    ask,
    auth,
    batches_cmd,
    docs_cmd,
    images_cmd,
    import_cmd,
    intel_cmd,
    jobs_cmd,
    models,
    reprocess_cmd,
    search_cmd,
    trace_cmd,
    versions_cmd,
    webhooks_cmd,
)
from mivaa_cli.client import MeshClient
from mivaa_cli.progress import ProgressBoard
from mivaa_cli.terminal import printable
from mivaa_gateway.oidc import add_oidc_options
from mivaa_platform.grpc_errors import error_reason

DEFAULT_STATE_DIR = pathlib.Path(os.environ.get("MIVAA_STATE_DIR", ".mivaa"))
# Where `mivaa up` records its state folder, so that commands run from another folder find the mesh.
LAST_MESH_FILE = (
    pathlib.Path(os.environ.get("XDG_STATE_HOME") or pathlib.Path.home() / ".local" / "state") / "mivaa" / "last-mesh"
)


def remember_mesh(state_dir: pathlib.Path) -> None:
    try:
        LAST_MESH_FILE.parent.mkdir(parents=True, exist_ok=True)
        LAST_MESH_FILE.write_text(f"{state_dir.resolve()}\n")
    except OSError:
        pass  # a read-only home only costs the convenience


def client_state_dir() -> pathlib.Path:
    """MIVAA_STATE_DIR or ./.mivaa when either is there, else the folder of the last `mivaa up`."""
    if "MIVAA_STATE_DIR" in os.environ or DEFAULT_STATE_DIR.is_dir():
        return DEFAULT_STATE_DIR
    try:
        remembered = pathlib.Path(LAST_MESH_FILE.read_text().strip())
    except OSError:
        return DEFAULT_STATE_DIR
    return remembered if (remembered / "certs" / "ca.pem").is_file() else DEFAULT_STATE_DIR


def _address(args) -> str:
    return args.address or os.environ.get("MIVAA_ADDR") or f"127.0.0.1:{os.environ.get('MIVAA_GATEWAY_PORT', '8080')}"


def _client(args) -> MeshClient:
    """A client of the gateway: its CA and a token from the environment, or else the local mesh's own.

    MIVAA_TOKEN (a JWT, e.g. from `mivaa auth token`) and MIVAA_CA (the PEM file the gateway's
    certificate chains to) win; without them the files `mivaa up` wrote under MIVAA_STATE_DIR
    (default .mivaa, else the folder of the last `mivaa up`) are used: certs/ca.pem and auth/dev-token
    (tenant "default", read + write).
    """
    state = client_state_dir()
    token = os.environ.get("MIVAA_TOKEN", "")
    if not token and (state / "auth" / "dev-token").is_file():
        token = (state / "auth" / "dev-token").read_text().strip()
    ca_path = pathlib.Path(os.environ["MIVAA_CA"]) if os.environ.get("MIVAA_CA") else state / "certs" / "ca.pem"
    ca = ca_path.read_bytes() if ca_path.is_file() else None
    if ca is None:
        print(
            f"note: no gateway CA at {ca_path}; connecting without TLS (set MIVAA_CA and MIVAA_TOKEN, or MIVAA_STATE_DIR"
            " to the folder `mivaa up` ran in)",
            file=sys.stderr,
        )
    return MeshClient(_address(args), token=token if ca is not None else "", ca=ca)


def _json(message) -> str:
    return printable(json_format.MessageToJson(message, indent=2), json=True)


# -- mesh lifecycle ------------------------------------------------------------------
def cmd_up(args) -> int:
    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts
    from mivaa_cli.localmesh.oidc import save_oidc
    from mivaa_cli.localmesh.supervisor import start_supervisor
    from mivaa_gateway.oidc import oidc_from_args

    existing = LocalMesh.load(args.state_dir)
    if existing and all(state == "running" for state in existing.status().values()):
        print(f"mesh already running; gateway at {existing.gateway_address}")
        remember_mesh(args.state_dir)
        _print_console_url(existing)
        return 0
    if existing:
        existing.stop()
    save_oidc(args.state_dir, oidc_from_args(args))
    ports = (
        MeshPorts.free() if args.free_ports else MeshPorts(gateway=int(os.environ.get("MIVAA_GATEWAY_PORT", "8080")))
    )
    mesh = LocalMesh(args.state_dir, ports, workers=args.workers, llm=args.llm)
    llm = ", the local LLM" if args.llm else ""
    print(f"starting NATS, PostgreSQL+pgvector{llm}, embedder, OCR, search, answer, extractor, Envoy ...", flush=True)
    mesh.start()
    start_supervisor(mesh)
    remember_mesh(args.state_dir)
    print(f"mesh up: gateway (gRPC + grpc-web) at {mesh.gateway_address}; logs in {mesh.log_dir}")
    if mesh.monitored:
        print(f"prometheus at {mesh.prometheus.url} (mTLS, ops certificate); `mivaa status` prints its key figures")
    _print_console_url(mesh)
    return 0


def _print_console_url(mesh) -> None:
    """The console link carries the dev token in its #fragment, which the browser never sends."""
    if not mesh.serves_console:
        print("web console: not built (npm ci && npm run build in console/)")
        return
    token = (mesh.auth_dir / "dev-token").read_text().strip()
    print(f"web console (local CA {mesh.ca_path}): https://{mesh.gateway_address}/#dev-token={token}")


def saved_mesh(args):
    """The mesh `mivaa up` started from this state folder, or None."""
    from mivaa_cli.localmesh.mesh import LocalMesh

    return LocalMesh.load(args.state_dir)


def cmd_down(args) -> int:
    mesh = saved_mesh(args)
    if mesh is None:
        print("no mesh state found; nothing to stop")
        return 0
    mesh.stop()
    print("mesh stopped")
    return 0


def cmd_status(args) -> int:
    mesh = saved_mesh(args)
    if mesh is None:
        print("mesh is not running")
        return 1
    from mivaa_cli.localmesh.supervisor import read_restarts

    status = mesh.status()
    restarts = read_restarts(args.state_dir)
    healthy = True
    for name, state in status.items():
        restarted = f"  restarted {restarts[name]}x" if restarts.get(name) else ""
        health = _health(mesh, name, state)
        healthy = healthy and state == "running" and (not health or health.startswith("SERVING"))
        print(f"{name:12} {state}{restarted}{'  ' + health if health else ''}")
    print(f"gateway      {mesh.gateway_address}")
    _print_metrics(mesh)
    return 0 if healthy else 1


def _health(mesh, name: str, state: str) -> str:
    """A running gRPC service's health and its dependencies' (asked with the ops certificate);
    empty for processes that serve no health service."""
    from mivaa_cli.localmesh.health import describe_health, serves_health

    if state != "running" or not serves_health(name):
        return ""
    return describe_health(f"127.0.0.1:{mesh.service_port(name)}", mesh.ops_credentials())


def _print_metrics(mesh) -> None:
    """The Prometheus URL and the key figures read from it."""
    from mivaa_cli.localmesh.monitoring import key_figures

    if not mesh.monitored:
        print("prometheus   not installed (make prometheus): no metrics")
        return
    certs, url = mesh.certs_dir, mesh.prometheus.url
    print(f"prometheus   {url}")
    print(
        f"  mTLS: curl --cacert {certs}/ca.pem --cert {certs}/ops.pem --key {certs}/ops-key.pem '{url}/api/v1/query?query=up'"
    )
    try:
        for line in key_figures(mesh.prometheus):
            print(f"  {line}")
    except (OSError, ValueError) as error:
        print(f"  metrics unavailable: {error}")


# -- ingestion ------------------------------------------------------------------------
# What a folder's files are taken for (the service tells PDFs and pictures apart by their bytes).
DOCUMENT_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})


def _pdfs(paths: list[str]) -> list[pathlib.Path]:
    found: list[pathlib.Path] = []
    for raw in paths:
        path = pathlib.Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in DOCUMENT_SUFFIXES))
        elif path.exists():
            found.append(path)
        else:
            print(f"skipping {raw}: not found", file=sys.stderr)
    return found


async def _ingest_one(
    client: MeshClient, path: pathlib.Path, args, board: ProgressBoard, limit: asyncio.Semaphore
) -> bool:
    async with limit:
        board.update(path.name, "uploading")
        try:
            response = await client.upload_file(
                path,
                labels=args.label,
                password=args.password or "",
                options=reprocess_cmd.options_from_args(args),
                **versions_cmd.upload_fields(args),
            )
        except grpc.aio.AioRpcError as exc:
            board.finish(path.name, f"rejected: {error_reason(exc) or exc.code().name} ({exc.details()})", ok=False)
            return False
    if not response.created:
        board.finish(path.name, f"already ingested as {response.document.name}", ok=True)
        return True
    job = response.job
    async for update in client.watch(job.name):
        job = update.event.job
        board.progress(path.name, job)
    ok = job.state in (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)
    detail = job_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()
    if job.error.reason:
        detail += f": {job.error.reason}"
    board.finish(path.name, f"{detail}, {job.chunks_indexed} chunks, {response.document.name}", ok=ok)
    return ok


async def ingest(args) -> int:
    if problem := versions_cmd.ingest_problem(args, args.paths):
        print(problem, file=sys.stderr)
        return 2
    urls = [path for path in args.paths if import_cmd.is_url(path)]
    if urls:
        async with _client(args) as client:
            imported = await import_cmd.import_urls(client, urls, args)
        if len(urls) == len(args.paths):
            return 0 if imported else 1
        args.paths = [path for path in args.paths if path not in urls]
        return max(await ingest(args), 0 if imported else 1)
    files = _pdfs(args.paths)
    if not files:
        print("no PDF files given", file=sys.stderr)
        return 2
    if not args.no_batch and not versions_cmd.wants_versions(args) and batches_cmd.wants_batch(args.paths, files):
        async with _client(args) as client:
            return await batches_cmd.ingest(client, files, args)
    board = ProgressBoard([f.name for f in files])
    limit = asyncio.Semaphore(args.parallel)
    async with _client(args) as client:
        results = await asyncio.gather(*(_ingest_one(client, f, args, board, limit) for f in files))
    board.close()
    return 0 if all(results) else 1


# -- search, documents, jobs -------------------------------------------------------------
async def search(args) -> int:
    async with _client(args) as client:
        response = await client.search_chunks(
            args.query, args.top_k, documents=args.document, labels=args.label, **search_cmd.request_fields(args)
        )
    if args.json:
        print(_json(response))
    else:
        search_cmd.print_hits(response)
    return 0


async def print_pages(
    list_page: Callable[[str], Awaitable[tuple[Sequence, str]]], line: Callable[[Any], str], *, all_pages: bool
) -> None:
    """Prints a listing one line an item: its first page, or every page with --all; says how to get more."""
    token = ""
    while True:
        items, token = await list_page(token)
        for item in items:
            print(printable(line(item)))
        if not token or not all_pages:
            break
    if token:
        print(printable(f"(more: --all, or page token {token})"))


async def docs(args) -> int:
    async with _client(args) as client:
        if args.action == "list":

            async def list_page(token: str) -> tuple[Sequence, str]:
                response = await client.search.ListDocuments(docs_cmd.list_request(args, token))
                return response.documents, response.next_page_token

            def line(doc) -> str:
                state = search_pb.DocumentState.Name(doc.state).removeprefix("DOCUMENT_STATE_")
                kind = doc.media_type.rpartition("/")[2] or "pdf"  # pdf, png, jpeg, tiff
                # The kind after the counts: scripts read the columns before it by position.
                return f"{doc.name}  {state:10} {doc.page_count:5}p {doc.chunk_count:6} chunks  {kind:4} {doc.title}"

            await print_pages(list_page, line, all_pages=args.all)
        elif args.action == "versions":

            async def versions_page(token: str) -> tuple[Sequence, str]:
                request = versions_cmd.versions_request(args.name, args.page_size, token)
                response = await client.search.ListDocumentVersions(request)
                return response.documents, response.next_page_token

            await print_pages(versions_page, versions_cmd.version_line, all_pages=args.all)
        elif args.action == "summary":
            return await ask.summarize(args, client)
        elif args.action in intel_cmd.ACTIONS:
            return await intel_cmd.run(args, client)
        elif args.action == "get":
            view = search_pb.DOCUMENT_VIEW_FULL if args.full else search_pb.DOCUMENT_VIEW_BASIC
            document = (
                await client.search.GetDocument(search_pb.GetDocumentRequest(name=args.name, view=view))
            ).document
            print(_json(document))
        elif args.action == "update":
            updated = await client.search.UpdateDocument(docs_cmd.update_request(args))
            print(_json(updated.document))
        elif args.action == "delete":
            await client.search.DeleteDocument(
                search_pb.DeleteDocumentRequest(name=args.name, all_versions=args.all_versions)
            )
            print(printable(f"deleted {args.name}"))
        elif args.action == "export":
            export_format = search_pb.EXPORT_FORMAT_JSON if args.format == "json" else search_pb.EXPORT_FORMAT_MARKDOWN
            output = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115, ASYNC230 - closed below; the CLI has no other work to block
            # On a terminal the document's text is shown, its control characters escaped.
            decoder = (
                codecs.getincrementaldecoder("utf-8")("replace") if not args.output and sys.stdout.isatty() else None
            )
            try:
                async for piece in client.search.ExportDocument(
                    search_pb.ExportDocumentRequest(name=args.name, format=export_format), timeout=600
                ):
                    if decoder is None:
                        output.write(piece.data)
                    else:
                        output.write(printable(decoder.decode(piece.data), keep_lines=True).encode())
            finally:
                if args.output:
                    output.close()
                else:
                    output.flush()
    return 0


async def images(args) -> int:
    async with _client(args) as client:
        if args.action == "analyze":
            return await images_cmd.analyze(args, client)
        if args.action == "list":

            async def list_page(token: str) -> tuple[Sequence, str]:
                response = await client.search.ListImages(
                    search_pb.ListImagesRequest(parent=args.name, page_size=args.page_size, page_token=token)
                )
                return response.images, response.next_page_token

            def line(image) -> str:
                pages = ",".join(str(p.page) for p in image.placements)
                return f"{image.name}  {image.mime_type:10} {image.width}x{image.height}  p.{pages}  {image.caption}"

            await print_pages(list_page, line, all_pages=args.all)
        else:  # get: the bytes, to a file
            target = pathlib.Path(args.output or args.name.rsplit("/", 1)[-1])
            mime_type = ""
            with open(target, "wb") as handle:  # noqa: ASYNC230 - the CLI has no other work to block
                async for piece in client.search.GetImageContent(search_pb.GetImageContentRequest(name=args.name)):
                    mime_type = mime_type or piece.mime_type
                    handle.write(piece.data)
            if not target.suffix:
                target = target.rename(  # noqa: ASYNC240 - as above
                    target.with_suffix(".jpg" if mime_type == "image/jpeg" else ".png")
                )
            print(printable(f"wrote {target} ({mime_type})"))
    return 0


async def jobs(args) -> int:
    async with _client(args) as client:
        if args.action == "list":

            async def list_page(token: str) -> tuple[Sequence, str]:
                response = await client.extractor.ListJobs(jobs_cmd.list_request(args, token))
                return response.jobs, response.next_page_token

            await print_pages(list_page, jobs_cmd.job_line, all_pages=args.all)
        elif args.action == "watch":
            board = ProgressBoard([args.name])
            job = None
            async for update in client.watch(args.name):
                job = update.event.job
                board.progress(args.name, job)
            board.finish(args.name, job_pb2.JobState.Name(job.state) if job else "gone", ok=True)
            board.close()
    return 0


async def batches(args) -> int:
    async with _client(args) as client:
        if args.action != "list":
            return await batches_cmd.run(args, client)

        async def list_page(token: str) -> tuple[Sequence, str]:
            response = await client.extractor.ListBatches(batches_cmd.list_request(args, token), timeout=30)
            return response.batches, response.next_page_token

        await print_pages(list_page, batches_cmd.batch_line, all_pages=args.all)
    return 0


async def webhooks(args) -> int:
    async with _client(args) as client:
        if args.action in ("create", "delete"):
            return await webhooks_cmd.run(args, client)
        if args.action == "deliveries" and not args.target:
            print("mivaa webhooks deliveries needs a NAME", file=sys.stderr)
            return 2

        async def list_page(token: str) -> tuple[Sequence, str]:
            if args.action == "list":
                found = await client.webhooks.ListWebhooks(
                    webhook_pb.ListWebhooksRequest(page_size=args.page_size, page_token=token), timeout=30
                )
                return found.webhooks, found.next_page_token
            request = webhook_pb.ListWebhookDeliveriesRequest(
                parent=args.target, page_size=args.page_size, page_token=token
            )
            response = await client.webhooks.ListWebhookDeliveries(request, timeout=30)
            return response.deliveries, response.next_page_token

        line = webhooks_cmd.webhook_line if args.action == "list" else webhooks_cmd.delivery_line
        await print_pages(list_page, line, all_pages=args.all)
    return 0


async def ask_command(args) -> int:
    async with _client(args) as client:
        return await ask.run(args, client)


async def reprocess_command(args) -> int:
    async with _client(args) as client:
        return await reprocess_cmd.run(args, client)


async def admin_command(args) -> int:
    if args.action in admin_cmd.STATE_ACTIONS:  # the database and NATS themselves, not the gateway
        return await admin_cmd.run_on_state(args, client_state_dir())
    async with _client(args) as client:
        return await admin_cmd.run(args, client)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mivaa", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--address", help="gateway host:port (default $MIVAA_ADDR or 127.0.0.1:8080)")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the local mesh")
    up.add_argument("--workers", type=int, default=1, help="extraction worker processes")
    up.add_argument("--free-ports", action="store_true", help="pick free ports (a second mesh beside another)")
    up.add_argument(
        "--llm",
        action="store_true",
        help="also run a local LLM (Gemma 3 270M on llama.cpp; needs mivaa-cli[llm]) as the answer service's generator",
    )
    add_oidc_options(up)
    for name in ("up", "down", "status"):
        target = up if name == "up" else sub.add_parser(name, help=f"{name} of the local mesh")
        target.add_argument("--state-dir", type=pathlib.Path, default=DEFAULT_STATE_DIR)

    ingest_parser = sub.add_parser("ingest", help="upload PDFs (or import them from URLs) and follow their jobs")
    ingest_parser.add_argument("paths", nargs="+", help="PDF files, folders, or http(s) URLs the server fetches")
    ingest_parser.add_argument("--label", action="append", default=[])
    ingest_parser.add_argument("--password", help="password for encrypted PDFs")
    ingest_parser.add_argument("--parallel", type=int, default=4)
    ingest_parser.add_argument("--batch-name", default="", help="the batch's display name (default: the folder's)")
    ingest_parser.add_argument("--no-batch", action="store_true", help="no batch: one progress bar per document")
    reprocess_cmd.add_option_arguments(ingest_parser)
    versions_cmd.add_ingest_arguments(ingest_parser)
    reprocess_cmd.add_parser(sub)

    search_cmd.add_parser(sub)

    docs_parser = sub.add_parser("docs", help="list, get, export or delete documents")
    docs_parser.add_argument(
        "action", choices=["list", "get", "update", "export", "delete", "summary", "versions", *intel_cmd.ACTIONS]
    )
    docs_parser.add_argument("name", nargs="?")
    docs_parser.add_argument("--page-size", type=int, default=50)
    docs_parser.add_argument("--all", action="store_true")
    docs_parser.add_argument("--label", action="append", default=[])
    docs_parser.add_argument("--full", action="store_true", help="get: include the Markdown and structured pages")
    docs_parser.add_argument("--format", choices=["markdown", "json"], default="markdown", help="export format")
    docs_parser.add_argument("-o", "--output", help="export: write to this file instead of stdout")
    docs_parser.add_argument("--page-token", help="entities, related: continue a listing")
    intel_cmd.add_arguments(docs_parser)
    docs_cmd.add_arguments(docs_parser)
    versions_cmd.add_docs_arguments(docs_parser)

    images_parser = sub.add_parser("images", help="list a document's images, fetch or analyze one")
    images_parser.add_argument("action", choices=["list", "get", "analyze"])
    images_parser.add_argument(
        "name", help="documents/ID for list, documents/ID/images/SHA256 for get; analyze: that or a picture file"
    )
    images_parser.add_argument("--page-size", type=int, default=50)
    images_parser.add_argument("--all", action="store_true")
    images_parser.add_argument("-o", "--output", help="get: file to write (default: the sha256 with .png/.jpg)")
    images_cmd.add_arguments(images_parser)

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
    sync_commands = {"up": cmd_up, "down": cmd_down, "status": cmd_status, "models": models.run, "auth": auth.run}
    sync_commands["trace"] = lambda args: trace_cmd.run(args, args.state_dir or client_state_dir())
    async_commands = {
        "ingest": ingest,
        "search": search,
        "docs": docs,
        "images": images,
        "jobs": jobs,
        "batches": batches,
        "ask": ask_command,
        "admin": admin_command,
        "reprocess": reprocess_command,
        "webhooks": webhooks,
    }
    try:
        if args.command in sync_commands:
            return sync_commands[args.command](args)
        return asyncio.run(async_commands[args.command](args))
    except grpc.aio.AioRpcError as exc:
        reason = error_reason(exc)
        print(printable(f"error: {exc.code().name}{' ' + reason if reason else ''}: {exc.details()}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
