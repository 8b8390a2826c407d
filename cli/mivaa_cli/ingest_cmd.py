"""`mivaa ingest FILE|DIR|URL...`: uploads PDFs and pictures and follows their jobs.

One file, one progress bar; several or a folder, one batch with its aggregate progress (batches_cmd;
--no-batch: one bar each); an http(s) URL is fetched by the server (import_cmd).
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys

import grpc

from mivaa.jobs.v1 import job_pb2
from mivaa_cli import batches_cmd, import_cmd, reprocess_cmd, versions_cmd
from mivaa_cli.client import MeshClient
from mivaa_cli.connection import gateway_client
from mivaa_cli.progress import ProgressBoard
from mivaa_platform.grpc_errors import error_reason


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ingest", help="upload PDFs (or import them from URLs) and follow their jobs")
    parser.add_argument("paths", nargs="+", help="PDF files, folders, or http(s) URLs the server fetches")
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("--password", help="password for encrypted PDFs")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--batch-name", default="", help="the batch's display name (default: the folder's)")
    parser.add_argument("--no-batch", action="store_true", help="no batch: one progress bar per document")
    reprocess_cmd.add_option_arguments(parser)
    versions_cmd.add_ingest_arguments(parser)


# What a folder's files are taken for (the service tells PDFs and pictures apart by their bytes).
DOCUMENT_SUFFIXES = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})


def _documents(paths: list[str]) -> list[pathlib.Path]:
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


async def run(args) -> int:
    if problem := versions_cmd.ingest_problem(args, args.paths):
        print(problem, file=sys.stderr)
        return 2
    urls = [path for path in args.paths if import_cmd.is_url(path)]
    if urls:
        async with gateway_client(args) as client:
            imported = await import_cmd.import_urls(client, urls, args)
        if len(urls) == len(args.paths):
            return 0 if imported else 1
        args.paths = [path for path in args.paths if path not in urls]
        return max(await run(args), 0 if imported else 1)
    files = _documents(args.paths)
    if not files:
        print("no PDF files given", file=sys.stderr)
        return 2
    if not args.no_batch and not versions_cmd.wants_versions(args) and batches_cmd.wants_batch(args.paths, files):
        async with gateway_client(args) as client:
            return await batches_cmd.ingest(client, files, args)
    board = ProgressBoard([f.name for f in files])
    limit = asyncio.Semaphore(args.parallel)
    async with gateway_client(args) as client:
        results = await asyncio.gather(*(_ingest_one(client, f, args, board, limit) for f in files))
    board.close()
    return 0 if all(results) else 1
