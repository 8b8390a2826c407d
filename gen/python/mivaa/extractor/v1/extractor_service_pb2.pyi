import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mivaa.jobs.v1 import job_pb2 as _job_pb2
from mivaa.jobs.v1 import processing_options_pb2 as _processing_options_pb2
from mivaa.search.v1 import search_service_pb2 as _search_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ThumbnailSize(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    THUMBNAIL_SIZE_UNSPECIFIED: _ClassVar[ThumbnailSize]
    THUMBNAIL_SIZE_SMALL: _ClassVar[ThumbnailSize]
    THUMBNAIL_SIZE_MEDIUM: _ClassVar[ThumbnailSize]
    THUMBNAIL_SIZE_LARGE: _ClassVar[ThumbnailSize]
THUMBNAIL_SIZE_UNSPECIFIED: ThumbnailSize
THUMBNAIL_SIZE_SMALL: ThumbnailSize
THUMBNAIL_SIZE_MEDIUM: ThumbnailSize
THUMBNAIL_SIZE_LARGE: ThumbnailSize

class UploadMetadata(_message.Message):
    __slots__ = ("filename", "title", "labels", "password", "batch", "options", "parent", "replace_by_filename")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    REPLACE_BY_FILENAME_FIELD_NUMBER: _ClassVar[int]
    filename: str
    title: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    password: str
    batch: str
    options: _processing_options_pb2.ProcessingOptions
    parent: str
    replace_by_filename: bool
    def __init__(self, filename: _Optional[str] = ..., title: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., password: _Optional[str] = ..., batch: _Optional[str] = ..., options: _Optional[_Union[_processing_options_pb2.ProcessingOptions, _Mapping]] = ..., parent: _Optional[str] = ..., replace_by_filename: _Optional[bool] = ...) -> None: ...

class UploadDocumentRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: UploadMetadata
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[UploadMetadata, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadDocumentResponse(_message.Message):
    __slots__ = ("document", "job", "created")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    document: _search_service_pb2.Document
    job: _job_pb2.Job
    created: bool
    def __init__(self, document: _Optional[_Union[_search_service_pb2.Document, _Mapping]] = ..., job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class ImportDocumentRequest(_message.Message):
    __slots__ = ("uri", "filename", "title", "labels", "password", "batch", "options", "parent", "replace_by_filename")
    URI_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    REPLACE_BY_FILENAME_FIELD_NUMBER: _ClassVar[int]
    uri: str
    filename: str
    title: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    password: str
    batch: str
    options: _processing_options_pb2.ProcessingOptions
    parent: str
    replace_by_filename: bool
    def __init__(self, uri: _Optional[str] = ..., filename: _Optional[str] = ..., title: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., password: _Optional[str] = ..., batch: _Optional[str] = ..., options: _Optional[_Union[_processing_options_pb2.ProcessingOptions, _Mapping]] = ..., parent: _Optional[str] = ..., replace_by_filename: _Optional[bool] = ...) -> None: ...

class ImportDocumentResponse(_message.Message):
    __slots__ = ("document", "job", "created")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    document: _search_service_pb2.Document
    job: _job_pb2.Job
    created: bool
    def __init__(self, document: _Optional[_Union[_search_service_pb2.Document, _Mapping]] = ..., job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class ReprocessDocumentRequest(_message.Message):
    __slots__ = ("name", "options", "password")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    name: str
    options: _processing_options_pb2.ProcessingOptions
    password: str
    def __init__(self, name: _Optional[str] = ..., options: _Optional[_Union[_processing_options_pb2.ProcessingOptions, _Mapping]] = ..., password: _Optional[str] = ...) -> None: ...

class ReprocessDocumentResponse(_message.Message):
    __slots__ = ("document", "job")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    document: _search_service_pb2.Document
    job: _job_pb2.Job
    def __init__(self, document: _Optional[_Union[_search_service_pb2.Document, _Mapping]] = ..., job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "states", "labels", "create_time_after", "create_time_before", "batch")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_BEFORE_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    states: _containers.RepeatedScalarFieldContainer[_job_pb2.JobState]
    labels: _containers.RepeatedScalarFieldContainer[str]
    create_time_after: _timestamp_pb2.Timestamp
    create_time_before: _timestamp_pb2.Timestamp
    batch: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., states: _Optional[_Iterable[_Union[_job_pb2.JobState, str]]] = ..., labels: _Optional[_Iterable[str]] = ..., create_time_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., batch: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[_job_pb2.Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[_job_pb2.Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class WatchJobResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _job_pb2.JobEvent
    def __init__(self, event: _Optional[_Union[_job_pb2.JobEvent, _Mapping]] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class RenderPageRequest(_message.Message):
    __slots__ = ("name", "page", "max_width", "max_height", "password")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    MAX_WIDTH_FIELD_NUMBER: _ClassVar[int]
    MAX_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    name: str
    page: int
    max_width: int
    max_height: int
    password: str
    def __init__(self, name: _Optional[str] = ..., page: _Optional[int] = ..., max_width: _Optional[int] = ..., max_height: _Optional[int] = ..., password: _Optional[str] = ...) -> None: ...

class RenderThumbnailRequest(_message.Message):
    __slots__ = ("name", "size", "password")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    name: str
    size: ThumbnailSize
    password: str
    def __init__(self, name: _Optional[str] = ..., size: _Optional[_Union[ThumbnailSize, str]] = ..., password: _Optional[str] = ...) -> None: ...

class RenderThumbnailResponse(_message.Message):
    __slots__ = ("png", "width", "height")
    PNG_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    png: bytes
    width: int
    height: int
    def __init__(self, png: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class RenderPageResponse(_message.Message):
    __slots__ = ("png", "width", "height", "page_width", "page_height", "page_count")
    PNG_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PAGE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    PAGE_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    png: bytes
    width: int
    height: int
    page_width: float
    page_height: float
    page_count: int
    def __init__(self, png: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., page_width: _Optional[float] = ..., page_height: _Optional[float] = ..., page_count: _Optional[int] = ...) -> None: ...

class CreateBatchRequest(_message.Message):
    __slots__ = ("display_name", "labels", "expected_documents", "options")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    expected_documents: int
    options: _processing_options_pb2.ProcessingOptions
    def __init__(self, display_name: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., expected_documents: _Optional[int] = ..., options: _Optional[_Union[_processing_options_pb2.ProcessingOptions, _Mapping]] = ...) -> None: ...

class CreateBatchResponse(_message.Message):
    __slots__ = ("batch",)
    BATCH_FIELD_NUMBER: _ClassVar[int]
    batch: _job_pb2.Batch
    def __init__(self, batch: _Optional[_Union[_job_pb2.Batch, _Mapping]] = ...) -> None: ...

class GetBatchRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetBatchResponse(_message.Message):
    __slots__ = ("batch",)
    BATCH_FIELD_NUMBER: _ClassVar[int]
    batch: _job_pb2.Batch
    def __init__(self, batch: _Optional[_Union[_job_pb2.Batch, _Mapping]] = ...) -> None: ...

class ListBatchesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBatchesResponse(_message.Message):
    __slots__ = ("batches", "next_page_token")
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    batches: _containers.RepeatedCompositeFieldContainer[_job_pb2.Batch]
    next_page_token: str
    def __init__(self, batches: _Optional[_Iterable[_Union[_job_pb2.Batch, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchBatchRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class WatchBatchResponse(_message.Message):
    __slots__ = ("batch",)
    BATCH_FIELD_NUMBER: _ClassVar[int]
    batch: _job_pb2.Batch
    def __init__(self, batch: _Optional[_Union[_job_pb2.Batch, _Mapping]] = ...) -> None: ...
