"""`mivaa admin stats|retry|queue|health|usage|jobs`: the AdminService in plain words (admin scope);
`mivaa admin reembed --model NAME [--watch]`: re-embed the tenant's documents (reembed_cmd);
`mivaa admin export DIR`: the tenant's documents as Markdown and JSON (tenant_export).
(`mivaa admin backup|restore FILE` work on the mesh's database and NATS directly: backup_cmd.)

The dev token of `mivaa up` has read and write only: for these, set MIVAA_TOKEN to a token with the
admin scope (`mivaa auth token --dir .mivaa/auth --subject me --tenant default --scope admin`).
"""

from __future__ import annotations

import argparse
import pathlib
import time
from collections.abc import Sequence

from google.protobuf import timestamp_pb2

from mivaa.admin.v1 import admin_service_pb2 as admin_pb
from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli import backup_cmd, reembed_cmd
from mivaa_cli.client import MeshClient
from mivaa_cli.jobs_cmd import duration_seconds
from mivaa_cli.tenant_export import ExportTargetExists, export_tenant
from mivaa_cli.terminal import printable

ACTIONS = (
    *("stats", "retry", "queue", "health", "usage", "jobs", "export", "retention", "reembed"),
    *backup_cmd.ACTIONS,
)
CALL_SECONDS = 60.0
STATE_ACTIONS = backup_cmd.ACTIONS
run_on_state = backup_cmd.run


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("admin", help="job statistics, retries, queues, health, usage, export; backup and restore")
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument(
        "name", nargs="?", help="retry: the job (jobs/ID); backup, restore: the FILE; export: the new DIR"
    )
    parser.add_argument("--since", type=duration_seconds, help="stats, retry --failed, jobs: this long ago or later")
    parser.add_argument("--failed", action="store_true", help="retry: the failed jobs (with --reason, --since, --max)")
    parser.add_argument("--reason", default="", help="retry --failed: only failures with this reason")
    parser.add_argument("--max", type=int, default=0, help="retry --failed: at most this many (default 20)")
    parser.add_argument(
        "--all-tenants",
        action="store_true",
        help="stats, usage, retry --failed: every tenant (a token with the platform-admin scope)",
    )
    parser.add_argument("--password", default="", help="retry: the password of an encrypted original")
    parser.add_argument(
        "--tenant", default="", help="retry JOB: the tenant that owns it, when not yours (platform-admin scope)"
    )
    parser.add_argument("--days", type=float, help="retention: delete documents older than this many days")
    parser.add_argument("--off", action="store_true", help="retention: keep documents until they are deleted")
    reembed_cmd.add_arguments(parser)
    backup_cmd.add_arguments(parser)


def _ago(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=int(time.time()) - seconds)


def _name(enum_name: str, prefix: str) -> str:
    return enum_name.removeprefix(prefix).lower().replace("_", " ")


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} bytes"


def stats_lines(response: admin_pb.GetJobStatisticsResponse) -> list[str]:
    start, end = response.start_time.ToDatetime(), response.end_time.ToDatetime()
    lines = [f"{response.total_jobs} jobs created from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"]
    if response.truncated:
        lines.append("  (more jobs than one call reads: the counts cover the newest)")
    lines += [f"  {_name(job_pb2.JobState.Name(s.state), 'JOB_STATE_'):20} {s.count}" for s in response.states]
    if response.stage_durations:
        lines.append("time per stage (seconds):  median   95th  longest  jobs")
        lines += [
            f"  {_name(job_pb2.JobStage.Name(d.stage), 'JOB_STAGE_'):22} {d.p50_seconds:7.2f} {d.p95_seconds:7.2f}"
            f" {d.max_seconds:8.2f}  {d.samples}"
            for d in response.stage_durations
        ]
    if response.failures:
        lines.append("failures by reason:")
        lines += [f"  {f.reason:28} {f.count}  e.g. {f.example_message}" for f in response.failures]
    if response.tenants:
        lines.append("jobs by tenant:")
        lines += [f"  {t.tenant:28} {t.count}" for t in response.tenants]
    return lines


def queue_lines(response: admin_pb.GetQueueStatusResponse) -> list[str]:
    return [
        f"{q.stream}/{q.consumer}: {q.pending} waiting, {q.in_flight} in progress, {q.redelivered} redelivered,"
        f" oldest waiting {q.oldest_pending_age.ToTimedelta().total_seconds():.0f} s,"
        f" {q.consumers_connected} worker pull(s) open"
        for q in response.queues
    ]


def health_lines(response: admin_pb.GetSystemHealthResponse) -> list[str]:
    overall = _name(admin_pb.HealthStatus.Name(response.status), "HEALTH_STATUS_")
    lines = [f"overall: {overall}"]
    for c in response.components:
        status = _name(admin_pb.HealthStatus.Name(c.status), "HEALTH_STATUS_")
        lines.append(f"  {c.component:11} {status:15} {c.latency.ToMilliseconds():5d} ms  {c.message}")
    return lines


def usage_lines(u: admin_pb.GetUsageResponse) -> list[str]:
    return [
        f"tenant {u.tenant}: {u.documents} documents, {u.pages} pages, {_size(u.original_bytes)} of originals,"
        f" {u.chunks} chunks, {u.vectors} vectors, {u.images} images, {u.jobs} job records"
    ]


