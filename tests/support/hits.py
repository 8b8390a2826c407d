"""Assertions helpers for search results."""

from __future__ import annotations


def normalise(text: str) -> str:
    return " ".join(text.split()).lower()


def find_hit(hits, needle: str, page: int):
    """The first hit whose text contains `needle` and whose page span includes `page`."""
    for hit in hits:
        if normalise(needle) in normalise(hit.text) and hit.page_start <= page <= hit.page_end:
            return hit
    return None
