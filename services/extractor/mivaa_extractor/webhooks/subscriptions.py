"""A tenant's webhook subscriptions: what a new one must be, names, ids and limits."""

from __future__ import annotations

import dataclasses
import re
import secrets

from mivaa.jobs.v1 import job_pb2
from mivaa.webhooks.v1 import webhook_service_pb2 as pb
from mivaa_extractor.jobs import DOMAIN, new_job_id, now_timestamp
from mivaa_extractor.webhooks.targets import TargetPolicy, parse_target
from mivaa_platform.errors import InvalidArgument, NotFound

_ID = re.compile(r"[0-9a-f]{20}")
_SECRET = re.compile(r"[\x21-\x7e]{16,256}")
SECRET_HINT_CHARS = 4
EVENT_NAMES: dict[pb.WebhookEventType, str] = {
    pb.WEBHOOK_EVENT_TYPE_JOB_SUCCEEDED: "job.succeeded",
    pb.WEBHOOK_EVENT_TYPE_JOB_FAILED: "job.failed",
}


@dataclasses.dataclass(frozen=True)
class WebhookLimits:
    per_tenant: int = 20
    targets: TargetPolicy = TargetPolicy()


def new_webhook_id() -> str:
    """Time-ordered like a job id, so key order is creation order."""
    return new_job_id()


def webhook_id_from_name(name: str) -> str:
    """The id in "webhooks/{id}"; WEBHOOK_NOT_FOUND for anything else (a name is never echoed raw)."""
    webhook_id = name.removeprefix("webhooks/")
    if not name.startswith("webhooks/") or not _ID.fullmatch(webhook_id):
        raise webhook_not_found()
    return webhook_id


def check_webhook_id(webhook_id: str) -> None:
    if not _ID.fullmatch(webhook_id):
        raise InvalidArgument("INVALID_WEBHOOK_ID", "not a webhook id", domain=DOMAIN)


def webhook_not_found() -> NotFound:
    return NotFound("WEBHOOK_NOT_FOUND", "No such webhook.", domain=DOMAIN)


def new_webhook_record(webhook: pb.Webhook, secret: str, *, tenant: str, limits: WebhookLimits) -> pb.WebhookRecord:
    """The record to store for a request's webhook: its uri's syntax checked (its addresses are
    the caller's to resolve: targets.resolve_target), event types known, a secret given or made."""
    target = parse_target(webhook.uri, limits.targets)
    kinds = list(dict.fromkeys(webhook.event_types))
    if not kinds:
        raise InvalidArgument("WEBHOOK_EVENT_TYPES_MISSING", "A webhook needs at least one event type.", domain=DOMAIN)
    if any(kind not in EVENT_NAMES for kind in kinds):
        raise InvalidArgument("WEBHOOK_EVENT_TYPE_INVALID", "Unknown webhook event type.", domain=DOMAIN)
    if secret and not _SECRET.fullmatch(secret):
        raise InvalidArgument(
            "WEBHOOK_SECRET_INVALID", "A webhook secret is 16 to 256 printable ASCII characters.", domain=DOMAIN
        )
    secret = secret or secrets.token_urlsafe(32)
    return pb.WebhookRecord(
        webhook=pb.Webhook(
            name=f"webhooks/{new_webhook_id()}",
            uri=target.uri,
            event_types=kinds,
            secret_hint=secret[-SECRET_HINT_CHARS:],
            create_time=now_timestamp(),
            tenant=tenant,
        ),
        secret=secret,
    )


def event_type_of(job: job_pb2.Job) -> pb.WebhookEventType | None:
    """The webhook event a job's record announces, or None (not finished, cancelled)."""
    if job.state in (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED):
        return pb.WEBHOOK_EVENT_TYPE_JOB_SUCCEEDED
    if job.state == job_pb2.JOB_STATE_FAILED:
        return pb.WEBHOOK_EVENT_TYPE_JOB_FAILED
    return None
