import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_PARTIALLY_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]

class JobStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STAGE_UNSPECIFIED: _ClassVar[JobStage]
    JOB_STAGE_QUEUED: _ClassVar[JobStage]
    JOB_STAGE_EXTRACTING: _ClassVar[JobStage]
    JOB_STAGE_EMBEDDING: _ClassVar[JobStage]
    JOB_STAGE_INDEXING: _ClassVar[JobStage]
    JOB_STAGE_DONE: _ClassVar[JobStage]
    JOB_STAGE_OCR: _ClassVar[JobStage]
    JOB_STAGE_ENTITIES: _ClassVar[JobStage]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_PARTIALLY_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState
JOB_STAGE_UNSPECIFIED: JobStage
JOB_STAGE_QUEUED: JobStage
JOB_STAGE_EXTRACTING: JobStage
JOB_STAGE_EMBEDDING: JobStage
JOB_STAGE_INDEXING: JobStage
JOB_STAGE_DONE: JobStage
JOB_STAGE_OCR: JobStage
JOB_STAGE_ENTITIES: JobStage

class JobError(_message.Message):
    __slots__ = ("reason", "message", "page")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    reason: str
    message: str
    page: int
    def __init__(self, reason: _Optional[str] = ..., message: _Optional[str] = ..., page: _Optional[int] = ...) -> None: ...

class StageTiming(_message.Message):
    __slots__ = ("stage", "seconds")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    stage: JobStage
    seconds: float
    def __init__(self, stage: _Optional[_Union[JobStage, str]] = ..., seconds: _Optional[float] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("name", "document", "state", "stage", "pages_done", "pages_total", "chunks_indexed", "error", "page_errors", "stage_timings", "attempts", "create_time", "update_time", "filename", "ocr_pages_total", "ocr_pages_done", "images_extracted", "tenant", "entities_found", "labels", "retry_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PAGES_DONE_FIELD_NUMBER: _ClassVar[int]
    PAGES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_INDEXED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PAGE_ERRORS_FIELD_NUMBER: _ClassVar[int]
    STAGE_TIMINGS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    OCR_PAGES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    OCR_PAGES_DONE_FIELD_NUMBER: _ClassVar[int]
    IMAGES_EXTRACTED_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FOUND_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    document: str
    state: JobState
    stage: JobStage
    pages_done: int
    pages_total: int
    chunks_indexed: int
    error: JobError
    page_errors: _containers.RepeatedCompositeFieldContainer[JobError]
    stage_timings: _containers.RepeatedCompositeFieldContainer[StageTiming]
    attempts: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    filename: str
    ocr_pages_total: int
    ocr_pages_done: int
    images_extracted: int
    tenant: str
    entities_found: int
    labels: _containers.RepeatedScalarFieldContainer[str]
    retry_count: int
    def __init__(self, name: _Optional[str] = ..., document: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., stage: _Optional[_Union[JobStage, str]] = ..., pages_done: _Optional[int] = ..., pages_total: _Optional[int] = ..., chunks_indexed: _Optional[int] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., page_errors: _Optional[_Iterable[_Union[JobError, _Mapping]]] = ..., stage_timings: _Optional[_Iterable[_Union[StageTiming, _Mapping]]] = ..., attempts: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., filename: _Optional[str] = ..., ocr_pages_total: _Optional[int] = ..., ocr_pages_done: _Optional[int] = ..., images_extracted: _Optional[int] = ..., tenant: _Optional[str] = ..., entities_found: _Optional[int] = ..., labels: _Optional[_Iterable[str]] = ..., retry_count: _Optional[int] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("job", "sequence", "event_time")
    JOB_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    job: Job
    sequence: int
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., sequence: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExtractTask(_message.Message):
    __slots__ = ("job", "document", "sha256", "filename", "tenant", "sealed_password")
    JOB_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    SEALED_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    job: str
    document: str
    sha256: str
    filename: str
    tenant: str
    sealed_password: bytes
    def __init__(self, job: _Optional[str] = ..., document: _Optional[str] = ..., sha256: _Optional[str] = ..., filename: _Optional[str] = ..., tenant: _Optional[str] = ..., sealed_password: _Optional[bytes] = ...) -> None: ...
