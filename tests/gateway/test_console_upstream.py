"""The console in a cluster: Envoy routes GET of the console's paths to its static file server
(deploy/k8s/base/console.yaml), adds the same caching and security headers as when it serves
the files itself, and opens nothing else without a token."""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import threading

import pytest
import pytest_asyncio

from mivaa_cli import auth
from mivaa_gateway import Oidc
from tests.gateway.harness import Envoy, http_request, start_upstream

# Never reached here (nothing listens there): the gateway starts, and fetches the keys when it can.
PROVIDER = Oidc(issuer="http://127.0.0.1:9/realm", jwks_uri="http://127.0.0.1:9/realm/jwks", client_id="console")
INDEX = b'<!doctype html><script type="module" src="/assets/index-abc.js"></script>'
SCRIPT = b"console.log('hi')"


class _Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test's output stays readable
        pass

    def end_headers(self) -> None:
        # What a file server might say: the gateway must replace it, not add to it.
        self.send_header("Cache-Control", "max-age=60")
        super().end_headers()


@pytest.fixture(scope="module")
def file_server(tmp_path_factory):
    """A real static file server over a built console (what the console image's nginx does)."""
    folder = tmp_path_factory.mktemp("dist")
    (folder / "assets").mkdir()
    (folder / "index.html").write_bytes(INDEX)
    (folder / "favicon.svg").write_bytes(b"<svg/>")
    (folder / "assets" / "index-abc.js").write_bytes(SCRIPT)
    (folder / "secret.txt").write_bytes(b"not a console path")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Files, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def envoy(file_server, tmp_path_factory):
    keys = tmp_path_factory.mktemp("keys")
    auth.init_keys(keys)
    upstream = await start_upstream()
    gateway = Envoy(
        tmp_path_factory.mktemp("envoy"),
        upstream.port,
        jwks_path=str(keys / auth.JWKS),
        console_upstream=f"127.0.0.1:{file_server}",
        oidc=PROVIDER,
    )
    gateway.start()
    try:
        await gateway.wait_ready()
        yield gateway
    finally:
        gateway.stop()
        await upstream.server.stop(None)


@pytest.mark.parametrize("path", ["/", "/index.html"])
async def test_the_page_comes_from_the_file_server_revalidated(envoy, path):
    status, headers, body = await asyncio.to_thread(http_request, envoy.port, "GET", path)
    assert (status, body) == (200, INDEX)
    assert headers["content-type"].startswith("text/html")
    assert headers["cache-control"] == "no-cache"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


async def test_hashed_assets_are_cached_for_good(envoy):
    status, headers, body = await asyncio.to_thread(http_request, envoy.port, "GET", "/assets/index-abc.js")
    assert (status, body) == (200, SCRIPT)
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    status, _, _ = await asyncio.to_thread(http_request, envoy.port, "HEAD", "/favicon.svg")
    assert status == 200


async def test_the_console_learns_its_sign_in_provider_without_a_token(envoy):
    status, headers, body = await asyncio.to_thread(http_request, envoy.port, "GET", "/config.json")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "oidc": {"issuer": PROVIDER.issuer, "clientId": "console", "audience": "mivaa", "scope": "openid read write"}
    }
    # The page may fetch discovery and the token from the provider's origin, and nowhere else.
    status, headers, _ = await asyncio.to_thread(http_request, envoy.port, "GET", "/")
    assert "connect-src 'self' http://127.0.0.1:9;" in headers["content-security-policy"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/secret.txt"),
        ("POST", "/config.json"),  # on the file server, but not a console path
        ("GET", "/index.html.bak"),
        ("GET", "/assets/../secret.txt"),
        ("GET", "/assets/%2e%2e/secret.txt"),
        ("POST", "/"),
        ("PUT", "/assets/index-abc.js"),
        ("GET", "/mivaa.search.v1.SearchService/ListDocuments"),
        ("POST", "/mivaa.search.v1.SearchService/ListDocuments"),
    ],
)
async def test_anything_else_still_needs_a_token(envoy, method, path):
    status, _, _ = await asyncio.to_thread(
        http_request, envoy.port, method, path, {"content-type": "application/grpc-web"}
    )
    assert status == 401, (method, path, status)
