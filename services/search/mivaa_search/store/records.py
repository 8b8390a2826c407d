"""What the store keeps and returns: plain records, no protos, no SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DOMAIN = "search.mivaa"  # ErrorInfo domain, as in mivaa_search.servicer
DOCUMENT_STATES = ("PENDING", "PROCESSING", "READY", "FAILED")
TEXT_SOURCES = ("TEXT_LAYER", "OCR")
# A vector as callers hand it in: float32 numpy as read from an upsert, or any float sequence.
Vector = Sequence[float] | np.ndarray
ENTITY_TYPES = ("PERSON", "ORGANIZATION", "PLACE", "DATE", "AMOUNT")
DEFAULT_TOP_K = 10
MAX_TOP_K = 100
# A hit names its document's title cut to this many characters: up to MAX_TOP_K hits of a
# document with a huge title must not repeat it each time (GetDocument has the whole title).
MAX_HIT_TITLE_CHARS = 256
MAX_DIMENSION = 2000  # the most dimensions an HNSW index on `vector` takes

# JSON-shaped data (what a JSONB column holds): the document's metadata and outline as the
# extractor described them, in the protobuf JSON mapping, so the store needs no protos.
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class NewDocument:
    """What CreateDocument gives: a PENDING document's catalog fields."""

    filename: str
    title: str
    labels: Sequence[str]
    sha256: str
    size_bytes: int
    page_count: int
    job: str
    # What the original is (application/pdf, image/png, image/jpeg, image/tiff).
    media_type: str = "application/pdf"
    # How it is processed (ProcessingOptions in the protobuf JSON mapping); None: the defaults.
    processing_options: JsonObject | None = None
    # Versions (store.versions): the id of a document of the same tenant whose chain this becomes
    # the next version of ("" for none); or, with replace_by_filename, the chain of the tenant's
    # newest document with this filename (a first version when there is none).
    parent: str = ""
    replace_by_filename: bool = False


@dataclass(frozen=True)
class DocumentRecord:
    id: str
    tenant: str  # who owns it; every read and change is scoped to one tenant
    filename: str
    title: str
    labels: list[str]
    sha256: str
    size_bytes: int
    page_count: int
    state: str  # one of DOCUMENT_STATES
    job: str
    chunk_count: int
    create_time: dt.datetime
    update_time: dt.datetime
    metadata: JsonObject | None = None
    outline: list[JsonObject] | None = None
    image_count: int = 0
    custom_metadata: dict[str, str] = field(default_factory=dict)  # the owner's key/value pairs
    media_type: str = "application/pdf"
    processing_options: JsonObject | None = None
    # Its place in its version chain: 1 for a first version; `chain` is the first version's id.
    version: int = 1
    chain: str = ""
    # How many versions its chain holds (reads only; 1 where a write returned the row).
    version_count: int = 1


@dataclass(frozen=True)
class DocumentContent:
    """Everything UpsertChunks replaces at once: chunks, pages, images, placements, metadata."""

    chunks: Sequence[ChunkRecord]
    model: str
    page_count: int
    mark_ready: bool
    pages: Sequence[tuple[int, bytes]] = ()  # (number, serialized mivaa.search.v1.Page)
    images: Sequence[ImageRecord] = ()
    placements: Sequence[PlacementRecord] = ()
    metadata: JsonObject | None = None
    outline: list[JsonObject] | None = None


@dataclass(frozen=True)
class ImageRecord:
    sha256: str
    mime_type: str
    width: int
    height: int
    data: bytes
    # The image's unit vector from `embedding_model`, when an image model was served.
    embedding: Vector = ()
    embedding_model: str = ""


@dataclass(frozen=True)
class PlacementRecord:
    sha256: str
    page: int
    bbox: tuple[float, float, float, float]
    caption: str = ""


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    mime_type: str
    width: int
    height: int
    size_bytes: int
    placements: list[PlacementRecord]
    ordinal: int = 0  # order of first appearance in the document


@dataclass(frozen=True)
class ImageHit:
    document_id: str
    document_title: str
    image: ImageInfo
    score: float  # cosine similarity


@dataclass(frozen=True, eq=False)
class ChunkRecord:
    index: int
    text: str
    page_start: int
    page_end: int
    token_count: int
    embedding: Vector
    text_source: str = "TEXT_LAYER"  # or "OCR"
    ocr_confidence: float | None = None
    section_path: Sequence[str] = ()
    block_types: Sequence[str] = ()  # lower-case block kinds: "paragraph", "table", ...
    entities: Sequence[EntityMention] = ()


@dataclass(frozen=True)
class EntityMention:
    """One mention of a named entity in a chunk: its type (ENTITY_TYPES), its text and its pages."""

    type: str
    text: str
    pages: Sequence[int]


@dataclass(frozen=True)
class EntityRef:
    """An entity a search filter names: normalized text, and a type ("" for any)."""

    normalized: str
    type: str = ""


