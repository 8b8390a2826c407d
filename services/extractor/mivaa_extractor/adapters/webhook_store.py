"""Webhook subscriptions and their delivery attempts in NATS KV buckets, one subtree per tenant.

A subscription's key in `mivaa-webhooks` is `<tenant>.<webhook_id>` (the tenant written as in job
keys, adapters.job_keys); an attempt's key in `mivaa-webhook-deliveries` is
`<tenant>.<webhook_id>.<delivery_id>`, and that bucket's records expire after a week. Ids are
time-ordered, so listings sort by key, newest first, and read only the caller's subtree.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable

from nats.js import JetStreamContext

from mivaa.webhooks.v1 import webhook_service_pb2 as pb
from mivaa_extractor.adapters.job_keys import job_key, page_after_id, read_entry
from mivaa_extractor.jobs import DOMAIN
from mivaa_extractor.task_seal import TaskSealer
from mivaa_extractor.webhooks.subscriptions import check_webhook_id, webhook_id_from_name, webhook_not_found
from mivaa_platform.errors import ResourceExhausted
from mivaa_platform.kv_keys import live_keys
from mivaa_platform.limits import check_bus_record
from mivaa_platform.messaging import WEBHOOK_DELIVERIES_BUCKET, WEBHOOKS_BUCKET, tenant_subject_token
from mivaa_platform.pagination import PageSizes, decode_page_token, encode_page_token

WEBHOOK_PAGES = PageSizes(default=50, maximum=200)
DELIVERY_PAGES = PageSizes(default=50, maximum=500)


class WebhookStore:
    def __init__(self, js: JetStreamContext, sealer: TaskSealer):
        self._js = js
        self._sealer = sealer
        self._buckets: dict = {}

    async def _bucket(self, name: str):
        if name not in self._buckets:
            self._buckets[name] = await self._js.key_value(name)
        return self._buckets[name]

    async def create(self, record: pb.WebhookRecord, *, max_per_tenant: int) -> None:
        tenant = record.webhook.tenant
        # Two creates at once may both pass the count: the limit is a guard against runaway
        # clients, not an exact quota.
        if len(await self._ids(tenant)) >= max_per_tenant:
            raise ResourceExhausted(
                "WEBHOOK_LIMIT_REACHED",
                f"A tenant may have at most {max_per_tenant} webhooks; delete one first.",
                domain=DOMAIN,
            )
        stored = pb.WebhookRecord(
            webhook=record.webhook, sealed_secret=self._sealer.seal(record.secret, _seal_binding(record.webhook))
        )
        data = stored.SerializeToString()
        check_bus_record(len(data), what="webhook", domain=DOMAIN)
        kv = await self._bucket(WEBHOOKS_BUCKET)
        key = job_key(tenant, webhook_id_from_name(record.webhook.name))
        await kv.create(key, data, validate_keys=False)

    async def _ids(self, tenant: str) -> builtins.list[str]:
        """The tenant's webhook ids, newest first."""
        await self._bucket(WEBHOOKS_BUCKET)  # the bucket (and its stream) exists
        prefix = f"{tenant_subject_token(tenant)}."
        keys = await live_keys(self._js, f"$KV.{WEBHOOKS_BUCKET}.{prefix}>", bucket=WEBHOOKS_BUCKET)
        return sorted((key.removeprefix(prefix) for key in keys), reverse=True)

    async def record(self, name: str, *, tenant: str) -> pb.WebhookRecord:
        """The stored record; WEBHOOK_NOT_FOUND for a webhook outside `tenant` (or none)."""
        found = await self._read(tenant, webhook_id_from_name(name))
        if found is None:
            raise webhook_not_found()
        return found

    async def _read(self, tenant: str, webhook_id: str) -> pb.WebhookRecord | None:
        entry = await read_entry(await self._bucket(WEBHOOKS_BUCKET), job_key(tenant, webhook_id))
        if entry is None:
            return None
        record = pb.WebhookRecord.FromString(entry[0])
        if record.webhook.tenant != tenant:
            return None
        # A secret sealed under another key (a rotated EXTRACTOR_TASK_KEY_FILE) stays empty:
        # its deliveries fail with that reason until the webhook is made again.
        record.secret = self._sealer.open(record.sealed_secret, _seal_binding(record.webhook)) or ""
        record.ClearField("sealed_secret")
        return record

    async def subscribers(self, tenant: str) -> builtins.list[pb.WebhookRecord]:
        """Every webhook of the tenant, secrets included (for delivery only)."""
        found = [await self._read(tenant, webhook_id) for webhook_id in await self._ids(tenant)]
        return [record for record in found if record is not None]

    async def list(self, page_size: int, page_token: str, *, tenant: str) -> tuple[builtins.list[pb.Webhook], str]:
        """The tenant's webhooks without secrets, newest first; the next page's token ("" at the end)."""
        page_ids, next_token = _page(
            await self._ids(tenant), page_size, page_token, WEBHOOK_PAGES, "webhooks", scope=f"tenant:{tenant}"
        )
        found = [await self._read(tenant, webhook_id) for webhook_id in page_ids]
        return [record.webhook for record in found if record is not None], next_token

    async def delete(self, name: str, *, tenant: str) -> None:
        """Removes the webhook and its delivery log, leaving no marker."""
        record = await self.record(name, tenant=tenant)
        key = job_key(tenant, webhook_id_from_name(record.webhook.name))
        await self._js.purge_stream(f"KV_{WEBHOOKS_BUCKET}", subject=f"$KV.{WEBHOOKS_BUCKET}.{key}")
        await self._bucket(WEBHOOK_DELIVERIES_BUCKET)
        await self._js.purge_stream(
            f"KV_{WEBHOOK_DELIVERIES_BUCKET}", subject=f"$KV.{WEBHOOK_DELIVERIES_BUCKET}.{key}.>"
        )

    async def record_delivery(self, delivery: pb.WebhookDelivery, *, tenant: str) -> None:
        webhook_name, _, delivery_id = delivery.name.partition("/deliveries/")
        key = f"{job_key(tenant, webhook_id_from_name(webhook_name))}.{delivery_id}"
        kv = await self._bucket(WEBHOOK_DELIVERIES_BUCKET)
        await kv.put(key, delivery.SerializeToString(), validate_keys=False)

    async def list_deliveries(
        self, parent: str, page_size: int, page_token: str, *, tenant: str
    ) -> tuple[builtins.list[pb.WebhookDelivery], str]:
        """A webhook's attempts, newest first; WEBHOOK_NOT_FOUND outside `tenant`."""
        record = await self.record(parent, tenant=tenant)
        prefix = f"{job_key(tenant, webhook_id_from_name(record.webhook.name))}."
        kv = await self._bucket(WEBHOOK_DELIVERIES_BUCKET)
        keys = await live_keys(self._js, f"$KV.{WEBHOOK_DELIVERIES_BUCKET}.{prefix}>", bucket=WEBHOOK_DELIVERIES_BUCKET)
        ids = sorted((key.removeprefix(prefix) for key in keys), reverse=True)
        page_ids, next_token = _page(
            ids, page_size, page_token, DELIVERY_PAGES, "deliveries", scope=f"{tenant}:{parent}"
        )
        page = []
        for delivery_id in page_ids:
            entry = await read_entry(kv, prefix + delivery_id)
            if entry is not None:
                page.append(pb.WebhookDelivery.FromString(entry[0]))
        return page, next_token


def _seal_binding(webhook: pb.Webhook) -> bytes:
    """What a sealed secret belongs to: moved to another webhook or tenant, it no longer opens."""
    return f"mivaa-webhook-v1\n{webhook.tenant}\n{webhook.name}".encode()


def _page(
    ids: builtins.list[str], page_size: int, page_token: str, sizes: PageSizes, kind: str, *, scope: str
) -> tuple[builtins.list[str], str]:
    """One page of `ids` (sorted newest first) after the token's position, and the next token."""
    size = sizes.clamp(page_size, domain=DOMAIN)
    check: Callable[[str], object] = check_webhook_id
    after = page_after_id(decode_page_token(page_token, kind, scope=scope, domain=DOMAIN), check, domain=DOMAIN)
    if after:
        ids = [item for item in ids if item < after]
    more = len(ids) > size
    return ids[:size], encode_page_token(kind, {"k": ids[size - 1]}, scope=scope) if more else ""
