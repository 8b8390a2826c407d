"""The catalog: documents, their content (chunks, pages, images) and listings of them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from mivaa_platform.errors import FailedPrecondition
from mivaa_platform.pagination import (
    PageSizes,
    decode_page_token,
    filter_fingerprint,
    invalid_page_token,
    next_page,
)
from mivaa_search.limits import check_custom_metadata, check_filters, check_time_range, check_title_filter
from mivaa_search.store import (
    DocumentContent,
    DocumentFilter,
    DocumentRecord,
    ImageInfo,
    NewDocument,
    SearchStore,
    TenantUsage,
)
from mivaa_search.store.records import DOMAIN, EVERY_DOCUMENT
from mivaa_search.usecases.document_order import decode_position, parse_order_by, position_of, token_scope
from mivaa_search.usecases.maintenance import IndexUpkeep
from mivaa_search.usecases.ports import Originals

DOCUMENT_PAGES = PageSizes(default=50, maximum=500)
PAGE_PAGES = PageSizes(default=20, maximum=200)
IMAGE_PAGES = PageSizes(default=50, maximum=500)
# DOCUMENT_VIEW_FULL answers must stay under gRPC's default 4 MiB message limit on the caller's side.
MAX_FULL_VIEW_BYTES = 3 << 20
log = logging.getLogger("mivaa.search.documents")
_PAGES_PER_READ = 50  # a document's pages are read this many at a time, never all at once


class DocumentCatalog:
    def __init__(self, store: SearchStore, originals: Originals | None, upkeep: IndexUpkeep | None = None):
        self._store = store
        self._originals = originals
        self._upkeep = upkeep

    async def create(self, new: NewDocument, *, tenant: str) -> tuple[DocumentRecord, bool]:
        """A PENDING document, or the tenant's existing one with the same bytes (created: False)."""
        return await self._store.documents.create(new, tenant=tenant)

    async def get(self, id: str, *, tenant: str) -> DocumentRecord:
        return await self._store.documents.get(id, tenant=tenant)

    async def usage(self, *, tenant: str) -> TenantUsage:
        """What the tenant stores (documents, pages, original bytes, chunks, vectors, images)."""
        return await self._store.usage.of_tenant(tenant=tenant)

    async def list_documents(
        self,
        *,
        tenant: str,
        page_size: int,
        page_token: str,
        labels: Sequence[str],
        where: DocumentFilter = EVERY_DOCUMENT,
        order_by: str = "",
    ) -> tuple[list[DocumentRecord], str]:
        """One page in `order_by`'s order (newest first by default), and the token of the next ("" at the end)."""
        order = parse_order_by(order_by)
        check_filters(labels=labels)
        check_title_filter(where.title_contains)
        check_custom_metadata(where.custom_metadata)
        check_time_range(where.created_after, where.created_before)
        limit = DOCUMENT_PAGES.clamp(page_size, domain=DOMAIN)
        # A token is the tenant's, for this filter and this order.
        scope = f"{tenant}/{filter_fingerprint([*labels, *where.fingerprint_parts(), *token_scope(order)])}"
        after = decode_position(order, decode_page_token(page_token, "documents", scope=scope, domain=DOMAIN))
        rows = await self._store.documents.read(
            tenant=tenant, limit=limit + 1, labels=labels, after=after, where=where, order=order
        )
        return next_page(rows, limit, "documents", lambda d: position_of(order, d), scope=scope)

    async def update(self, id: str, *, tenant: str, **fields: Any) -> DocumentRecord:
        """Set the given fields (state, title, page_count, labels, job, custom_metadata)."""
        return await self._store.documents.update(id, tenant=tenant, **fields)

    async def list_versions(
        self, id: str, *, tenant: str, page_size: int, page_token: str
    ) -> tuple[list[DocumentRecord], str]:
        """The versions of document `id`'s chain, newest first, and the token of the next page."""
        limit = DOCUMENT_PAGES.clamp(page_size, domain=DOMAIN)
        scope = f"{tenant}/{id.lower()}"
        after = decode_page_token(page_token, "versions", scope=scope, domain=DOMAIN)
        rows = await self._store.documents.versions.list(
            id, tenant=tenant, limit=limit + 1, before_version=_number(after, "v", 0)
        )
        return next_page(rows, limit, "versions", lambda d: {"v": d.version}, scope=scope)

    async def delete(self, id: str, *, tenant: str, all_versions: bool = False) -> list[DocumentRecord]:
        """Delete one version, or with all_versions its whole chain; returns what was deleted."""
        if all_versions:
            records = await self._store.documents.versions.delete_chain(id, tenant=tenant)
        else:
            records = [await self._store.documents.delete(id, tenant=tenant)]
        if self._upkeep is not None:
            self._upkeep.changed()
        # The stored original goes with the last document (of any tenant) that has its bytes, after
        # that delete committed (store.originals). The document is gone either way: a failure here
        # leaves a tombstone that the originals sweep finishes.
        if self._originals is not None:
            for sha256 in sorted({record.sha256 for record in records}):
                try:
                    await self._store.originals.finish_deletion(sha256, self._originals.delete)
                except Exception:
                    log.warning(
                        "the stored original's deletion is left to the sweep",
                        exc_info=True,
                        extra={"fields": {"sha256": sha256}},
                    )
        return records

    async def replace_content(self, id: str, content: DocumentContent, *, tenant: str) -> DocumentRecord:
        record = await self._store.chunks.replace_content(id, content, tenant=tenant)
        if self._upkeep is not None:
            self._upkeep.changed()
        return record

    # -- pages ---------------------------------------------------------------------------

    async def list_pages(self, id: str, *, tenant: str, page_size: int, page_token: str) -> tuple[list[bytes], str]:
        """A document's pages in order (serialized Page messages), and the token of the next."""
        limit = PAGE_PAGES.clamp(page_size, domain=DOMAIN)
        after = decode_page_token(page_token, "pages", scope=id.lower(), domain=DOMAIN)
        rows = await self._store.pages.read(id, tenant=tenant, limit=limit + 1, after=_number(after, "n", 0))
        page, token = next_page(rows, limit, "pages", lambda row: {"n": row[0]}, scope=id.lower())
        return [layout for _, layout in page], token

    async def pages(self, id: str, *, tenant: str) -> AsyncIterator[bytes]:
        """Every page in order, read a batch at a time."""
        after = 0
        while True:
            rows = await self._store.pages.read(id, tenant=tenant, limit=_PAGES_PER_READ, after=after)
            for _, layout in rows:
                yield layout
            if len(rows) < _PAGES_PER_READ:
                return
            after = rows[-1][0]

    async def pages_for_full_view(self, id: str, *, tenant: str) -> AsyncIterator[bytes]:
        """The pages, once they are known to fit one response; DOCUMENT_TOO_LARGE_FOR_VIEW otherwise."""
        size = await self._store.pages.size(id, tenant=tenant)
        if size > MAX_FULL_VIEW_BYTES:
            raise FailedPrecondition(
                "DOCUMENT_TOO_LARGE_FOR_VIEW",
                "The document's pages are too large for one response; use ListPages or ExportDocument.",
                domain=DOMAIN,
                metadata={"pages_bytes": str(size), "max_bytes": str(MAX_FULL_VIEW_BYTES)},
            )
        return self.pages(id, tenant=tenant)

    # -- images --------------------------------------------------------------------------

    async def list_images(
        self, id: str, *, tenant: str, page_size: int, page_token: str
    ) -> tuple[list[ImageInfo], str]:
        limit = IMAGE_PAGES.clamp(page_size, domain=DOMAIN)
        after = decode_page_token(page_token, "images", scope=id.lower(), domain=DOMAIN)
        rows = await self._store.images.read(id, tenant=tenant, limit=limit + 1, after=_number(after, "o", -1))
        return next_page(rows, limit, "images", lambda image: {"o": image.ordinal}, scope=id.lower())

    async def get_image(self, id: str, sha256: str, *, tenant: str) -> ImageInfo:
        return await self._store.images.get(id, sha256, tenant=tenant)

    async def get_image_data(self, id: str, sha256: str, *, tenant: str) -> tuple[str, bytes]:
        return await self._store.images.get_data(id, sha256, tenant=tenant)


def _number(after: dict[str, object] | None, key: str, start: int) -> int:
    if after is None:
        return start
    value = after.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_page_token("The page token is not one this service issued.", DOMAIN)
    return value
