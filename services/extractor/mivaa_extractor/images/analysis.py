"""ImageAnalyzer: one picture's properties, colours, text, tags and look-alikes, through injected ports."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from mivaa_platform.errors import InvalidArgument, MivaaError

from .pictures import DOMAIN, AnalysisLimits, Color, Picture, Properties, dominant_colors, placed_dpi, read_picture
from .tags import Tag, check_labels, prompts, score_tags

MAX_COLORS = 16
MAX_TAGS = 64
MAX_SIMILAR = 50
DEFAULT_THRESHOLD = 0.9


class Kind(enum.Enum):
    PROPERTIES = "properties"
    COLORS = "colors"
    TEXT = "text"
    TAGS = "tags"
    SIMILAR = "similar"


@dataclass(frozen=True)
class Placement:
    page: int
    width_points: float
    height_points: float


@dataclass(frozen=True)
class StoredImage:
    name: str
    data: bytes
    placements: tuple[Placement, ...]


@dataclass(frozen=True)
class RecognizedText:
    text: str
    confidence: float
    engine: str


@dataclass(frozen=True)
class SimilarImage:
    image: str
    document: str
    document_title: str
    score: float
    pages: tuple[int, ...]


class ImageStore(Protocol):
    async def fetch(self, name: str, *, tenant: str) -> StoredImage: ...

    async def similar(self, data: bytes, *, tenant: str, limit: int) -> list[SimilarImage]: ...


class TextRecognizer(Protocol):
    async def recognize(self, image: bytes, *, dpi: int) -> RecognizedText: ...


class ImageModel(Protocol):
    async def describe(self) -> tuple[str, str]:
        """(model name, where its weights came from)."""
        ...

    async def embed_image(self, image: bytes) -> list[float]: ...

    async def embed_texts(self, texts: Sequence[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class Options:
    kinds: frozenset[Kind] = frozenset(Kind)
    labels: tuple[str, ...] = ()
    max_tags: int = 5
    max_colors: int = 5
    threshold: float = DEFAULT_THRESHOLD
    similar_limit: int = 10


@dataclass(frozen=True)
class PlacedResolution:
    placement: Placement
    dpi: tuple[float, float]


@dataclass(frozen=True)
class Failure:
    kind: Kind
    reason: str
    message: str


@dataclass
class Analysis:
    image: str
    properties: Properties | None = None
    placements: list[PlacedResolution] = field(default_factory=list)
    colors: list[Color] = field(default_factory=list)
    text: RecognizedText | None = None
    tags: list[Tag] = field(default_factory=list)
    similar: list[SimilarImage] = field(default_factory=list)
    model: str = ""
    model_source: str = ""
    failures: list[Failure] = field(default_factory=list)


def check_options(
    *, kinds: Sequence[Kind], labels: Sequence[str], max_tags: int, max_colors: int, threshold: float, limit: int
) -> Options:
    """Options from what a caller sent (0 means the default), or INVALID_ARGUMENT OPTIONS_INVALID."""

    def bounded(value: int, default: int, maximum: int, what: str) -> int:
        if value < 0 or value > maximum:
            raise InvalidArgument("OPTIONS_INVALID", f"{what} is 0 to {maximum}.", domain=DOMAIN)
        return value or default

    if not 0.0 <= threshold <= 1.0:
        raise InvalidArgument("OPTIONS_INVALID", "similarity_threshold is in [0, 1].", domain=DOMAIN)
    return Options(
        kinds=frozenset(kinds) or frozenset(Kind),
        labels=check_labels(labels),
        max_tags=bounded(max_tags, 5, MAX_TAGS, "max_tags"),
        max_colors=bounded(max_colors, 5, MAX_COLORS, "max_colors"),
        threshold=threshold or DEFAULT_THRESHOLD,
        similar_limit=bounded(limit, 10, MAX_SIMILAR, "similar_limit"),
    )


class ImageAnalyzer:
    """Decoding and colours run in a thread; text, tags and look-alikes call the OCR service,
    the image model and search. One of those failing (no OCR service, no image model) is
    recorded as that analysis's failure; the others are still answered."""

    def __init__(
        self,
        store: ImageStore,
        model: ImageModel,
        recognizer: TextRecognizer | None,
        *,
        limits: AnalysisLimits,
        default_labels: Sequence[str],
    ):
        self._store = store
        self._model = model
        self._recognizer = recognizer
        self._limits = limits
        self._default_labels = check_labels(default_labels)

    async def analyze_stored(self, name: str, options: Options, *, tenant: str) -> Analysis:
        stored = await self._store.fetch(name, tenant=tenant)
        return await self._analyze(stored.data, stored.name, stored.placements, options, tenant=tenant)

    async def analyze_content(self, data: bytes, options: Options, *, tenant: str) -> Analysis:
        return await self._analyze(data, "", (), options, tenant=tenant)

    async def _analyze(
        self, data: bytes, name: str, placements: Sequence[Placement], options: Options, *, tenant: str
    ) -> Analysis:
        picture = await asyncio.to_thread(read_picture, data, self._limits)
        analysis = Analysis(image=name)
        if Kind.PROPERTIES in options.kinds:
            analysis.properties = picture.properties
            width, height = picture.properties.width, picture.properties.height
            analysis.placements = [
                PlacedResolution(p, placed_dpi(width, height, p.width_points, p.height_points)) for p in placements
            ]
        if Kind.COLORS in options.kinds:
            analysis.colors = await asyncio.to_thread(dominant_colors, picture, options.max_colors)
        if Kind.TEXT in options.kinds:
            await self._guard(analysis, Kind.TEXT, self._text(analysis, data, picture, placements))
        if Kind.TAGS in options.kinds:
            await self._guard(analysis, Kind.TAGS, self._tags(analysis, data, options))
        if Kind.SIMILAR in options.kinds:
            await self._guard(analysis, Kind.SIMILAR, self._similar(analysis, data, options, tenant=tenant))
        return analysis

    @staticmethod
    async def _guard(analysis: Analysis, kind: Kind, work) -> None:
        try:
            await work
        except MivaaError as error:
            analysis.failures.append(Failure(kind, error.reason, error.message))

    async def _text(self, analysis: Analysis, data: bytes, picture: Picture, placements: Sequence[Placement]) -> None:
        if self._recognizer is None:
            raise MivaaError("OCR_UNAVAILABLE", "No OCR service is configured.", domain=DOMAIN)
        png = picture.png  # PNG, JPEG and TIFF as sent; GIF and BMP as PNG (what OCR reads)
        dpis = [max(r.dpi) for r in analysis.placements] or [max(picture.properties.file_dpi)]
        analysis.text = await self._recognizer.recognize(png, dpi=int(max(dpis)))

    async def _tags(self, analysis: Analysis, data: bytes, options: Options) -> None:
        labels = options.labels or self._default_labels
        analysis.model, analysis.model_source = await self._model.describe()
        image_vector = await self._model.embed_image(data)
        label_vectors = await self._model.embed_texts(prompts(labels))
        analysis.tags = score_tags(image_vector, label_vectors, labels, options.max_tags)

    async def _similar(self, analysis: Analysis, data: bytes, options: Options, *, tenant: str) -> None:
        # One more than asked: a stored image finds itself first.
        hits = await self._store.similar(data, tenant=tenant, limit=options.similar_limit + 1)
        if not analysis.model:
            analysis.model, analysis.model_source = await self._model.describe()
        close = [h for h in hits if h.score >= options.threshold and h.image != analysis.image]
        analysis.similar = close[: options.similar_limit]
