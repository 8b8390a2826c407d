"""Doors of the webhook buckets and consumer on the bus: only the extractor API's user reaches them.

Webhook records hold sealed secrets and delivery logs hold the tenants' receiver answers; the
workers and search have no business with either, nor with the dispatcher's event consumer.
"""

from __future__ import annotations

from mivaa_platform import messaging
from tests.security.test_bus import _as


async def test_only_the_extractor_api_reaches_webhook_records_and_their_consumer(mesh):
    for user in ("worker", "search"):
        session = await _as(mesh, user)
        try:
            for bucket in (messaging.WEBHOOKS_BUCKET, messaging.WEBHOOK_DELIVERIES_BUCKET):
                await session.refused(
                    session.js.get_last_msg(f"KV_{bucket}", f"$KV.{bucket}.>", direct=True), f"{user}: read {bucket}"
                )
                await session.refused(session.js.publish(f"$KV.{bucket}.acme.x", b"forged"), f"{user}: write {bucket}")
            await session.refused(
                session.js.pull_subscribe(
                    f"{messaging.EVENTS_SUBJECT_PREFIX}.>",
                    durable=messaging.WEBHOOK_CONSUMER,
                    stream=messaging.EVENTS_STREAM,
                ),
                f"{user}: take the webhook dispatcher's events",
            )
        finally:
            await session.close()
    extractor = await _as(mesh, "extractor")
    try:
        kv = await extractor.js.key_value(messaging.WEBHOOKS_BUCKET)
        assert kv is not None
    finally:
        await extractor.close()
