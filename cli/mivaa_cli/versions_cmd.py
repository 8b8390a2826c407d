"""Document versions on the command line.

mivaa ingest FILE --parent documents/ID    the file becomes that document's next version
mivaa ingest FILE --replace                the next version of your newest document named like FILE
mivaa docs versions documents/ID [--all]   a document's versions, newest first
mivaa docs list --all-versions             every version, not only the newest of each document
mivaa docs delete documents/ID --all-versions
mivaa search QUERY --all-versions          search older versions too
"""

from __future__ import annotations

import argparse

from mivaa.search.v1 import search_service_pb2 as search_pb


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--parent", default="", help="documents/ID: upload one file as that document's next version")
    group.add_argument(
        "--replace", action="store_true", help="each file becomes the next version of your newest document of its name"
    )


def ingest_problem(args, paths: list) -> str:
    """Why these ingest arguments cannot work together ("" when they can)."""
    if args.parent and len(paths) != 1:
        return "--parent takes exactly one file or URL"
    return ""


def wants_versions(args) -> bool:
    """A versioned upload goes on its own, never in a batch."""
    return bool(args.parent or args.replace)


def upload_fields(args) -> dict[str, object]:
    """UploadMetadata's (and ImportDocumentRequest's) version fields."""
    return {"parent": args.parent, "replace_by_filename": bool(args.replace)}


def add_docs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--all-versions", action="store_true", help="list: every version; delete: every version of the document"
    )


def version_line(doc: search_pb.Document) -> str:
    state = search_pb.DocumentState.Name(doc.state).removeprefix("DOCUMENT_STATE_")
    when = doc.create_time.ToDatetime().strftime("%Y-%m-%d %H:%M:%S") if doc.HasField("create_time") else ""
    return f"v{doc.version:<4} {doc.name}  {state:10} {when}  {doc.filename}"


def versions_request(name: str, page_size: int, token: str) -> search_pb.ListDocumentVersionsRequest:
    return search_pb.ListDocumentVersionsRequest(parent=name, page_size=page_size, page_token=token)
