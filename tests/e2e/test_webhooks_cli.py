"""`mivaa webhooks` from a terminal, and the per-tenant webhook limit, through the real gateway."""

from __future__ import annotations

import asyncio
import re

import grpc

from mivaa.webhooks.v1 import webhook_service_pb2 as pb
from tests.e2e.test_operations import mivaa
from tests.e2e.test_webhooks import caller, create, refused, unique_tenant


def test_the_webhooks_cli_creates_lists_shows_deliveries_and_deletes(mesh):
    token = mesh.token(tenant=unique_tenant("cli"), subject="cli-user")
    made = mivaa(mesh, "webhooks", "create", "http://127.0.0.1:9/cli", "--event", "job.failed", token=token)
    assert made.returncode == 0, made.stderr
    name = re.search(r"webhooks/[0-9a-f]{20}", made.stdout)
    assert name and "job.failed" in made.stdout and "secret (shown once): " in made.stdout, made.stdout
    secret = made.stdout.rsplit("secret (shown once): ", 1)[1].strip()
    listed = mivaa(mesh, "webhooks", "list", token=token)
    assert name.group() in listed.stdout and f"secret ...{secret[-4:]}" in listed.stdout, listed.stdout
    assert secret not in listed.stdout
    empty = mivaa(mesh, "webhooks", "deliveries", name.group(), token=token)
    assert empty.returncode == 0 and empty.stdout == "", empty
    refused_target = mivaa(mesh, "webhooks", "create", "https://10.0.0.1/x", token=token)
    assert refused_target.returncode == 1 and "WEBHOOK_TARGET_REFUSED" in refused_target.stderr, refused_target
    assert "a private address" in refused_target.stderr
    deleted = mivaa(mesh, "webhooks", "delete", name.group(), token=token)
    assert deleted.returncode == 0 and f"deleted {name.group()}" in deleted.stdout, deleted
    gone = mivaa(mesh, "webhooks", "delete", name.group(), token=token)
    assert gone.returncode == 1 and "WEBHOOK_NOT_FOUND" in gone.stderr, gone


async def test_a_tenant_has_at_most_its_limit_of_webhooks(mesh):
    async with caller(mesh, unique_tenant("limit")) as client:
        for number in range(20):  # EXTRACTOR_WEBHOOK_MAX_PER_TENANT's default
            await create(client, f"http://127.0.0.1:9/limit{number}")
            await asyncio.sleep(0.12)  # under the change class's per-subject rate
        await refused(
            create(client, "http://127.0.0.1:9/one-more"), grpc.StatusCode.RESOURCE_EXHAUSTED, "WEBHOOK_LIMIT_REACHED"
        )
        first = await client.webhooks.ListWebhooks(pb.ListWebhooksRequest(), timeout=30)
        assert len(first.webhooks) == 20 and not first.next_page_token
        await client.webhooks.DeleteWebhook(pb.DeleteWebhookRequest(name=first.webhooks[0].name), timeout=30)
        await create(client, "http://127.0.0.1:9/again")
