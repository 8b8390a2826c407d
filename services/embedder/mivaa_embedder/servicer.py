"""EmbedderService: translates between protos and the model registry, nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator

from mivaa.embedder.v1 import embedder_service_pb2 as pb
from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa_embedder.registry import ModelRegistry
from mivaa_embedder.text_model import EmbeddingBatch
from mivaa_platform.errors import InvalidArgument

DOMAIN = "embedder.mivaa"
MAX_TEXTS_PER_CALL = 256
MAX_TEXT_CHARS = 100_000


def _check_texts(texts) -> list[str]:
    if len(texts) > MAX_TEXTS_PER_CALL:
        raise InvalidArgument(
            "TOO_MANY_TEXTS",
            f"At most {MAX_TEXTS_PER_CALL} texts per call; use StreamEmbedTexts for more.",
            domain=DOMAIN,
            metadata={"max_texts": str(MAX_TEXTS_PER_CALL)},
        )
    for text in texts:
        if len(text) > MAX_TEXT_CHARS:
            raise InvalidArgument(
                "TEXT_TOO_LONG", f"A text is longer than {MAX_TEXT_CHARS} characters.", domain=DOMAIN
            )
    return list(texts)


def _to_proto(batch: EmbeddingBatch) -> list[pb.Embedding]:
    return [
        pb.Embedding(values=vector.tolist(), token_count=tokens, truncated=truncated)
        for vector, tokens, truncated in zip(batch.vectors, batch.token_counts, batch.truncated, strict=True)
    ]


class EmbedderServicer(embedder_service_pb2_grpc.EmbedderServiceServicer):
    def __init__(self, registry: ModelRegistry):
        self._registry = registry

    async def EmbedTexts(self, request: pb.EmbedTextsRequest, context) -> pb.EmbedTextsResponse:
        texts = _check_texts(request.texts)
        model = self._registry.text_model(request.model)
        batch = await model.embed(texts)
        return pb.EmbedTextsResponse(embeddings=_to_proto(batch), model=model.name)

    async def StreamEmbedTexts(
        self, request_iterator: AsyncIterator[pb.StreamEmbedTextsRequest], context
    ) -> AsyncIterator[pb.StreamEmbedTextsResponse]:
        model = None
        async for request in request_iterator:
            if model is None:
                model = self._registry.text_model(request.model)
            batch = await model.embed(_check_texts(request.texts))
            yield pb.StreamEmbedTextsResponse(embeddings=_to_proto(batch))

    async def ListModels(self, request: pb.ListModelsRequest, context) -> pb.ListModelsResponse:
        return pb.ListModelsResponse(
            models=[
                pb.Model(
                    name=info.name,
                    dimension=info.dimension,
                    modality=pb.MODALITY_TEXT if info.modality == "text" else pb.MODALITY_IMAGE,
                    device=info.device,
                    max_tokens=info.max_tokens,
                )
                for info in self._registry.describe()
            ]
        )
