"""The gateway's security through the real Envoy: JWT authentication, scopes, tenant headers,
rate limits, upload size, grpc-web + CORS, TLS on the listener and mTLS to the upstreams."""

from __future__ import annotations

import asyncio
import base64
import json

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from mivaa_cli import auth
from mivaa_cli.main import main as cli_main
from tests.gateway.harness import Envoy, make_pki, start_upstream
from tests.support import grpcweb

SEARCH = "/mivaa.search.v1.SearchService/SearchChunks"
GET_DOCUMENT = "/mivaa.search.v1.SearchService/GetDocument"
UPLOAD = "/mivaa.extractor.v1.ExtractorService/UploadDocument"
CREATE_DOCUMENT = "/mivaa.search.v1.SearchService/CreateDocument"  # internal: admin only
MAX_UPLOAD = 64 * 1024


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    auth.init_keys(directory, "ES256")
    other = tmp_path_factory.mktemp("other-keys")
    auth.init_keys(other, "ES256")  # a key the gateway does not trust
    return directory, other


def token(keys, subject="alice", tenant="acme", scopes=("read", "write"), **kwargs) -> str:
    return auth.issue_token(keys[0], subject=subject, tenant=tenant, scopes=scopes, **kwargs)


def bearer(value: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {value}")]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def gateway(keys, tmp_path_factory):
    from tests.gateway.harness import gateway_render

    upstream = await start_upstream()
    limits = gateway_render.RateLimits(
        upload_per_subject=gateway_render.Budget(1, 2),
        search_per_subject=gateway_render.Budget(1, 3),
    )
    envoy = Envoy(
        tmp_path_factory.mktemp("envoy"),
        upstream.port,
        jwks_path=str(keys[0] / auth.JWKS),
        rate_limits=limits,
        max_upload_bytes=MAX_UPLOAD,
    )
    envoy.start()
    try:
        await envoy.wait_ready()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{envoy.port}") as channel:
            yield envoy, upstream, channel
    finally:
        envoy.stop()
        await upstream.server.stop(None)


async def call(channel, method: str, metadata=(), request: bytes = b"") -> None:
    await channel.unary_unary(method)(request, metadata=metadata, timeout=10)


async def status_of(channel, method: str, metadata=()) -> grpc.StatusCode:
    try:
        await call(channel, method, metadata)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


# -- authentication --------------------------------------------------------------------
async def test_valid_token_passes_and_the_upstream_sees_the_token_identity(gateway, keys):
    _, upstream, channel = gateway
    forged = [("x-mivaa-tenant", "evil-corp"), ("x-mivaa-subject", "root")]
    await call(channel, GET_DOCUMENT, bearer(token(keys, subject="alice", tenant="acme")) + forged)
    seen = upstream.last("GetDocument").metadata
    assert seen["x-mivaa-tenant"] == "acme"
    assert seen["x-mivaa-subject"] == "alice"
    assert "authorization" not in seen  # the token stays at the gateway


async def test_the_upstream_sees_the_verified_scopes_and_never_forged_ones(gateway, keys):
    _, upstream, channel = gateway
    forged = [("x-mivaa-scopes", "platform-admin")]
    await call(channel, GET_DOCUMENT, bearer(token(keys, subject="alice", scopes=("read",))) + forged)
    assert upstream.last("GetDocument").metadata["x-mivaa-scopes"] == "read"
    platform = token(keys, subject="operator", scopes=("admin", "platform-admin"))
    await call(channel, GET_DOCUMENT, bearer(platform))
    assert upstream.last("GetDocument").metadata["x-mivaa-scopes"] == "admin platform-admin"


async def test_forged_identity_headers_without_a_token_are_refused(gateway):
    _, _, channel = gateway
    assert (
        await status_of(channel, GET_DOCUMENT, [("x-mivaa-tenant", "acme"), ("x-mivaa-subject", "alice")])
        == grpc.StatusCode.UNAUTHENTICATED
    )


@pytest.mark.parametrize(
    "case",
    ["none", "expired", "wrong-signature", "wrong-audience", "wrong-issuer", "garbage"],
)
async def test_bad_tokens_are_unauthenticated(gateway, keys, case):
    _, upstream, channel = gateway
    before = len(upstream.calls)
    metadata = {
        "none": [],
        "expired": bearer(token(keys, ttl=-120)),  # beyond the 30 s clock skew
        "wrong-signature": bearer(auth.issue_token(keys[1], subject="alice", tenant="acme", scopes=["read"])),
        "wrong-audience": bearer(token(keys, audience="someone-else")),
        "wrong-issuer": bearer(token(keys, issuer="not-mivaa")),
        "garbage": bearer("not.a.jwt"),
    }[case]
    assert await status_of(channel, GET_DOCUMENT, metadata) == grpc.StatusCode.UNAUTHENTICATED
    assert len(upstream.calls) == before


async def test_a_token_signed_with_the_right_key_but_tampered_claims_is_refused(gateway, keys):
    _, _, channel = gateway
    header, payload, signature = token(keys, scopes=["read"]).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "read write admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert (
        await status_of(channel, CREATE_DOCUMENT, bearer(f"{header}.{forged}.{signature}"))
        == grpc.StatusCode.UNAUTHENTICATED
    )


