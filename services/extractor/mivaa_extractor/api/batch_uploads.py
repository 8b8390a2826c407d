"""Uploads into a batch: admitted before a byte is read, then joined to it or counted as refused.

An upload naming a batch is checked first (the caller's own batch, with room left: BATCH_NOT_FOUND,
BATCH_FULL) and gets the batch's labels. Its job joins the batch once the upload is accepted; an
upload refused as bad input (INVALID_ARGUMENT: PDF_UNREADABLE, FILE_TOO_LARGE ...) is counted as a
failed document of the batch with that reason, so the batch can still reach DONE. A refusal the
caller can still act on (PDF_ENCRYPTED: upload again with the password) or a transient one
(UNAVAILABLE) is not counted: the file may yet join.
"""

from __future__ import annotations

import dataclasses
import logging

from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1.processing_options_pb2 import ProcessingOptions
from mivaa_extractor import batches
from mivaa_extractor.api.ingest import UploadRequest
from mivaa_extractor.ports import BatchRecords
from mivaa_platform.errors import InvalidArgument, MivaaError

log = logging.getLogger("mivaa.extractor.batches")


class BatchUploads:
    def __init__(self, records: BatchRecords, *, max_documents: int):
        self.records = records
        self.max_documents = max_documents

    async def create(
        self,
        *,
        display_name: str,
        labels: list[str],
        expected_documents: int,
        tenant: str,
        options: ProcessingOptions | None = None,
    ) -> job_pb2.Batch:
        new = batches.new_batch_request(
            display_name=display_name,
            labels=labels,
            expected_documents=expected_documents,
            tenant=tenant,
            max_documents=self.max_documents,
        )
        return await self.records.create(dataclasses.replace(new, options=options))

    async def admit(self, upload: UploadRequest, batch: str) -> UploadRequest:
        """The upload joining `batch` (its labels added); BATCH_NOT_FOUND, BATCH_FULL or a label limit."""
        record = await self.records.record(batch, tenant=upload.tenant)
        batches.check_room(record, self.max_documents)
        labels = batches.upload_labels(record, upload.labels)
        # The batch's processing options hold for an upload that gives none of its own.
        options = upload.options
        if options is None and record.batch.HasField("options"):
            options = record.batch.options
        return dataclasses.replace(upload, labels=tuple(labels), batch=record.batch.name, options=options)

    async def joined(self, upload: UploadRequest, job: job_pb2.Job) -> None:
        job_id = job.name.removeprefix("jobs/")
        await self.records.change(upload.batch, lambda record: batches.join(record, job_id), tenant=upload.tenant)

    async def refused(self, upload: UploadRequest, error: MivaaError) -> None:
        """Counts a bad-input refusal in the batch; a failure to record it is logged, never hides the caller's error."""
        if not isinstance(error, InvalidArgument):
            return

        def count(record: job_pb2.BatchRecord) -> None:
            batches.reject(record, upload.filename, error.reason, error.message)

        try:
            await self.records.change(upload.batch, count, tenant=upload.tenant)
        except Exception:  # noqa: BLE001 - the caller's own error is the one to raise
            log.warning("could not record a refused upload in its batch", extra={"fields": {"batch": upload.batch}})
