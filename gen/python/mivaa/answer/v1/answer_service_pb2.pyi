from mivaa.search.v1 import search_service_pb2 as _search_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Generator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GENERATOR_UNSPECIFIED: _ClassVar[Generator]
    GENERATOR_EXTRACTIVE: _ClassVar[Generator]
    GENERATOR_LLM: _ClassVar[Generator]
GENERATOR_UNSPECIFIED: Generator
GENERATOR_EXTRACTIVE: Generator
GENERATOR_LLM: Generator

class AskRequest(_message.Message):
    __slots__ = ("question", "conversation", "documents", "labels", "source_count", "generator")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    question: str
    conversation: str
    documents: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.RepeatedScalarFieldContainer[str]
    source_count: int
    generator: Generator
    def __init__(self, question: _Optional[str] = ..., conversation: _Optional[str] = ..., documents: _Optional[_Iterable[str]] = ..., labels: _Optional[_Iterable[str]] = ..., source_count: _Optional[int] = ..., generator: _Optional[_Union[Generator, str]] = ...) -> None: ...

class Source(_message.Message):
    __slots__ = ("number", "document", "document_title", "chunk_index", "page_start", "page_end", "text", "score")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_TITLE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    PAGE_START_FIELD_NUMBER: _ClassVar[int]
    PAGE_END_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    number: int
    document: str
    document_title: str
    chunk_index: int
    page_start: int
    page_end: int
    text: str
    score: float
    def __init__(self, number: _Optional[int] = ..., document: _Optional[str] = ..., document_title: _Optional[str] = ..., chunk_index: _Optional[int] = ..., page_start: _Optional[int] = ..., page_end: _Optional[int] = ..., text: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class Sources(_message.Message):
    __slots__ = ("sources",)
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedCompositeFieldContainer[Source]
    def __init__(self, sources: _Optional[_Iterable[_Union[Source, _Mapping]]] = ...) -> None: ...

class AnswerDelta(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class Citation(_message.Message):
    __slots__ = ("answer_start", "answer_end", "source", "document", "page", "bbox", "quote")
    ANSWER_START_FIELD_NUMBER: _ClassVar[int]
    ANSWER_END_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    BBOX_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    answer_start: int
    answer_end: int
    source: int
    document: str
    page: int
    bbox: _search_service_pb2.BoundingBox
    quote: str
    def __init__(self, answer_start: _Optional[int] = ..., answer_end: _Optional[int] = ..., source: _Optional[int] = ..., document: _Optional[str] = ..., page: _Optional[int] = ..., bbox: _Optional[_Union[_search_service_pb2.BoundingBox, _Mapping]] = ..., quote: _Optional[str] = ...) -> None: ...

class Citations(_message.Message):
    __slots__ = ("citations",)
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    citations: _containers.RepeatedCompositeFieldContainer[Citation]
    def __init__(self, citations: _Optional[_Iterable[_Union[Citation, _Mapping]]] = ...) -> None: ...

class AnswerDone(_message.Message):
    __slots__ = ("conversation", "found", "generator", "standalone_question")
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    STANDALONE_QUESTION_FIELD_NUMBER: _ClassVar[int]
    conversation: str
    found: bool
    generator: str
    standalone_question: str
    def __init__(self, conversation: _Optional[str] = ..., found: _Optional[bool] = ..., generator: _Optional[str] = ..., standalone_question: _Optional[str] = ...) -> None: ...

class AskResponse(_message.Message):
    __slots__ = ("sources", "delta", "citations", "done")
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    sources: Sources
    delta: AnswerDelta
    citations: Citations
    done: AnswerDone
    def __init__(self, sources: _Optional[_Union[Sources, _Mapping]] = ..., delta: _Optional[_Union[AnswerDelta, _Mapping]] = ..., citations: _Optional[_Union[Citations, _Mapping]] = ..., done: _Optional[_Union[AnswerDone, _Mapping]] = ...) -> None: ...

class SummarizeDocumentRequest(_message.Message):
    __slots__ = ("name", "generator")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    generator: Generator
    def __init__(self, name: _Optional[str] = ..., generator: _Optional[_Union[Generator, str]] = ...) -> None: ...

class SummarizeDocumentResponse(_message.Message):
    __slots__ = ("summary", "pages", "generator", "cached")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    summary: str
    pages: _containers.RepeatedScalarFieldContainer[int]
    generator: str
    cached: bool
    def __init__(self, summary: _Optional[str] = ..., pages: _Optional[_Iterable[int]] = ..., generator: _Optional[str] = ..., cached: _Optional[bool] = ...) -> None: ...
