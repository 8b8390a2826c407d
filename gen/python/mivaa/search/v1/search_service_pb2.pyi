import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
DOCUMENT_STATE_UNSPECIFIED: DocumentState
DOCUMENT_STATE_PENDING: DocumentState
DOCUMENT_STATE_PROCESSING: DocumentState
DOCUMENT_STATE_READY: DocumentState
DOCUMENT_STATE_FAILED: DocumentState
TEXT_SOURCE_UNSPECIFIED: TextSource
TEXT_SOURCE_TEXT_LAYER: TextSource
TEXT_SOURCE_OCR: TextSource

class Document(_message.Message):
    __slots__ = ("name", "filename", "title", "labels", "sha256", "size_bytes", "page_count", "state", "job", "chunk_count", "create_time", "update_time")
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
    def __init__(self, name: _Optional[str] = ..., filename: _Optional[str] = ..., title: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ..., page_count: _Optional[int] = ..., state: _Optional[_Union[DocumentState, str]] = ..., job: _Optional[str] = ..., chunk_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Chunk(_message.Message):
    __slots__ = ("index", "text", "page_start", "page_end", "embedding", "token_count", "text_source", "ocr_confidence")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGE_START_FIELD_NUMBER: _ClassVar[int]
    PAGE_END_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    TEXT_SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCR_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    index: int
    text: str
    page_start: int
    page_end: int
    embedding: _containers.RepeatedScalarFieldContainer[float]
    token_count: int
    text_source: TextSource
    ocr_confidence: float
    def __init__(self, index: _Optional[int] = ..., text: _Optional[str] = ..., page_start: _Optional[int] = ..., page_end: _Optional[int] = ..., embedding: _Optional[_Iterable[float]] = ..., token_count: _Optional[int] = ..., text_source: _Optional[_Union[TextSource, str]] = ..., ocr_confidence: _Optional[float] = ...) -> None: ...

class CreateDocumentRequest(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: Document
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ...) -> None: ...

class CreateDocumentResponse(_message.Message):
    __slots__ = ("document", "created")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    document: Document
    created: bool
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetDocumentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetDocumentResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: Document
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ...) -> None: ...

class ListDocumentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "labels")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ...) -> None: ...

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
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteDocumentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpsertChunksHeader(_message.Message):
    __slots__ = ("document", "model", "page_count", "mark_ready")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MARK_READY_FIELD_NUMBER: _ClassVar[int]
    document: str
    model: str
    page_count: int
    mark_ready: bool
    def __init__(self, document: _Optional[str] = ..., model: _Optional[str] = ..., page_count: _Optional[int] = ..., mark_ready: _Optional[bool] = ...) -> None: ...

class UpsertChunksRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UpsertChunksHeader
    chunk: Chunk
    def __init__(self, header: _Optional[_Union[UpsertChunksHeader, _Mapping]] = ..., chunk: _Optional[_Union[Chunk, _Mapping]] = ...) -> None: ...

class UpsertChunksResponse(_message.Message):
    __slots__ = ("chunks_written", "document")
    CHUNKS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    chunks_written: int
    document: Document
    def __init__(self, chunks_written: _Optional[int] = ..., document: _Optional[_Union[Document, _Mapping]] = ...) -> None: ...

class SearchChunksRequest(_message.Message):
    __slots__ = ("query", "top_k", "documents", "labels")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    query: str
    top_k: int
    documents: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, query: _Optional[str] = ..., top_k: _Optional[int] = ..., documents: _Optional[_Iterable[str]] = ..., labels: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("document", "document_title", "chunk_index", "text", "page_start", "page_end", "score", "text_source", "ocr_confidence")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TITLE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGE_START_FIELD_NUMBER: _ClassVar[int]
    PAGE_END_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TEXT_SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCR_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    document: str
    document_title: str
    chunk_index: int
    text: str
    page_start: int
    page_end: int
    score: float
    text_source: TextSource
    ocr_confidence: float
    def __init__(self, document: _Optional[str] = ..., document_title: _Optional[str] = ..., chunk_index: _Optional[int] = ..., text: _Optional[str] = ..., page_start: _Optional[int] = ..., page_end: _Optional[int] = ..., score: _Optional[float] = ..., text_source: _Optional[_Union[TextSource, str]] = ..., ocr_confidence: _Optional[float] = ...) -> None: ...

class SearchChunksResponse(_message.Message):
    __slots__ = ("hits", "model")
    HITS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    model: str
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., model: _Optional[str] = ...) -> None: ...
