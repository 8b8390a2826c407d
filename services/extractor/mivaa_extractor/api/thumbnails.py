"""RenderThumbnail: a small picture of a document (its first page) or of one of its stored images.

A size class (128, 256 or 512 pixels on the longer side), not a free size, so the render cache
(api.page_rendering, shared with RenderPage) holds at most three thumbnails of anything, and the
console's lists ask for the same ones. A first page goes through RenderPage's own path (tenant
check in the catalog, the supervised renderer, the cache); an image is checked and fetched from
search for the caller's tenant (another tenant's is NOT_FOUND) and shrunk in the same worker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mivaa_extractor.api.page_rendering import PageRenderer, RenderRequest
from mivaa_extractor.extraction.rendering import PageImage
from mivaa_extractor.extraction.validation import DOMAIN
from mivaa_platform import limits as field_limits
from mivaa_platform.errors import InvalidArgument

# ThumbnailSize numbers (mivaa.extractor.v1) to the longer side in pixels; 0 (unspecified) is medium.
THUMBNAIL_SIDES = {0: 256, 1: 128, 2: 256, 3: 512}
_DOCUMENT = re.compile(r"documents/[A-Za-z0-9_-]{1,64}")
_IMAGE = re.compile(r"(documents/[A-Za-z0-9_-]{1,64})/images/[0-9a-f]{64}")


@dataclass(frozen=True)
class ThumbnailRequest:
    # "documents/{id}" (its first page) or "documents/{id}/images/{sha256}".
    name: str
    side: int
    password: str
    tenant: str

    @property
    def is_image(self) -> bool:
        return "/images/" in self.name


def new_thumbnail_request(*, name: str, size: int, password: str, tenant: str) -> ThumbnailRequest:
    """The caller's fields, checked before anything is read."""
    if not (_DOCUMENT.fullmatch(name) or _IMAGE.fullmatch(name)):
        raise InvalidArgument(
            "THUMBNAIL_NAME_INVALID",
            "name must be documents/{document_id} or documents/{document_id}/images/{sha256}.",
            domain=DOMAIN,
        )
    if size not in THUMBNAIL_SIDES:
        raise InvalidArgument(
            "THUMBNAIL_SIZE_INVALID",
            "size must be SMALL, MEDIUM or LARGE.",
            domain=DOMAIN,
            metadata={"size": str(size)},
        )
    return ThumbnailRequest(
        name=name,
        side=THUMBNAIL_SIDES[size],
        password=field_limits.check_password(password, domain=DOMAIN, field="password"),
        tenant=tenant,
    )


async def render_thumbnail(renderer: PageRenderer, request: ThumbnailRequest) -> PageImage:
    if request.is_image:
        return await renderer.render_image(request.name, side=request.side, tenant=request.tenant)
    first_page = RenderRequest(
        name=request.name,
        page=1,
        max_width=request.side,
        max_height=request.side,
        password=request.password,
        tenant=request.tenant,
    )
    return await renderer.render(first_page)
