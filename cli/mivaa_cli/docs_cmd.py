"""`mivaa docs list|get|update|export|delete|summary|versions|entities|related|compare`.

update changes a document's title, labels and custom metadata; list filters on them (and on state,
creation time and title text); entities, related and compare are intel_cmd's, versions versions_cmd's.
"""

from __future__ import annotations

import argparse
import codecs
import sys
import time
from collections.abc import Sequence

from google.protobuf import field_mask_pb2, timestamp_pb2

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli import ask, intel_cmd, versions_cmd
from mivaa_cli.client import MeshClient
from mivaa_cli.connection import message_json
from mivaa_cli.jobs_cmd import duration_seconds
from mivaa_cli.listing import print_pages
from mivaa_cli.terminal import printable

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


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("docs", help="list, get, export or delete documents")
    parser.add_argument(
        "action", choices=["list", "get", "update", "export", "delete", "summary", "versions", *intel_cmd.ACTIONS]
    )
    parser.add_argument("name", nargs="?")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("--full", action="store_true", help="get: include the Markdown and structured pages")
    parser.add_argument("--format", choices=["markdown", "json"], default="markdown", help="export format")
    parser.add_argument("-o", "--output", help="export: write to this file instead of stdout")
    parser.add_argument("--page-token", help="entities, related: continue a listing")
    intel_cmd.add_arguments(parser)
    add_arguments(parser)
    versions_cmd.add_docs_arguments(parser)


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


async def run(args, client: MeshClient) -> int:
    if args.action == "list":

        async def list_page(token: str) -> tuple[Sequence, str]:
            response = await client.search.ListDocuments(list_request(args, token))
            return response.documents, response.next_page_token

        def line(doc) -> str:
            state = search_pb.DocumentState.Name(doc.state).removeprefix("DOCUMENT_STATE_")
            kind = doc.media_type.rpartition("/")[2] or "pdf"  # pdf, png, jpeg, tiff
            # The kind after the counts: scripts read the columns before it by position.
            return f"{doc.name}  {state:10} {doc.page_count:5}p {doc.chunk_count:6} chunks  {kind:4} {doc.title}"

        await print_pages(list_page, line, all_pages=args.all)
    elif args.action == "versions":

        async def versions_page(token: str) -> tuple[Sequence, str]:
            request = versions_cmd.versions_request(args.name, args.page_size, token)
            response = await client.search.ListDocumentVersions(request)
            return response.documents, response.next_page_token

        await print_pages(versions_page, versions_cmd.version_line, all_pages=args.all)
    elif args.action == "summary":
        return await ask.summarize(args, client)
    elif args.action in intel_cmd.ACTIONS:
        return await intel_cmd.run(args, client)
    elif args.action == "get":
        view = search_pb.DOCUMENT_VIEW_FULL if args.full else search_pb.DOCUMENT_VIEW_BASIC
        document = (await client.search.GetDocument(search_pb.GetDocumentRequest(name=args.name, view=view))).document
        print(message_json(document))
    elif args.action == "update":
        updated = await client.search.UpdateDocument(update_request(args))
        print(message_json(updated.document))
    elif args.action == "delete":
        await client.search.DeleteDocument(
            search_pb.DeleteDocumentRequest(name=args.name, all_versions=args.all_versions)
        )
        print(printable(f"deleted {args.name}"))
    elif args.action == "export":
        export_format = search_pb.EXPORT_FORMAT_JSON if args.format == "json" else search_pb.EXPORT_FORMAT_MARKDOWN
        output = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115, ASYNC230 - closed below; the CLI has no other work to block
        # On a terminal the document's text is shown, its control characters escaped.
        decoder = codecs.getincrementaldecoder("utf-8")("replace") if not args.output and sys.stdout.isatty() else None
        try:
            async for piece in client.search.ExportDocument(
                search_pb.ExportDocumentRequest(name=args.name, format=export_format), timeout=600
            ):
                if decoder is None:
                    output.write(piece.data)
                else:
                    output.write(printable(decoder.decode(piece.data), keep_lines=True).encode())
        finally:
            if args.output:
                output.close()
            else:
                output.flush()
    return 0
