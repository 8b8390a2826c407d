"""WebhookService: translates between protos and the webhook store and checks, nothing more."""

from __future__ import annotations

import grpc

from mivaa.webhooks.v1 import webhook_service_pb2 as pb
from mivaa.webhooks.v1 import webhook_service_pb2_grpc
from mivaa_extractor.api.servicer import tenant_of
from mivaa_extractor.jobs import DOMAIN
from mivaa_extractor.webhooks.ports import WebhookRecords
from mivaa_extractor.webhooks.subscriptions import WebhookLimits, new_webhook_record
from mivaa_extractor.webhooks.targets import parse_target, resolve_target
from mivaa_platform.bus_errors import bus_errors


class WebhookServicer(webhook_service_pb2_grpc.WebhookServiceServicer):
    def __init__(self, store: WebhookRecords, limits: WebhookLimits):
        self._store = store
        self._limits = limits

    async def CreateWebhook(
        self, request: pb.CreateWebhookRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateWebhookResponse:
        tenant = tenant_of(context)
        record = new_webhook_record(request.webhook, request.secret, tenant=tenant, limits=self._limits)
        # Every address the host has now must be allowed; deliveries check again each time.
        await resolve_target(parse_target(record.webhook.uri, self._limits.targets), self._limits.targets)
        with bus_errors(domain=DOMAIN):
            await self._store.create(record, max_per_tenant=self._limits.per_tenant)
        return pb.CreateWebhookResponse(webhook=record.webhook, secret=record.secret)

    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWebhooksResponse:
        tenant = tenant_of(context)
        with bus_errors(domain=DOMAIN):
            found, next_token = await self._store.list(request.page_size, request.page_token, tenant=tenant)
        return pb.ListWebhooksResponse(webhooks=found, next_page_token=next_token)

    async def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteWebhookResponse:
        tenant = tenant_of(context)
        with bus_errors(domain=DOMAIN):
            await self._store.delete(request.name, tenant=tenant)
        return pb.DeleteWebhookResponse()

    async def ListWebhookDeliveries(
        self, request: pb.ListWebhookDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWebhookDeliveriesResponse:
        tenant = tenant_of(context)
        with bus_errors(domain=DOMAIN):
            found, next_token = await self._store.list_deliveries(
                request.parent, request.page_size, request.page_token, tenant=tenant
            )
        return pb.ListWebhookDeliveriesResponse(deliveries=found, next_page_token=next_token)
