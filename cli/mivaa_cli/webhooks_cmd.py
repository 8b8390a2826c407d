"""`mivaa webhooks create URL [--event job.succeeded] | list | delete NAME | deliveries NAME`.

create prints the signing secret once (the server never shows it again, only its last characters).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mivaa.webhooks.v1 import webhook_service_pb2 as pb
from mivaa_cli.client import MeshClient
from mivaa_cli.listing import print_pages
from mivaa_cli.terminal import printable

EVENTS = {"job.succeeded": pb.WEBHOOK_EVENT_TYPE_JOB_SUCCEEDED, "job.failed": pb.WEBHOOK_EVENT_TYPE_JOB_FAILED}
_EVENT_WORDS = {value: word for word, value in EVENTS.items()}
CALL_SECONDS = 30


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("webhooks", help="create, list or delete webhooks; list a webhook's deliveries")
    parser.add_argument("action", choices=["create", "list", "delete", "deliveries"])
    parser.add_argument("target", nargs="?", help="create: the https URL; delete, deliveries: webhooks/ID")
    parser.add_argument(
        "--event", action="append", choices=sorted(EVENTS), help="create: events to send (default: both)"
    )
    parser.add_argument("--secret", default="", help="create: the signing secret (default: the server makes one)")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--all", action="store_true", help="list, deliveries: every page")


def webhook_line(webhook: pb.Webhook) -> str:
    events = ",".join(_EVENT_WORDS.get(kind, "?") for kind in webhook.event_types)
    return f"{webhook.name}  {webhook.uri}  {events}  secret ...{webhook.secret_hint}"


def delivery_line(delivery: pb.WebhookDelivery) -> str:
    outcome = pb.DeliveryOutcome.Name(delivery.outcome).removeprefix("DELIVERY_OUTCOME_").lower()
    status = f"HTTP {delivery.status_code}" if delivery.status_code else "no answer"
    when = delivery.attempt_time.ToJsonString() if delivery.HasField("attempt_time") else ""
    error = f"  {delivery.error}" if delivery.error else ""
    return (
        f"{when}  {_EVENT_WORDS.get(delivery.event_type, '?')}  {delivery.job}  "
        f"attempt {delivery.attempt}  {outcome}  {status}{error}"
    )


async def run(args, client: MeshClient) -> int:
    if args.action in ("list", "deliveries"):
        return await _list(args, client)
    if not args.target:
        print(f"mivaa webhooks {args.action} needs a {'URL' if args.action == 'create' else 'NAME'}")
        return 2
    if args.action == "create":
        kinds = [EVENTS[word] for word in (args.event or sorted(EVENTS))]
        response = await client.webhooks.CreateWebhook(
            pb.CreateWebhookRequest(webhook=pb.Webhook(uri=args.target, event_types=kinds), secret=args.secret),
            timeout=CALL_SECONDS,
        )
        print(printable(webhook_line(response.webhook)))
        print(printable(f"secret (shown once): {response.secret}"))
        return 0
    await client.webhooks.DeleteWebhook(pb.DeleteWebhookRequest(name=args.target), timeout=CALL_SECONDS)
    print(printable(f"deleted {args.target}"))
    return 0


async def _list(args, client: MeshClient) -> int:
    """The tenant's webhooks, or one webhook's deliveries, newest first."""
    if args.action == "deliveries" and not args.target:
        print("mivaa webhooks deliveries needs a NAME", file=sys.stderr)
        return 2

    async def list_page(token: str) -> tuple[Sequence, str]:
        if args.action == "list":
            found = await client.webhooks.ListWebhooks(
                pb.ListWebhooksRequest(page_size=args.page_size, page_token=token), timeout=CALL_SECONDS
            )
            return found.webhooks, found.next_page_token
        request = pb.ListWebhookDeliveriesRequest(parent=args.target, page_size=args.page_size, page_token=token)
        response = await client.webhooks.ListWebhookDeliveries(request, timeout=CALL_SECONDS)
        return response.deliveries, response.next_page_token

    await print_pages(list_page, webhook_line if args.action == "list" else delivery_line, all_pages=args.all)
    return 0
