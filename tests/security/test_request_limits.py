"""Doors: how much a caller may ask for. Every public route class has a rate limit; a request
without a message or with one that does not parse is refused at once, naming nothing
internal; health Watch is answered cleanly; search filters are bounded and a hit does not
repeat megabytes of its document's metadata."""

from __future__ import annotations

import asyncio
import time

import grpc
import psycopg
import pytest
import pytest_asyncio
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli import auth
from mivaa_gateway.rpcs import ADMIN_RPCS, REEMBED_RPCS, RETENTION_RPCS
from mivaa_platform.grpc_errors import error_reason
from mivaa_search.store import MAX_HIT_TITLE_CHARS
from tests.gateway.harness import envoy_before_stub, gateway_render
from tests.support import grpcweb
from tests.support.pdfs import make_pdf, page_phrase

INTERNAL_NAMES = ("class", "<", "Error", "google.protobuf", "Traceback", "python", ".py")


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


async def outcome(call) -> tuple[grpc.StatusCode, str, str]:
    """(code, ErrorInfo reason, details) of an awaited call."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code(), error_reason(error), error.details() or ""
    return grpc.StatusCode.OK, "", ""


# -- rate limits: every route class, on a real Envoy with tiny budgets before a stub upstream ----
@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def tiny_budgets(tmp_path_factory):
    limits = gateway_render.RateLimits.uniform(
        gateway_render.Budget(1, 2), None, health_shared=gateway_render.Budget(1, 3)
    )
    # The answer service too: its route class has a budget of its own.
    services = ("extractor", "search", "embedder", "ocr", "answer")
    async with envoy_before_stub(tmp_path_factory, "limit", rate_limits=limits, services=services) as gateway:
        yield gateway


def _class_paths(route_class: str) -> list[str]:
    _, paths = gateway_render.ROUTE_CLASSES[route_class]
    return list(paths) or ["/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"]


def test_every_public_rpc_is_in_a_rate_limited_route_class():
    """Door: a public RPC left out of every route class (OCR, listings, exports... once were)."""
    classified = [path for _, paths in gateway_render.ROUTE_CLASSES.values() for path in paths]
    assert len(classified) == len(set(classified)), "an RPC in two route classes"
    assert set(classified) == _public_rpcs()


def _public_rpcs() -> set[str]:
    """What the gateway serves to callers: each scope's RPCs, and the admin API (admin scope only)."""
    return (
        set(gateway_render.READ_RPCS)
        | set(gateway_render.WRITE_RPCS)
        | set(ADMIN_RPCS)
        | set(RETENTION_RPCS)
        | set(REEMBED_RPCS)
    )


@pytest.mark.parametrize("route_class", list(gateway_render.ROUTE_CLASSES))
async def test_a_burst_in_each_route_class_is_resource_exhausted_for_that_subject_only(tiny_budgets, route_class):
    """Door: an RPC with no rate limit (a burst of listings, exports, watches, embeddings, OCR...)."""
    keys, channel = tiny_budgets
    scopes = ("read", "write", "admin") if route_class in ("admin", "reembed") else ("read", "write")
    greedy = bearer(auth.issue_token(keys, subject=f"greedy-{route_class}", tenant="acme", scopes=scopes))
    patient = bearer(auth.issue_token(keys, subject=f"patient-{route_class}", tenant="acme", scopes=scopes))
    for path in _class_paths(route_class):
        codes = await asyncio.gather(
            *(outcome(channel.unary_unary(path)(b"", metadata=greedy, timeout=10)) for _ in range(6))
        )
        assert grpc.StatusCode.RESOURCE_EXHAUSTED in [code for code, _, _ in codes], (path, codes)
        # Another subject has its own bucket.
        code, _, _ = await outcome(channel.unary_unary(path)(b"", metadata=patient, timeout=10))
        assert code is not grpc.StatusCode.RESOURCE_EXHAUSTED, (path, code)
        await asyncio.sleep(1.1)  # the bucket refills one token a second: the next path starts fresh


async def test_a_burst_of_open_health_checks_hits_the_shared_budget(tiny_budgets):
    """Door: the one route open without a token (health Check) flooded anonymously."""
    _, channel = tiny_budgets
    stub = health_pb2_grpc.HealthStub(channel)
    codes = await asyncio.gather(*(outcome(stub.Check(health_pb2.HealthCheckRequest(), timeout=10)) for _ in range(10)))
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in [code for code, _, _ in codes], codes


