import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mivaa.jobs.v1 import job_pb2 as _job_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HealthStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_STATUS_UNSPECIFIED: _ClassVar[HealthStatus]
    HEALTH_STATUS_UP: _ClassVar[HealthStatus]
    HEALTH_STATUS_DEGRADED: _ClassVar[HealthStatus]
    HEALTH_STATUS_DOWN: _ClassVar[HealthStatus]
    HEALTH_STATUS_NOT_CONFIGURED: _ClassVar[HealthStatus]
HEALTH_STATUS_UNSPECIFIED: HealthStatus
HEALTH_STATUS_UP: HealthStatus
HEALTH_STATUS_DEGRADED: HealthStatus
HEALTH_STATUS_DOWN: HealthStatus
HEALTH_STATUS_NOT_CONFIGURED: HealthStatus

class GetJobStatisticsRequest(_message.Message):
    __slots__ = ("start_time", "end_time", "all_tenants")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ALL_TENANTS_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    all_tenants: bool
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., all_tenants: _Optional[bool] = ...) -> None: ...

class TenantJobCount(_message.Message):
    __slots__ = ("tenant", "count")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    count: int
    def __init__(self, tenant: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class StateCount(_message.Message):
    __slots__ = ("state", "count")
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    state: _job_pb2.JobState
    count: int
    def __init__(self, state: _Optional[_Union[_job_pb2.JobState, str]] = ..., count: _Optional[int] = ...) -> None: ...

class StageDuration(_message.Message):
    __slots__ = ("stage", "samples", "p50_seconds", "p95_seconds", "max_seconds")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    P50_SECONDS_FIELD_NUMBER: _ClassVar[int]
    P95_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    stage: _job_pb2.JobStage
    samples: int
    p50_seconds: float
    p95_seconds: float
    max_seconds: float
    def __init__(self, stage: _Optional[_Union[_job_pb2.JobStage, str]] = ..., samples: _Optional[int] = ..., p50_seconds: _Optional[float] = ..., p95_seconds: _Optional[float] = ..., max_seconds: _Optional[float] = ...) -> None: ...

class FailureReasonCount(_message.Message):
    __slots__ = ("reason", "count", "example_message")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    reason: str
    count: int
    example_message: str
    def __init__(self, reason: _Optional[str] = ..., count: _Optional[int] = ..., example_message: _Optional[str] = ...) -> None: ...

class GetJobStatisticsResponse(_message.Message):
    __slots__ = ("start_time", "end_time", "total_jobs", "states", "stage_durations", "failures", "truncated", "tenants")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    TOTAL_JOBS_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    STAGE_DURATIONS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    TENANTS_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    total_jobs: int
    states: _containers.RepeatedCompositeFieldContainer[StateCount]
    stage_durations: _containers.RepeatedCompositeFieldContainer[StageDuration]
    failures: _containers.RepeatedCompositeFieldContainer[FailureReasonCount]
    truncated: bool
    tenants: _containers.RepeatedCompositeFieldContainer[TenantJobCount]
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., total_jobs: _Optional[int] = ..., states: _Optional[_Iterable[_Union[StateCount, _Mapping]]] = ..., stage_durations: _Optional[_Iterable[_Union[StageDuration, _Mapping]]] = ..., failures: _Optional[_Iterable[_Union[FailureReasonCount, _Mapping]]] = ..., truncated: _Optional[bool] = ..., tenants: _Optional[_Iterable[_Union[TenantJobCount, _Mapping]]] = ...) -> None: ...

class RetryJobRequest(_message.Message):
    __slots__ = ("name", "password", "tenant")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    name: str
    password: str
    tenant: str
    def __init__(self, name: _Optional[str] = ..., password: _Optional[str] = ..., tenant: _Optional[str] = ...) -> None: ...

class RetryJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class BatchRetryJobsRequest(_message.Message):
    __slots__ = ("reason", "create_time_after", "create_time_before", "max_jobs", "all_tenants")
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_BEFORE_FIELD_NUMBER: _ClassVar[int]
    MAX_JOBS_FIELD_NUMBER: _ClassVar[int]
    ALL_TENANTS_FIELD_NUMBER: _ClassVar[int]
    reason: str
    create_time_after: _timestamp_pb2.Timestamp
    create_time_before: _timestamp_pb2.Timestamp
    max_jobs: int
    all_tenants: bool
    def __init__(self, reason: _Optional[str] = ..., create_time_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., max_jobs: _Optional[int] = ..., all_tenants: _Optional[bool] = ...) -> None: ...

