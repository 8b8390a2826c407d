"""Batches from the terminal: `mivaa ingest DIR` uploads into one, `mivaa batches list|get|watch`.

A batch's line shows its aggregate (documents done and failed of the total, pages, ETA) from
WatchBatch; the files that failed are listed at the end with their reason in plain words.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
from collections.abc import Sequence

import grpc

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa_cli.client import MeshClient
from mivaa_cli.listing import print_pages
from mivaa_cli.progress import BAR_WIDTH, ProgressBoard
from mivaa_cli.reprocess_cmd import options_from_args
from mivaa_cli.terminal import printable
from mivaa_platform.grpc_errors import error_reason

BATCH_LINE = "batch"
# One WatchBatch call lasts at most the gateway's ceiling for a call (an hour); then another opens.
WATCH_CALL_SECONDS = 3600
RECONNECT_SECONDS = 1.0


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("batches", help="list, get or watch batches of uploads")
    parser.add_argument("action", choices=["list", "get", "watch"])
    parser.add_argument("name", nargs="?", help="batches/ID (get, watch)")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--all", action="store_true", help="list: every page")


def wants_batch(paths: list[str], files: list[pathlib.Path]) -> bool:
    """Several files, or a folder (even of one file), go into a batch."""
    return len(files) > 1 or any(pathlib.Path(path).is_dir() for path in paths)


def state_word(batch: job_pb2.Batch) -> str:
    return job_pb2.BatchState.Name(batch.state).removeprefix("BATCH_STATE_").lower()


def duration_words(seconds: float) -> str:
    """'45s', '3m 20s', '2h 05m'."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def aggregate_line(batch: job_pb2.Batch) -> str:
    """[####----] 3/10 done, 1 failed  42/120 pages  ETA 1m 05s  running."""
    progress = batch.progress
    total = progress.documents_total
    done = finished(batch)
    filled = BAR_WIDTH * done // total if total else 0
    parts = [f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total} documents"]
    if progress.documents_failed:
        parts.append(f"{progress.documents_failed} failed")
    parts.append(f"{progress.pages_done}/{progress.pages_total} pages")
    if progress.eta_seconds > 0:
        parts.append(f"ETA {duration_words(progress.eta_seconds)}")
    parts.append(state_word(batch))
    return "  ".join(parts)


def batch_line(batch: job_pb2.Batch) -> str:
    progress = batch.progress
    done = progress.documents_succeeded + progress.documents_partially_succeeded
    created = batch.create_time.ToDatetime().strftime("%Y-%m-%d %H:%M")
    return (
        f"{batch.name}  {state_word(batch):8} {done}/{progress.documents_total} done, "
        f"{progress.documents_failed} failed  {created}  {batch.display_name}"
    )


def failure_lines(batch: job_pb2.Batch) -> list[str]:
    """One line per failed file: its name, what went wrong in words, and the reason to search for."""
    lines = []
    for failure in batch.progress.failures:
        words = failure.error.message or "it could not be processed"
        lines.append(f"  {failure.filename or failure.job}: {words} ({failure.error.reason or 'FAILED'})")
    listed = len(batch.progress.failures)
    if batch.progress.documents_failed > listed:
        lines.append(f"  ... and {batch.progress.documents_failed - listed} more")
    return lines


def show_batch(batch: job_pb2.Batch) -> None:
    print(printable(batch_line(batch)))
    print(printable(f"  {aggregate_line(batch)}"))
    if batch.labels:
        print(printable(f"  labels: {', '.join(batch.labels)}"))
    for line in failure_lines(batch):
        print(printable(line))


def finished(batch: job_pb2.Batch) -> int:
    progress = batch.progress
    return (
        progress.documents_succeeded
        + progress.documents_partially_succeeded
        + progress.documents_failed
        + progress.documents_cancelled
    )


