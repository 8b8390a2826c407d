"""Listings on the terminal: one line an item, the first page or every page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mivaa_cli.terminal import printable

# One page of a listing from its page token: the items and the next page's token ("" after the last).
ListPage = Callable[[str], Awaitable[tuple[Sequence, str]]]


async def print_pages(list_page: ListPage, line: Callable[[Any], str], *, all_pages: bool) -> None:
    """Prints a listing one line an item: its first page, or every page with --all; says how to get more."""
    token = ""
    while True:
        items, token = await list_page(token)
        for item in items:
            print(printable(line(item)))
        if not token or not all_pages:
            break
    if token:
        print(printable(f"(more: --all, or page token {token})"))
