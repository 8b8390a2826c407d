"""The Prometheus endpoint of every service: mTLS when the service has TLS, plain HTTP otherwise."""

from __future__ import annotations

import pathlib
import socket
import ssl
import time
import urllib.error
import urllib.request

import pytest

from mivaa_platform.config import ConfigError, ServerSettings
from mivaa_platform.telemetry import RPC_DURATION, start_metrics_server
from tests.support.certs import make_certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("certs")
    make_certs.make_certs(out, ("search",))
    return out


@pytest.fixture(scope="module")
def tls_port(certs) -> int:
    RPC_DURATION.labels("search", "Probe", "OK").observe(0.01)
    settings = ServerSettings(
        tls_cert=str(certs / "search.pem"), tls_key=str(certs / "search-key.pem"), tls_client_ca=str(certs / "ca.pem")
    )
    return start_metrics_server(_free_port(), tls=settings)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _context(certs: pathlib.Path, client: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    if client:
        context.load_cert_chain(certs / f"{client}.pem", certs / f"{client}-key.pem")
    return context


def test_a_client_certificate_from_the_ca_reads_the_metrics(certs, tls_port):
    body = urllib.request.urlopen(
        f"https://127.0.0.1:{tls_port}/metrics", timeout=5, context=_context(certs, "ops")
    ).read()
    assert b"mivaa_rpc_duration_seconds_bucket" in body


def test_no_client_certificate_no_metrics(certs, tls_port):
    with pytest.raises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
        urllib.request.urlopen(f"https://127.0.0.1:{tls_port}/metrics", timeout=5, context=_context(certs, None)).read()


def test_a_certificate_from_another_ca_no_metrics(certs, tls_port, tmp_path):
    make_certs.make_certs(tmp_path, ())
    context = _context(certs, None)
    context.load_cert_chain(tmp_path / "ops.pem", tmp_path / "ops-key.pem")
    with pytest.raises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
        urllib.request.urlopen(f"https://127.0.0.1:{tls_port}/metrics", timeout=5, context=context).read()


def test_plaintext_is_refused_on_the_tls_port(tls_port):
    with pytest.raises((ConnectionError, urllib.error.URLError, OSError)):
        urllib.request.urlopen(f"http://127.0.0.1:{tls_port}/metrics", timeout=5).read()


def test_a_silent_client_does_not_hold_the_endpoint(certs, tls_port):
    """A connection that never starts its handshake holds its own thread only."""
    with socket.create_connection(("127.0.0.1", tls_port)):
        started = time.monotonic()
        body = urllib.request.urlopen(
            f"https://127.0.0.1:{tls_port}/metrics", timeout=5, context=_context(certs, "ops")
        ).read()
        assert body and time.monotonic() - started < 2


def test_without_tls_the_endpoint_is_plain_http():
    port = start_metrics_server(_free_port(), tls=ServerSettings())
    assert b"mivaa_rpc" in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()


def test_partial_tls_settings_stop_start_up(certs):
    with pytest.raises(ConfigError, match="together"):
        start_metrics_server(_free_port(), tls=ServerSettings(tls_cert=str(certs / "search.pem")))
    with pytest.raises(ConfigError, match="cannot load"):
        start_metrics_server(
            _free_port(),
            tls=ServerSettings(
                tls_cert=str(certs / "search.pem"),
                tls_key=str(certs / "ops-key.pem"),
                tls_client_ca=str(certs / "ca.pem"),
            ),
        )
