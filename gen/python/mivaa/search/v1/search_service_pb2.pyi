import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mivaa.jobs.v1 import processing_options_pb2 as _processing_options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DocumentView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_VIEW_UNSPECIFIED: _ClassVar[DocumentView]
    DOCUMENT_VIEW_BASIC: _ClassVar[DocumentView]
    DOCUMENT_VIEW_FULL: _ClassVar[DocumentView]

class BlockType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BLOCK_TYPE_UNSPECIFIED: _ClassVar[BlockType]
    BLOCK_TYPE_HEADING: _ClassVar[BlockType]
    BLOCK_TYPE_PARAGRAPH: _ClassVar[BlockType]
    BLOCK_TYPE_LIST_ITEM: _ClassVar[BlockType]
    BLOCK_TYPE_TABLE: _ClassVar[BlockType]
    BLOCK_TYPE_FIGURE: _ClassVar[BlockType]
    BLOCK_TYPE_CAPTION: _ClassVar[BlockType]
    BLOCK_TYPE_FOOTNOTE: _ClassVar[BlockType]
    BLOCK_TYPE_CODE: _ClassVar[BlockType]
    BLOCK_TYPE_PAGE_HEADER: _ClassVar[BlockType]
    BLOCK_TYPE_PAGE_FOOTER: _ClassVar[BlockType]
    BLOCK_TYPE_PAGE_NUMBER: _ClassVar[BlockType]

class DocumentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_STATE_UNSPECIFIED: _ClassVar[DocumentState]
    DOCUMENT_STATE_PENDING: _ClassVar[DocumentState]
    DOCUMENT_STATE_PROCESSING: _ClassVar[DocumentState]
    DOCUMENT_STATE_READY: _ClassVar[DocumentState]
    DOCUMENT_STATE_FAILED: _ClassVar[DocumentState]

class TextSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEXT_SOURCE_UNSPECIFIED: _ClassVar[TextSource]
    TEXT_SOURCE_TEXT_LAYER: _ClassVar[TextSource]
    TEXT_SOURCE_OCR: _ClassVar[TextSource]

class SearchMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEARCH_MODE_UNSPECIFIED: _ClassVar[SearchMode]
    SEARCH_MODE_HYBRID: _ClassVar[SearchMode]
    SEARCH_MODE_VECTOR: _ClassVar[SearchMode]
    SEARCH_MODE_KEYWORD: _ClassVar[SearchMode]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_MARKDOWN: _ClassVar[ExportFormat]
    EXPORT_FORMAT_JSON: _ClassVar[ExportFormat]

class EntityType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTITY_TYPE_UNSPECIFIED: _ClassVar[EntityType]
    ENTITY_TYPE_PERSON: _ClassVar[EntityType]
    ENTITY_TYPE_ORGANIZATION: _ClassVar[EntityType]
    ENTITY_TYPE_PLACE: _ClassVar[EntityType]
    ENTITY_TYPE_DATE: _ClassVar[EntityType]
    ENTITY_TYPE_AMOUNT: _ClassVar[EntityType]

class SectionChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SECTION_CHANGE_UNSPECIFIED: _ClassVar[SectionChange]
    SECTION_CHANGE_MATCHING: _ClassVar[SectionChange]
    SECTION_CHANGE_DIFFERENT: _ClassVar[SectionChange]
    SECTION_CHANGE_ONLY_IN_FIRST: _ClassVar[SectionChange]
    SECTION_CHANGE_ONLY_IN_SECOND: _ClassVar[SectionChange]
