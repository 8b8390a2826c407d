"""What the webhook API and deliveries need from storage (adapters.webhook_store implements both)."""

from __future__ import annotations

import builtins
from typing import Protocol

from mivaa.webhooks.v1 import webhook_service_pb2 as pb


class DeliveryLog(Protocol):
    async def record_delivery(self, delivery: pb.WebhookDelivery, *, tenant: str) -> None: ...


class WebhookRecords(DeliveryLog, Protocol):
    """A tenant's subscriptions; every call names the tenant, and another tenant's are WEBHOOK_NOT_FOUND."""

    async def create(self, record: pb.WebhookRecord, *, max_per_tenant: int) -> None: ...

    async def list(self, page_size: int, page_token: str, *, tenant: str) -> tuple[builtins.list[pb.Webhook], str]: ...

    async def delete(self, name: str, *, tenant: str) -> None: ...

    async def list_deliveries(
        self, parent: str, page_size: int, page_token: str, *, tenant: str
    ) -> tuple[builtins.list[pb.WebhookDelivery], str]: ...
