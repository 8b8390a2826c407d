"""The image analyzer's ports over the mesh: stored images and look-alikes (search), OCR, the image model."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence

import grpc

from mivaa.embedder.v1 import embedder_service_pb2, embedder_service_pb2_grpc
from mivaa.ocr.v1 import ocr_service_pb2, ocr_service_pb2_grpc
from mivaa.search.v1 import search_service_pb2, search_service_pb2_grpc
from mivaa_extractor.images.analysis import Placement, RecognizedText, SimilarImage, StoredImage
from mivaa_platform.embedder_client import ImageEmbedderClient
from mivaa_platform.errors import InvalidArgument
from mivaa_platform.grpc_errors import from_rpc_error
from mivaa_platform.tenancy import tenant_metadata

MODEL_LOOKUP_SECONDS = 60.0
# Label prompts' vectors kept per model: the default labels are the same on every call.
PROMPT_CACHE_ENTRIES = 2048


class SearchImageStore:
    """Stored images through SearchService, as the caller's tenant (another tenant's image is NOT_FOUND)."""

    def __init__(self, channel: grpc.aio.Channel, *, max_bytes: int):
        self._stub = search_service_pb2_grpc.SearchServiceStub(channel)
        self._max_bytes = max_bytes

    async def fetch(self, name: str, *, tenant: str) -> StoredImage:
        metadata = tenant_metadata(tenant)
        try:
            image = (
                await self._stub.GetImage(search_service_pb2.GetImageRequest(name=name), metadata=metadata, timeout=30)
            ).image
            if image.size_bytes > self._max_bytes:
                raise InvalidArgument(
                    "IMAGE_TOO_LARGE",
                    f"The image is larger than {self._max_bytes} bytes.",
                    domain="images.mivaa",
                    metadata={"limit": str(self._max_bytes)},
                )
            pieces = []
            request = search_service_pb2.GetImageContentRequest(name=name)
            async for piece in self._stub.GetImageContent(request, metadata=metadata, timeout=60):
                pieces.append(piece.data)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        placements = tuple(
            Placement(p.page, abs(p.bbox.x1 - p.bbox.x0), abs(p.bbox.y1 - p.bbox.y0)) for p in image.placements
        )
        return StoredImage(name=image.name, data=b"".join(pieces), placements=placements)

    async def similar(self, data: bytes, *, tenant: str, limit: int) -> list[SimilarImage]:
        request = search_service_pb2.SearchImagesRequest(image=data, top_k=min(limit, 100))
        try:
            response = await self._stub.SearchImages(request, metadata=tenant_metadata(tenant), timeout=60)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "search") from exc
        return [
            SimilarImage(
                image=hit.image.name,
                document=hit.document,
                document_title=hit.document_title,
                score=hit.score,
                pages=tuple(sorted({p.page for p in hit.image.placements})),
            )
            for hit in response.hits
        ]


class OcrTextRecognizer:
    """Text in one picture through OcrService.RecognizeText."""

    def __init__(self, channel: grpc.aio.Channel, *, engine: str = "", languages: tuple[str, ...] = ()):
        self._stub = ocr_service_pb2_grpc.OcrServiceStub(channel)
        self._options = ocr_service_pb2.OcrOptions(engine=engine, languages=list(languages), correct_orientation=True)

    async def recognize(self, image: bytes, *, dpi: int) -> RecognizedText:
        request = ocr_service_pb2.RecognizeTextRequest(
            page=ocr_service_pb2.PageImage(page_id="image", image=image, dpi=dpi), options=self._options
        )
        try:
            result = (await self._stub.RecognizeText(request, timeout=120)).result
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc, "ocr") from exc
        return RecognizedText(text=result.text, confidence=result.confidence, engine=result.engine)


class EmbedderImageModel:
    """The embedder's image model: vectors of a picture and of label prompts, and where its weights came from."""

    def __init__(self, channel: grpc.aio.Channel, model: str = ""):
        self._client = ImageEmbedderClient(channel, model)
        self._stub = embedder_service_pb2_grpc.EmbedderServiceStub(channel)
        self._described: tuple[str, str] = ("", "")
        self._described_at = -MODEL_LOOKUP_SECONDS
        self._prompts: OrderedDict[tuple[str, str], list[float]] = OrderedDict()

    async def describe(self) -> tuple[str, str]:
        name = await self._client.resolve_model()
        now = time.monotonic()
        if self._described[0] != name or now - self._described_at >= MODEL_LOOKUP_SECONDS:
            try:
                models = (await self._stub.ListModels(embedder_service_pb2.ListModelsRequest(), timeout=30)).models
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(exc, "embedder") from exc
            source = next((m.source for m in models if m.name == name), "")
            self._described, self._described_at = (name, source), now
        return self._described

    async def embed_image(self, image: bytes) -> list[float]:
        _, vectors = await self._client.embed_images([image], skip_unreadable=False)
        return vectors[0]

    async def embed_texts(self, texts: Sequence[str]) -> list[list[float]]:
        model = await self._client.resolve_model()
        missing = list(dict.fromkeys(t for t in texts if (model, t) not in self._prompts))
        if missing:
            used, vectors = await self._client.embed_texts(missing)
            if used != model:  # the served model changed between the two look-ups: keep nothing
                return (await self._client.embed_texts(texts))[1]
            for text, vector in zip(missing, vectors, strict=True):
                self._prompts[(model, text)] = vector
        found = []
        for text in texts:
            self._prompts.move_to_end((model, text))
            found.append(self._prompts[(model, text)])
        while len(self._prompts) > PROMPT_CACHE_ENTRIES:
            self._prompts.popitem(last=False)
        return found
