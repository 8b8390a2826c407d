"""`mivaa admin export DIR`: every document of the caller's tenant as Markdown and JSON.

DIR/manifest.json lists each document (name, title, filename, labels, metadata, pages, chunks,
created, the original's sha256) with the sha256 and size of its two files,
DIR/documents/<id>.md and DIR/documents/<id>.json (ExportDocument's formats, streamed to disk
piece by piece, so no document is held in memory whole). The export is written into a sibling
folder and renamed into place only when complete: a DIR that exists is always a whole export.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import pathlib
import shutil
from collections.abc import AsyncIterator, Callable

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient

FORMATS = ((search_pb.EXPORT_FORMAT_MARKDOWN, "md"), (search_pb.EXPORT_FORMAT_JSON, "json"))
PAGE_SIZE = 100
EXPORT_SECONDS = 600.0
LIST_SECONDS = 60.0


class ExportTargetExists(Exception):
    """The export never writes into (or over) an existing folder."""


async def tenant_documents(client: MeshClient) -> AsyncIterator[search_pb.Document]:
    """Every document of the token's tenant, oldest first, page by page."""
    token = ""
    while True:
        # Every version: an export holds the history, not only what searches see.
        request = search_pb.ListDocumentsRequest(
            page_size=PAGE_SIZE, page_token=token, order_by="create_time", include_all_versions=True
        )
        response = await client.search.ListDocuments(request, timeout=LIST_SECONDS)
        for document in response.documents:
            yield document
        token = response.next_page_token
        if not token:
            return


async def _export_file(client: MeshClient, name: str, export_format: int, path: pathlib.Path) -> dict[str, object]:
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as output:
        request = search_pb.ExportDocumentRequest(name=name, format=export_format)  # type: ignore[arg-type]
        async for piece in client.search.ExportDocument(request, timeout=EXPORT_SECONDS):
            output.write(piece.data)
            digest.update(piece.data)
            size += len(piece.data)
    return {"path": path.name, "sha256": digest.hexdigest(), "size_bytes": size}


def _entry(document: search_pb.Document) -> dict[str, object]:
    return {
        "name": document.name,
        "title": document.title,
        "filename": document.filename,
        "labels": list(document.labels),
        "custom_metadata": dict(sorted(document.custom_metadata.items())),
        "page_count": document.page_count,
        "chunk_count": document.chunk_count,
        "create_time": document.create_time.ToJsonString() if document.HasField("create_time") else "",
        "original_sha256": document.sha256,
    }


def _start(target: pathlib.Path) -> pathlib.Path:
    """The sibling folder the export is written into, empty."""
    if target.exists():
        raise ExportTargetExists(f"{target} exists: the export writes a new folder")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "documents").mkdir(parents=True)
    return partial


def _finish(partial: pathlib.Path, target: pathlib.Path, manifest: dict[str, object]) -> None:
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    partial.rename(target)


async def export_tenant(
    client: MeshClient, target: pathlib.Path, progress: Callable[[str], None] = lambda line: None
) -> dict[str, object]:
    """Writes the export to `target` (which must not exist yet); returns the manifest."""
    partial = _start(target)
    try:
        entries: list[dict[str, object]] = []
        async for document in tenant_documents(client):
            document_id = document.name.removeprefix("documents/")
            files = [
                await _export_file(client, document.name, export_format, partial / "documents" / f"{document_id}.{ext}")
                for export_format, ext in FORMATS
            ]
            entries.append({**_entry(document), "files": files})
            progress(f"{document.name}  {document.page_count} pages  {document.filename}")
        manifest: dict[str, object] = {
            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "documents": entries,
        }
        _finish(partial, target, manifest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest
