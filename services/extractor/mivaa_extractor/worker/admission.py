"""Which work items a worker believes: only those that agree with the catalog, the job store and the seal."""

from __future__ import annotations

import hashlib
import logging

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.jobs import DOMAIN, job_tenant, task_tenant
from mivaa_extractor.ports import DocumentCatalog, JobRecords, Originals
from mivaa_extractor.task_seal import TaskSealer
from mivaa_platform.errors import InvalidArgument, MivaaError, NotFound

log = logging.getLogger("mivaa.extractor.pipeline")

# A work item that does not match the catalog: dropped without writing anything.
TASK_REJECTED = "TASK_REJECTED"


class TaskAdmission:
    def __init__(self, *, jobs: JobRecords, catalog: DocumentCatalog, originals: Originals, task_sealer: TaskSealer):
        self._jobs = jobs
        self._catalog = catalog
        self._originals = originals
        self._task_sealer = task_sealer

    async def admit(self, task: job_pb2.ExtractTask) -> tuple[job_pb2.Job, str | None]:
        """The task's job and password, once the task is known to be the work the uploader asked for.

        Anyone who can publish on the bus can write a work item (and a job record), so a task is
        believed only where it agrees with the catalog, which only the upload API writes: the
        task's document exists in the task's tenant, its current job is the task's job and its
        sha256 is the task's. The job record must agree too, and the sealed password must open
        for exactly this task.
        """
        try:
            # In the task's own tenant: a task claiming another tenant than its job's finds no job.
            job = await self._jobs.get(task.job, tenant=task_tenant(task))
        except (NotFound, InvalidArgument):
            raise rejected(task, "its job does not exist in its tenant") from None
        if job.document != task.document or job_tenant(job) != task_tenant(task):
            raise rejected(task, "its job belongs to another document or tenant")
        try:
            document = await self._catalog.get(task.document, tenant=task_tenant(task))
        except (NotFound, InvalidArgument):
            raise rejected(task, "its document does not exist in its tenant") from None
        if document.job != task.job:
            raise rejected(task, "it is not its document's current job")
        if document.sha256 != task.sha256:
            raise rejected(task, "its sha256 is not its document's")
        try:
            password = self._task_sealer.open_password(task)
        except MivaaError:
            raise rejected(task, "its sealed password does not open for it") from None
        return job, password

    async def original(self, task: job_pb2.ExtractTask) -> bytes:
        """The stored original, which must hash to the task's (and so the document's) sha256."""
        data = await self._originals.get(task.sha256)
        if hashlib.sha256(data).hexdigest() != task.sha256:
            raise rejected(task, "the stored original does not hash to its sha256")
        return data


def rejected(task: job_pb2.ExtractTask, why: str) -> InvalidArgument:
    log.error(
        "task rejected",
        extra={
            "fields": {
                "reason": TASK_REJECTED,
                "why": why,
                "job": task.job[:100],
                "document": task.document[:100],
                "tenant": task.tenant[:100],
            }
        },
    )
    return InvalidArgument(TASK_REJECTED, f"The work item was rejected: {why}.", domain=DOMAIN)
