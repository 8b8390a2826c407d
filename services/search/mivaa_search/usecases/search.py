"""Search: a query embedded by the model, then the nearest chunks or images of the tenant."""

from __future__ import annotations

from mivaa_platform.errors import FailedPrecondition, InvalidArgument
from mivaa_search.limits import check_filters, check_query, check_top_k
from mivaa_search.store import ChunkHit, ImageHit, SearchFilter, SearchStore
from mivaa_search.store.records import DOMAIN
from mivaa_search.usecases.ports import ImageEmbedder, TextEmbedder


class Search:
    def __init__(self, store: SearchStore, texts: TextEmbedder, images: ImageEmbedder | None = None):
        self._store = store
        self._texts = texts
        self._images = images

    async def chunks(self, query: str, top_k: int, where: SearchFilter, *, tenant: str) -> tuple[list[ChunkHit], str]:
        """The hits and the name of the model that embedded the query."""
        query = check_query(query)
        check_top_k(top_k)
        check_filters(documents=where.document_ids, labels=where.labels)
        embedded = await self._texts.embed([query])
        hits = await self._store.chunks.search(embedded.vectors[0], top_k, where, tenant=tenant)
        return hits, self._texts.model

    async def images(
        self, top_k: int, where: SearchFilter, *, tenant: str, text: str | None = None, image: bytes | None = None
    ) -> tuple[list[ImageHit], str]:
        """Images nearest to a text or an image (exactly one of them), and the image model's name."""
        if self._images is None:
            raise FailedPrecondition("IMAGE_MODEL_UNAVAILABLE", "Image search is not configured.", domain=DOMAIN)
        check_top_k(top_k)
        check_filters(documents=where.document_ids, labels=where.labels)
        if text is not None:
            model, vectors = await self._images.embed_texts([check_query(text, "text")])
        elif image is not None:
            if not image:
                raise InvalidArgument("QUERY_EMPTY", "image must not be empty.", domain=DOMAIN)
            model, vectors = await self._images.embed_images([image], skip_unreadable=False)
        else:
            raise InvalidArgument("QUERY_EMPTY", "Give a text or an image to search with.", domain=DOMAIN)
        hits = await self._store.images.search(vectors[0], model, top_k, where, tenant=tenant)
        return hits, model
