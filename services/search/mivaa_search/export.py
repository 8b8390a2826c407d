"""A document as one JSON object, written piece by piece: the pages are read a batch at a
time, so the whole document is never held at once. Every piece is a json.dumps value; the
output is what json.dumps of the whole object would give."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any


async def json_object_with_array(head: dict[str, Any], key: str, items: AsyncIterator[Any]) -> AsyncIterator[str]:
    """`{**head, key: [*items]}` as JSON text, streamed: head's members, then the array item by item."""
    yield "{"
    for name, value in head.items():
        yield f"{json.dumps(name, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)}, "
    yield f"{json.dumps(key)}: ["
    separator = ""
    async for item in items:
        yield separator + json.dumps(item, ensure_ascii=False)
        separator = ", "
    yield "]}"
