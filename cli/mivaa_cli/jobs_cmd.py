"""`mivaa jobs list [--state failed] [--label x] [--since 1h] [--all]` and `mivaa jobs watch NAME`."""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Sequence

from google.protobuf import timestamp_pb2

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa_cli.client import MeshClient
from mivaa_cli.listing import print_pages
from mivaa_cli.progress import ProgressBoard

STATES = [name.removeprefix("JOB_STATE_").lower() for name in job_pb2.JobState.keys()[1:]]
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+)([smhd])")


def duration_seconds(text: str) -> int:
    """'90s', '30m', '1h', '7d' as seconds (argparse type: a bad value is a usage error)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration like 30m, 1h or 7d: {text!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("jobs", help="list or watch jobs")
    parser.add_argument("action", choices=["list", "watch"])
    parser.add_argument("name", nargs="?")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--all", action="store_true", help="list: every page")
    parser.add_argument("--state", action="append", default=[], choices=STATES, help="list: in this state; repeatable")
    parser.add_argument("--label", action="append", default=[], help="list: uploaded with this label; repeatable")
    parser.add_argument("--since", type=duration_seconds, help="list: created this long ago or later (30m, 1h, 7d)")


def list_request(args: argparse.Namespace, page_token: str) -> extractor_pb.ListJobsRequest:
    request = extractor_pb.ListJobsRequest(
        page_size=args.page_size,
        page_token=page_token,
        states=[f"JOB_STATE_{state.upper()}" for state in args.state],
        labels=args.label,
    )
    if args.since is not None:
        request.create_time_after.CopyFrom(timestamp_pb2.Timestamp(seconds=int(time.time()) - args.since))
    return request


def job_line(job: job_pb2.Job) -> str:
    state = job_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_")
    return f"{job.name}  {state:20} {job.pages_done}/{job.pages_total} pages  {job.filename}"


async def run(args: argparse.Namespace, client: MeshClient) -> int:
    if args.action == "list":

        async def list_page(token: str) -> tuple[Sequence, str]:
            response = await client.extractor.ListJobs(list_request(args, token))
            return response.jobs, response.next_page_token

        await print_pages(list_page, job_line, all_pages=args.all)
    elif args.action == "watch":
        board = ProgressBoard([args.name])
        job = None
        async for update in client.watch(args.name):
            job = update.event.job
            board.progress(args.name, job)
        board.finish(args.name, job_pb2.JobState.Name(job.state) if job else "gone", ok=True)
        board.close()
    return 0
