"""Webhooks through the real gateway and mesh: signed POSTs when jobs succeed and fail, retries
with backoff recorded as deliveries, refused targets, scopes and tenants.

The test mesh allows loopback and plain-HTTP targets (tests/conftest.py); private ranges stay
refused. A PDF that cannot be read at all is refused at upload (no job, no event); the failing job
here is a PDF whose only page has no text and is too large to read (every page fails: FAILED).
"""

from __future__ import annotations

import asyncio
import json
import uuid

import grpc
import nats
import pymupdf
import pytest
from google.protobuf import timestamp_pb2

from mivaa.jobs.v1 import job_pb2
from mivaa.webhooks.v1 import webhook_service_pb2 as pb
from mivaa_cli.client import MeshClient
from mivaa_extractor.webhooks.signing import SIGNATURE_HEADER, verify
from mivaa_platform.grpc_errors import error_info
from mivaa_platform.messaging import WEBHOOKS_BUCKET
from tests.support.pdfs import make_pdf
from tests.support.webhook_receiver import receiving

BOTH = [pb.WEBHOOK_EVENT_TYPE_JOB_SUCCEEDED, pb.WEBHOOK_EVENT_TYPE_JOB_FAILED]


def unreadable_pdf() -> bytes:
    """A valid PDF whose one page is a picture without a text layer (a scan) 200 inches square:
    beyond OCR's pixel budget even at its lowest resolution, so no page can be read."""
    doc = pymupdf.open()
    page = doc.new_page(width=14400, height=14400)
    picture = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 64, 64), False)
    picture.clear_with(128)
    page.insert_image(page.rect, stream=picture.tobytes("png"))
    try:
        return doc.tobytes()
    finally:
        doc.close()


def caller(mesh, tenant: str, scopes=("read", "write")) -> MeshClient:
    return MeshClient(
        mesh.gateway_address, token=mesh.token(tenant=tenant, scopes=scopes), ca=mesh.ca_path.read_bytes()
    )


