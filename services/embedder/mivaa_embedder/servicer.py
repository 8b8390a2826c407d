"""EmbedderService: translates between protos and the model registry, nothing more."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from mivaa.embedder.v1 import embedder_service_pb2 as pb
from mivaa.embedder.v1 import embedder_service_pb2_grpc
from mivaa_embedder.registry import ModelRegistry, ServedImageModel
from mivaa_embedder.text_model import EmbeddingBatch
from mivaa_platform.errors import InvalidArgument, MivaaError
from mivaa_platform.streams import END, read_ahead

DOMAIN = "embedder.mivaa"
MAX_TEXTS_PER_CALL = 256
MAX_TEXT_CHARS = 100_000
# One encoded image per EmbedImages message, at most this large.
MAX_IMAGE_BYTES = 32 * 1024 * 1024
# What the embedder's server accepts in one message: a full-size image plus its id and model name.
MAX_REQUEST_MESSAGE_BYTES = MAX_IMAGE_BYTES + 1024 * 1024
# Encoded bytes one EmbedImages stream may have decoding or waiting for a batch (one image always fits).
MAX_STREAM_BYTES_IN_FLIGHT = 128 * 1024 * 1024

_MODALITIES = {"text": pb.MODALITY_TEXT, "image": pb.MODALITY_IMAGE}


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
            raise InvalidArgument("TEXT_TOO_LONG", f"A text is longer than {MAX_TEXT_CHARS} characters.", domain=DOMAIN)
    return list(texts)


def _to_proto(batch: EmbeddingBatch) -> list[pb.Embedding]:
    return [
        pb.Embedding(values=vector.tolist(), token_count=tokens, truncated=truncated)
        for vector, tokens, truncated in zip(batch.vectors, batch.token_counts, batch.truncated, strict=True)
    ]


class _Window:
    """Bounds what one stream has in flight: a number of images and their encoded bytes."""

    def __init__(self, max_items: int, max_bytes: int):
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.items = 0
        self.bytes = 0
        self._changed = asyncio.Condition()

    def _fits(self, size: int) -> bool:
        return self.items == 0 or (self.items < self.max_items and self.bytes + size <= self.max_bytes)

    async def acquire(self, size: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._fits(size))
            self.items += 1
            self.bytes += size

    async def release(self, size: int) -> None:
        async with self._changed:
            self.items -= 1
            self.bytes -= size
            self._changed.notify_all()


async def _embed_one(model: ServedImageModel, image: bytes, index: int, image_id: str):
    """One image's vector; a failure names the image (metadata index and id)."""
    try:
        if len(image) > MAX_IMAGE_BYTES:
            raise InvalidArgument(
                "IMAGE_TOO_LARGE",
                f"The image is {len(image)} bytes; at most {MAX_IMAGE_BYTES} bytes per image.",
                domain=DOMAIN,
                metadata={"bytes": str(len(image)), "max_bytes": str(MAX_IMAGE_BYTES)},
            )
        return await model.embed_image(image)
    except MivaaError as error:
        metadata = {**error.metadata, "index": str(index), "id": image_id}
        raise type(error)(
            error.reason,
            f"Image {index} ({image_id or 'no id'}): {error.message}",
            domain=error.domain,
            metadata=metadata,
        ) from None


class EmbedderServicer(embedder_service_pb2_grpc.EmbedderServiceServicer):
    def __init__(self, registry: ModelRegistry):
        self._registry = registry

    async def EmbedTexts(self, request: pb.EmbedTextsRequest, context) -> pb.EmbedTextsResponse:
        texts = _check_texts(request.texts)
        model = self._registry.text_model(request.model)
        self._note_priority(request.priority)
        batch = await model.embed(texts, bulk=request.priority == pb.PRIORITY_BULK)
        return pb.EmbedTextsResponse(embeddings=_to_proto(batch), model=model.name)

    def _note_priority(self, priority: int) -> None:
        """A query someone waits on: bulk runs pace themselves for a moment (QueryPressure)."""
        if priority == pb.PRIORITY_INTERACTIVE:
            self._registry.pressure.note_query()

    async def StreamEmbedTexts(
        self, request_iterator: AsyncIterator[pb.StreamEmbedTextsRequest], context
    ) -> AsyncIterator[pb.StreamEmbedTextsResponse]:
        model, priority = None, pb.PRIORITY_UNSPECIFIED
        async for request in request_iterator:
            if model is None:
                model, priority = self._registry.text_model(request.model), request.priority
            self._note_priority(priority)
            batch = await model.embed(_check_texts(request.texts), bulk=priority == pb.PRIORITY_BULK)
            yield pb.StreamEmbedTextsResponse(embeddings=_to_proto(batch))

    async def EmbedImages(
        self, request_iterator: AsyncIterator[pb.EmbedImagesRequest], context
    ) -> AsyncIterator[pb.EmbedImagesResponse]:
        """One response per image, in order. Images are read ahead and embedded concurrently (so
        a stream's images share batches with each other and with other callers) within a window
        of 2 x EMBEDDER_MAX_BATCH_IMAGES images / 128 MiB. The first image that cannot be embedded
        ends the stream with its error (INVALID_ARGUMENT IMAGE_UNREADABLE or IMAGE_TOO_LARGE,
        metadata index and id) after the responses of every image before it."""
        self._registry.check_image_models()
        window = _Window(2 * max(1, self._registry.max_batch_images), MAX_STREAM_BYTES_IN_FLIGHT)
        pending: asyncio.Queue = asyncio.Queue()

        model: ServedImageModel | None = None
        index = 0

        async def admit(request: pb.EmbedImagesRequest) -> None:
            nonlocal model, index
            if model is None:
                model = self._registry.image_model(request.model)
            size = len(request.image)
            await window.acquire(size)
            task = asyncio.ensure_future(_embed_one(model, request.image, index, request.id))
            pending.put_nowait((request.id, size, model.name, task))
            index += 1

        reader = asyncio.ensure_future(read_ahead(request_iterator, admit, pending))
        first = True
        try:
            while True:
                item = await pending.get()
                if item is END:
                    break
                if isinstance(item, BaseException):
                    raise item
                image_id, size, model_name, task = item
                try:
                    vector = await task
                finally:
                    await window.release(size)
                yield pb.EmbedImagesResponse(
                    id=image_id, embedding=pb.Embedding(values=vector.tolist()), model=model_name if first else ""
                )
                first = False
        finally:
            reader.cancel()
            tasks = [reader]
            while not pending.empty():
                item = pending.get_nowait()
                if isinstance(item, tuple):
                    item[3].cancel()
                    tasks.append(item[3])
            with contextlib.suppress(BaseException):
                await asyncio.gather(*tasks, return_exceptions=True)

    async def ListModels(self, request: pb.ListModelsRequest, context) -> pb.ListModelsResponse:
        return pb.ListModelsResponse(
            models=[
                pb.Model(
                    name=info.name,
                    dimension=info.dimension,
                    modality=_MODALITIES[info.modality],
                    device=info.device,
                    max_tokens=info.max_tokens,
                    input_modalities=[_MODALITIES[m] for m in info.input_modalities],
                    source=info.source,
                )
                for info in self._registry.describe()
            ]
        )