# -- authorization ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scopes", "method", "expected"),
    [
        (["read"], GET_DOCUMENT, grpc.StatusCode.OK),
        (["write"], GET_DOCUMENT, grpc.StatusCode.PERMISSION_DENIED),  # scopes are independent
        (["read"], "/mivaa.search.v1.SearchService/DeleteDocument", grpc.StatusCode.PERMISSION_DENIED),
        (["write"], "/mivaa.search.v1.SearchService/DeleteDocument", grpc.StatusCode.OK),
        (["read"], "/mivaa.extractor.v1.ExtractorService/CancelJob", grpc.StatusCode.PERMISSION_DENIED),
        (["read"], "/mivaa.extractor.v1.ExtractorService/ReprocessDocument", grpc.StatusCode.PERMISSION_DENIED),
        (["write"], "/mivaa.extractor.v1.ExtractorService/ReprocessDocument", grpc.StatusCode.OK),
        (["read"], "/mivaa.embedder.v1.EmbedderService/EmbedTexts", grpc.StatusCode.OK),
        (["read"], "/mivaa.extractor.v1.ExtractorService/RenderThumbnail", grpc.StatusCode.OK),
        (["write"], "/mivaa.extractor.v1.ExtractorService/RenderThumbnail", grpc.StatusCode.PERMISSION_DENIED),
        (["read", "write"], CREATE_DOCUMENT, grpc.StatusCode.PERMISSION_DENIED),  # internal RPC
        (["admin"], CREATE_DOCUMENT, grpc.StatusCode.OK),
        (["admin"], GET_DOCUMENT, grpc.StatusCode.OK),  # admin passes everywhere
        (["read", "write"], "/mivaa.search.v1.SearchService/NoSuchMethod", grpc.StatusCode.PERMISSION_DENIED),
    ],
)
async def test_scopes_decide_which_rpcs_pass(gateway, keys, scopes, method, expected):
    _, _, channel = gateway
    # A fresh subject per case keeps the search budget out of it.
    subject = f"scope-{'-'.join(scopes)}-{method.rsplit('/', 1)[-1]}"
    assert await status_of(channel, method, bearer(token(keys, subject=subject, scopes=scopes))) == expected


async def test_a_token_without_a_tenant_is_permission_denied(gateway, keys):
    _, _, channel = gateway
    key = auth.load_private_key(keys[0])
    import time

    claims = {
        "iss": "mivaa-dev",
        "aud": "mivaa",
        "sub": "tenantless",
        "scope": "read",
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
    }
    assert (
        await status_of(channel, GET_DOCUMENT, bearer(auth.sign_jwt(key, claims))) == grpc.StatusCode.PERMISSION_DENIED
    )


async def test_upload_needs_write_and_streams_through(gateway, keys):
    _, upstream, channel = gateway
    upload = channel.stream_unary(UPLOAD)

    async def chunks():
        for _ in range(4):
            yield b"x" * 1024

    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await upload(chunks(), metadata=bearer(token(keys, subject="uploader-r", scopes=["read"])), timeout=10)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await upload(chunks(), metadata=bearer(token(keys, subject="uploader-w", scopes=["write"])), timeout=10)
    assert upstream.last("UploadDocument").request_bytes == 4 * 1024


