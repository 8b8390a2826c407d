"""What the use cases need from outside the database, typed by what they do (no grpc here:
the service's main wires the gRPC and NATS clients in)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from mivaa_platform.embedding import EmbeddedTexts


class TextEmbedder(Protocol):
    model: str

    async def embed(self, texts: Sequence[str], model: str = "") -> EmbeddedTexts: ...


class ImageEmbedder(Protocol):
    async def embed_texts(self, texts: Sequence[str]) -> tuple[str, list[list[float]]]: ...

    async def embed_images(
        self, images: Sequence[bytes], *, skip_unreadable: bool = False
    ) -> tuple[str, list[list[float]]]: ...


class StoredOriginal(Protocol):
    """One object in the originals' store (mivaa_platform.messaging.StoredObject)."""

    @property
    def name(self) -> str: ...  # its sha256

    @property
    def size(self) -> int: ...

    @property
    def stored(self) -> dt.datetime | None: ...


class Originals(Protocol):
    """The uploaded PDFs, stored by content (sha256)."""

    async def delete(self, sha256: str) -> None: ...

    async def list_objects(self) -> Sequence[StoredOriginal]: ...


class TextModels(Protocol):
    """The text models the embedder serves: name -> dimension (CLIP text towers included)."""

    async def text_models(self) -> dict[str, int]: ...
