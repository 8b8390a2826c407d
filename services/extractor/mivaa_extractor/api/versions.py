"""Which document an upload becomes the next version of (UploadMetadata.parent, replace_by_filename).

The form is checked here, before a byte is read; that the parent is the caller's is checked against
the catalog before the bytes are read too (NOT_FOUND), and again by search when the version is
created (with the chain's lock: a chain whose newest version still processes is
FAILED_PRECONDITION DOCUMENT_PROCESSING). Search keeps the chain (store.versions there).
"""

from __future__ import annotations

import dataclasses
import re

from mivaa_extractor.api.ingest import UploadRequest
from mivaa_extractor.jobs import DOMAIN
from mivaa_extractor.ports import DocumentCatalog
from mivaa_platform.errors import InvalidArgument

_DOCUMENT_NAME = re.compile(r"documents/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def with_version_target(upload: UploadRequest, *, parent: str, replace_by_filename: bool, fields: str) -> UploadRequest:
    """The upload naming its parent (checked: "documents/{uuid}", not with replace_by_filename)."""
    parent = parent.strip()
    if parent and not _DOCUMENT_NAME.fullmatch(parent):
        raise InvalidArgument(
            "INVALID_PARENT",
            f"{fields}parent must look like 'documents/{{id}}'.",
            domain=DOMAIN,
            metadata={"field": f"{fields}parent"},
        )
    if parent and replace_by_filename:
        raise InvalidArgument(
            "PARENT_CONFLICT",
            f"Set {fields}parent or {fields}replace_by_filename, not both.",
            domain=DOMAIN,
            metadata={"field": f"{fields}replace_by_filename"},
        )
    return dataclasses.replace(upload, parent=parent, replace_by_filename=replace_by_filename)


async def check_parent(upload: UploadRequest, catalog: DocumentCatalog) -> None:
    """NOT_FOUND (as search answers) when the parent is not one of the uploader's documents."""
    if upload.parent:
        await catalog.get(upload.parent, tenant=upload.tenant)
