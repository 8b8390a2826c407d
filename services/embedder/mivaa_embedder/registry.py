"""The models this embedder serves, each behind a dynamic batcher.

Text models (sentence-transformers exports) embed texts. Image models are CLIP
exports (manifest kind "clip"): their image tower embeds images and their text
tower embeds texts into the same space, so EmbedTexts with a CLIP model's name
gives vectors comparable with its image vectors.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mivaa_embedder import metrics
from mivaa_embedder.batching import DynamicBatcher
from mivaa_embedder.bulk_runs import QueryPressure
from mivaa_embedder.clip_model import (
    DEFAULT_MAX_IMAGE_PIXELS,
    ImageEmbeddings,
    OnnxClipModel,
    is_clip_model_dir,
    source_label,
)
from mivaa_embedder.text_model import EmbeddingBatch, OnnxTextEmbedder
from mivaa_platform.errors import FailedPrecondition, NotFound, Unavailable

log = logging.getLogger("mivaa.embedder.registry")
DOMAIN = "embedder.mivaa"
EXPORT_HINT = (
    "Export one with `mivaa models export-clip` (it writes <models dir>/<name>/ with a manifest of kind "
    '"clip"), then restart the embedder: it serves every CLIP export in EMBEDDER_MODELS_DIR, or the ones '
    "named in EMBEDDER_IMAGE_MODELS."
)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    dimension: int
    modality: str  # "text" or "image" (the model's own kind: CLIP is an image model)
    device: str  # execution provider and precision, e.g. "CPUExecutionProvider/int8"
    max_tokens: int
    input_modalities: tuple[str, ...] = ("text",)  # what it embeds: ("text", "image") for CLIP
    source: str = ""  # where the weights came from, per the manifest


def device_label(model: OnnxTextEmbedder) -> str:
    return f"{model.device}/{model.precision}"


def discover_image_models(models_dir: pathlib.Path) -> tuple[str, ...]:
    """Names of the folders under models_dir that hold a CLIP export (manifest kind "clip"), sorted."""
    if not models_dir.is_dir():
        return ()
    return tuple(sorted(p.name for p in models_dir.iterdir() if p.is_dir() and is_clip_model_dir(p)))


def _text_source(model: OnnxTextEmbedder) -> str:
    return source_label(model.manifest.get("source"))


class ServedTextModel:
    def __init__(self, model: OnnxTextEmbedder, batcher: DynamicBatcher):
        self.model = model
        self.batcher = batcher
        self.name = model.name

    async def embed(self, texts: list[str], *, bulk: bool = False) -> EmbeddingBatch:
        return await self.batcher.embed(texts, bulk=bulk)


class ServedImageModel:
    """A CLIP export: images are decoded on a thread pool (a bad one fails alone, before any
    batch), then batched across callers; texts go through a batcher of their own."""

    def __init__(
        self,
        model: OnnxClipModel,
        image_batcher: DynamicBatcher,
        text_batcher: DynamicBatcher,
        decoder: concurrent.futures.Executor,
    ):
        self.model = model
        self.image_batcher = image_batcher
        self.text_batcher = text_batcher
        self._decoder = decoder
        self.name = model.name

    async def embed(self, texts: list[str], *, bulk: bool = False) -> EmbeddingBatch:
        """The text tower, for EmbedTexts with this model's name."""
        return await self.text_batcher.embed(texts, bulk=bulk)

    async def preprocess(self, image: bytes) -> np.ndarray:
        """Decodes and preprocesses one image off the event loop; InvalidArgument for a bad image."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._decoder, self.model.preprocess_image, image)

    async def embed_image(self, image: bytes) -> np.ndarray:
        """The unit vector of one encoded image, computed in whatever batch forms."""
        pixels = await self.preprocess(image)
        result: ImageEmbeddings = await self.image_batcher.embed([pixels])
        return result.vectors[0]

    async def close(self) -> None:
        await self.image_batcher.close()
        await self.text_batcher.close()


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
        image_models: Sequence[str] | None = (),
        max_batch_images: int = 32,
        image_precision: str = "auto",
        max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
        decode_threads: int | None = None,
        bulk_cores_while_querying: float = 0.0,
    ):
        """image_models: CLIP export folders under models_dir to serve; None serves every one found there.
        bulk_cores_while_querying: the cores bulk text runs may use while queries arrive (0: no limit)."""
        self.models_dir = models_dir
        self.text_model_names = text_models
        self.image_model_names = None if image_models is None else tuple(image_models)
        self.max_batch_texts = max_batch_texts
        self.max_batch_images = max_batch_images
        self.max_wait_ms = max_wait_ms
        self.threads = threads
        self.precision = precision  # "auto", "fp32" or "int8" (OnnxTextEmbedder)
        self.image_precision = image_precision  # "auto", "fp32" or "fp16" (OnnxClipModel)
        self.max_image_pixels = max_image_pixels
        self.decode_threads = decode_threads or min(4, os.cpu_count() or 1)
        # One for the service: a query to any model slows the bulk runs of every model. The
        # servicer tells it of requests marked PRIORITY_INTERACTIVE (a person waits on them);
        # unmarked ones (a worker's images, labels) are no sign of people waiting.
        self.pressure = QueryPressure(bulk_cores=bulk_cores_while_querying, on_rest=metrics.BULK_RESTED_SECONDS.inc)
        self._text: dict[str, ServedTextModel] = {}
        self._image: dict[str, ServedImageModel] = {}
        self._decoder: concurrent.futures.ThreadPoolExecutor | None = None
        self._loaded = False

    async def load(self) -> None:
        """Loads every configured model (off the event loop) and starts its batchers."""
        for name in self.text_model_names:
            model = await asyncio.to_thread(
                OnnxTextEmbedder,
                self.models_dir / name,
                intra_op_threads=self.threads,
                bulk_threads=self.threads,
                precision=self.precision,
                pressure=self.pressure,
            )
            batcher = DynamicBatcher(
                model.embed,
                bulk_embed_fn=model.embed_bulk,
                max_batch_texts=self.max_batch_texts,
                max_wait_ms=self.max_wait_ms,
                name=model.name,
            )
            batcher.start()
            self._text[model.name] = ServedTextModel(model, batcher)
            log.info(
                "model loaded",
                extra={"fields": {"model": model.name, "device": model.device, "precision": model.precision}},
            )
        names = self.image_model_names
        if names is None:
            names = discover_image_models(self.models_dir)
            log.info(
                "image models found", extra={"fields": {"models_dir": str(self.models_dir), "models": list(names)}}
            )
        for name in names:
            await self._load_image_model(name)
        self._loaded = True

    async def _load_image_model(self, name: str) -> None:
        model = await asyncio.to_thread(
            OnnxClipModel,
            self.models_dir / name,
            intra_op_threads=self.threads,
            precision=self.image_precision,
            max_batch_size=self.max_batch_images,
            max_image_pixels=self.max_image_pixels,
        )
        if self._decoder is None:
            self._decoder = concurrent.futures.ThreadPoolExecutor(
                self.decode_threads, thread_name_prefix="image-decode"
            )
        # One batcher per tower: images and texts queue apart, each with its own batch size.
        image_batcher, text_batcher = (
            DynamicBatcher(
                embed,
                max_batch_texts=max_batch,
                max_wait_ms=self.max_wait_ms,
                dimension=model.dimension,
                name=f"{model.name}-{kind}",
                result_type=result_type,
            )
            for embed, max_batch, kind, result_type in (
                (model.embed_pixels, self.max_batch_images, "images", ImageEmbeddings),
                (model.embed_texts, self.max_batch_texts, "texts", EmbeddingBatch),
            )
        )
        image_batcher.start()
        text_batcher.start()
        self._image[model.name] = ServedImageModel(model, image_batcher, text_batcher, self._decoder)
        log.info(
            "model loaded",
            extra={"fields": {"model": model.name, "kind": "clip", "device": model.device, "source": model.source}},
        )

    async def close(self) -> None:
        for served in self._text.values():
            await served.batcher.close()
            served.model.close()
        for image in self._image.values():
            await image.close()
        if self._decoder is not None:
            self._decoder.shutdown(wait=False)

    def _require_loaded(self) -> None:
        if not self._loaded:
            raise Unavailable("MODEL_LOADING", "The embedder is still loading its models.", domain=DOMAIN)

    def text_model(self, name: str) -> ServedTextModel | ServedImageModel:
        """The model for EmbedTexts: a text model, or a CLIP model's text tower by its name.

        An empty name selects the first text model (the first CLIP model when no text model is served).
        """
        self._require_loaded()
        if not name:
            served = next(iter(self._text.values()), None) or next(iter(self._image.values()), None)
            if served is None:
                raise FailedPrecondition("NO_MODELS", "The embedder serves no model.", domain=DOMAIN)
            return served
        served = self._text.get(name) or self._image.get(name)
        if served is None:
            raise NotFound(
                "MODEL_NOT_FOUND",
                f"No text model named {name!r} is served here.",
                domain=DOMAIN,
                metadata={"available": ",".join([*self._text, *self._image])},
            )
        return served

    def check_image_models(self) -> None:
        """Raises unless an image model is loaded: MODEL_LOADING, or IMAGE_MODEL_UNAVAILABLE with how to get one."""
        self._require_loaded()
        if not self._image:
            raise FailedPrecondition(
                "IMAGE_MODEL_UNAVAILABLE",
                f"This embedder serves no image model, so it cannot embed images. {EXPORT_HINT}",
                domain=DOMAIN,
                metadata={"models_dir": str(self.models_dir)},
            )

    def image_model(self, name: str) -> ServedImageModel:
        """The image model called `name`; an empty name selects the first one."""
        self.check_image_models()
        if not name:
            return next(iter(self._image.values()))
        try:
            return self._image[name]
        except KeyError:
            what = "a text model, which embeds no images" if name in self._text else "not served here"
            raise NotFound(
                "MODEL_NOT_FOUND",
                f"No image model named {name!r}: it is {what}.",
                domain=DOMAIN,
                metadata={"available": ",".join(self._image)},
            ) from None

    def describe(self) -> list[ModelInfo]:
        self._require_loaded()
        return [
            *(
                ModelInfo(
                    name=s.model.name,
                    dimension=s.model.dimension,
                    modality="text",
                    device=device_label(s.model),
                    max_tokens=s.model.max_tokens,
                    input_modalities=("text",),
                    source=_text_source(s.model),
                )
                for s in self._text.values()
            ),
            *(
                ModelInfo(
                    name=s.model.name,
                    dimension=s.model.dimension,
                    modality="image",
                    device=s.model.device,
                    max_tokens=s.model.max_text_tokens,
                    input_modalities=("text", "image"),
                    source=s.model.source,
                )
                for s in self._image.values()
            ),
        ]
