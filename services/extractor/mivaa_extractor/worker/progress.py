"""A running document's progress, and the changes it makes to its job record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mivaa.jobs.v1 import job_pb2
from mivaa_platform.errors import MivaaError

# Page errors kept in a job record (~130 bytes each); the rest are counted, so the record stays small.
MAX_PAGE_ERRORS_RECORDED = 1000


@dataclass
class Progress:
    pages_done: int = 0
    chunks_embedded: int = 0
    page_errors: list[job_pb2.JobError] = field(default_factory=list)
    extract_seconds: float = 0.0
    embed_seconds: float = 0.0
    index_seconds: float = 0.0
    ocr_seconds: float = 0.0
    ocr_pages_total: int = 0
    ocr_pages_done: int = 0
    # Mean OCR confidence of every page whose text came from OCR, by page number.
    ocr_confidence: dict[int, float] = field(default_factory=dict)
    images_written: set[str] = field(default_factory=set)
    images_embedded: int = 0
    image_embed_seconds: float = 0.0
    # Set once the embedder says it has no image model: the document's images are stored without vectors.
    no_image_model: bool = False
    entity_seconds: float = 0.0
    entities_found: int = 0

    def page_failed(self, page: int, reason: str, message: str) -> None:
        self.page_errors.append(job_pb2.JobError(reason=reason, message=message, page=page))

    def text_source(self, page_start: int, page_end: int) -> tuple[bool, float]:
        """Whether OCR read any page of the span, and then its lowest page confidence."""
        confidences = [self.ocr_confidence[n] for n in range(page_start, page_end + 1) if n in self.ocr_confidence]
        if confidences:
            return True, min(confidences)
        return False, 0.0


def start_attempt(job: job_pb2.Job) -> None:
    job.state = job_pb2.JOB_STATE_RUNNING
    job.stage = job_pb2.JOB_STAGE_EXTRACTING
    job.attempts += 1
    job.pages_done = 0
    del job.page_errors[:]


def record_progress(job: job_pb2.Job, progress: Progress, stage: job_pb2.JobStage, *, chunks: int) -> None:
    job.stage = stage
    job.pages_done = progress.pages_done
    job.chunks_indexed = chunks
    job.ocr_pages_total = progress.ocr_pages_total
    job.ocr_pages_done = progress.ocr_pages_done
    job.images_extracted = len(progress.images_written)
    job.entities_found = progress.entities_found
    _set_timings(job, progress)


def finished(progress: Progress, chunks: int) -> Callable[[job_pb2.Job], None]:
    """The job's terminal state once every page was tried: by how many pages failed."""

    def done(job: job_pb2.Job) -> None:
        record_progress(job, progress, job_pb2.JOB_STAGE_DONE, chunks=chunks)
        _record_page_errors(job, progress)
        if not progress.page_errors:
            job.state = job_pb2.JOB_STATE_SUCCEEDED
        elif len(progress.page_errors) < job.pages_total:
            job.state = job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED
        else:
            job.state = job_pb2.JOB_STATE_FAILED
            job.error.CopyFrom(job_pb2.JobError(reason="NO_PAGE_EXTRACTED", message="No page could be extracted."))

    return done


def failed_with(error: MivaaError, progress: Progress) -> Callable[[job_pb2.Job], None]:
    def failed(job: job_pb2.Job) -> None:
        job.state = job_pb2.JOB_STATE_FAILED
        job.stage = job_pb2.JOB_STAGE_DONE
        job.error.CopyFrom(job_pb2.JobError(reason=error.reason, message=error.message))
        _record_page_errors(job, progress)
        _set_timings(job, progress)

    return failed


def _record_page_errors(job: job_pb2.Job, progress: Progress) -> None:
    """The page errors a job record keeps: the first MAX_PAGE_ERRORS_RECORDED, then one line for the rest,
    so a long document whose every page failed still fits in its record."""
    errors = progress.page_errors
    del job.page_errors[:]
    job.page_errors.extend(errors[:MAX_PAGE_ERRORS_RECORDED])
    if len(errors) > MAX_PAGE_ERRORS_RECORDED:
        omitted = len(errors) - MAX_PAGE_ERRORS_RECORDED
        job.page_errors.append(
            job_pb2.JobError(reason="MORE_PAGE_ERRORS", message=f"{omitted} more pages failed; they are not listed.")
        )


def _set_timings(job: job_pb2.Job, progress: Progress) -> None:
    del job.stage_timings[:]
    job.stage_timings.extend(
        [
            job_pb2.StageTiming(stage=job_pb2.JOB_STAGE_EXTRACTING, seconds=progress.extract_seconds),
            job_pb2.StageTiming(stage=job_pb2.JOB_STAGE_OCR, seconds=progress.ocr_seconds),
            job_pb2.StageTiming(stage=job_pb2.JOB_STAGE_EMBEDDING, seconds=progress.embed_seconds),
            job_pb2.StageTiming(stage=job_pb2.JOB_STAGE_INDEXING, seconds=progress.index_seconds),
            job_pb2.StageTiming(stage=job_pb2.JOB_STAGE_ENTITIES, seconds=progress.entity_seconds),
        ]
    )