def unique_tenant(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def create(client: MeshClient, uri: str, kinds=BOTH, secret: str = "") -> pb.CreateWebhookResponse:
    request = pb.CreateWebhookRequest(webhook=pb.Webhook(uri=uri, event_types=kinds), secret=secret)
    return await client.webhooks.CreateWebhook(request, timeout=30)


async def refused(call, code: grpc.StatusCode, reason: str) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    assert failure.value.code() == code, failure.value
    info = error_info(failure.value)
    assert info is not None and info.reason == reason, failure.value
    return failure.value.details() or ""


async def stored_record(mesh, tenant: str, name: str) -> bytes:
    """The webhook's record as it sits in the KV bucket (read with the extractor's own NATS user)."""
    nc = await nats.connect(**mesh.nats_settings("extractor").connect_options())
    try:
        kv = await nc.jetstream().key_value(WEBHOOKS_BUCKET)
        entry = await kv.get(f"{tenant}.{name.removeprefix('webhooks/')}", validate_keys=False)
        return entry.value or b""
    finally:
        await nc.close()


async def deliveries(client: MeshClient, name: str) -> list[pb.WebhookDelivery]:
    response = await client.webhooks.ListWebhookDeliveries(
        pb.ListWebhookDeliveriesRequest(parent=name, page_size=100), timeout=30
    )
    return list(response.deliveries)


async def test_signed_posts_when_a_job_succeeds_and_when_one_fails(mesh):
    tenant = unique_tenant("hooks")
    with receiving() as receiver:
        async with caller(mesh, tenant) as client:
            created = await create(client, receiver.url("/events"))
            assert created.secret and created.webhook.secret_hint == created.secret[-4:]
            listed = (await client.webhooks.ListWebhooks(pb.ListWebhooksRequest(), timeout=30)).webhooks
            assert [w.name for w in listed] == [created.webhook.name]
            assert created.secret not in str(listed), "the secret is never returned after creation"
            assert created.secret.encode() not in await stored_record(mesh, tenant, created.webhook.name)

            ok = await client.upload_bytes(make_pdf("webhook ok", 1), "ok.pdf")
            await client.wait_for_job(ok.job.name, timeout=120)
            succeeded = await asyncio.to_thread(receiver.wait_for, "/events", 1)
            failing = await client.upload_bytes(unreadable_pdf(), "unreadable.pdf")
            finished = await client.wait_for_job(failing.job.name, timeout=120)
            assert finished.state == job_pb2.JOB_STATE_FAILED, finished
            posts = await asyncio.to_thread(receiver.wait_for, "/events", 2)
            await client.webhooks.DeleteWebhook(pb.DeleteWebhookRequest(name=created.webhook.name), timeout=30)

    bodies = [json.loads(post.body) for post in posts]
    by_kind = {(body["type"], body["job"]["name"]) for body in bodies}
    assert ("job.succeeded", ok.job.name) in by_kind
    assert ("job.failed", failing.job.name) in by_kind
    # From the job's final record to the receiver: the event's trip through JetStream and one POST.
    first = next(post for post in posts if json.loads(post.body)["job"]["name"] == ok.job.name)
    finished_at = timestamp_pb2.Timestamp()
    finished_at.FromJsonString(json.loads(first.body)["job"]["updateTime"])
    latency = first.received_at - finished_at.ToMilliseconds() / 1000
    print(f"webhook latency after the job finished: {latency * 1000:.0f} ms")
    assert latency < 5.0, latency
    failed = next(body for body in bodies if body["type"] == "job.failed")
    assert failed["tenant"] == tenant and failed["job"]["error"]["reason"] == "NO_PAGE_EXTRACTED"
    for post in [*succeeded, *posts]:
        assert verify(created.secret, post.headers[SIGNATURE_HEADER], post.body)
        assert not verify("another-secret-of-length", post.headers[SIGNATURE_HEADER], post.body)
        assert post.headers["X-Mivaa-Webhook"] == created.webhook.name
        assert post.headers["X-Mivaa-Event-Id"] == json.loads(post.body)["id"]


async def test_a_failing_receiver_is_retried_and_the_failures_are_listed(mesh):
    tenant = unique_tenant("retry")
    with receiving({"/flaky": [500, 500, 200]}) as receiver:
        async with caller(mesh, tenant) as client:
            created = await create(client, receiver.url("/flaky"), kinds=[pb.WEBHOOK_EVENT_TYPE_JOB_SUCCEEDED])
            upload = await client.upload_bytes(make_pdf("webhook retry", 1), "retry.pdf")
            await client.wait_for_job(upload.job.name, timeout=120)
            posts = await asyncio.to_thread(receiver.wait_for, "/flaky", 3)
            for _ in range(50):  # the third attempt's record follows its POST
                attempts = await deliveries(client, created.webhook.name)
                if len(attempts) == 3:
                    break
                await asyncio.sleep(0.2)
            await client.webhooks.DeleteWebhook(pb.DeleteWebhookRequest(name=created.webhook.name), timeout=30)
    assert len({post.headers["X-Mivaa-Event-Id"] for post in posts}) == 1, "one event, three attempts"
    assert [post.headers["X-Mivaa-Delivery-Attempt"] for post in posts] == ["1", "2", "3"]
    oldest_first = list(reversed(attempts))
    assert [(d.attempt, d.outcome, d.status_code) for d in oldest_first] == [
        (1, pb.DELIVERY_OUTCOME_RETRYING, 500),
        (2, pb.DELIVERY_OUTCOME_RETRYING, 500),
        (3, pb.DELIVERY_OUTCOME_DELIVERED, 200),
    ]
    assert oldest_first[0].error == "the receiver answered HTTP 500"
    assert all(d.job == upload.job.name for d in attempts)
    # Backoff: the second attempt waited about a second after the first, the third about two.
    gaps = [
        (b.attempt_time.ToMilliseconds() - a.attempt_time.ToMilliseconds()) / 1000
        for a, b in zip(oldest_first, oldest_first[1:], strict=False)
    ]
    print(f"webhook retry gaps: {gaps}")
    assert 0.9 <= gaps[0] < gaps[1], gaps


async def test_bad_targets_are_refused_with_a_reason(mesh):
    async with caller(mesh, unique_tenant("targets")) as client:
        for uri in ("https://10.1.2.3/hook", "https://192.168.0.10/hook", "https://[fd00::1]/hook"):
            details = await refused(create(client, uri), grpc.StatusCode.INVALID_ARGUMENT, "WEBHOOK_TARGET_REFUSED")
            assert "a private address" in details
        details = await refused(
            create(client, "https://169.254.169.254/latest"), grpc.StatusCode.INVALID_ARGUMENT, "WEBHOOK_TARGET_REFUSED"
        )
        assert "link-local" in details
        cases = {
            "ftp://example.com/x": "WEBHOOK_URI_INVALID",
            "https://user:pw@example.com/x": "WEBHOOK_URI_INVALID",
            "https://" + "a" * 2100 + ".com/": "WEBHOOK_URI_TOO_LONG",
            "": "WEBHOOK_URI_MISSING",
            "https://no-such-host.invalid/x": "WEBHOOK_HOST_UNRESOLVED",
        }
        for uri, reason in cases.items():
            await refused(create(client, uri), grpc.StatusCode.INVALID_ARGUMENT, reason)
        await refused(
            create(client, "http://127.0.0.1:9/x", kinds=[]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "WEBHOOK_EVENT_TYPES_MISSING",
        )
        await refused(
            create(client, "http://127.0.0.1:9/x", secret="short"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "WEBHOOK_SECRET_INVALID",
        )
        await refused(
            client.webhooks.ListWebhooks(pb.ListWebhooksRequest(page_size=-1), timeout=30),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_PAGE_SIZE",
        )
        assert not (await client.webhooks.ListWebhooks(pb.ListWebhooksRequest(), timeout=30)).webhooks


async def test_webhooks_are_their_tenants_and_need_their_scopes(mesh):
    owner_tenant, other_tenant = unique_tenant("owner"), unique_tenant("other")
    async with caller(mesh, owner_tenant) as owner, caller(mesh, other_tenant) as other:
        made = [await create(owner, f"http://127.0.0.1:9/hook{i}") for i in range(3)]
        first = await owner.webhooks.ListWebhooks(pb.ListWebhooksRequest(page_size=2), timeout=30)
        rest = await owner.webhooks.ListWebhooks(
            pb.ListWebhooksRequest(page_size=2, page_token=first.next_page_token), timeout=30
        )
        assert [w.name for w in [*first.webhooks, *rest.webhooks]] == [m.webhook.name for m in reversed(made)]
        assert not rest.next_page_token
        name = made[0].webhook.name
        assert not (await other.webhooks.ListWebhooks(pb.ListWebhooksRequest(), timeout=30)).webhooks
        await refused(
            other.webhooks.DeleteWebhook(pb.DeleteWebhookRequest(name=name), timeout=30),
            grpc.StatusCode.NOT_FOUND,
            "WEBHOOK_NOT_FOUND",
        )
        await refused(
            other.webhooks.ListWebhookDeliveries(pb.ListWebhookDeliveriesRequest(parent=name), timeout=30),
            grpc.StatusCode.NOT_FOUND,
            "WEBHOOK_NOT_FOUND",
        )
        async with caller(mesh, owner_tenant, scopes=("read",)) as reader:
            assert len((await reader.webhooks.ListWebhooks(pb.ListWebhooksRequest(), timeout=30)).webhooks) == 3
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await reader.webhooks.DeleteWebhook(pb.DeleteWebhookRequest(name=name), timeout=30)
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        async with caller(mesh, owner_tenant, scopes=("write",)) as writer:
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await writer.webhooks.ListWebhooks(pb.ListWebhooksRequest(), timeout=30)
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
            for made_one in made:
                await writer.webhooks.DeleteWebhook(pb.DeleteWebhookRequest(name=made_one.webhook.name), timeout=30)
        assert not (await owner.webhooks.ListWebhooks(pb.ListWebhooksRequest(), timeout=30)).webhooks
        await refused(
            owner.webhooks.DeleteWebhook(pb.DeleteWebhookRequest(name=name), timeout=30),
            grpc.StatusCode.NOT_FOUND,
            "WEBHOOK_NOT_FOUND",
        )
