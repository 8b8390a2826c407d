"""`mivaa docs update` and the listing's filters: a document's title, labels and custom metadata."""

from __future__ import annotations

import argparse
import time

from google.protobuf import field_mask_pb2, timestamp_pb2

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.jobs_cmd import duration_seconds

# Lower-case state names on the command line, to the enum's names (which a request accepts).
STATES = {
    name.removeprefix("DOCUMENT_STATE_").lower(): name
    for name, _ in search_pb.DocumentState.items()
    if name != "DOCUMENT_STATE_UNSPECIFIED"
}


def meta_pair(text: str) -> tuple[str, str]:
    """KEY=VALUE from the command line (the service checks the key's pattern and the value's length)."""
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError("metadata is KEY=VALUE")
    return key, value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """update's and list's options (`--label` is the docs parser's own, shared with list)."""
    parser.add_argument("--title", help="update: the new title; list: only titles containing this text")
    parser.add_argument(
        "--meta", action="append", default=[], type=meta_pair, help="KEY=VALUE (repeat); update: replaces the set"
    )
    parser.add_argument("--clear-labels", action="store_true", help="update: remove every label")
    parser.add_argument("--clear-meta", action="store_true", help="update: remove every metadata pair")
    parser.add_argument("--state", choices=sorted(STATES), help="list: only documents in this state")
    parser.add_argument("--since", type=duration_seconds, help="list: created this long ago or later (30m, 1h, 7d)")
    parser.add_argument(
        "--order-by",
        default="",
        help='list: create_time, update_time, title or page_count, optionally "desc" (default "create_time desc")',
    )


def list_request(args, token: str) -> search_pb.ListDocumentsRequest:
    request = search_pb.ListDocumentsRequest(
        page_size=args.page_size,
        page_token=token,
        labels=args.label,
        state=STATES[args.state] if args.state else "DOCUMENT_STATE_UNSPECIFIED",
        title_contains=args.title or "",
        custom_metadata=dict(args.meta),
        order_by=args.order_by,
        include_all_versions=args.all_versions,
    )
    if args.since is not None:
        request.create_time_after.CopyFrom(timestamp_pb2.Timestamp(seconds=int(time.time()) - args.since))
    return request


def update_request(args) -> search_pb.UpdateDocumentRequest:
    """Only what the options name changes; labels and metadata are replaced whole."""
    document = search_pb.Document(name=args.name)
    paths = []
    if args.title is not None:
        document.title = args.title
        paths.append("title")
    if args.label or args.clear_labels:
        document.labels.extend(args.label)
        paths.append("labels")
    if args.meta or args.clear_meta:
        document.custom_metadata.update(dict(args.meta))
        paths.append("custom_metadata")
    if not paths:
        raise SystemExit("mivaa docs update: give --title, --label, --meta, --clear-labels or --clear-meta")
    return search_pb.UpdateDocumentRequest(document=document, update_mask=field_mask_pb2.FieldMask(paths=paths))
