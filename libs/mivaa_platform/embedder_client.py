"""Client of EmbedderService shared by every service that needs vectors (extractor, search)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import grpc

from mivaa.embedder.v1 import embedder_service_pb2, embedder_service_pb2_grpc
from mivaa_platform.embedding import EmbeddedTexts
from mivaa_platform.errors import FailedPrecondition
from mivaa_platform.grpc_errors import from_rpc_error


class EmbedderClient:
    """TextEmbedder over EmbedderService. `bulk`: a pipeline's texts (a document's chunks), which the
    embedder takes after every waiting query; queries (search, answers) leave it False."""

    def __init__(self, channel: grpc.aio.Channel, model: str = "", *, bulk: bool = False):
        self._stub = embedder_service_pb2_grpc.EmbedderServiceStub(channel)
        self.model = model
        self._priority = embedder_service_pb2.PRIORITY_BULK if bulk else embedder_service_pb2.PRIORITY_INTERACTIVE

    async def list_models(self) -> list[embedder_service_pb2.Model]:
        """Waits (up to the deadline) for the embedder to answer, then lists its models."""
        try:
            response = await self._stub.ListModels(
                embedder_service_pb2.ListModelsRequest(), wait_for_ready=True, timeout=120
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "embedder") from exc
        return list(response.models)

    async def resolve_model(self) -> str:
        """The configured text model, or the embedder's default one when none was configured."""
        if not self.model:
            text_models = [m for m in await self.list_models() if m.modality == embedder_service_pb2.MODALITY_TEXT]
            if text_models:
                self.model = text_models[0].name
        return self.model

    async def embed(self, texts: Sequence[str], model: str = "") -> EmbeddedTexts:
        """The texts' vectors from `model`, or from the configured (else default) model when empty."""
        if not model:
            model = await self.resolve_model()
        try:
            response = await self._stub.EmbedTexts(
                embedder_service_pb2.EmbedTextsRequest(texts=list(texts), model=model, priority=self._priority)
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "embedder") from exc
        return EmbeddedTexts(
            vectors=[list(e.values) for e in response.embeddings],
            token_counts=[e.token_count for e in response.embeddings],
        )


# How long an image-model lookup is trusted: a model exported while the mesh
# runs is picked up without a restart, without asking on every call.
IMAGE_MODEL_LOOKUP_SECONDS = 30.0


class ImageEmbedderClient:
    """CLIP-style embeddings over EmbedderService: images by their bytes, texts by the model's text tower.

    The model is the one configured, or else the embedder's first image model.
    With none served, calls raise FAILED_PRECONDITION IMAGE_MODEL_UNAVAILABLE
    (the embedder's own answer, or the same reason raised here). `interactive`: its texts are
    queries someone waits on (image search by text), so the embedder paces its bulk work
    meanwhile; a pipeline's label texts leave it False.
    """

    def __init__(self, channel: grpc.aio.Channel, model: str = "", *, interactive: bool = False):
        self._stub = embedder_service_pb2_grpc.EmbedderServiceStub(channel)
        self._text_priority = (
            embedder_service_pb2.PRIORITY_INTERACTIVE if interactive else embedder_service_pb2.PRIORITY_UNSPECIFIED
        )
        self._configured = model
        self._resolved = ""
        self._resolved_at = -IMAGE_MODEL_LOOKUP_SECONDS

    async def resolve_model(self) -> str:
        """The image model's name, or raises IMAGE_MODEL_UNAVAILABLE."""
        if self._configured:
            return self._configured
        now = time.monotonic()
        if now - self._resolved_at >= IMAGE_MODEL_LOOKUP_SECONDS or not self._resolved:
            try:
                response = await self._stub.ListModels(embedder_service_pb2.ListModelsRequest(), timeout=30)
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(exc, "embedder") from exc
            images = [m.name for m in response.models if m.modality == embedder_service_pb2.MODALITY_IMAGE]
            self._resolved = images[0] if images else ""
            self._resolved_at = now
        if not self._resolved:
            raise FailedPrecondition(
                "IMAGE_MODEL_UNAVAILABLE",
                "The embedder serves no image model; export one with `mivaa models export-clip` and restart it.",
                domain="embedder.mivaa",
            )
        return self._resolved

    async def embed_images(
        self, images: Sequence[bytes], *, skip_unreadable: bool = True
    ) -> tuple[str, list[list[float]]]:
        """(model, one unit vector per image, in order).

        With `skip_unreadable`, an image the model cannot read gets [] and the
        rest are still embedded; without it, its IMAGE_UNREADABLE error is raised.
        """
        model = await self.resolve_model()
        vectors: list[list[float]] = [[] for _ in images]
        start = 0
        while start < len(images):

            async def requests(first: int = start):
                for index in range(first, len(images)):
                    yield embedder_service_pb2.EmbedImagesRequest(
                        model=model if index == first else "", image=images[index], id=str(index)
                    )

            try:
                async for response in self._stub.EmbedImages(requests(), timeout=300):
                    vectors[int(response.id)] = list(response.embedding.values)
                return model, vectors
            except grpc.aio.AioRpcError as exc:
                error = from_rpc_error(exc, "embedder")
                bad = error.metadata.get("id", "")
                # One unreadable image ends the stream after answering those before it:
                # skip it and go on with the rest.
                unreadable = error.reason in ("IMAGE_UNREADABLE", "IMAGE_TOO_LARGE")
                if not (skip_unreadable and unreadable) or not bad.isdigit() or int(bad) < start:
                    raise error from exc
                start = int(bad) + 1
        return model, vectors

    async def embed_texts(self, texts: Sequence[str]) -> tuple[str, list[list[float]]]:
        """(model, unit vectors of the texts in the image model's space)."""
        model = await self.resolve_model()
        try:
            response = await self._stub.EmbedTexts(
                embedder_service_pb2.EmbedTextsRequest(texts=list(texts), model=model, priority=self._text_priority),
                timeout=60,
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "embedder") from exc
        return model, [list(e.values) for e in response.embeddings]