DOCUMENT_VIEW_UNSPECIFIED: DocumentView
DOCUMENT_VIEW_BASIC: DocumentView
DOCUMENT_VIEW_FULL: DocumentView
BLOCK_TYPE_UNSPECIFIED: BlockType
BLOCK_TYPE_HEADING: BlockType
BLOCK_TYPE_PARAGRAPH: BlockType
BLOCK_TYPE_LIST_ITEM: BlockType
BLOCK_TYPE_TABLE: BlockType
BLOCK_TYPE_FIGURE: BlockType
BLOCK_TYPE_CAPTION: BlockType
BLOCK_TYPE_FOOTNOTE: BlockType
BLOCK_TYPE_CODE: BlockType
BLOCK_TYPE_PAGE_HEADER: BlockType
BLOCK_TYPE_PAGE_FOOTER: BlockType
BLOCK_TYPE_PAGE_NUMBER: BlockType
DOCUMENT_STATE_UNSPECIFIED: DocumentState
DOCUMENT_STATE_PENDING: DocumentState
DOCUMENT_STATE_PROCESSING: DocumentState
DOCUMENT_STATE_READY: DocumentState
DOCUMENT_STATE_FAILED: DocumentState
TEXT_SOURCE_UNSPECIFIED: TextSource
TEXT_SOURCE_TEXT_LAYER: TextSource
TEXT_SOURCE_OCR: TextSource
SEARCH_MODE_UNSPECIFIED: SearchMode
SEARCH_MODE_HYBRID: SearchMode
SEARCH_MODE_VECTOR: SearchMode
SEARCH_MODE_KEYWORD: SearchMode
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_MARKDOWN: ExportFormat
EXPORT_FORMAT_JSON: ExportFormat
ENTITY_TYPE_UNSPECIFIED: EntityType
ENTITY_TYPE_PERSON: EntityType
ENTITY_TYPE_ORGANIZATION: EntityType
ENTITY_TYPE_PLACE: EntityType
ENTITY_TYPE_DATE: EntityType
ENTITY_TYPE_AMOUNT: EntityType
SECTION_CHANGE_UNSPECIFIED: SectionChange
SECTION_CHANGE_MATCHING: SectionChange
SECTION_CHANGE_DIFFERENT: SectionChange
SECTION_CHANGE_ONLY_IN_FIRST: SectionChange
SECTION_CHANGE_ONLY_IN_SECOND: SectionChange

class BoundingBox(_message.Message):
    __slots__ = ("x0", "y0", "x1", "y1")
    X0_FIELD_NUMBER: _ClassVar[int]
    Y0_FIELD_NUMBER: _ClassVar[int]
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    x0: float
    y0: float
    x1: float
    y1: float
    def __init__(self, x0: _Optional[float] = ..., y0: _Optional[float] = ..., x1: _Optional[float] = ..., y1: _Optional[float] = ...) -> None: ...

class Link(_message.Message):
    __slots__ = ("text", "uri", "page")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    text: str
    uri: str
    page: int
    def __init__(self, text: _Optional[str] = ..., uri: _Optional[str] = ..., page: _Optional[int] = ...) -> None: ...

class TableCell(_message.Message):
    __slots__ = ("row", "column", "row_span", "column_span", "text", "header")
    ROW_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    ROW_SPAN_FIELD_NUMBER: _ClassVar[int]
    COLUMN_SPAN_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    row: int
    column: int
    row_span: int
    column_span: int
    text: str
    header: bool
    def __init__(self, row: _Optional[int] = ..., column: _Optional[int] = ..., row_span: _Optional[int] = ..., column_span: _Optional[int] = ..., text: _Optional[str] = ..., header: _Optional[bool] = ...) -> None: ...

class Table(_message.Message):
    __slots__ = ("row_count", "column_count", "header_row_count", "cells")
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    COLUMN_COUNT_FIELD_NUMBER: _ClassVar[int]
    HEADER_ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    CELLS_FIELD_NUMBER: _ClassVar[int]
    row_count: int
    column_count: int
    header_row_count: int
    cells: _containers.RepeatedCompositeFieldContainer[TableCell]
    def __init__(self, row_count: _Optional[int] = ..., column_count: _Optional[int] = ..., header_row_count: _Optional[int] = ..., cells: _Optional[_Iterable[_Union[TableCell, _Mapping]]] = ...) -> None: ...

class Block(_message.Message):
    __slots__ = ("type", "bbox", "text", "level", "links", "table", "image")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BBOX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    type: BlockType
    bbox: BoundingBox
    text: str
    level: int
    links: _containers.RepeatedCompositeFieldContainer[Link]
    table: Table
    image: str
    def __init__(self, type: _Optional[_Union[BlockType, str]] = ..., bbox: _Optional[_Union[BoundingBox, _Mapping]] = ..., text: _Optional[str] = ..., level: _Optional[int] = ..., links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ..., table: _Optional[_Union[Table, _Mapping]] = ..., image: _Optional[str] = ...) -> None: ...

