"""The models this embedder serves, each behind a dynamic batcher."""

from __future__ import annotations

import asyncio
import logging
import pathlib
from dataclasses import dataclass

from mivaa_embedder.batching import DynamicBatcher
from mivaa_embedder.text_model import EmbeddingBatch, OnnxTextEmbedder
from mivaa_platform.errors import NotFound, Unavailable

log = logging.getLogger("mivaa.embedder.registry")
DOMAIN = "embedder.mivaa"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    dimension: int
    modality: str
    device: str  # execution provider and precision, e.g. "CPUExecutionProvider/int8"
    max_tokens: int


def device_label(model: OnnxTextEmbedder) -> str:
    return f"{model.device}/{model.precision}"


class ServedTextModel:
    def __init__(self, model: OnnxTextEmbedder, batcher: DynamicBatcher):
        self.model = model
        self.batcher = batcher
        self.name = model.name

    async def embed(self, texts: list[str]) -> EmbeddingBatch:
        return await self.batcher.embed(texts)


class ModelRegistry:
    def __init__(
        self,
        models_dir: pathlib.Path,
        text_models: tuple[str, ...],
        *,
        max_batch_texts: int,
        max_wait_ms: float,
        threads: int | None,
        precision: str = "auto",
    ):
        self.models_dir = models_dir
        self.text_model_names = text_models
        self.max_batch_texts = max_batch_texts
        self.max_wait_ms = max_wait_ms
        self.threads = threads
        self.precision = precision  # "auto", "fp32" or "int8" (OnnxTextEmbedder)
        self._text: dict[str, ServedTextModel] = {}

    async def load(self) -> None:
        """Loads every configured model (off the event loop) and starts its batcher."""
        for name in self.text_model_names:
            model = await asyncio.to_thread(
                OnnxTextEmbedder, self.models_dir / name, intra_op_threads=self.threads, precision=self.precision
            )
            batcher = DynamicBatcher(model.embed, max_batch_texts=self.max_batch_texts, max_wait_ms=self.max_wait_ms)
            batcher.start()
            self._text[model.name] = ServedTextModel(model, batcher)
            log.info(
                "model loaded",
                extra={"fields": {"model": model.name, "device": model.device, "precision": model.precision}},
            )

    async def close(self) -> None:
        for served in self._text.values():
            await served.batcher.close()

    def text_model(self, name: str) -> ServedTextModel:
        if not self._text:
            raise Unavailable("MODEL_LOADING", "The embedder is still loading its models.", domain=DOMAIN)
        if not name:
            return next(iter(self._text.values()))
        try:
            return self._text[name]
        except KeyError:
            raise NotFound(
                "MODEL_NOT_FOUND", f"No text model named {name!r} is served here.", domain=DOMAIN,
                metadata={"available": ",".join(self._text)},
            ) from None

    def describe(self) -> list[ModelInfo]:
        if not self._text:
            raise Unavailable("MODEL_LOADING", "The embedder is still loading its models.", domain=DOMAIN)
        return [
            ModelInfo(
                name=s.model.name, dimension=s.model.dimension, modality="text", device=device_label(s.model),
                max_tokens=s.model.max_tokens,
            )
            for s in self._text.values()
        ]
