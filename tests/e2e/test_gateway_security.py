"""The gateway in front of the real mesh: authentication, scopes, rate limits, upload limits, mTLS."""

from __future__ import annotations

import asyncio
import re

import grpc
import pytest
from google.protobuf import field_mask_pb2

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli import auth
from mivaa_cli.client import MeshClient
from tests.support import grpcweb
from tests.support.pdfs import make_pdf

LIST = search_pb.ListDocumentsRequest(page_size=1)


def gateway_client(mesh, token: str) -> MeshClient:
    return MeshClient(mesh.gateway_address, token=token, ca=mesh.ca_path.read_bytes())


async def status_of(call) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.fixture(scope="module")
def foreign_key_dir(tmp_path_factory):
    """A signing key the gateway does not trust."""
    directory = tmp_path_factory.mktemp("foreign-auth")
    auth.init_keys(directory)
    return directory


async def test_tokens_are_required_and_checked(mesh, foreign_key_dir):
    good = mesh.token(scopes=("read",))
    cases = {
        "valid": (good, grpc.StatusCode.OK),
        "expired": (mesh.token(scopes=("read",), ttl=-60), grpc.StatusCode.UNAUTHENTICATED),
        "wrong signature": (
            auth.issue_token(foreign_key_dir, subject="mallory", tenant="default", scopes=("read",)),
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        "wrong audience": (
            auth.issue_token(mesh.auth_dir, subject="tests", tenant="default", scopes=("read",), audience="elsewhere"),
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        "garbage": ("not.a.jwt", grpc.StatusCode.UNAUTHENTICATED),
    }
    for name, (token, expected) in cases.items():
        async with gateway_client(mesh, token) as client:
            assert await status_of(client.search.ListDocuments(LIST, timeout=10)) == expected, name
    # No token at all (TLS only).
    async with grpc.aio.secure_channel(mesh.gateway_address, mesh.gateway_credentials()) as channel:
        from mivaa.search.v1 import search_service_pb2_grpc

        stub = search_service_pb2_grpc.SearchServiceStub(channel)
        assert await status_of(stub.ListDocuments(LIST, timeout=10)) == grpc.StatusCode.UNAUTHENTICATED


async def test_scopes_decide_what_a_token_may_do(mesh):
    pdf = make_pdf("scopes", 1)
    async with gateway_client(mesh, mesh.token(subject="reader", scopes=("read",))) as reader:
        assert await status_of(reader.search.ListDocuments(LIST, timeout=10)) == grpc.StatusCode.OK
        assert await status_of(reader.upload_bytes(pdf, "scopes.pdf")) == grpc.StatusCode.PERMISSION_DENIED
    async with gateway_client(mesh, mesh.token(subject="writer", scopes=("write",))) as writer:
        assert await status_of(writer.search.ListDocuments(LIST, timeout=10)) == grpc.StatusCode.PERMISSION_DENIED
        uploaded = await writer.upload_bytes(pdf, "scopes.pdf")
        assert uploaded.document.name
    # Internal RPCs (the pipeline's) are admin-only through the gateway.
    async with gateway_client(mesh, mesh.token(subject="user", scopes=("read", "write"))) as user:
        internal = user.search.CreateDocument(search_pb.CreateDocumentRequest(document=uploaded.document), timeout=10)
        assert await status_of(internal) == grpc.StatusCode.PERMISSION_DENIED
        # UpdateDocument is public for title and labels only; the pipeline's fields stay the pipeline's.
        for path in ("state", "page_count", "job"):
            update = search_pb.UpdateDocumentRequest(
                document=uploaded.document, update_mask=field_mask_pb2.FieldMask(paths=["title", path])
            )
            assert await status_of(user.search.UpdateDocument(update, timeout=10)) == grpc.StatusCode.INVALID_ARGUMENT
        renamed = search_pb.Document(name=uploaded.document.name, title="Renamed", labels=["kept"])
        update = search_pb.UpdateDocumentRequest(
            document=renamed, update_mask=field_mask_pb2.FieldMask(paths=["title", "labels"])
        )
        changed = (await user.search.UpdateDocument(update, timeout=10)).document
        assert (changed.title, list(changed.labels)) == ("Renamed", ["kept"])
        assert changed.page_count == uploaded.document.page_count and changed.job == uploaded.document.job


async def test_a_burst_over_the_search_budget_is_refused_while_others_are_served(mesh):
    request = search_pb.SearchChunksRequest(query="rate limit probe", top_k=1)
    async with gateway_client(mesh, mesh.token(subject="greedy", scopes=("read",))) as greedy:
        # Twice the per-subject burst (100) at once: the bucket cannot cover it.
        results = await asyncio.gather(
            *(status_of(greedy.search.SearchChunks(request, timeout=60)) for _ in range(250))
        )
    refused = results.count(grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert refused > 0, results
    assert set(results) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
    async with gateway_client(mesh, mesh.token(subject="patient", scopes=("read",))) as patient:
        assert await status_of(patient.search.SearchChunks(request, timeout=30)) == grpc.StatusCode.OK


def upload_calls_seen_by_the_extractor(mesh) -> float:
    body = mesh.scrape(mesh.ports.metrics_base + 2)
    pattern = r"mivaa_rpc_duration_seconds_count\{[^}]*UploadDocument[^}]*\} ([0-9.e+]+)"
    return sum(float(value) for value in re.findall(pattern, body))


async def test_an_oversized_upload_is_cut_at_the_gateway(mesh, client):
    from tests.conftest import MAX_UPLOAD_BYTES

    before = upload_calls_seen_by_the_extractor(mesh)
    huge = b"%PDF-1.7\n" + b"0" * (MAX_UPLOAD_BYTES + 4 * 1024 * 1024)
    assert await status_of(client.upload_bytes(huge, "huge.pdf")) == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert upload_calls_seen_by_the_extractor(mesh) == before, "the extractor never saw it"


def test_grpc_web_needs_a_token_too(mesh):
    host, port = mesh.gateway_address.split(":")
    method = "/mivaa.search.v1.SearchService/ListDocuments"
    anonymous = grpcweb.call(host, int(port), method, LIST.SerializeToString(), ca=str(mesh.ca_path))
    assert anonymous.status == grpc.StatusCode.UNAUTHENTICATED.value[0]
    signed_in = grpcweb.call(
        host, int(port), method, LIST.SerializeToString(), ca=str(mesh.ca_path), token=mesh.token()
    )
    assert signed_in.status == 0, signed_in


async def test_services_refuse_callers_without_a_certificate_from_the_ca(mesh, foreign_key_dir):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    for service in ("extractor", "search", "embedder"):
        address = mesh.address(service)
        async with grpc.aio.insecure_channel(address) as plaintext:
            check = health_pb2_grpc.HealthStub(plaintext).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert await status_of(check) == grpc.StatusCode.UNAVAILABLE, service
        # TLS that trusts the CA but shows no client certificate.
        async with grpc.aio.secure_channel(address, mesh.gateway_credentials()) as anonymous:
            check = health_pb2_grpc.HealthStub(anonymous).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert await status_of(check) == grpc.StatusCode.UNAVAILABLE, service
        async with grpc.aio.secure_channel(address, mesh.ops_credentials()) as ops:
            response = await health_pb2_grpc.HealthStub(ops).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING
