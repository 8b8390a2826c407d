"""The search service's settings (SEARCH_<FIELD>): no dependencies, so launchers can build its environment."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "SEARCH"


@dataclass(frozen=True)
class SearchSettings:
    database_url: str
    # NATS (the originals of deleted documents): SEARCH_NATS_URL, _USER, _PASSWORD_FILE, _CA_FILE.
    embedder_addr: str
    # Text model for queries; empty means the embedder's default text model.
    model: str = ""
    pool_size: int = 10
