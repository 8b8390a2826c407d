"""What the use cases need from outside the database, typed by what they do (no grpc here:
the service's main wires the gRPC and NATS clients in)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mivaa_platform.embedding import EmbeddedTexts


class TextEmbedder(Protocol):
    model: str

    async def embed(self, texts: Sequence[str]) -> EmbeddedTexts: ...


class ImageEmbedder(Protocol):
    async def embed_texts(self, texts: Sequence[str]) -> tuple[str, list[list[float]]]: ...

    async def embed_images(
        self, images: Sequence[bytes], *, skip_unreadable: bool = False
    ) -> tuple[str, list[list[float]]]: ...


class Originals(Protocol):
    """The uploaded PDFs, stored by content (sha256)."""

    async def delete(self, sha256: str) -> None: ...