@dataclass(frozen=True)
class ChunkRank:
    """A chunk's place in one ranking: its key and score, and its vector when a ranking needs it
    (diversity). Rankings carry only these; a page's hits are read by key (ChunkHit)."""

    document_id: str
    chunk_index: int
    score: float  # cosine similarity (1 - cosine distance) or the keyword rank, by how it was found
    embedding: Any = None  # numpy


@dataclass(frozen=True)
class ChunkHit:
    document_id: str
    document_title: str
    chunk_index: int
    text: str
    page_start: int
    page_end: int
    score: float  # cosine similarity (1 - cosine distance) or the keyword rank, by how it was found
    text_source: str = "TEXT_LAYER"
    ocr_confidence: float | None = None
    section_path: list[str] | None = None
    block_types: list[str] | None = None  # lower-case block kinds, as ChunkRecord.block_types
    language: str = ""  # the document's detected language (BCP 47 primary tag), "" when unknown
    embedding: Any = None  # the chunk's vector (numpy), when a ranking needs it (diversity)


@dataclass(frozen=True)
class DocumentFilter:
    """What ListDocuments narrows to, beyond labels: a state ("" any), a title substring
    (case-insensitive, "" any), custom metadata pairs that must all match exactly, created in
    [created_after, created_before) (None leaves that end open)."""

    state: str = ""
    title_contains: str = ""
    custom_metadata: Mapping[str, str] = field(default_factory=dict)
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    # Every version of each chain, not only its newest (store.versions).
    all_versions: bool = False

    def fingerprint_parts(self) -> list[str]:
        return [
            f"s:{self.state}",
            *(["v:all"] if self.all_versions else []),
            f"t:{self.title_contains}",
            f"c:{self.created_after.isoformat() if self.created_after else ''}"
            f"-{self.created_before.isoformat() if self.created_before else ''}",
            *(f"m:{key}={value}" for key, value in sorted(self.custom_metadata.items())),
        ]


EVERY_DOCUMENT = DocumentFilter()

# The columns ListDocuments may sort by (AIP-132 order_by); ties are broken by id in the same direction.
ORDERABLE_DOCUMENT_FIELDS = ("create_time", "update_time", "title", "page_count")
# Titles sort by their first 100 characters: an index entry of a whole title (up to 1000
# characters, 4000 bytes of UTF-8) could pass PostgreSQL's B-tree entry limit (about 2.7 KB).
TITLE_SORT_CHARS = 100


@dataclass(frozen=True)
class DocumentOrder:
    """One of ORDERABLE_DOCUMENT_FIELDS, and whether it runs high to low."""

    field: str = "create_time"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.field not in ORDERABLE_DOCUMENT_FIELDS:  # the column name goes into SQL: never anything else
            raise ValueError(f"not an orderable field: {self.field!r}")

    @property
    def text(self) -> str:
        return self.field + (" desc" if self.descending else "")

    def key(self, document: DocumentRecord) -> object:
        """The document's value in this order, as the query compares it."""
        value = getattr(document, self.field)
        return value[:TITLE_SORT_CHARS] if self.field == "title" else value


NEWEST_FIRST = DocumentOrder()


@dataclass(frozen=True)
class SearchFilter:
    """Which of a tenant's READY documents (and which of their chunks) a search looks in.

    Every field narrows: only these document ids, only documents with all these labels,
    created in [created_after, created_before), in one of these languages; only chunks that
    overlap pages [page_min, page_max] (0 leaves an end open) and hold one of these block kinds."""

    document_ids: Sequence[str] = ()
    labels: Sequence[str] = ()
    page_min: int = 0
    page_max: int = 0
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    block_types: Sequence[str] = ()  # lower-case block kinds: "table", "paragraph", ...
    languages: Sequence[str] = ()  # BCP 47 primary tags; "" matches documents of unknown language

    # Only chunks that mention every one of these entities.
    entities: Sequence[EntityRef] = ()
    # Only documents whose custom metadata holds every one of these pairs exactly.
    custom_metadata: Mapping[str, str] = field(default_factory=dict)
    # Every READY version of each chain, not only its newest READY one (store.versions).
    all_versions: bool = False

    def fingerprint_parts(self) -> list[str]:
        """Every value of the filter as text (for page tokens tied to one filter)."""
        return [
            *(["v:all"] if self.all_versions else []),
            *(f"d:{i.lower()}" for i in self.document_ids),
            *(f"l:{label}" for label in self.labels),
            f"p:{self.page_min}-{self.page_max}",
            f"t:{self.created_after.isoformat() if self.created_after else ''}"
            f"-{self.created_before.isoformat() if self.created_before else ''}",
            *(f"b:{kind}" for kind in self.block_types),
            *(f"g:{language}" for language in self.languages),
            *(f"e:{entity.type}:{entity.normalized}" for entity in self.entities),
            *(f"m:{key}={value}" for key, value in sorted(self.custom_metadata.items())),
        ]