def test_the_mesh_gateway_rate_limits_every_public_rpc(mesh):
    """Door: the same, in the config the local mesh really runs (every public RPC's route carries a limit)."""
    config = yaml.safe_load((mesh.state_dir / "envoy.yaml").read_text())
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    limited = {
        route["match"].get("path")
        for route in routes
        if "envoy.filters.http.local_ratelimit" in route.get("typed_per_filter_config", {})
    }
    public = _public_rpcs()
    served = {path for path in public if not path.startswith("/mivaa.ocr.") or mesh.ocr}
    assert served <= limited, sorted(served - limited)


# -- clean edges: an empty or malformed request --------------------------------------------------
async def _no_messages():
    return
    yield  # an async generator that sends nothing: headers, then END_STREAM


UNARY = [
    "/mivaa.search.v1.SearchService/GetDocument",
    "/mivaa.extractor.v1.ExtractorService/GetJob",
    "/mivaa.search.v1.SearchService/SearchChunks",
]
SERVER_STREAMING = ["/mivaa.extractor.v1.ExtractorService/WatchJob", "/mivaa.search.v1.SearchService/ExportDocument"]


async def _empty_and_garbage(channel, metadata) -> None:
    for path in UNARY + SERVER_STREAMING:
        started = time.monotonic()
        if path in UNARY:
            empty = channel.stream_unary(path)(_no_messages(), metadata=metadata, timeout=20)
        else:
            empty = channel.stream_stream(path)(_no_messages(), metadata=metadata, timeout=20).read()
        code, reason, details = await outcome(empty)
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_MISSING"), (path, code, details)
        assert time.monotonic() - started < 5, path  # at once, not at the caller's deadline

        if path in UNARY:
            garbage = channel.unary_unary(path)(b"\xff\xff\xff\xff", metadata=metadata, timeout=20)
        else:
            garbage = channel.unary_stream(path)(b"\xff\xff\xff\xff", metadata=metadata, timeout=20).read()
        code, reason, details = await outcome(garbage)
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_MALFORMED"), (path, code, details)
        assert not any(name in details for name in INTERNAL_NAMES), details


async def test_an_empty_or_garbage_request_body_through_the_gateway_is_invalid_argument_at_once(mesh):
    """Door: an HTTP/2 request with headers and END_STREAM but no gRPC message (it hung until the
    caller's deadline), and a body that is no protobuf (its error named a Python class)."""
    async with grpc.aio.secure_channel(mesh.gateway_address, mesh.gateway_credentials()) as channel:
        await _empty_and_garbage(channel, bearer(mesh.token(subject="edges", scopes=("read",))))


def test_an_empty_or_garbage_grpc_web_body_is_invalid_argument_at_once(mesh):
    """Door: the same from a browser: a grpc-web POST with no frame at all, or a frame of garbage."""
    host, port = mesh.gateway_address.split(":")
    for body, reason in ((b"", "REQUEST_MISSING"), (grpcweb.frame(b"\xff\xff\xff\xff"), "REQUEST_MALFORMED")):
        started = time.monotonic()
        result = grpcweb.call(
            host,
            int(port),
            UNARY[0],
            b"",
            raw_body=body,
            ca=str(mesh.ca_path),
            token=mesh.token(subject="edges-web"),
            timeout=20,
        )
        assert result.status == grpc.StatusCode.INVALID_ARGUMENT.value[0], (reason, result)
        assert time.monotonic() - started < 5
        assert not any(name in result.message for name in INTERNAL_NAMES), result.message


async def test_an_empty_or_garbage_request_body_at_a_service_is_invalid_argument_at_once(mesh):
    """Door: the same, straight at the services (a peer inside the mesh, with a client certificate)."""
    for service, paths in (
        ("search", [UNARY[0], UNARY[2], SERVER_STREAMING[1]]),
        ("extractor", [UNARY[1], SERVER_STREAMING[0]]),
    ):
        async with grpc.aio.secure_channel(mesh.address(service), mesh.ops_credentials()) as channel:
            for path in paths:
                started = time.monotonic()
                if path in UNARY:
                    call = channel.stream_unary(path)(_no_messages(), timeout=20)
                else:
                    call = channel.stream_stream(path)(_no_messages(), timeout=20).read()
                code, reason, _ = await outcome(call)
                assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_MISSING"), (service, path, code)
                assert time.monotonic() - started < 5


# -- health Watch ---------------------------------------------------------------------------------
def _tracebacks(mesh, service: str) -> int:
    return (mesh.log_dir / f"{service}.log").read_text(errors="replace").count("Traceback")


async def _first_watch_status(channel, metadata=()):
    call = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), metadata=metadata, timeout=10)
    try:
        async for response in call:
            return grpc.StatusCode.OK, response.status
    except grpc.aio.AioRpcError as error:
        return error.code(), None
    finally:
        call.cancel()
    return grpc.StatusCode.OK, None