class Page(_message.Message):
    __slots__ = ("number", "width", "height", "rotation", "blocks", "markdown", "text_source", "ocr_reason", "error_reason", "error_message")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ROTATION_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    TEXT_SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    number: int
    width: float
    height: float
    rotation: int
    blocks: _containers.RepeatedCompositeFieldContainer[Block]
    markdown: str
    text_source: TextSource
    ocr_reason: str
    error_reason: str
    error_message: str
    def __init__(self, number: _Optional[int] = ..., width: _Optional[float] = ..., height: _Optional[float] = ..., rotation: _Optional[int] = ..., blocks: _Optional[_Iterable[_Union[Block, _Mapping]]] = ..., markdown: _Optional[str] = ..., text_source: _Optional[_Union[TextSource, str]] = ..., ocr_reason: _Optional[str] = ..., error_reason: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class DocumentMetadata(_message.Message):
    __slots__ = ("title", "authors", "subject", "keywords", "creator", "producer", "create_date", "modify_date", "language")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AUTHORS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    KEYWORDS_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    PRODUCER_FIELD_NUMBER: _ClassVar[int]
    CREATE_DATE_FIELD_NUMBER: _ClassVar[int]
    MODIFY_DATE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    title: str
    authors: _containers.RepeatedScalarFieldContainer[str]
    subject: str
    keywords: _containers.RepeatedScalarFieldContainer[str]
    creator: str
    producer: str
    create_date: str
    modify_date: str
    language: str
    def __init__(self, title: _Optional[str] = ..., authors: _Optional[_Iterable[str]] = ..., subject: _Optional[str] = ..., keywords: _Optional[_Iterable[str]] = ..., creator: _Optional[str] = ..., producer: _Optional[str] = ..., create_date: _Optional[str] = ..., modify_date: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class OutlineEntry(_message.Message):
    __slots__ = ("level", "title", "page")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    level: int
    title: str
    page: int
    def __init__(self, level: _Optional[int] = ..., title: _Optional[str] = ..., page: _Optional[int] = ...) -> None: ...

class ImagePlacement(_message.Message):
    __slots__ = ("page", "bbox", "caption")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    BBOX_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    page: int
    bbox: BoundingBox
    caption: str
    def __init__(self, page: _Optional[int] = ..., bbox: _Optional[_Union[BoundingBox, _Mapping]] = ..., caption: _Optional[str] = ...) -> None: ...

class Image(_message.Message):
    __slots__ = ("name", "sha256", "mime_type", "width", "height", "size_bytes", "caption", "placements")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    PLACEMENTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    sha256: str
    mime_type: str
    width: int
    height: int
    size_bytes: int
    caption: str
    placements: _containers.RepeatedCompositeFieldContainer[ImagePlacement]
    def __init__(self, name: _Optional[str] = ..., sha256: _Optional[str] = ..., mime_type: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., size_bytes: _Optional[int] = ..., caption: _Optional[str] = ..., placements: _Optional[_Iterable[_Union[ImagePlacement, _Mapping]]] = ...) -> None: ...

class ImageContent(_message.Message):
    __slots__ = ("sha256", "mime_type", "width", "height", "size_bytes", "data", "embedding", "embedding_model")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_MODEL_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    mime_type: str
    width: int
    height: int
    size_bytes: int
    data: bytes
    embedding: _containers.RepeatedScalarFieldContainer[float]
    embedding_model: str
    def __init__(self, sha256: _Optional[str] = ..., mime_type: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., size_bytes: _Optional[int] = ..., data: _Optional[bytes] = ..., embedding: _Optional[_Iterable[float]] = ..., embedding_model: _Optional[str] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ("name", "filename", "title", "labels", "sha256", "size_bytes", "page_count", "state", "job", "chunk_count", "create_time", "update_time", "metadata", "outline", "image_count", "markdown", "pages", "custom_metadata", "media_type", "processing_options", "version", "first_version", "version_count")
    class CustomMetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    PAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    OUTLINE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_METADATA_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FIRST_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSION_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    filename: str
    title: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    sha256: str
    size_bytes: int
    page_count: int
    state: DocumentState
    job: str
    chunk_count: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    metadata: DocumentMetadata
    outline: _containers.RepeatedCompositeFieldContainer[OutlineEntry]
    image_count: int
    markdown: str
    pages: _containers.RepeatedCompositeFieldContainer[Page]
    custom_metadata: _containers.ScalarMap[str, str]
    media_type: str
    processing_options: _processing_options_pb2.ProcessingOptions
    version: int
    first_version: str
    version_count: int
    def __init__(self, name: _Optional[str] = ..., filename: _Optional[str] = ..., title: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ..., page_count: _Optional[int] = ..., state: _Optional[_Union[DocumentState, str]] = ..., job: _Optional[str] = ..., chunk_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Union[DocumentMetadata, _Mapping]] = ..., outline: _Optional[_Iterable[_Union[OutlineEntry, _Mapping]]] = ..., image_count: _Optional[int] = ..., markdown: _Optional[str] = ..., pages: _Optional[_Iterable[_Union[Page, _Mapping]]] = ..., custom_metadata: _Optional[_Mapping[str, str]] = ..., media_type: _Optional[str] = ..., processing_options: _Optional[_Union[_processing_options_pb2.ProcessingOptions, _Mapping]] = ..., version: _Optional[int] = ..., first_version: _Optional[str] = ..., version_count: _Optional[int] = ...) -> None: ...

class Chunk(_message.Message):
    __slots__ = ("index", "text", "page_start", "page_end", "embedding", "token_count", "text_source", "ocr_confidence", "section_path", "block_types", "entities")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGE_START_FIELD_NUMBER: _ClassVar[int]
    PAGE_END_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    TEXT_SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCR_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SECTION_PATH_FIELD_NUMBER: _ClassVar[int]
    BLOCK_TYPES_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    index: int
    text: str
    page_start: int
    page_end: int
    embedding: _containers.RepeatedScalarFieldContainer[float]
    token_count: int
    text_source: TextSource
    ocr_confidence: float
    section_path: _containers.RepeatedScalarFieldContainer[str]
    block_types: _containers.RepeatedScalarFieldContainer[BlockType]
    entities: _containers.RepeatedCompositeFieldContainer[ChunkEntity]
    def __init__(self, index: _Optional[int] = ..., text: _Optional[str] = ..., page_start: _Optional[int] = ..., page_end: _Optional[int] = ..., embedding: _Optional[_Iterable[float]] = ..., token_count: _Optional[int] = ..., text_source: _Optional[_Union[TextSource, str]] = ..., ocr_confidence: _Optional[float] = ..., section_path: _Optional[_Iterable[str]] = ..., block_types: _Optional[_Iterable[_Union[BlockType, str]]] = ..., entities: _Optional[_Iterable[_Union[ChunkEntity, _Mapping]]] = ...) -> None: ...

class CreateDocumentRequest(_message.Message):
    __slots__ = ("document", "parent", "replace_by_filename")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    REPLACE_BY_FILENAME_FIELD_NUMBER: _ClassVar[int]
    document: Document
    parent: str
    replace_by_filename: bool
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., parent: _Optional[str] = ..., replace_by_filename: _Optional[bool] = ...) -> None: ...

class CreateDocumentResponse(_message.Message):
    __slots__ = ("document", "created")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    document: Document
    created: bool
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetDocumentRequest(_message.Message):
    __slots__ = ("name", "view")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    name: str
    view: DocumentView
    def __init__(self, name: _Optional[str] = ..., view: _Optional[_Union[DocumentView, str]] = ...) -> None: ...

class GetDocumentResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: Document
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ...) -> None: ...

class ListDocumentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "labels", "state", "title_contains", "custom_metadata", "create_time_after", "create_time_before", "order_by", "include_all_versions")
    class CustomMetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TITLE_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_BEFORE_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ALL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    state: DocumentState
    title_contains: str
    custom_metadata: _containers.ScalarMap[str, str]
    create_time_after: _timestamp_pb2.Timestamp
    create_time_before: _timestamp_pb2.Timestamp
    order_by: str
    include_all_versions: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., state: _Optional[_Union[DocumentState, str]] = ..., title_contains: _Optional[str] = ..., custom_metadata: _Optional[_Mapping[str, str]] = ..., create_time_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., order_by: _Optional[str] = ..., include_all_versions: _Optional[bool] = ...) -> None: ...

class ListDocumentsResponse(_message.Message):
    __slots__ = ("documents", "next_page_token")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[Document]
    next_page_token: str
    def __init__(self, documents: _Optional[_Iterable[_Union[Document, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateDocumentRequest(_message.Message):
    __slots__ = ("document", "update_mask")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    document: Document
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateDocumentResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: Document
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ...) -> None: ...

class DeleteDocumentRequest(_message.Message):
    __slots__ = ("name", "all_versions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    all_versions: bool
    def __init__(self, name: _Optional[str] = ..., all_versions: _Optional[bool] = ...) -> None: ...

class ListDocumentVersionsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDocumentVersionsResponse(_message.Message):
    __slots__ = ("documents", "next_page_token")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[Document]
    next_page_token: str
    def __init__(self, documents: _Optional[_Iterable[_Union[Document, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteDocumentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpsertChunksHeader(_message.Message):
    __slots__ = ("document", "model", "page_count", "mark_ready", "metadata", "outline")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MARK_READY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    OUTLINE_FIELD_NUMBER: _ClassVar[int]
    document: str
    model: str
    page_count: int
    mark_ready: bool
    metadata: DocumentMetadata
    outline: _containers.RepeatedCompositeFieldContainer[OutlineEntry]
    def __init__(self, document: _Optional[str] = ..., model: _Optional[str] = ..., page_count: _Optional[int] = ..., mark_ready: _Optional[bool] = ..., metadata: _Optional[_Union[DocumentMetadata, _Mapping]] = ..., outline: _Optional[_Iterable[_Union[OutlineEntry, _Mapping]]] = ...) -> None: ...

class UpsertChunksRequest(_message.Message):
    __slots__ = ("header", "chunk", "page", "image")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    header: UpsertChunksHeader
    chunk: Chunk
    page: Page
    image: ImageContent
    def __init__(self, header: _Optional[_Union[UpsertChunksHeader, _Mapping]] = ..., chunk: _Optional[_Union[Chunk, _Mapping]] = ..., page: _Optional[_Union[Page, _Mapping]] = ..., image: _Optional[_Union[ImageContent, _Mapping]] = ...) -> None: ...

class UpsertChunksResponse(_message.Message):
    __slots__ = ("chunks_written", "document", "pages_written", "images_written")
    CHUNKS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    PAGES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    IMAGES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    chunks_written: int
    document: Document
    pages_written: int
    images_written: int
    def __init__(self, chunks_written: _Optional[int] = ..., document: _Optional[_Union[Document, _Mapping]] = ..., pages_written: _Optional[int] = ..., images_written: _Optional[int] = ...) -> None: ...

class SearchChunksRequest(_message.Message):
    __slots__ = ("query", "top_k", "documents", "labels", "mode", "min_score", "page_min", "page_max", "create_time_after", "create_time_before", "block_types", "languages", "diversity", "page_token", "entities", "custom_metadata", "include_all_versions")
    class CustomMetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    PAGE_MIN_FIELD_NUMBER: _ClassVar[int]
    PAGE_MAX_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_BEFORE_FIELD_NUMBER: _ClassVar[int]
    BLOCK_TYPES_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    DIVERSITY_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_METADATA_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ALL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    query: str
    top_k: int
    documents: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.RepeatedScalarFieldContainer[str]
    mode: SearchMode
    min_score: float
    page_min: int
    page_max: int
    create_time_after: _timestamp_pb2.Timestamp
    create_time_before: _timestamp_pb2.Timestamp
    block_types: _containers.RepeatedScalarFieldContainer[BlockType]
    languages: _containers.RepeatedScalarFieldContainer[str]
    diversity: float
    page_token: str
    entities: _containers.RepeatedCompositeFieldContainer[EntityFilter]
    custom_metadata: _containers.ScalarMap[str, str]
    include_all_versions: bool
    def __init__(self, query: _Optional[str] = ..., top_k: _Optional[int] = ..., documents: _Optional[_Iterable[str]] = ..., labels: _Optional[_Iterable[str]] = ..., mode: _Optional[_Union[SearchMode, str]] = ..., min_score: _Optional[float] = ..., page_min: _Optional[int] = ..., page_max: _Optional[int] = ..., create_time_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., block_types: _Optional[_Iterable[_Union[BlockType, str]]] = ..., languages: _Optional[_Iterable[str]] = ..., diversity: _Optional[float] = ..., page_token: _Optional[str] = ..., entities: _Optional[_Iterable[_Union[EntityFilter, _Mapping]]] = ..., custom_metadata: _Optional[_Mapping[str, str]] = ..., include_all_versions: _Optional[bool] = ...) -> None: ...

class Highlight(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("document", "document_title", "chunk_index", "text", "page_start", "page_end", "score", "text_source", "ocr_confidence", "section_path", "highlights", "vector_score", "keyword_score", "block_types", "language")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TITLE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGE_START_FIELD_NUMBER: _ClassVar[int]
    PAGE_END_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TEXT_SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCR_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SECTION_PATH_FIELD_NUMBER: _ClassVar[int]
    HIGHLIGHTS_FIELD_NUMBER: _ClassVar[int]
    VECTOR_SCORE_FIELD_NUMBER: _ClassVar[int]
    KEYWORD_SCORE_FIELD_NUMBER: _ClassVar[int]
    BLOCK_TYPES_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    document: str
    document_title: str
    chunk_index: int
    text: str
    page_start: int
    page_end: int
    score: float
    text_source: TextSource
    ocr_confidence: float
    section_path: _containers.RepeatedScalarFieldContainer[str]
    highlights: _containers.RepeatedCompositeFieldContainer[Highlight]
    vector_score: float
    keyword_score: float
    block_types: _containers.RepeatedScalarFieldContainer[BlockType]
    language: str
    def __init__(self, document: _Optional[str] = ..., document_title: _Optional[str] = ..., chunk_index: _Optional[int] = ..., text: _Optional[str] = ..., page_start: _Optional[int] = ..., page_end: _Optional[int] = ..., score: _Optional[float] = ..., text_source: _Optional[_Union[TextSource, str]] = ..., ocr_confidence: _Optional[float] = ..., section_path: _Optional[_Iterable[str]] = ..., highlights: _Optional[_Iterable[_Union[Highlight, _Mapping]]] = ..., vector_score: _Optional[float] = ..., keyword_score: _Optional[float] = ..., block_types: _Optional[_Iterable[_Union[BlockType, str]]] = ..., language: _Optional[str] = ...) -> None: ...

class SearchChunksResponse(_message.Message):
    __slots__ = ("hits", "model", "next_page_token")
    HITS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    model: str
    next_page_token: str
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., model: _Optional[str] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListPagesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPagesResponse(_message.Message):
    __slots__ = ("pages", "next_page_token")
    PAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    pages: _containers.RepeatedCompositeFieldContainer[Page]
    next_page_token: str
    def __init__(self, pages: _Optional[_Iterable[_Union[Page, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ExportDocumentRequest(_message.Message):
    __slots__ = ("name", "format")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    name: str
    format: ExportFormat
    def __init__(self, name: _Optional[str] = ..., format: _Optional[_Union[ExportFormat, str]] = ...) -> None: ...

class ExportDocumentResponse(_message.Message):
    __slots__ = ("data", "mime_type")
    DATA_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    mime_type: str
    def __init__(self, data: _Optional[bytes] = ..., mime_type: _Optional[str] = ...) -> None: ...

class ListImagesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListImagesResponse(_message.Message):
    __slots__ = ("images", "next_page_token")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[Image]
    next_page_token: str
    def __init__(self, images: _Optional[_Iterable[_Union[Image, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetImageRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetImageResponse(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: Image
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ...) -> None: ...

class GetImageContentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetImageContentResponse(_message.Message):
    __slots__ = ("data", "mime_type")
    DATA_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    mime_type: str
    def __init__(self, data: _Optional[bytes] = ..., mime_type: _Optional[str] = ...) -> None: ...

class SearchImagesRequest(_message.Message):
    __slots__ = ("text", "image", "top_k", "documents", "labels", "include_all_versions")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ALL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    text: str
    image: bytes
    top_k: int
    documents: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.RepeatedScalarFieldContainer[str]
    include_all_versions: bool
    def __init__(self, text: _Optional[str] = ..., image: _Optional[bytes] = ..., top_k: _Optional[int] = ..., documents: _Optional[_Iterable[str]] = ..., labels: _Optional[_Iterable[str]] = ..., include_all_versions: _Optional[bool] = ...) -> None: ...

class ImageHit(_message.Message):
    __slots__ = ("image", "document", "document_title", "score")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TITLE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    image: Image
    document: str
    document_title: str
    score: float
    def __init__(self, image: _Optional[_Union[Image, _Mapping]] = ..., document: _Optional[str] = ..., document_title: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class SearchImagesResponse(_message.Message):
    __slots__ = ("hits", "model")
    HITS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[ImageHit]
    model: str
    def __init__(self, hits: _Optional[_Iterable[_Union[ImageHit, _Mapping]]] = ..., model: _Optional[str] = ...) -> None: ...

class ChunkEntity(_message.Message):
    __slots__ = ("type", "text", "pages")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    type: EntityType
    text: str
    pages: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, type: _Optional[_Union[EntityType, str]] = ..., text: _Optional[str] = ..., pages: _Optional[_Iterable[int]] = ...) -> None: ...

class EntityFilter(_message.Message):
    __slots__ = ("text", "type")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    text: str
    type: EntityType
    def __init__(self, text: _Optional[str] = ..., type: _Optional[_Union[EntityType, str]] = ...) -> None: ...

class DocumentEntity(_message.Message):
    __slots__ = ("type", "text", "normalized_text", "pages", "mention_count")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    NORMALIZED_TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    MENTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    type: EntityType
    text: str
    normalized_text: str
    pages: _containers.RepeatedScalarFieldContainer[int]
    mention_count: int
    def __init__(self, type: _Optional[_Union[EntityType, str]] = ..., text: _Optional[str] = ..., normalized_text: _Optional[str] = ..., pages: _Optional[_Iterable[int]] = ..., mention_count: _Optional[int] = ...) -> None: ...

class ListDocumentEntitiesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "types")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    types: _containers.RepeatedScalarFieldContainer[EntityType]
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., types: _Optional[_Iterable[_Union[EntityType, str]]] = ...) -> None: ...

class ListDocumentEntitiesResponse(_message.Message):
    __slots__ = ("entities", "next_page_token")
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entities: _containers.RepeatedCompositeFieldContainer[DocumentEntity]
    next_page_token: str
    def __init__(self, entities: _Optional[_Iterable[_Union[DocumentEntity, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListRelatedDocumentsRequest(_message.Message):
    __slots__ = ("name", "page_size", "page_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    page_size: int
    page_token: str
    def __init__(self, name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class RelatedDocument(_message.Message):
    __slots__ = ("document", "title", "score")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    document: str
    title: str
    score: float
    def __init__(self, document: _Optional[str] = ..., title: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class ListRelatedDocumentsResponse(_message.Message):
    __slots__ = ("documents", "next_page_token")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[RelatedDocument]
    next_page_token: str
    def __init__(self, documents: _Optional[_Iterable[_Union[RelatedDocument, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CompareDocumentsRequest(_message.Message):
    __slots__ = ("first", "second")
    FIRST_FIELD_NUMBER: _ClassVar[int]
    SECOND_FIELD_NUMBER: _ClassVar[int]
    first: str
    second: str
    def __init__(self, first: _Optional[str] = ..., second: _Optional[str] = ...) -> None: ...

class NumberChange(_message.Message):
    __slots__ = ("context", "unit", "old_value", "new_value")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    OLD_VALUE_FIELD_NUMBER: _ClassVar[int]
    NEW_VALUE_FIELD_NUMBER: _ClassVar[int]
    context: str
    unit: str
    old_value: str
    new_value: str
    def __init__(self, context: _Optional[str] = ..., unit: _Optional[str] = ..., old_value: _Optional[str] = ..., new_value: _Optional[str] = ...) -> None: ...

class SectionComparison(_message.Message):
    __slots__ = ("change", "first_heading", "second_heading", "first_page_start", "first_page_end", "second_page_start", "second_page_end", "similarity", "number_changes")
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    FIRST_HEADING_FIELD_NUMBER: _ClassVar[int]
    SECOND_HEADING_FIELD_NUMBER: _ClassVar[int]
    FIRST_PAGE_START_FIELD_NUMBER: _ClassVar[int]
    FIRST_PAGE_END_FIELD_NUMBER: _ClassVar[int]
    SECOND_PAGE_START_FIELD_NUMBER: _ClassVar[int]
    SECOND_PAGE_END_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    NUMBER_CHANGES_FIELD_NUMBER: _ClassVar[int]
    change: SectionChange
    first_heading: _containers.RepeatedScalarFieldContainer[str]
    second_heading: _containers.RepeatedScalarFieldContainer[str]
    first_page_start: int
    first_page_end: int
    second_page_start: int
    second_page_end: int
    similarity: float
    number_changes: _containers.RepeatedCompositeFieldContainer[NumberChange]
    def __init__(self, change: _Optional[_Union[SectionChange, str]] = ..., first_heading: _Optional[_Iterable[str]] = ..., second_heading: _Optional[_Iterable[str]] = ..., first_page_start: _Optional[int] = ..., first_page_end: _Optional[int] = ..., second_page_start: _Optional[int] = ..., second_page_end: _Optional[int] = ..., similarity: _Optional[float] = ..., number_changes: _Optional[_Iterable[_Union[NumberChange, _Mapping]]] = ...) -> None: ...

class CompareDocumentsResponse(_message.Message):
    __slots__ = ("sections", "matching_count", "different_count", "only_in_first_count", "only_in_second_count")
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    MATCHING_COUNT_FIELD_NUMBER: _ClassVar[int]
    DIFFERENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    ONLY_IN_FIRST_COUNT_FIELD_NUMBER: _ClassVar[int]
    ONLY_IN_SECOND_COUNT_FIELD_NUMBER: _ClassVar[int]
    sections: _containers.RepeatedCompositeFieldContainer[SectionComparison]
    matching_count: int
    different_count: int
    only_in_first_count: int
    only_in_second_count: int
    def __init__(self, sections: _Optional[_Iterable[_Union[SectionComparison, _Mapping]]] = ..., matching_count: _Optional[int] = ..., different_count: _Optional[int] = ..., only_in_first_count: _Optional[int] = ..., only_in_second_count: _Optional[int] = ...) -> None: ...

class GetTenantUsageRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetTenantUsageResponse(_message.Message):
    __slots__ = ("documents", "pages", "original_bytes", "chunks", "vectors", "images")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    documents: int
    pages: int
    original_bytes: int
    chunks: int
    vectors: int
    images: int
    def __init__(self, documents: _Optional[int] = ..., pages: _Optional[int] = ..., original_bytes: _Optional[int] = ..., chunks: _Optional[int] = ..., vectors: _Optional[int] = ..., images: _Optional[int] = ...) -> None: ...

class RetentionPolicy(_message.Message):
    __slots__ = ("name", "max_age", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    max_age: _duration_pb2.Duration
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., max_age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetRetentionPolicyRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class UpdateRetentionPolicyRequest(_message.Message):
    __slots__ = ("retention_policy",)
    RETENTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    retention_policy: RetentionPolicy
    def __init__(self, retention_policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ...) -> None: ...

class GetRetentionPolicyResponse(_message.Message):
    __slots__ = ("retention_policy",)
    RETENTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    retention_policy: RetentionPolicy
    def __init__(self, retention_policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ...) -> None: ...

class UpdateRetentionPolicyResponse(_message.Message):
    __slots__ = ("retention_policy",)
    RETENTION_POLICY_FIELD_NUMBER: _ClassVar[int]
    retention_policy: RetentionPolicy
    def __init__(self, retention_policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ...) -> None: ...

class Reembedding(_message.Message):
    __slots__ = ("name", "model", "from_model", "state", "chunks_total", "chunks_done", "error", "create_time", "update_time", "switch_time")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Reembedding.State]
        STATE_RUNNING: _ClassVar[Reembedding.State]
        STATE_SUCCEEDED: _ClassVar[Reembedding.State]
        STATE_FAILED: _ClassVar[Reembedding.State]
        STATE_CANCELLED: _ClassVar[Reembedding.State]
    STATE_UNSPECIFIED: Reembedding.State
    STATE_RUNNING: Reembedding.State
    STATE_SUCCEEDED: Reembedding.State
    STATE_FAILED: Reembedding.State
    STATE_CANCELLED: Reembedding.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    FROM_MODEL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_DONE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SWITCH_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    model: str
    from_model: str
    state: Reembedding.State
    chunks_total: int
    chunks_done: int
    error: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    switch_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., model: _Optional[str] = ..., from_model: _Optional[str] = ..., state: _Optional[_Union[Reembedding.State, str]] = ..., chunks_total: _Optional[int] = ..., chunks_done: _Optional[int] = ..., error: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., switch_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StartReembeddingRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...

class StartReembeddingResponse(_message.Message):
    __slots__ = ("reembedding",)
    REEMBEDDING_FIELD_NUMBER: _ClassVar[int]
    reembedding: Reembedding
    def __init__(self, reembedding: _Optional[_Union[Reembedding, _Mapping]] = ...) -> None: ...

class GetReembeddingRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetReembeddingResponse(_message.Message):
    __slots__ = ("reembedding", "active_model")
    REEMBEDDING_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_MODEL_FIELD_NUMBER: _ClassVar[int]
    reembedding: Reembedding
    active_model: str
    def __init__(self, reembedding: _Optional[_Union[Reembedding, _Mapping]] = ..., active_model: _Optional[str] = ...) -> None: ...

class CancelReembeddingRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CancelReembeddingResponse(_message.Message):
    __slots__ = ("reembedding",)
    REEMBEDDING_FIELD_NUMBER: _ClassVar[int]
    reembedding: Reembedding
    def __init__(self, reembedding: _Optional[_Union[Reembedding, _Mapping]] = ...) -> None: ...
