"""UploadValidator, the Ingestor's validation entry, with real worker processes and real faults."""

from __future__ import annotations

import time

import pytest
import pytest_asyncio

from mivaa_extractor.api.upload_validation import UploadValidator, validate_pdf_in_worker
from mivaa_platform.errors import FailedPrecondition, InvalidArgument, Unavailable
from mivaa_pool import ItemTimeout, WorkerCrashed
from tests.extractor import validation_faults
from tests.support.pdfs import make_pdf

TIMEOUT = 2.0


@pytest_asyncio.fixture
async def validator():
    validator = UploadValidator(max_bytes=10 << 20, max_pages=50, timeout=TIMEOUT)
    await validator.warm_up()
    try:
        yield validator
    finally:
        await validator.aclose()


async def expect_unreadable(validator: UploadValidator, fault) -> InvalidArgument:
    validator.validate_function = fault
    try:
        with pytest.raises(InvalidArgument) as failure:
            await validator.validate(make_pdf("fault", 1), None)
    finally:
        validator.validate_function = validate_pdf_in_worker
    error = failure.value
    assert (error.reason, error.domain) == ("PDF_UNREADABLE", "extractor.mivaa")
    return error


async def test_a_good_pdf_and_domain_errors_from_the_worker(validator):
    info = await validator.validate(make_pdf("good", 3), None)
    assert info.page_count == 3
    with pytest.raises(InvalidArgument) as failure:
        await validator.validate(b"%PDF-1.7 nothing else", None)
    assert failure.value.reason == "PDF_UNREADABLE" and failure.value.__cause__ is None
    with pytest.raises(FailedPrecondition) as locked:
        await validator.validate(make_pdf("locked", 1, password="pw"), None)
    assert locked.value.reason == "PDF_ENCRYPTED"


async def test_a_hanging_validation_is_killed_and_unreadable(validator):
    pid = validator.worker_pids()[0]
    started = time.monotonic()
    error = await expect_unreadable(validator, validation_faults.hang)
    assert time.monotonic() - started < TIMEOUT + 3
    assert isinstance(error.__cause__, ItemTimeout) and "in time" in error.message
    assert pid not in validator.worker_pids()
    assert (await validator.validate(make_pdf("after-hang", 2), None)).page_count == 2


async def test_a_crashing_validation_is_unreadable_and_the_next_one_works(validator):
    error = await expect_unreadable(validator, validation_faults.segfault)
    assert isinstance(error.__cause__, WorkerCrashed) and "crashed" in error.message
    assert (await validator.validate(make_pdf("after-crash", 2), None)).page_count == 2


async def test_an_unexpected_exception_is_unreadable_without_internal_names(validator):
    error = await expect_unreadable(validator, validation_faults.unexpected)
    assert isinstance(error.__cause__, KeyError)
    assert "internal name" not in error.message and "KeyError" not in error.message


async def test_a_closed_validator_is_unavailable():
    validator = UploadValidator(max_bytes=1 << 20, max_pages=5, timeout=TIMEOUT)
    validator.close()
    with pytest.raises(Unavailable) as failure:
        await validator.validate(make_pdf("closed", 1), None)
    assert failure.value.reason == "EXTRACTOR_CLOSED"
