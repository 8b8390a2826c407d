"""Resource names (AIP-122) of the search API and the ids inside them."""

from __future__ import annotations

from mivaa_platform.errors import InvalidArgument

DOMAIN = "search.mivaa"


def document_id(name: str) -> str:
    prefix, _, identifier = name.partition("/")
    if prefix != "documents" or not identifier:
        raise InvalidArgument(
            "INVALID_DOCUMENT_NAME",
            "A document name looks like 'documents/{id}'.",
            domain=DOMAIN,
            metadata={"name": name[:100]},
        )
    return identifier


def image_ref(name: str) -> tuple[str, str]:
    """("documents/{id}/images/{sha256}") -> (document id, sha256)."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "documents" or parts[2] != "images" or not parts[1] or not parts[3]:
        raise InvalidArgument(
            "INVALID_IMAGE_NAME",
            "An image name looks like 'documents/{id}/images/{sha256}'.",
            domain=DOMAIN,
            metadata={"name": name[:120]},
        )
    return parts[1], parts[3]
