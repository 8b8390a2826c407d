"""Document intelligence: a document's entities, its related documents, two documents compared.

Every call names the caller's tenant; another tenant's document is DOCUMENT_NOT_FOUND, the same
answer as a document that does not exist.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from mivaa_platform.errors import InvalidArgument
from mivaa_platform.pagination import PageSizes, decode_page_token, filter_fingerprint, invalid_page_token, next_page
from mivaa_search.store import EntityRef, SearchStore
from mivaa_search.store.entities import MAX_ENTITY_CHARS, DocumentEntityRecord, normalize_entity
from mivaa_search.store.records import DOMAIN, ENTITY_TYPES
from mivaa_search.store.related import RelatedRecord
from mivaa_search.usecases.compare import SectionPair, compare, sections

ENTITY_PAGES = PageSizes(default=50, maximum=500)
RELATED_PAGES = PageSizes(default=10, maximum=100)
MAX_FILTER_ENTITIES = 10


def entity_refs(entities: Sequence[tuple[str, str]]) -> list[EntityRef]:
    """A search filter's entities, given as (text, type or ""), checked and normalized."""
    if len(entities) > MAX_FILTER_ENTITIES:
        raise InvalidArgument(
            "TOO_MANY_ENTITIES",
            f"At most {MAX_FILTER_ENTITIES} entities may be named in a filter.",
            domain=DOMAIN,
            metadata={"count": str(len(entities)), "max_count": str(MAX_FILTER_ENTITIES)},
        )
    refs = []
    for text, kind in entities:
        if len(text) > MAX_ENTITY_CHARS:
            raise InvalidArgument(
                "ENTITY_TEXT_TOO_LONG",
                f"A filter entity is longer than {MAX_ENTITY_CHARS} characters.",
                domain=DOMAIN,
                metadata={"max_chars": str(MAX_ENTITY_CHARS)},
            )
        normalized = normalize_entity(text)
        if not normalized:
            raise InvalidArgument("ENTITY_TEXT_EMPTY", "A filter entity needs a text.", domain=DOMAIN)
        check_entity_types([kind] if kind else [])
        refs.append(EntityRef(normalized, kind))
    return refs


def check_entity_types(types: Sequence[str]) -> list[str]:
    unknown = [kind for kind in types if kind not in ENTITY_TYPES]
    if unknown:
        raise InvalidArgument(
            "INVALID_ENTITY_TYPE", f"Entity types are among: {', '.join(ENTITY_TYPES)}.", domain=DOMAIN
        )
    return sorted(set(types))


class DocumentIntelligence:
    def __init__(self, store: SearchStore):
        self._store = store

    async def entities(
        self, id: str, *, tenant: str, types: Sequence[str], page_size: int, page_token: str
    ) -> tuple[list[DocumentEntityRecord], str]:
        """The document's entities, most mentioned first, one page, and the next page's token."""
        kinds = check_entity_types(types)
        limit = ENTITY_PAGES.clamp(page_size, domain=DOMAIN)
        scope = f"{id.lower()}/{filter_fingerprint(kinds)}"
        after = decode_page_token(page_token, "entities", scope=scope, domain=DOMAIN)
        rows = await self._store.entities.read(
            id, tenant=tenant, types=kinds, limit=limit + 1, after=_entity_after(after)
        )
        return next_page(
            rows, limit, "entities", lambda e: {"m": e.mentions, "t": e.type, "n": e.normalized}, scope=scope
        )

    async def related(
        self, id: str, *, tenant: str, page_size: int, page_token: str
    ) -> tuple[list[RelatedRecord], str]:
        """The tenant's documents nearest to this one, one page, and the next page's token."""
        limit = RELATED_PAGES.clamp(page_size, domain=DOMAIN)
        scope = id.lower()
        after = decode_page_token(page_token, "related", scope=scope, domain=DOMAIN)
        rows = await self._store.related.nearest(id, tenant=tenant, limit=limit + 1, after=_related_after(after))
        return next_page(rows, limit, "related", lambda r: {"d": r.distance, "i": r.document_id}, scope=scope)

    async def compare(self, first: str, second: str, *, tenant: str) -> list[SectionPair]:
        """The two documents' sections compared (see usecases.compare)."""
        if first.lower() == second.lower():
            raise InvalidArgument(
                "SAME_DOCUMENT", "first and second name the same document; name two documents.", domain=DOMAIN
            )
        first_chunks = await self._store.related.chunks(first, tenant=tenant)
        second_chunks = await self._store.related.chunks(second, tenant=tenant)
        # Matching and diffing thousands of chunks is CPU work: off the event loop.
        return await asyncio.to_thread(lambda: compare(sections(first_chunks), sections(second_chunks)))


def _entity_after(after: dict[str, object] | None) -> tuple[int, str, str] | None:
    if after is None:
        return None
    mentions, kind, normalized = after.get("m"), after.get("t"), after.get("n")
    if isinstance(mentions, bool) or not isinstance(mentions, int) or kind not in ENTITY_TYPES:
        raise invalid_page_token("The page token is not one this service issued.", DOMAIN)
    if not isinstance(normalized, str) or not isinstance(kind, str):
        raise invalid_page_token("The page token is not one this service issued.", DOMAIN)
    return mentions, kind, normalized


def _related_after(after: dict[str, object] | None) -> tuple[float, str] | None:
    if after is None:
        return None
    distance, identifier = after.get("d"), after.get("i")
    if isinstance(distance, bool) or not isinstance(distance, (int, float)) or not isinstance(identifier, str):
        raise invalid_page_token("The page token is not one this service issued.", DOMAIN)
    try:
        uuid.UUID(identifier)
    except ValueError:
        raise invalid_page_token("The page token is not one this service issued.", DOMAIN) from None
    return float(distance), identifier
