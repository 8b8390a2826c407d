"""Deliveries against a real loopback receiver: the last failed attempt is FAILED, a target that
became refused is not retried, and every attempt is recorded (a list stands in for the KV log)."""

from __future__ import annotations

from mivaa.jobs.v1 import job_pb2
from mivaa.webhooks.v1 import webhook_service_pb2 as pb
from mivaa_extractor.jobs import now_timestamp
from mivaa_extractor.webhooks.delivery import Deliverer, RetryPolicy, WebhookEvent
from mivaa_extractor.webhooks.signing import SIGNATURE_HEADER, verify
from mivaa_extractor.webhooks.targets import TargetPolicy
from tests.support.webhook_receiver import receiving

OPEN = TargetPolicy(allow_http=True, allow_loopback=True)
FAST = RetryPolicy(max_attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.02, timeout_seconds=5)


class ListLog:
    def __init__(self):
        self.deliveries: list[pb.WebhookDelivery] = []

    async def record_delivery(self, delivery: pb.WebhookDelivery, *, tenant: str) -> None:
        assert tenant == "acme"
        self.deliveries.append(delivery)


def webhook(uri: str) -> pb.WebhookRecord:
    return pb.WebhookRecord(webhook=pb.Webhook(name="webhooks/" + "1" * 20, uri=uri, tenant="acme"), secret="s" * 24)


EVENT = WebhookEvent(
    event_id="job-1",
    event_type=pb.WEBHOOK_EVENT_TYPE_JOB_FAILED,
    job=job_pb2.Job(name="jobs/1", tenant="acme", state=job_pb2.JOB_STATE_FAILED),
    event_time=now_timestamp(),
)


async def keep_alive() -> None:
    pass


async def test_a_receiver_that_always_fails_gets_every_attempt_then_failed():
    log = ListLog()
    with receiving({"/down": [503] * 10}) as receiver:
        delivered = await Deliverer(log, OPEN, FAST).deliver(
            webhook(receiver.url("/down")), EVENT, keep_alive=keep_alive
        )
        posts = receiver.posts("/down")
    assert not delivered
    assert [(d.attempt, d.outcome, d.status_code) for d in log.deliveries] == [
        (1, pb.DELIVERY_OUTCOME_RETRYING, 503),
        (2, pb.DELIVERY_OUTCOME_RETRYING, 503),
        (3, pb.DELIVERY_OUTCOME_FAILED, 503),
    ]
    assert len(posts) == 3 and all(verify("s" * 24, p.headers[SIGNATURE_HEADER], p.body) for p in posts)


async def test_no_answer_is_a_failure_in_words():
    log = ListLog()
    # Port 9 (discard) on loopback: nothing listens in the test environment.
    assert not await Deliverer(log, OPEN, FAST).deliver(webhook("http://127.0.0.1:9/x"), EVENT, keep_alive=keep_alive)
    assert log.deliveries[-1].status_code == 0
    assert log.deliveries[-1].error.startswith("connection failed")


async def test_a_target_refused_at_delivery_is_not_retried():
    log = ListLog()
    strict = TargetPolicy(allow_http=True)  # loopback no longer allowed
    assert not await Deliverer(log, strict, FAST).deliver(webhook("http://127.0.0.1:9/x"), EVENT, keep_alive=keep_alive)
    [only] = log.deliveries
    assert only.outcome == pb.DELIVERY_OUTCOME_FAILED and "loopback" in only.error
