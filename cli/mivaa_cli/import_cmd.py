"""`mivaa ingest URL`: a URL argument is fetched by the server (ImportDocument), not read here."""

from __future__ import annotations

import asyncio

import grpc

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa_cli.client import MeshClient
from mivaa_cli.progress import ProgressBoard
from mivaa_cli.reprocess_cmd import options_from_args
from mivaa_platform.grpc_errors import error_reason

DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)


def is_url(argument: str) -> bool:
    """Anything with a scheme is a URL: the server says which schemes it fetches (http, https)."""
    scheme, separator, _ = argument.partition("://")
    return bool(separator) and scheme.isascii() and scheme.replace("+", "").isalpha()


async def import_urls(client: MeshClient, urls: list[str], args) -> bool:
    """Imports each URL (a few at a time: the server refuses more than it runs per tenant) and follows its job."""
    board = ProgressBoard(urls)
    limit = asyncio.Semaphore(2)  # EXTRACTOR_IMPORT_PER_TENANT's default
    results = await asyncio.gather(*(_import_one(client, url, args, board, limit) for url in urls))
    board.close()
    return all(results)


async def _import_one(client: MeshClient, url: str, args, board: ProgressBoard, limit: asyncio.Semaphore) -> bool:
    async with limit:
        board.update(url, "fetching")
        request = extractor_pb.ImportDocumentRequest(
            uri=url,
            labels=args.label,
            password=args.password or "",
            options=options_from_args(args),
            parent=getattr(args, "parent", ""),
            replace_by_filename=bool(getattr(args, "replace", False)),
        )
        try:
            response = await client.extractor.ImportDocument(request, timeout=300)
        except grpc.aio.AioRpcError as exc:
            board.finish(url, f"rejected: {error_reason(exc) or exc.code().name} ({exc.details()})", ok=False)
            return False
    if not response.created:
        board.finish(url, f"already ingested as {response.document.name}", ok=True)
        return True
    job = response.job
    async for update in client.watch(job.name):
        job = update.event.job
        board.progress(url, job)
    detail = job_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()
    if job.error.reason:
        detail += f": {job.error.reason}"
    board.finish(url, f"{detail}, {job.chunks_indexed} chunks, {response.document.name}", ok=job.state in DONE)
    return job.state in DONE