async def all_usage_lines(admin) -> list[str]:
    """Every tenant's usage, page after page (platform-admin scope)."""
    lines: list[str] = []
    request = admin_pb.GetUsageRequest(all_tenants=True, page_size=100)
    while True:
        response = await admin.GetUsage(request, timeout=CALL_SECONDS)
        lines += [line for usage in response.tenants for line in usage_lines(usage)]
        if not response.next_page_token:
            return lines or ["no tenants"]
        request.page_token = response.next_page_token


def retry_lines(response: admin_pb.BatchRetryJobsResponse) -> list[str]:
    lines = [f"retried {response.retried_count} job(s)", *(f"  {job}" for job in response.retried_jobs)]
    lines += [f"could not retry {f.job}: {f.reason}: {f.message}" for f in response.failures]
    if response.more:
        lines.append("more failed jobs match: run it again for the next ones")
    return lines


async def retention_lines(client: MeshClient, args: argparse.Namespace) -> list[str]:
    """Shows the tenant's retention policy, or sets it (--days) or clears it (--off) first."""
    if args.days is not None or args.off:
        policy = search_pb.RetentionPolicy(name="retentionPolicy")
        policy.max_age.FromSeconds(0 if args.off else round(args.days * 86400))
        request = search_pb.UpdateRetentionPolicyRequest(retention_policy=policy)
        policy = (await client.search.UpdateRetentionPolicy(request, timeout=CALL_SECONDS)).retention_policy
    else:
        request_get = search_pb.GetRetentionPolicyRequest(name="retentionPolicy")
        policy = (await client.search.GetRetentionPolicy(request_get, timeout=CALL_SECONDS)).retention_policy
    if not policy.max_age.seconds:
        return ["retention: off (documents are kept until deleted)"]
    days = policy.max_age.seconds / 86400
    return [f"retention: documents older than {days:g} days are deleted (set {policy.update_time.ToJsonString()})"]


async def run(args: argparse.Namespace, client: MeshClient) -> int:
    admin = client.admin
    lines: Sequence[str]
    if args.action == "export":
        if not args.name:
            print("mivaa admin export needs the DIR to create")
            return 2
        try:
            manifest = await export_tenant(
                client, pathlib.Path(args.name), progress=lambda line: print(printable(line))
            )
        except ExportTargetExists as error:
            print(printable(str(error)))
            return 2
        documents = manifest["documents"]
        print(printable(f"exported {len(documents)} documents to {args.name}"))  # type: ignore[arg-type]
        return 0
    if args.action == "reembed":
        return await reembed_cmd.run(args, client)
    if args.action == "retention":
        lines = await retention_lines(client, args)
        for line in lines:
            print(printable(line))
        return 0
    if args.action == "stats":
        request = admin_pb.GetJobStatisticsRequest(all_tenants=args.all_tenants)
        if args.since is not None:
            request.start_time.CopyFrom(_ago(args.since))
        lines = stats_lines(await admin.GetJobStatistics(request, timeout=CALL_SECONDS))
    elif args.action == "retry":
        if args.failed == bool(args.name):
            print("mivaa admin retry needs a job NAME or --failed (not both)")
            return 2
        if args.tenant and not args.name:
            print("mivaa admin retry --tenant needs a job NAME (with --failed, use --all-tenants)")
            return 2
        if args.name:
            retry = admin_pb.RetryJobRequest(name=args.name, password=args.password, tenant=args.tenant)
            job = (await admin.RetryJob(retry, timeout=CALL_SECONDS)).job
            lines = [f"{job.name} queued again (retry {job.retry_count})"]
        else:
            batch = admin_pb.BatchRetryJobsRequest(reason=args.reason, max_jobs=args.max, all_tenants=args.all_tenants)
            if args.since is not None:
                batch.create_time_after.CopyFrom(_ago(args.since))
            lines = retry_lines(await admin.BatchRetryJobs(batch, timeout=CALL_SECONDS))
    elif args.action == "queue":
        lines = queue_lines(await admin.GetQueueStatus(admin_pb.GetQueueStatusRequest(), timeout=CALL_SECONDS))
    elif args.action == "health":
        response = await admin.GetSystemHealth(admin_pb.GetSystemHealthRequest(), timeout=CALL_SECONDS)
        for line in health_lines(response):
            print(printable(line))
        return 0 if response.status != admin_pb.HEALTH_STATUS_DOWN else 1
    elif args.action == "usage" and args.all_tenants:
        lines = await all_usage_lines(admin)
    elif args.action == "usage":
        lines = usage_lines(await admin.GetUsage(admin_pb.GetUsageRequest(), timeout=CALL_SECONDS))
    else:  # jobs: the failed ones, with why
        listing = extractor_pb.ListJobsRequest(page_size=100, states=[job_pb2.JOB_STATE_FAILED])
        if args.since is not None:
            listing.create_time_after.CopyFrom(_ago(args.since))
        failed = (await client.extractor.ListJobs(listing, timeout=CALL_SECONDS)).jobs
        lines = [f"{job.name}  {job.error.reason:24} {job.filename}  {job.error.message}" for job in failed]
        lines = lines or ["no failed jobs"]
    for line in lines:
        print(printable(line))
    return 0
