"""ListDocuments' order_by (AIP-132): parsed against an allow-list, and the page position it implies.

A position is the last document's value of the ordered field and its id; a page token carries it
and is bound to the order it was issued for (the order is part of the token's scope), so a token
cannot continue a listing in another order.
"""

from __future__ import annotations

import datetime as dt
import uuid

from mivaa_platform.errors import InvalidArgument
from mivaa_platform.pagination import invalid_page_token
from mivaa_search.store.records import (
    DOMAIN,
    NEWEST_FIRST,
    ORDERABLE_DOCUMENT_FIELDS,
    DocumentOrder,
    DocumentRecord,
)

MAX_ORDER_BY_CHARS = 64
_TIMES = ("create_time", "update_time")


def parse_order_by(text: str) -> DocumentOrder:
    """ "field" or "field desc" (any spacing, case-insensitive keywords); "" is create_time desc.

    Anything else, several fields included, is INVALID_ARGUMENT ORDER_BY_INVALID.
    """
    if len(text) > MAX_ORDER_BY_CHARS:
        raise _invalid(f"order_by may have at most {MAX_ORDER_BY_CHARS} characters.")
    words = text.split()
    if not words:
        return NEWEST_FIRST
    field, *direction = words
    if field not in ORDERABLE_DOCUMENT_FIELDS or [word.lower() for word in direction] not in ([], ["desc"], ["asc"]):
        raise _invalid(f"order_by must be one of {', '.join(ORDERABLE_DOCUMENT_FIELDS)}, optionally followed by desc.")
    return DocumentOrder(field, descending=[word.lower() for word in direction] == ["desc"])


def token_scope(order: DocumentOrder) -> list[str]:
    """What the order adds to a page token's scope (nothing for the default, so older tokens stay good)."""
    return [] if order == NEWEST_FIRST else [f"o:{order.text}"]


def position_of(order: DocumentOrder, document: DocumentRecord) -> dict[str, object]:
    value = order.key(document)
    # The default order keeps the key older tokens used ("t").
    key = "t" if order == NEWEST_FIRST else "v"
    return {key: value.isoformat() if isinstance(value, dt.datetime) else value, "i": document.id}


def decode_position(order: DocumentOrder, after: dict[str, object] | None) -> tuple[object, uuid.UUID] | None:
    """(value, id) from a token's position, each value checked for the order's type."""
    if after is None:
        return None
    raw = after.get("t" if order == NEWEST_FIRST else "v")
    try:
        document = uuid.UUID(str(after["i"]))
        value: object
        if order.field in _TIMES:
            value = dt.datetime.fromisoformat(str(raw))
            if value.tzinfo is None:
                raise ValueError("no time zone")
        elif order.field == "page_count":
            if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
                raise ValueError("not a page count")
            value = raw
        else:
            if not isinstance(raw, str):
                raise ValueError("not a title")
            value = raw
    except (KeyError, ValueError):
        raise invalid_page_token("The page token is not one this service issued.", DOMAIN) from None
    return value, document


def _invalid(message: str) -> InvalidArgument:
    return InvalidArgument("ORDER_BY_INVALID", message, domain=DOMAIN)
