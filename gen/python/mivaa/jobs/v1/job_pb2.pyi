import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mivaa.jobs.v1 import processing_options_pb2 as _processing_options_pb2
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

class BatchState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BATCH_STATE_UNSPECIFIED: _ClassVar[BatchState]
    BATCH_STATE_OPEN: _ClassVar[BatchState]
    BATCH_STATE_RUNNING: _ClassVar[BatchState]
    BATCH_STATE_DONE: _ClassVar[BatchState]
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
BATCH_STATE_UNSPECIFIED: BatchState
BATCH_STATE_OPEN: BatchState
BATCH_STATE_RUNNING: BatchState
BATCH_STATE_DONE: BatchState

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
    __slots__ = ("name", "document", "state", "stage", "pages_done", "pages_total", "chunks_indexed", "error", "page_errors", "stage_timings", "attempts", "create_time", "update_time", "filename", "ocr_pages_total", "ocr_pages_done", "images_extracted", "tenant", "entities_found", "labels", "batch", "retry_count")
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
    BATCH_FIELD_NUMBER: _ClassVar[int]
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
    batch: str
    retry_count: int
    def __init__(self, name: _Optional[str] = ..., document: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., stage: _Optional[_Union[JobStage, str]] = ..., pages_done: _Optional[int] = ..., pages_total: _Optional[int] = ..., chunks_indexed: _Optional[int] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., page_errors: _Optional[_Iterable[_Union[JobError, _Mapping]]] = ..., stage_timings: _Optional[_Iterable[_Union[StageTiming, _Mapping]]] = ..., attempts: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., filename: _Optional[str] = ..., ocr_pages_total: _Optional[int] = ..., ocr_pages_done: _Optional[int] = ..., images_extracted: _Optional[int] = ..., tenant: _Optional[str] = ..., entities_found: _Optional[int] = ..., labels: _Optional[_Iterable[str]] = ..., batch: _Optional[str] = ..., retry_count: _Optional[int] = ...) -> None: ...

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
    __slots__ = ("job", "document", "sha256", "filename", "tenant", "sealed_password", "options", "reprocess")
    JOB_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    SEALED_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    REPROCESS_FIELD_NUMBER: _ClassVar[int]
    job: str
    document: str
    sha256: str
    filename: str
    tenant: str
    sealed_password: bytes
    options: _processing_options_pb2.ProcessingOptions
    reprocess: bool
    def __init__(self, job: _Optional[str] = ..., document: _Optional[str] = ..., sha256: _Optional[str] = ..., filename: _Optional[str] = ..., tenant: _Optional[str] = ..., sealed_password: _Optional[bytes] = ..., options: _Optional[_Union[_processing_options_pb2.ProcessingOptions, _Mapping]] = ..., reprocess: _Optional[bool] = ...) -> None: ...

class PageRangeTask(_message.Message):
    __slots__ = ("task", "attempt", "first_page", "last_page", "document_profile", "deadline_unix_seconds", "run")
    TASK_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    FIRST_PAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_PAGE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_PROFILE_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    task: ExtractTask
    attempt: int
    first_page: int
    last_page: int
    document_profile: bytes
    deadline_unix_seconds: int
    run: int
    def __init__(self, task: _Optional[_Union[ExtractTask, _Mapping]] = ..., attempt: _Optional[int] = ..., first_page: _Optional[int] = ..., last_page: _Optional[int] = ..., document_profile: _Optional[bytes] = ..., deadline_unix_seconds: _Optional[int] = ..., run: _Optional[int] = ...) -> None: ...

class BatchFailure(_message.Message):
    __slots__ = ("filename", "job", "error")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    filename: str
    job: str
    error: JobError
    def __init__(self, filename: _Optional[str] = ..., job: _Optional[str] = ..., error: _Optional[_Union[JobError, _Mapping]] = ...) -> None: ...

class BatchProgress(_message.Message):
    __slots__ = ("documents_total", "documents_queued", "documents_running", "documents_succeeded", "documents_partially_succeeded", "documents_failed", "documents_cancelled", "pages_done", "pages_total", "chunks_indexed", "pages_per_second", "eta_seconds", "failures")
    DOCUMENTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_QUEUED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_PARTIALLY_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FAILED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    PAGES_DONE_FIELD_NUMBER: _ClassVar[int]
    PAGES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_INDEXED_FIELD_NUMBER: _ClassVar[int]
    PAGES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    documents_total: int
    documents_queued: int
    documents_running: int
    documents_succeeded: int
    documents_partially_succeeded: int
    documents_failed: int
    documents_cancelled: int
    pages_done: int
    pages_total: int
    chunks_indexed: int
    pages_per_second: float
    eta_seconds: float
    failures: _containers.RepeatedCompositeFieldContainer[BatchFailure]
    def __init__(self, documents_total: _Optional[int] = ..., documents_queued: _Optional[int] = ..., documents_running: _Optional[int] = ..., documents_succeeded: _Optional[int] = ..., documents_partially_succeeded: _Optional[int] = ..., documents_failed: _Optional[int] = ..., documents_cancelled: _Optional[int] = ..., pages_done: _Optional[int] = ..., pages_total: _Optional[int] = ..., chunks_indexed: _Optional[int] = ..., pages_per_second: _Optional[float] = ..., eta_seconds: _Optional[float] = ..., failures: _Optional[_Iterable[_Union[BatchFailure, _Mapping]]] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("name", "display_name", "labels", "expected_documents", "create_time", "update_time", "tenant", "state", "progress", "options")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    expected_documents: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    tenant: str
    state: BatchState
    progress: BatchProgress
    options: _processing_options_pb2.ProcessingOptions
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., expected_documents: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tenant: _Optional[str] = ..., state: _Optional[_Union[BatchState, str]] = ..., progress: _Optional[_Union[BatchProgress, _Mapping]] = ..., options: _Optional[_Union[_processing_options_pb2.ProcessingOptions, _Mapping]] = ...) -> None: ...

class BatchRecord(_message.Message):
    __slots__ = ("batch", "job_ids", "rejected_uploads", "rejected_count")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    REJECTED_UPLOADS_FIELD_NUMBER: _ClassVar[int]
    REJECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    batch: Batch
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    rejected_uploads: _containers.RepeatedCompositeFieldContainer[BatchFailure]
    rejected_count: int
    def __init__(self, batch: _Optional[_Union[Batch, _Mapping]] = ..., job_ids: _Optional[_Iterable[str]] = ..., rejected_uploads: _Optional[_Iterable[_Union[BatchFailure, _Mapping]]] = ..., rejected_count: _Optional[int] = ...) -> None: ...
