"""Tenants' retention policies through Envoy: admin scope only, bounds with reasons, and the sweep
deleting exactly the tenant's documents older than its policy (the test mesh allows policies of
seconds and sweeps every second)."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from google.protobuf import duration_pb2

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_search.usecases.retention import Retention, RetentionBounds
from tests.e2e.test_admin_api import caller, expect_error, unique
from tests.e2e.test_operations import mivaa
from tests.support.pdfs import make_pdf

NAME = "retentionPolicy"


def _update(seconds: int, name: str = NAME) -> search_pb.UpdateRetentionPolicyRequest:
    policy = search_pb.RetentionPolicy(name=name, max_age=duration_pb2.Duration(seconds=seconds))
    return search_pb.UpdateRetentionPolicyRequest(retention_policy=policy)


async def _ingest(client, tag: str) -> search_pb.Document:
    response = await client.upload_bytes(make_pdf(tag, 1), f"{tag}.pdf")
    await client.wait_for_job(response.job.name, timeout=300)
    request = search_pb.GetDocumentRequest(name=response.document.name)
    return (await client.search.GetDocument(request, timeout=10)).document


async def _exists(client, name: str) -> bool:
    try:
        await client.search.GetDocument(search_pb.GetDocumentRequest(name=name), timeout=10)
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND, error
        return False
    return True


async def test_the_sweep_deletes_what_the_policy_outlived_and_nothing_else(mesh):
    tenant, other = unique("retain"), unique("retain-other")
    async with (
        caller(mesh, tenant, ("read", "write", "admin")) as admin,
        caller(mesh, other, ("read", "write")) as outsider,
    ):
        elsewhere = await _ingest(outsider, "retention-elsewhere")
        old = await _ingest(admin, "retention-old")
        await asyncio.sleep(20)
        new = await _ingest(admin, "retention-new")
        now = time.time()
        old_age, new_age = now - old.create_time.seconds, now - new.create_time.seconds
        assert old_age - new_age >= 18
        max_age = int((old_age + new_age) / 2)  # ~10 s from either side
        try:
            policy = (await admin.search.UpdateRetentionPolicy(_update(max_age), timeout=10)).retention_policy
            assert policy.name == NAME and policy.max_age.seconds == max_age and policy.update_time.seconds > 0
            got = await admin.search.GetRetentionPolicy(search_pb.GetRetentionPolicyRequest(name=NAME), timeout=10)
            assert got.retention_policy == policy
            deadline = time.monotonic() + 6
            while await _exists(admin, old.name):
                assert time.monotonic() < deadline, "the sweep never deleted the outlived document"
                await asyncio.sleep(0.2)
            assert await _exists(admin, new.name), "a document younger than the policy was deleted"
        finally:
            cleared = (await admin.search.UpdateRetentionPolicy(_update(0), timeout=10)).retention_policy
        assert not cleared.max_age.seconds and not cleared.HasField("update_time")
        # Another tenant's document, older than the policy, is not the policy's business.
        assert await _exists(outsider, elsewhere.name)
        await asyncio.sleep(max_age - new_age + 3)  # past the moment the policy would have taken it
        assert await _exists(admin, new.name), "a cleared policy still deleted"


async def test_retention_is_admin_only_and_bounded(mesh):
    tenant = unique("retain-rules")
    async with caller(mesh, tenant, ("read", "write")) as user, caller(mesh, tenant, ("admin",)) as admin:
        request = search_pb.GetRetentionPolicyRequest(name=NAME)
        await expect_error(user.search.GetRetentionPolicy(request, timeout=10), grpc.StatusCode.PERMISSION_DENIED)
        await expect_error(
            user.search.UpdateRetentionPolicy(_update(86400), timeout=10), grpc.StatusCode.PERMISSION_DENIED
        )
        never = (await admin.search.GetRetentionPolicy(request, timeout=10)).retention_policy
        assert never.name == NAME and not never.max_age.seconds
        cases = [
            (_update(-5), "RETENTION_TOO_SHORT"),
            (_update(101 * 366 * 86400), "RETENTION_TOO_LONG"),
            (_update(86400, name="tenants/x/retentionPolicy"), "INVALID_NAME"),
        ]
        for bad, reason in cases:
            await expect_error(
                admin.search.UpdateRetentionPolicy(bad, timeout=10), grpc.StatusCode.INVALID_ARGUMENT, reason
            )
        # The CLI, with an admin token of the tenant.
        token = mesh.token(tenant=tenant, subject="cli-retention", scopes=("admin",))
        shown = mivaa(mesh, "admin", "retention", "--days", "30", token=token)
        assert shown.returncode == 0 and "older than 30 days are deleted" in shown.stdout, shown.stdout + shown.stderr
        assert "older than 30 days" in mivaa(mesh, "admin", "retention", token=token).stdout
        off = mivaa(mesh, "admin", "retention", "--off", token=token)
        assert off.returncode == 0 and "retention: off" in off.stdout, off.stdout


async def test_a_deployed_service_refuses_policies_shorter_than_a_day():
    """The default bound: a unit slip ("30" meant as days) must not empty a tenant in 30 seconds."""
    retention = Retention(store=None, catalog=None, bounds=RetentionBounds())  # type: ignore[arg-type]
    with pytest.raises(Exception, match="at least 86400 s") as refused:
        await retention.set(30, tenant="t")
    assert getattr(refused.value, "reason", "") == "RETENTION_TOO_SHORT"
