"""Job event subjects: one NATS token per part, the tenant first so permissions can scope consumers."""

from __future__ import annotations

from mivaa.jobs.v1 import job_pb2
from mivaa_extractor.adapters.job_store import event_subject


def test_event_subjects_carry_the_tenant_as_one_token():
    job = job_pb2.Job(name="jobs/0190abc", stage=job_pb2.JOB_STAGE_EXTRACTING, tenant="acme")
    assert event_subject(job) == "mivaa.jobs.acme.0190abc.extracting"
    dotted = job_pb2.Job(name="jobs/0190abc", stage=job_pb2.JOB_STAGE_DONE, tenant="acme.eu")
    assert event_subject(dotted) == "mivaa.jobs.acme%2Eeu.0190abc.done"
    assert len(event_subject(dotted).split(".")) == 5
    # Jobs made before tenancy belong to the default tenant.
    legacy = job_pb2.Job(name="jobs/0190abc", stage=job_pb2.JOB_STAGE_QUEUED)
    assert event_subject(legacy) == "mivaa.jobs.default.0190abc.queued"
