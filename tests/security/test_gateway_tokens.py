"""Door: the gateway's token rules. A token signed with the mesh's own key still has to name a
valid tenant and a subject and carry an expiry within the gateway's maximum lifetime; any
other token gets nothing (not the `default` tenant, not a call outside the per-subject
budgets, not a token that never expires)."""

from __future__ import annotations

import time

import grpc
import pytest
import pytest_asyncio

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli import auth
from mivaa_cli.client import MeshClient
from mivaa_cli.localmesh.mesh import DEV_TOKEN_TTL
from tests.gateway.harness import envoy_before_stub, gateway_render

LIST = search_pb.ListDocumentsRequest(page_size=1)
GET_DOCUMENT = "/mivaa.search.v1.SearchService/GetDocument"
DAY = 24 * 3600


def claims(**overrides) -> dict:
    """A valid claim set (tenant default, read); an override of None drops that claim."""
    now = int(time.time())
    base = {
        "iss": "mivaa-dev",
        "aud": "mivaa",
        "sub": "token-rules",
        "tenant": "default",
        "scope": "read",
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def signed(key_dir, **overrides) -> str:
    return auth.sign_jwt(auth.load_private_key(key_dir), claims(**overrides))


async def list_status(mesh, token: str) -> grpc.StatusCode:
    async with MeshClient(mesh.gateway_address, token=token, ca=mesh.ca_path.read_bytes()) as client:
        try:
            await client.search.ListDocuments(LIST, timeout=10)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


def _null_claims(key_dir, name: str) -> str:
    body = claims()
    body[name] = None  # present, with the JSON value null
    return auth.sign_jwt(auth.load_private_key(key_dir), body)


async def test_a_valid_token_is_served(mesh):
    """The control case: the claim set the other cases spoil is itself accepted."""
    assert await list_status(mesh, signed(mesh.auth_dir)) == grpc.StatusCode.OK


@pytest.mark.parametrize(
    "case",
    ["missing", "empty", "null", "number", "list", "path-like", "spaces"],
)
async def test_a_token_without_a_valid_tenant_is_refused(mesh, case):
    """Door: a signed token whose tenant claim is absent or unusable (once served as `default`)."""
    token = {
        "missing": lambda: signed(mesh.auth_dir, tenant=None),
        "empty": lambda: signed(mesh.auth_dir, tenant=""),
        "null": lambda: _null_claims(mesh.auth_dir, "tenant"),
        "number": lambda: signed(mesh.auth_dir, tenant=7),
        "list": lambda: signed(mesh.auth_dir, tenant=["default"]),
        "path-like": lambda: signed(mesh.auth_dir, tenant="../default"),
        "spaces": lambda: signed(mesh.auth_dir, tenant=" default"),
    }[case]()
    assert await list_status(mesh, token) == grpc.StatusCode.PERMISSION_DENIED


async def test_an_over_long_tenant_is_refused_by_the_service(mesh):
    """Door: a tenant of valid characters but past 64 of them (the gateway's regex is unbounded)."""
    assert await list_status(mesh, signed(mesh.auth_dir, tenant="t" * 65)) == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("case", ["missing", "empty", "null", "control-characters"])
async def test_a_token_without_a_subject_is_refused(mesh, case):
    """Door: a token without `sub` (it escaped the per-subject rate limits). A null one is not a
    well-formed JWT to jwt_authn (registered claims are strings): UNAUTHENTICATED; the rest RBAC's."""
    expected = grpc.StatusCode.UNAUTHENTICATED if case == "null" else grpc.StatusCode.PERMISSION_DENIED
    token = {
        "missing": lambda: signed(mesh.auth_dir, sub=None),
        "empty": lambda: signed(mesh.auth_dir, sub=""),
        "null": lambda: _null_claims(mesh.auth_dir, "sub"),
        "control-characters": lambda: signed(mesh.auth_dir, sub="\x1b[2Jroot"),
    }[case]()
    assert await list_status(mesh, token) == expected


async def test_a_token_without_an_expiry_is_refused(mesh):
    """Door: a token without `exp` (it never expired)."""
    assert await list_status(mesh, signed(mesh.auth_dir, exp=None)) == grpc.StatusCode.UNAUTHENTICATED


async def test_the_local_mesh_accepts_its_dev_token_and_nothing_longer(mesh):
    """Door: a token made to live longer than the gateway allows (the local mesh: the dev token's 30 days)."""
    now = int(time.time())
    assert await list_status(mesh, signed(mesh.auth_dir, iat=now, exp=now + DEV_TOKEN_TTL)) == grpc.StatusCode.OK
    over = signed(mesh.auth_dir, iat=now, exp=now + DEV_TOKEN_TTL + DAY)
    assert await list_status(mesh, over) == grpc.StatusCode.UNAUTHENTICATED
    dev_token = (mesh.auth_dir / "dev-token").read_text().strip()
    assert await list_status(mesh, dev_token) == grpc.StatusCode.OK


# -- a deployed gateway's default maximum lifetime (24 h), on a real Envoy before a stub upstream --
@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def default_gateway(tmp_path_factory):
    async with envoy_before_stub(tmp_path_factory, "token") as gateway:
        yield gateway


async def _stub_status(channel, token: str) -> grpc.StatusCode:
    try:
        await channel.unary_unary(GET_DOCUMENT)(b"", metadata=[("authorization", f"Bearer {token}")], timeout=10)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def test_a_deployed_gateway_refuses_tokens_living_past_a_day(default_gateway):
    """Door: a long-lived token (stolen, it would stay good for months) at a gateway rendered with defaults."""
    keys, channel = default_gateway
    assert gateway_render.DEFAULT_MAX_TOKEN_LIFETIME_SECONDS == DAY
    now = int(time.time())
    assert await _stub_status(channel, signed(keys, iat=now, exp=now + DAY - 60)) == grpc.StatusCode.OK
    assert await _stub_status(channel, signed(keys, iat=now, exp=now + DAY + 3600)) == grpc.StatusCode.UNAUTHENTICATED
    assert (
        await _stub_status(channel, signed(keys, iat=now, exp=now + DEV_TOKEN_TTL)) == grpc.StatusCode.UNAUTHENTICATED
    )
    assert await _stub_status(channel, signed(keys, exp=None)) == grpc.StatusCode.UNAUTHENTICATED


async def test_a_far_expiry_without_iat_is_refused(default_gateway):
    """Door: a token dropping `iat` so its lifetime cannot be measured."""
    keys, channel = default_gateway
    now = int(time.time())
    assert await _stub_status(channel, signed(keys, iat=None, exp=now + 600)) == grpc.StatusCode.OK
    assert await _stub_status(channel, signed(keys, iat=None, exp=now + 30 * DAY)) == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("path", "scope", "expected"),
    [
        ("/mivaa.ocr.v1.OcrService/RecognizeText", "read", grpc.StatusCode.PERMISSION_DENIED),
        ("/mivaa.ocr.v1.OcrService/RecognizeText", "write", grpc.StatusCode.OK),
        ("/mivaa.ocr.v1.OcrService/ListEngines", "read", grpc.StatusCode.OK),
        ("/mivaa.ocr.v1.OcrService/StreamRecognizeText", "write", grpc.StatusCode.PERMISSION_DENIED),  # the pipeline's
    ],
)
async def test_ocr_spends_compute_so_it_needs_write(default_gateway, path, scope, expected):
    """Door: a read-only token running OCR (compute like an upload's) though the RBAC table said nothing."""
    keys, channel = default_gateway
    token = signed(keys, scope=scope, sub=f"ocr-{scope}")
    try:
        await channel.unary_unary(path)(b"", metadata=[("authorization", f"Bearer {token}")], timeout=10)
        code = grpc.StatusCode.OK
    except grpc.aio.AioRpcError as error:
        code = error.code()
    assert code == expected
