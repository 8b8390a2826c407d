"""What the extractor's domain needs from other services, as plain async interfaces.

The gRPC adapters in `clients.py` implement them; tests may pass in-process
fakes for injected faults only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mivaa.search.v1 import search_service_pb2
from mivaa_platform.embedding import EmbeddedTexts


@dataclass(frozen=True)
class NewDocument:
    filename: str
    title: str
    labels: tuple[str, ...]
    sha256: str
    size_bytes: int
    page_count: int
    job: str
    # The tenant that owns the document (the uploader's); documents are deduplicated per tenant.
    tenant: str


class DocumentCatalog(Protocol):
    """Documents of one tenant at a time: every call names the tenant that owns the document."""

    async def create(self, document: NewDocument) -> tuple[search_service_pb2.Document, bool]: ...

    async def set_state(
        self, name: str, state: search_service_pb2.DocumentState, *, tenant: str, job: str | None = None
    ) -> search_service_pb2.Document: ...

    async def get(self, name: str, *, tenant: str) -> search_service_pb2.Document:
        """The tenant's document; NOT_FOUND when it has none of that name (another tenant's included)."""
        ...

    async def delete(self, name: str, *, tenant: str) -> None:
        """Deletes the document; the catalog removes its stored original when no document still has it."""
        ...


class TextEmbedder(Protocol):
    model: str

    async def embed(self, texts: Sequence[str]) -> EmbeddedTexts: ...


class ChunkWriter(Protocol):
    """One atomic replacement of a document's chunks, pages and images: write many, then commit or abort."""

    async def write(self, chunk: search_service_pb2.Chunk) -> None: ...

    async def write_page(self, page: search_service_pb2.Page) -> None: ...

    async def write_image(self, piece: search_service_pb2.ImageContent) -> None: ...

    async def commit(self) -> int: ...

    async def abort(self) -> None: ...


class ChunkIndex(Protocol):
    async def open_writer(
        self,
        document: str,
        *,
        tenant: str,
        model: str,
        page_count: int,
        metadata: search_service_pb2.DocumentMetadata | None = None,
        outline: Sequence[search_service_pb2.OutlineEntry] = (),
    ) -> ChunkWriter: ...


@dataclass(frozen=True)
class RecognizedPage:
    number: int
    text: str
    # Mean word confidence, 0..1.
    confidence: float


class PageRecognizer(Protocol):
    """OCR of rendered pages (PNG bytes), results keyed by page number."""

    async def recognize(self, pages: Sequence[tuple[int, bytes]], dpi: int) -> dict[int, RecognizedPage]: ...


class ImageEmbedder(Protocol):
    """Image vectors (CLIP's image tower): raises FAILED_PRECONDITION IMAGE_MODEL_UNAVAILABLE when none is served."""

    async def embed_images(self, images: Sequence[bytes]) -> tuple[str, list[list[float]]]: ...