async def test_an_upload_over_the_size_limit_is_refused_at_the_gateway(gateway, keys):
    envoy, upstream, _ = gateway
    before = len(upstream.calls)

    def chunks():
        for _ in range(MAX_UPLOAD // 8192 + 4):
            yield b"x" * 8192

    # The synchronous client: grpc.aio may lose the status of a client stream that the server ends
    # early while a write is in flight (grpc/grpc#36066), and what is tested here is the gateway.
    def upload_too_much() -> grpc.RpcError:
        with grpc.insecure_channel(f"127.0.0.1:{envoy.port}") as channel:
            with pytest.raises(grpc.RpcError) as refused:
                channel.stream_unary(UPLOAD)(
                    chunks(), metadata=bearer(token(keys, subject="big-uploader", scopes=["write"])), timeout=10
                )
            return refused.value

    refused = await asyncio.to_thread(upload_too_much)
    assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, refused
    assert len(upstream.calls) == before


# -- health and reflection -------------------------------------------------------------
async def test_health_is_open_without_a_token(gateway):
    _, _, channel = gateway
    response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


async def _list_services(channel, metadata):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(metadata=metadata, timeout=10)
    try:
        await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
        await call.done_writing()
    except grpc.aio.AioRpcError:
        pass  # a refused stream may be closed before the request is written: its status is read below
    except grpc.aio.UsageError:
        pass
    return [s.name async for r in call for s in r.list_services_response.service]


async def test_reflection_needs_a_token_with_any_scope(gateway, keys):
    _, _, channel = gateway
    # The gateway refuses on the request's headers: read the status without writing a request,
    # since a write racing that refusal fails in the client with INTERNAL instead.
    refused = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(metadata=[], timeout=10)
    assert await refused.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "grpc.health.v1.Health" in await _list_services(
        channel, bearer(token(keys, subject="reflector", scopes=["read"]))
    )


# -- rate limits -----------------------------------------------------------------------
async def test_a_search_burst_is_resource_exhausted_for_that_subject_only(gateway, keys):
    _, _, channel = gateway
    greedy = bearer(token(keys, subject="greedy", scopes=["read"]))
    codes = await asyncio.gather(*(status_of(channel, SEARCH, greedy) for _ in range(8)))
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes, codes
    assert codes.count(grpc.StatusCode.OK) <= 4, codes  # burst 3 (+1 if a refill lands in between)
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}
    # Another subject has its own bucket, and the greedy one still reads other routes.
    assert (
        await status_of(channel, SEARCH, bearer(token(keys, subject="patient", scopes=["read"]))) == grpc.StatusCode.OK
    )
    assert await status_of(channel, GET_DOCUMENT, greedy) == grpc.StatusCode.OK


async def test_every_search_field_reaches_the_search_service(gateway, keys):
    from google.protobuf import timestamp_pb2

    from mivaa.search.v1 import search_service_pb2 as search_pb

    _, upstream, channel = gateway
    request = search_pb.SearchChunksRequest(
        query='"exact phrase" XK-4471 -noise',
        top_k=7,
        mode=search_pb.SEARCH_MODE_KEYWORD,
        min_score=0.25,
        page_min=2,
        page_max=9,
        create_time_after=timestamp_pb2.Timestamp(seconds=1_700_000_000),
        create_time_before=timestamp_pb2.Timestamp(seconds=1_800_000_000),
        block_types=[search_pb.BLOCK_TYPE_TABLE, search_pb.BLOCK_TYPE_PARAGRAPH],
        languages=["en", "de"],
        diversity=0.5,
        page_token="v1.token.0123456789abcdef",
    )
    payload = request.SerializeToString()
    await call(channel, SEARCH, bearer(token(keys, subject="field-checker", scopes=["read"])), payload)
    assert upstream.last("SearchChunks").request_bytes == len(payload)


# -- grpc-web and CORS -----------------------------------------------------------------
async def test_grpc_web_with_a_token(gateway, keys):
    envoy, upstream, _ = gateway
    authorized = {
        "authorization": f"Bearer {token(keys, subject='browser', tenant='web-tenant', scopes=['read'])}",
        "x-mivaa-tenant": "forged",
    }
    result = await asyncio.to_thread(
        grpcweb.call,
        "127.0.0.1",
        envoy.port,
        GET_DOCUMENT,
        b"",
        origin="http://allowed.example",
        extra_headers=authorized,
    )
    assert result.status == 0, result
    assert result.headers.get("access-control-allow-origin") == "http://allowed.example"
    assert upstream.last("GetDocument").metadata["x-mivaa-tenant"] == "web-tenant"
    anonymous = await asyncio.to_thread(
        grpcweb.call, "127.0.0.1", envoy.port, GET_DOCUMENT, b"", origin="http://allowed.example"
    )
    assert anonymous.status == grpc.StatusCode.UNAUTHENTICATED.value[0], anonymous


