"""An upload's version target: checked before any byte is read, and handed to the catalog."""

from __future__ import annotations

import pytest

from mivaa_extractor.api.ingest import new_upload_request
from mivaa_extractor.api.versions import with_version_target
from mivaa_platform.errors import InvalidArgument
from tests.extractor.unit.test_ingest import PDF, Upload

PARENT = "documents/0b6f7c1e-6f0e-4a57-9d6a-3f2b8c1d2e4f"


def request(**fields):
    upload = new_upload_request(filename="a.pdf", title="", labels=[], password="", tenant="acme")
    return with_version_target(upload, fields="metadata.", **fields)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"parent": "documents/", "replace_by_filename": False}, "INVALID_PARENT"),
        ({"parent": "jobs/0b6f7c1e-6f0e-4a57-9d6a-3f2b8c1d2e4f", "replace_by_filename": False}, "INVALID_PARENT"),
        ({"parent": PARENT.upper(), "replace_by_filename": False}, "INVALID_PARENT"),
        ({"parent": PARENT + "/x", "replace_by_filename": False}, "INVALID_PARENT"),
        ({"parent": PARENT, "replace_by_filename": True}, "PARENT_CONFLICT"),
    ],
)
def test_bad_version_targets_are_refused(fields, reason):
    with pytest.raises(InvalidArgument) as refused:
        request(**fields)
    assert refused.value.reason == reason


async def test_the_catalog_is_told_the_parent():
    upload = Upload()
    seen = []
    create = upload.catalog.create

    async def recording_create(document):
        seen.append((document.parent, document.replace_by_filename))
        return await create(document)

    upload.catalog.create = recording_create  # type: ignore[method-assign]
    await upload.ingestor.upload(request(parent=PARENT, replace_by_filename=False), PDF)
    await upload.ingestor.upload(request(parent="", replace_by_filename=True), PDF + b"2")
    assert seen == [(PARENT, False), ("", True)]
