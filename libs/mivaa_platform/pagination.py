"""Page tokens and page sizes for every List/Search RPC (AIP-158), in one place.

A token is opaque to callers: `v1.<base64url JSON>.<check>`. The JSON names the listing
(`kind`), where the next page starts (`after`, a small dict) and a fingerprint of the
filter the listing was asked with; `check` is a digest over all of it, so a token that
was cut, edited or made for another listing is INVALID_PAGE_TOKEN. The digest carries
no secret: it catches damage and casual edits, not a determined forger, which is enough
because every value decoded from a token is checked again and every query is scoped to
the caller's tenant (a forged token can only move within the caller's own data).

Domain code: no grpc.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from mivaa_platform.errors import InvalidArgument

TOKEN_VERSION = "v1"
# Tokens issued here are mostly under 300 characters; the longest, a ListDocuments position in
# title order, holds up to 100 characters of a title (JSON-escaped, 12 characters each at worst).
MAX_PAGE_TOKEN_CHARS = 2048
_CHECK_CHARS = 16

T = TypeVar("T")


@dataclass(frozen=True)
class PageSizes:
    """A listing's page size when the caller gives none (0) and the most one page holds."""

    default: int
    maximum: int

    def clamp(self, requested: int, *, domain: str) -> int:
        """The page size to use: the default for 0, at most `maximum`; INVALID_PAGE_SIZE when negative."""
        if requested < 0:
            raise InvalidArgument("INVALID_PAGE_SIZE", "page_size must not be negative.", domain=domain)
        return min(requested or self.default, self.maximum)


def filter_fingerprint(values: Iterable[str]) -> str:
    """Ties a token to the set of filter values (labels, ...) it was issued for."""
    return hashlib.sha256("\x1f".join(sorted(set(values))).encode()).hexdigest()[:16]


def _check(kind: str, body: str) -> str:
    return hashlib.sha256(f"{TOKEN_VERSION}\x1f{kind}\x1f{body}".encode()).hexdigest()[:_CHECK_CHARS]


def encode_page_token(kind: str, after: dict[str, object], *, scope: str = "") -> str:
    """A token for the page after `after` in listing `kind`; `scope` is the parent or filter it belongs to."""
    raw = json.dumps({"k": kind, "a": after, "s": scope}, separators=(",", ":"), sort_keys=True)
    body = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return f"{TOKEN_VERSION}.{body}.{_check(kind, body)}"


def decode_page_token(token: str, kind: str, *, scope: str = "", domain: str) -> dict[str, object] | None:
    """`after` of a token from encode_page_token (None for ""), or INVALID_PAGE_TOKEN.

    The caller still validates each value in `after` (types, ranges) before it reaches a query.
    """
    if not token:
        return None
    if len(token) > MAX_PAGE_TOKEN_CHARS:
        raise invalid_page_token("The page token is not one this service issued.", domain)
    version, _, rest = token.partition(".")
    body, _, check = rest.partition(".")
    if version != TOKEN_VERSION or not body or check != _check(kind, body):
        raise invalid_page_token("The page token is not one this service issued.", domain)
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise invalid_page_token("The page token is not one this service issued.", domain) from None
    if not isinstance(payload, dict) or payload.get("k") != kind or not isinstance(payload.get("a"), dict):
        raise invalid_page_token("The page token is not one this service issued.", domain)
    if payload.get("s") != scope:
        raise invalid_page_token("The page token belongs to another listing or filter.", domain)
    return payload["a"]


def invalid_page_token(message: str, domain: str) -> InvalidArgument:
    return InvalidArgument("INVALID_PAGE_TOKEN", message, domain=domain)


def next_page(
    rows: Sequence[T], limit: int, kind: str, position: Callable[[T], dict[str, object]], *, scope: str = ""
) -> tuple[list[T], str]:
    """From rows fetched with LIMIT limit + 1: the page, and the token of the next ("" at the end)."""
    page = list(rows[:limit])
    token = encode_page_token(kind, position(page[-1]), scope=scope) if len(rows) > limit and page else ""
    return page, token