async def test_cors_preflight_needs_no_token_and_only_the_allowed_origin_passes(gateway):
    envoy, _, _ = gateway
    allowed = await asyncio.to_thread(
        grpcweb.preflight, "127.0.0.1", envoy.port, GET_DOCUMENT, "http://allowed.example"
    )
    assert allowed[":status"] == "200", allowed
    assert allowed.get("access-control-allow-origin") == "http://allowed.example"
    other = await asyncio.to_thread(grpcweb.preflight, "127.0.0.1", envoy.port, GET_DOCUMENT, "http://evil.example")
    assert "access-control-allow-origin" not in other, other


# -- TLS: listener and upstream mTLS ---------------------------------------------------
async def test_tls_listener_and_mtls_upstream(keys, tmp_path):
    pki = make_pki(tmp_path / "pki")
    upstream_credentials = grpc.ssl_server_credentials(
        [(pki.server_key.read_bytes(), pki.server_cert.read_bytes())],
        root_certificates=pki.ca.read_bytes(),
        require_client_auth=True,
    )
    upstream = await start_upstream(upstream_credentials)
    envoy = Envoy(
        tmp_path,
        upstream.port,
        jwks_path=str(keys[0] / auth.JWKS),
        tls_cert=str(pki.server_cert),
        tls_key=str(pki.server_key),
        upstream_tls_ca=str(pki.ca),
        upstream_tls_cert=str(pki.client_cert),
        upstream_tls_key=str(pki.client_key),
    )
    envoy.start()
    try:
        await envoy.wait_ready()  # the health checks themselves went over mTLS
        credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
        async with grpc.aio.secure_channel(f"localhost:{envoy.port}", credentials) as channel:
            await call(
                channel, GET_DOCUMENT, bearer(token(keys, subject="tls-user", tenant="tls-tenant", scopes=["read"]))
            )
            assert upstream.last("GetDocument").metadata["x-mivaa-tenant"] == "tls-tenant"
            response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert response.status == health_pb2.HealthCheckResponse.SERVING
        # Plaintext on the TLS port does not get through.
        async with grpc.aio.insecure_channel(f"127.0.0.1:{envoy.port}") as plain:
            assert (
                await status_of(plain, GET_DOCUMENT, bearer(token(keys, scopes=["read"])))
                == grpc.StatusCode.UNAVAILABLE
            )
    finally:
        envoy.stop()
        await upstream.server.stop(None)


# -- the CLI ---------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_auth_cli_makes_keys_and_tokens(tmp_path, capsys, alg):
    assert cli_main(["auth", "init", "--dir", str(tmp_path), "--alg", alg]) == 0
    jwks = json.loads((tmp_path / "jwks.json").read_text())
    assert jwks["keys"][0]["alg"] == alg and jwks["keys"][0]["kid"]
    assert "d" not in jwks["keys"][0]  # public only
    assert oct((tmp_path / "signing-key.pem").stat().st_mode & 0o777) == "0o600"
    capsys.readouterr()
    assert (
        cli_main(
            [
                "auth",
                "token",
                "--dir",
                str(tmp_path),
                "--subject",
                "s",
                "--tenant",
                "t",
                "--scope",
                "read",
                "--scope",
                "write",
                "--ttl",
                "60",
            ]
        )
        == 0
    )
    jwt = capsys.readouterr().out.strip()
    header, payload, _ = jwt.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    assert decode(header) == {"alg": alg, "typ": "JWT", "kid": jwks["keys"][0]["kid"]}
    claims = decode(payload)
    assert (
        claims["iss"] == "mivaa-dev" and claims["aud"] == "mivaa" and claims["sub"] == "s" and claims["tenant"] == "t"
    )
    assert claims["scope"] == "read write" and claims["exp"] - claims["iat"] == 60


# -- production form: a remote JWKS ------------------------------------------------------
def test_remote_jwks_config_is_valid_for_envoy(tmp_path):
    import subprocess

    from tests.gateway.harness import ENVOY, gateway_render

    config = tmp_path / "envoy.yaml"
    config.write_text(
        gateway_render.render(
            port=8080,
            admin_socket="/run/envoy/admin.sock",
            upstreams={"extractor": "extractor:50051", "search": "search:50051", "embedder": "embedder:50051"},
            cors_origins=["https://console.mivaa.example"],
            jwks_uri="https://idp.mivaa.example/.well-known/jwks.json",
            issuer="https://idp.mivaa.example/",
            audiences=["mivaa"],
            max_upload_bytes=32 << 20,
        )
    )
    text = config.read_text()
    assert "remote_jwks" in text and '"cluster": "jwks"' in text and '"sni": "idp.mivaa.example"' in text
    result = subprocess.run(
        [str(ENVOY), "--mode", "validate", "-c", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Deprecated" not in result.stdout + result.stderr
