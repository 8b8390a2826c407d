"""The upload use case against in-memory ports: what an upload stores, queues, reuses and undoes."""

from __future__ import annotations

import os

import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.api.ingest import Ingestor, UploadLimits, UploadPorts, new_upload_request
from mivaa_extractor.ports import DocumentState
from mivaa_extractor.task_seal import TaskSealer
from mivaa_platform.errors import FailedPrecondition, InvalidArgument, Unavailable
from tests.extractor.unit.fakes import FakeCatalog, FakeJobs, FakeOriginals, FakeValidator, FakeWorkQueue, sha256_of

PDF = b"%PDF-1.7\n" + b"x" * 2000


class Upload:
    """An Ingestor over fakes, and the fakes to look into."""

    def __init__(self, *, max_bytes: int = 1 << 20, validator: FakeValidator | None = None):
        self.jobs, self.originals, self.catalog = FakeJobs(), FakeOriginals(), FakeCatalog()
        self.work, self.sealer = FakeWorkQueue(), TaskSealer(os.urandom(32))
        self.validator = validator or FakeValidator(page_count=3, title="Title in the PDF")
        ports = UploadPorts(self.jobs, self.originals, self.catalog, self.work, self.sealer)
        self.ingestor = Ingestor(ports, UploadLimits(max_bytes=max_bytes, max_pages=100), self.validator)

    async def upload(self, data: bytes = PDF, *, tenant: str = "acme", password: str = "", title: str = ""):
        request = new_upload_request(
            filename=" report.pdf ", title=title, labels=["b", " a ", "b", ""], password=password, tenant=tenant
        )
        return await self.ingestor.upload(request, data)


async def test_an_upload_stores_registers_records_and_queues_its_document():
    upload = Upload()
    result = await upload.upload(password="secret")

    assert result.created
    tenant, document = upload.catalog.documents[result.document.name]
    assert tenant == "acme"
    assert (document.filename, document.title, document.labels) == ("report.pdf", "Title in the PDF", ("a", "b"))
    assert document.sha256 == sha256_of(PDF) and document.page_count == 3 and document.job == result.job.name
    assert upload.originals.files == {sha256_of(PDF): PDF}
    job = upload.jobs.records[result.job.name]
    assert (job.state, job.stage, job.pages_total, job.tenant) == (
        job_pb2.JOB_STATE_QUEUED,
        job_pb2.JOB_STAGE_QUEUED,
        3,
        "acme",
    )
    [task] = upload.work.tasks
    assert (task.job, task.document, task.sha256, task.tenant) == (job.name, document.name, sha256_of(PDF), "acme")
    assert task.sealed_password and b"secret" not in task.sealed_password
    assert upload.sealer.open_password(task) == "secret"


async def test_the_same_bytes_again_return_the_tenants_document_and_job_without_new_work():
    upload = Upload()
    first = await upload.upload()
    again = await upload.upload()
    assert not again.created
    assert (again.document.name, again.job.name) == (first.document.name, first.job.name)
    assert len(upload.work.tasks) == 1

    other_tenant = await upload.upload(tenant="globex")
    assert other_tenant.created and other_tenant.document.name != first.document.name
    assert len(upload.work.tasks) == 2


async def test_the_same_bytes_after_a_failure_start_again_with_a_new_job():
    upload = Upload()
    first = await upload.upload()
    await upload.catalog.set_state(first.document.name, DocumentState.FAILED, tenant="acme")

    again = await upload.upload()
    assert again.created and again.document.name == first.document.name
    assert again.job.name != first.job.name
    assert again.document.state is DocumentState.PENDING and again.document.job == again.job.name
    assert [task.job for task in upload.work.tasks] == [first.job.name, again.job.name]


async def test_a_failure_after_the_catalog_accepted_the_upload_leaves_nothing_behind():
    upload = Upload()
    upload.work.failure = Unavailable("NATS_UNAVAILABLE", "The bus is down.", domain="extractor.mivaa")
    with pytest.raises(Unavailable):
        await upload.upload()
    assert upload.catalog.documents == {}
    assert upload.jobs.records == {}


async def test_a_failed_restart_marks_the_existing_document_and_its_new_job_failed():
    upload = Upload()
    first = await upload.upload()
    await upload.catalog.set_state(first.document.name, DocumentState.FAILED, tenant="acme")
    upload.work.failure = Unavailable("NATS_UNAVAILABLE", "The bus is down.", domain="extractor.mivaa")
    with pytest.raises(Unavailable):
        await upload.upload()
    _, document = upload.catalog.documents[first.document.name]
    assert document.state is DocumentState.FAILED
    restarted = upload.jobs.records[document.job]
    assert restarted.state == job_pb2.JOB_STATE_FAILED and restarted.error.reason == "UPLOAD_FAILED"


async def test_a_rejected_pdf_stores_nothing():
    upload = Upload(validator=FakeValidator(failure=FailedPrecondition("PDF_ENCRYPTED", "Locked.", domain="x")))
    with pytest.raises(FailedPrecondition):
        await upload.upload()
    assert (upload.catalog.documents, upload.originals.files, upload.jobs.records, upload.work.tasks) == (
        {},
        {},
        {},
        [],
    )


async def test_the_title_falls_back_from_the_callers_to_the_pdfs_to_the_filename():
    assert (await Upload().upload(title="Mine")).document.title == "Mine"
    assert (await Upload(validator=FakeValidator(title="")).upload()).document.title == "report.pdf"


async def chunks_of(data: bytes, size: int):
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_reading_an_upload_stops_at_the_size_limit_and_at_a_wrong_signature():
    upload = Upload(max_bytes=1500)
    with pytest.raises(InvalidArgument) as too_large:
        await upload.ingestor.read_upload(chunks_of(PDF, 500))
    assert too_large.value.reason == "FILE_TOO_LARGE"
    assert too_large.value.metadata == {"max_bytes": "1500"}

    with pytest.raises(InvalidArgument) as not_pdf:
        await Upload().ingestor.read_upload(chunks_of(b"PK\x03\x04" + b"x" * 3000, 700))
    assert not_pdf.value.reason == "NOT_A_PDF"
    # A picture in a format not taken (PNG, JPEG and TIFF are) is told so, not called "not a PDF".
    with pytest.raises(InvalidArgument) as gif:
        await Upload().ingestor.read_upload(chunks_of(b"GIF89a" + b"x" * 3000, 700))
    assert gif.value.reason == "IMAGE_FORMAT_UNSUPPORTED"
    assert await Upload().ingestor.read_upload(chunks_of(PDF, 300)) == PDF


def test_upload_fields_are_checked_before_anything_is_read():
    with pytest.raises(InvalidArgument) as missing:
        new_upload_request(filename="  ", title="", labels=[], password="", tenant="acme")
    assert missing.value.reason == "FILENAME_MISSING"
    request = new_upload_request(filename="a.pdf", title=" T ", labels=["x", "x", " y"], password="", tenant="acme")
    assert (request.title, request.labels) == ("T", ("x", "y"))
