"""The web console's files, served by the real Envoy: open for GET of exactly those paths, nothing more."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from mivaa_cli import auth
from tests.gateway.harness import Envoy, start_upstream
from tests.gateway.harness import http_request as request

INDEX = b'<!doctype html><script type="module" src="/assets/index-abc.js"></script>'
SCRIPT = b"console.log('hi')"


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dist")
    (folder / "assets").mkdir()
    (folder / "index.html").write_bytes(INDEX)
    (folder / "assets" / "index-abc.js").write_bytes(SCRIPT)
    (folder / "assets" / "notes.map").write_bytes(b"not served: no content type for it")
    return folder


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def envoy(dist, tmp_path_factory):
    keys = tmp_path_factory.mktemp("keys")
    auth.init_keys(keys)
    upstream = await start_upstream()
    gateway = Envoy(
        tmp_path_factory.mktemp("envoy"), upstream.port, jwks_path=str(keys / auth.JWKS), console_dir=str(dist)
    )
    gateway.start()
    try:
        await gateway.wait_ready()
        yield gateway
    finally:
        gateway.stop()
        await upstream.server.stop(None)


async def test_index_and_assets_are_served_without_a_token(envoy):
    status, headers, body = await asyncio.to_thread(request, envoy.port, "GET", "/")
    assert (status, body) == (200, INDEX)
    assert headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-cache"
    assert "connect-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    status, headers, body = await asyncio.to_thread(request, envoy.port, "GET", "/assets/index-abc.js")
    assert (status, body) == (200, SCRIPT)
    assert headers["content-type"].startswith("text/javascript")
    assert "immutable" in headers["cache-control"]


async def test_without_a_provider_the_console_is_told_so(envoy):
    status, _, body = await asyncio.to_thread(request, envoy.port, "GET", "/config.json")
    assert (status, body) == (200, b'{"oidc": null}')


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/assets/notes.map"),  # a file type the console does not serve
        ("GET", "/index.html.bak"),
        ("GET", "/assets/"),
        ("POST", "/"),  # only GET and HEAD open the files
        ("DELETE", "/assets/index-abc.js"),
        ("POST", "/mivaa.search.v1.SearchService/ListDocuments"),
    ],
)
async def test_anything_else_still_needs_a_token(envoy, method, path):
    status, _, _ = await asyncio.to_thread(request, envoy.port, method, path, {"content-type": "application/grpc-web"})
    assert status == 401, (method, path, status)
