"""Delivering one event to one webhook: signed POSTs, retried with exponential backoff, every
attempt recorded (delivered, retrying, failed) in the webhook's delivery log."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable

from google.protobuf import json_format, timestamp_pb2

from mivaa.jobs.v1 import job_pb2
from mivaa.webhooks.v1 import webhook_service_pb2 as pb
from mivaa_extractor.jobs import job_tenant, new_job_id, now_timestamp
from mivaa_extractor.webhooks import http_post
from mivaa_extractor.webhooks.ports import DeliveryLog
from mivaa_extractor.webhooks.signing import SIGNATURE_HEADER, signature_header
from mivaa_extractor.webhooks.subscriptions import EVENT_NAMES
from mivaa_extractor.webhooks.targets import TargetPolicy, parse_target, resolve_target
from mivaa_platform.errors import InvalidArgument

log = logging.getLogger("mivaa.extractor.webhooks")


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Attempts per event and the waits between them: backoff_seconds, doubled each time, at most
    max_backoff_seconds (EXTRACTOR_WEBHOOK_*)."""

    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    timeout_seconds: float = 10.0

    def wait_after(self, attempt: int) -> float:
        return min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))


@dataclasses.dataclass(frozen=True)
class WebhookEvent:
    # The same for every attempt and every webhook of one job event: receivers deduplicate by it.
    event_id: str
    event_type: pb.WebhookEventType
    job: job_pb2.Job
    event_time: timestamp_pb2.Timestamp


def event_body(event: WebhookEvent) -> bytes:
    """The JSON a receiver gets (documented in the README's Webhooks section)."""
    return json.dumps(
        {
            "id": event.event_id,
            "type": EVENT_NAMES[event.event_type],
            "time": event.event_time.ToJsonString(),
            "tenant": job_tenant(event.job),
            "job": json_format.MessageToDict(event.job),
        },
        separators=(",", ":"),
    ).encode()


class Deliverer:
    def __init__(self, log_store: DeliveryLog, targets: TargetPolicy, retry: RetryPolicy):
        self._log = log_store
        self._targets = targets
        self.retry = retry

    async def deliver(
        self, record: pb.WebhookRecord, event: WebhookEvent, *, keep_alive: Callable[[], Awaitable[None]]
    ) -> bool:
        """True once the receiver answered 2xx; False after the last failed attempt. `keep_alive`
        runs before each wait (the event's message stays ours while we back off)."""
        body = event_body(event)
        for attempt in range(1, self.retry.max_attempts + 1):
            status, error, final = await self._attempt(record, event, body, attempt)
            delivered = not error
            if delivered:
                outcome = pb.DELIVERY_OUTCOME_DELIVERED
            elif final or attempt == self.retry.max_attempts:
                outcome = pb.DELIVERY_OUTCOME_FAILED
            else:
                outcome = pb.DELIVERY_OUTCOME_RETRYING
            await self._log.record_delivery(
                pb.WebhookDelivery(
                    name=f"{record.webhook.name}/deliveries/{new_job_id()}",
                    event_id=event.event_id,
                    event_type=event.event_type,
                    job=event.job.name,
                    attempt=attempt,
                    outcome=outcome,
                    status_code=status,
                    error=error,
                    attempt_time=now_timestamp(),
                ),
                tenant=record.webhook.tenant,
            )
            if outcome != pb.DELIVERY_OUTCOME_RETRYING:
                return delivered
            await keep_alive()
            await asyncio.sleep(self.retry.wait_after(attempt))
        return False

    async def _attempt(
        self, record: pb.WebhookRecord, event: WebhookEvent, body: bytes, attempt: int
    ) -> tuple[int, str, bool]:
        """(status code, error in words or "", whether no later attempt can succeed)."""
        if not record.secret:
            return 0, "the webhook's secret cannot be opened (the server's key changed); create it again", True
        try:
            target = parse_target(record.webhook.uri, self._targets)
            addresses = await resolve_target(target, self._targets)
        except InvalidArgument as refused:
            # A host that stopped resolving may come back; one that now points inward will not.
            return 0, refused.message, refused.reason != "WEBHOOK_HOST_UNRESOLVED"
        headers = {
            "X-Mivaa-Webhook": record.webhook.name,
            "X-Mivaa-Event": EVENT_NAMES[event.event_type],
            "X-Mivaa-Event-Id": event.event_id,
            "X-Mivaa-Delivery-Attempt": str(attempt),
            SIGNATURE_HEADER: signature_header(record.secret, body),
        }
        try:
            status = await http_post.post(target, addresses, body, headers, timeout_seconds=self.retry.timeout_seconds)
        except http_post.PostFailed as failed:
            return 0, str(failed), False
        if 200 <= status < 300:
            return status, "", False
        return status, f"the receiver answered HTTP {status}", False