async def test_health_watch_is_answered_cleanly(mesh):
    """Door: an unauthenticated health Watch through the gateway (it was INTERNAL, with a traceback
    in the service's log). Check stays open; Watch is for admins; the service serves it without error."""
    before = _tracebacks(mesh, "extractor")
    async with grpc.aio.secure_channel(mesh.gateway_address, mesh.gateway_credentials()) as channel:
        check = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert check.status == health_pb2.HealthCheckResponse.SERVING
        assert await _first_watch_status(channel) == (grpc.StatusCode.UNAUTHENTICATED, None)
        reader = bearer(mesh.token(subject="watcher", scopes=("read",)))
        assert await _first_watch_status(channel, reader) == (grpc.StatusCode.PERMISSION_DENIED, None)
        admin = bearer(mesh.token(subject="operator", scopes=("admin",)))
        assert await _first_watch_status(channel, admin) == (grpc.StatusCode.OK, health_pb2.HealthCheckResponse.SERVING)
    async with grpc.aio.secure_channel(mesh.address("extractor"), mesh.ops_credentials()) as direct:
        assert await _first_watch_status(direct) == (grpc.StatusCode.OK, health_pb2.HealthCheckResponse.SERVING)
    await asyncio.sleep(0.5)  # a cancelled watch's clean-up, were it to fail, is logged after the call
    assert _tracebacks(mesh, "extractor") == before


# -- search: bounded requests and bounded hits -----------------------------------------------------
@pytest.mark.parametrize(
    ("request_fields", "reason"),
    [
        ({"labels": [f"label-{i}" for i in range(10_000)]}, "TOO_MANY_LABELS"),
        ({"labels": ["x" * 100_000]}, "LABEL_TOO_LONG"),
        ({"documents": [f"documents/{i:08d}-0000-0000-0000-000000000000" for i in range(1000)]}, "TOO_MANY_DOCUMENTS"),
        ({"query": "word " * 2000}, "QUERY_TOO_LONG"),
        ({"query": "   "}, "QUERY_EMPTY"),
        ({"top_k": -1}, "INVALID_TOP_K"),
    ],
)
async def test_oversized_search_requests_are_refused_at_once(client, request_fields, reason):
    """Door: a search whose filters cost seconds of database work (10,000 labels took 4.4 s)."""
    fields = {"query": "bounded search", **request_fields}
    started = time.monotonic()
    code, got, _ = await outcome(client.search.SearchChunks(search_pb.SearchChunksRequest(**fields), timeout=30))
    assert (code, got) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert time.monotonic() - started < 2
    if "query" not in request_fields:
        image_request = search_pb.SearchImagesRequest(text="bounded search", **request_fields)
        code, got, _ = await outcome(client.search.SearchImages(image_request, timeout=30))
        # Refused before the image model is asked for (a mesh without one says so otherwise).
        assert (code, got) == (grpc.StatusCode.INVALID_ARGUMENT, reason)


async def test_oversized_listing_requests_are_refused(client):
    """Door: the same filters and an outsized page token on ListDocuments."""
    many = search_pb.ListDocumentsRequest(labels=[f"label-{i}" for i in range(10_000)])
    assert (await outcome(client.search.ListDocuments(many, timeout=30)))[:2] == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "TOO_MANY_LABELS",
    )
    token = search_pb.ListDocumentsRequest(page_token="A" * 100_000)
    assert (await outcome(client.search.ListDocuments(token, timeout=30)))[:2] == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_PAGE_TOKEN",
    )


async def test_a_document_with_a_huge_title_gives_bounded_hits(mesh, client):
    """Door: a document title of megabytes repeated in every hit (one search built a 262 MB answer).
    Titles are refused over 1000 characters when stored now; a row stored before that limit is
    written straight into the database, and hits still stay bounded."""
    uploaded = await client.upload_bytes(make_pdf("hugetitle", 3), "hugetitle.pdf")
    job = await client.wait_for_job(uploaded.job.name, timeout=180)
    assert job is not None
    huge = "Huge title " * 10_000  # 110,000 characters
    async with await psycopg.AsyncConnection.connect(mesh.postgres.dsn) as conn:
        document_id = uploaded.document.name.removeprefix("documents/")
        await conn.execute("UPDATE documents SET title = %s WHERE id = %s", [huge, document_id])
    response = await client.search_chunks(page_phrase("hugetitle", 2), top_k=100, documents=[uploaded.document.name])
    assert response.hits
    for hit in response.hits:
        assert hit.document_title == huge[:MAX_HIT_TITLE_CHARS]
    assert response.ByteSize() < 100 * 1024 * len(response.hits)
    # The whole title is still the document's own.
    full = await client.search.GetDocument(search_pb.GetDocumentRequest(name=uploaded.document.name), timeout=30)
    assert full.document.title == huge