class RetryFailure(_message.Message):
    __slots__ = ("job", "reason", "message")
    JOB_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    job: str
    reason: str
    message: str
    def __init__(self, job: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class BatchRetryJobsResponse(_message.Message):
    __slots__ = ("retried_count", "retried_jobs", "failures", "more")
    RETRIED_COUNT_FIELD_NUMBER: _ClassVar[int]
    RETRIED_JOBS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    retried_count: int
    retried_jobs: _containers.RepeatedScalarFieldContainer[str]
    failures: _containers.RepeatedCompositeFieldContainer[RetryFailure]
    more: bool
    def __init__(self, retried_count: _Optional[int] = ..., retried_jobs: _Optional[_Iterable[str]] = ..., failures: _Optional[_Iterable[_Union[RetryFailure, _Mapping]]] = ..., more: _Optional[bool] = ...) -> None: ...

class GetQueueStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueueStatus(_message.Message):
    __slots__ = ("stream", "consumer", "pending", "in_flight", "redelivered", "oldest_pending_age", "consumers_connected", "stream_messages")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    REDELIVERED_FIELD_NUMBER: _ClassVar[int]
    OLDEST_PENDING_AGE_FIELD_NUMBER: _ClassVar[int]
    CONSUMERS_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    STREAM_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    stream: str
    consumer: str
    pending: int
    in_flight: int
    redelivered: int
    oldest_pending_age: _duration_pb2.Duration
    consumers_connected: int
    stream_messages: int
    def __init__(self, stream: _Optional[str] = ..., consumer: _Optional[str] = ..., pending: _Optional[int] = ..., in_flight: _Optional[int] = ..., redelivered: _Optional[int] = ..., oldest_pending_age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., consumers_connected: _Optional[int] = ..., stream_messages: _Optional[int] = ...) -> None: ...

class GetQueueStatusResponse(_message.Message):
    __slots__ = ("queues",)
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[QueueStatus]
    def __init__(self, queues: _Optional[_Iterable[_Union[QueueStatus, _Mapping]]] = ...) -> None: ...

class GetSystemHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ComponentHealth(_message.Message):
    __slots__ = ("component", "status", "latency", "message")
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    component: str
    status: HealthStatus
    latency: _duration_pb2.Duration
    message: str
    def __init__(self, component: _Optional[str] = ..., status: _Optional[_Union[HealthStatus, str]] = ..., latency: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

class GetSystemHealthResponse(_message.Message):
    __slots__ = ("status", "components", "check_time")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    status: HealthStatus
    components: _containers.RepeatedCompositeFieldContainer[ComponentHealth]
    check_time: _timestamp_pb2.Timestamp
    def __init__(self, status: _Optional[_Union[HealthStatus, str]] = ..., components: _Optional[_Iterable[_Union[ComponentHealth, _Mapping]]] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ("all_tenants", "page_size", "page_token")
    ALL_TENANTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    all_tenants: bool
    page_size: int
    page_token: str
    def __init__(self, all_tenants: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetUsageResponse(_message.Message):
    __slots__ = ("tenant", "documents", "pages", "original_bytes", "chunks", "vectors", "images", "jobs", "tenants", "next_page_token")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    TENANTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    documents: int
    pages: int
    original_bytes: int
    chunks: int
    vectors: int
    images: int
    jobs: int
    tenants: _containers.RepeatedCompositeFieldContainer[GetUsageResponse]
    next_page_token: str
    def __init__(self, tenant: _Optional[str] = ..., documents: _Optional[int] = ..., pages: _Optional[int] = ..., original_bytes: _Optional[int] = ..., chunks: _Optional[int] = ..., vectors: _Optional[int] = ..., images: _Optional[int] = ..., jobs: _Optional[int] = ..., tenants: _Optional[_Iterable[_Union[GetUsageResponse, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