async def watch(
    client: MeshClient, name: str, board: ProgressBoard, *, settled=lambda batch: False
) -> job_pb2.Batch | None:
    """Follows the batch to DONE (or until `settled` says nothing more will join and all finished).

    A stream that ends early (the gateway's hour-long cap on a call, an hour without a change, a
    dropped connection) is opened again: WatchBatch starts from the batch as it is."""
    last: job_pb2.Batch | None = None
    request = extractor_pb.WatchBatchRequest(name=name)
    while True:
        try:
            async for response in client.extractor.WatchBatch(request, timeout=WATCH_CALL_SECONDS):
                last = response.batch
                board.update(BATCH_LINE, aggregate_line(last))
                if last.state == job_pb2.BATCH_STATE_DONE or settled(last):
                    return last
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
        await asyncio.sleep(RECONNECT_SECONDS)


async def ingest(client: MeshClient, files: list[pathlib.Path], args) -> int:
    """Creates a batch for `files`, uploads them into it and follows its aggregate to DONE."""
    # One folder given: the batch is named after it.
    name = args.batch_name or (pathlib.PurePath(args.paths[0]).name if len(args.paths) == 1 else "")
    created = await client.extractor.CreateBatch(
        extractor_pb.CreateBatchRequest(
            display_name=name or f"{len(files)} files",
            labels=args.label,
            expected_documents=len(files),
            options=options_from_args(args),  # every upload of the batch
        ),
        timeout=30,
    )
    batch = created.batch
    print(printable(f"batch {batch.name}"))
    board = ProgressBoard([BATCH_LINE, *(f.name for f in files)])
    # An upload refused for a reason the batch does not count (PDF_ENCRYPTED: it may come again with
    # its password; UNAVAILABLE) never joins, so the batch would wait for it: the watch ends once
    # every upload has returned and every document that did join has finished.
    uncounted: list[str] = []
    uploading = {"left": len(files)}

    def settled(batch: job_pb2.Batch) -> bool:
        total = batch.progress.documents_total
        return uploading["left"] == 0 and total == len(files) - len(uncounted) and finished(batch) == total

    watching = asyncio.create_task(watch(client, batch.name, board, settled=settled))
    limit = asyncio.Semaphore(args.parallel)

    async def upload(path: pathlib.Path) -> None:
        async with limit:
            board.update(path.name, "uploading")
            try:
                response = await client.upload_file(path, password=args.password or "", batch=batch.name)
            except grpc.aio.AioRpcError as exc:
                board.finish(path.name, f"refused: {exc.details()} ({error_reason(exc) or exc.code().name})", ok=False)
                if exc.code() != grpc.StatusCode.INVALID_ARGUMENT:
                    uncounted.append(path.name)
                return
            finally:
                uploading["left"] -= 1
            board.update(path.name, f"uploaded, {response.job.name}")

    await asyncio.gather(*(upload(f) for f in files))
    final = await watching
    board.close()
    if final is None:
        return 1
    print(printable(f"{batch.name}: {aggregate_line(final)}"))
    failures = failure_lines(final)
    if failures:
        print("failed:")
        for line in failures:
            print(printable(line))
    return 0 if final.progress.documents_failed == 0 and not uncounted else 1


def list_request(args, page_token: str) -> extractor_pb.ListBatchesRequest:
    return extractor_pb.ListBatchesRequest(page_size=args.page_size, page_token=page_token)


async def run(args, client: MeshClient) -> int:
    if args.action == "list":

        async def list_page(token: str) -> tuple[Sequence, str]:
            response = await client.extractor.ListBatches(list_request(args, token), timeout=30)
            return response.batches, response.next_page_token

        await print_pages(list_page, batch_line, all_pages=args.all)
        return 0
    if args.action == "get":
        show_batch((await client.extractor.GetBatch(extractor_pb.GetBatchRequest(name=args.name), timeout=30)).batch)
        return 0
    board = ProgressBoard([BATCH_LINE])
    final = await watch(client, args.name, board)
    board.close()
    if final is not None:
        for line in failure_lines(final):
            print(printable(line))
    return 0
