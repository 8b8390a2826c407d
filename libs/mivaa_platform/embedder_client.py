"""Client of EmbedderService shared by every service that needs vectors (extractor, search)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from mivaa.embedder.v1 import embedder_service_pb2, embedder_service_pb2_grpc
from mivaa_platform.embedding import EmbeddedTexts
from mivaa_platform.grpc_errors import from_rpc_error


class EmbedderClient:
    """TextEmbedder over EmbedderService."""

    def __init__(self, channel: grpc.aio.Channel, model: str = ""):
        self._stub = embedder_service_pb2_grpc.EmbedderServiceStub(channel)
        self.model = model

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

    async def embed(self, texts: Sequence[str]) -> EmbeddedTexts:
        await self.resolve_model()
        try:
            response = await self._stub.EmbedTexts(
                embedder_service_pb2.EmbedTextsRequest(texts=list(texts), model=self.model)
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "embedder") from exc
        return EmbeddedTexts(
            vectors=[list(e.values) for e in response.embeddings],
            token_counts=[e.token_count for e in response.embeddings],
        )
