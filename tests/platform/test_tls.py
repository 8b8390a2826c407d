"""Mutual TLS: real in-process servers on the shared bootstrap, certificates from tools/make_certs.py."""

from __future__ import annotations

import contextlib
import pathlib
import stat
import subprocess
import sys

import grpc
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mivaa_platform.channels import create_channel, wait_until_serving
from mivaa_platform.config import ConfigError, ServerSettings, load_config
from mivaa_platform.server import GrpcService
from mivaa_platform.tls import ClientTls, client_credentials, service_env
from tests.support.certs import MAKE_CERTS, make_certs

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ("extractor", "search", "embedder", "ocr", "answer")


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("certs")
    make_certs.make_certs(out)
    return out


@pytest.fixture(scope="module")
def other_certs(tmp_path_factory) -> pathlib.Path:
    """Another development CA, with the same names: nothing it signed may get in."""
    out = tmp_path_factory.mktemp("other-certs")
    make_certs.make_certs(out, ("search",))
    return out


@contextlib.asynccontextmanager
async def mtls_service(certs: pathlib.Path, name: str = "search"):
    """A service on the shared bootstrap with `name`'s certificate, SERVING, on a free port."""
    settings = load_config(ServerSettings, "SEARCH", service_env("SEARCH", certs, name))
    service = GrpcService("search", settings)
    port = await service.start()
    await service.set_serving(True)
    try:
        yield service, port
    finally:
        await service.stop()


async def check(channel: grpc.aio.Channel) -> int:
    response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return response.status


async def refused(channel: grpc.aio.Channel) -> grpc.StatusCode:
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await check(channel)
    return failure.value.code()


# -- the server side -----------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["ops", "gateway", "extractor"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_mtls_service_accepts_a_client_certificate_from_its_ca(certs, client, host):
    # No target-name override: the certificate names localhost and 127.0.0.1.
    async with mtls_service(certs) as (service, port):
        assert service.credentials is not None
        async with grpc.aio.secure_channel(f"{host}:{port}", client_credentials(certs, client)) as channel:
            assert await check(channel) == health_pb2.HealthCheckResponse.SERVING


async def test_mtls_service_refuses_a_client_without_a_certificate(certs):
    async with mtls_service(certs) as (_, port):
        no_cert = ClientTls((certs / "ca.pem").read_bytes())
        channel = grpc.aio.secure_channel(f"127.0.0.1:{port}", no_cert.channel_credentials())
        assert await refused(channel) == grpc.StatusCode.UNAVAILABLE


async def test_mtls_service_refuses_a_certificate_from_another_ca(certs, other_certs):
    async with mtls_service(certs) as (_, port):
        # Trusts the right CA (so the server passes the client's check) but presents a foreign certificate.
        foreign = ClientTls.from_files(certs / "ca.pem", other_certs / "ops.pem", other_certs / "ops-key.pem")
        channel = grpc.aio.secure_channel(f"127.0.0.1:{port}", foreign.channel_credentials())
        assert await refused(channel) == grpc.StatusCode.UNAVAILABLE


async def test_a_client_refuses_a_service_from_another_ca(certs, other_certs):
    async with mtls_service(other_certs) as (_, port):
        channel = grpc.aio.secure_channel(f"127.0.0.1:{port}", client_credentials(certs))
        assert await refused(channel) == grpc.StatusCode.UNAVAILABLE


async def test_mtls_service_refuses_plaintext(certs):
    async with mtls_service(certs) as (_, port):
        assert await refused(grpc.aio.insecure_channel(f"127.0.0.1:{port}")) == grpc.StatusCode.UNAVAILABLE


async def test_the_ops_certificate_cannot_serve(certs):
    """ops is client-only: a client checking the server's usage refuses it as a server certificate."""
    async with mtls_service(certs, "ops") as (_, port):
        channel = grpc.aio.secure_channel(f"localhost:{port}", client_credentials(certs, "gateway"))
        assert await refused(channel) == grpc.StatusCode.UNAVAILABLE


# -- service to service --------------------------------------------------------------------------


async def test_create_channel_with_the_services_own_certificate(certs):
    """What search does to reach the embedder: its own certificate, its CA, create_channel's retries."""
    tls = ClientTls.from_env("SEARCH", service_env("SEARCH", certs, "search"))
    assert tls is not None and tls.certificate_chain and tls.private_key
    async with mtls_service(certs, "embedder") as (_, port):
        channel = create_channel(f"127.0.0.1:{port}", tls=tls)
        try:
            await wait_until_serving(channel, timeout=10)
            assert await check(channel) == health_pb2.HealthCheckResponse.SERVING
        finally:
            await channel.close()
        # Without tls=, the same address is refused.
        plain = create_channel(f"127.0.0.1:{port}")
        try:
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await check(plain)
            assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            await plain.close()


async def test_tls_stays_off_when_unset():
    assert ClientTls.from_env("SEARCH", {}) is None
    service = GrpcService("search", load_config(ServerSettings, "SEARCH", {}))
    assert service.credentials is None
    port = await service.start()
    await service.set_serving(True)
    try:
        async with create_channel(f"127.0.0.1:{port}") as channel:
            assert await check(channel) == health_pb2.HealthCheckResponse.SERVING
    finally:
        await service.stop()


def test_partial_or_broken_tls_configuration_stops_start_up(certs, tmp_path):
    env = service_env("OCR", certs, "ocr")
    del env["OCR_TLS_CLIENT_CA"]
    with pytest.raises(ConfigError, match="missing: OCR_TLS_CLIENT_CA"):
        GrpcService("ocr", load_config(ServerSettings, "OCR", env))
    with pytest.raises(ConfigError, match="missing: OCR_TLS_CLIENT_CA"):
        ClientTls.from_env("OCR", env)
    env["OCR_TLS_CLIENT_CA"] = str(tmp_path / "absent.pem")
    with pytest.raises(ConfigError, match="OCR_TLS_CLIENT_CA: cannot read"):
        GrpcService("ocr", load_config(ServerSettings, "OCR", env))
    (tmp_path / "junk.pem").write_text("not a certificate")
    env["OCR_TLS_CLIENT_CA"] = str(tmp_path / "junk.pem")
    with pytest.raises(ConfigError, match="not a PEM file"):
        ClientTls.from_env("OCR", env)


# -- tools/make_certs.py -------------------------------------------------------------------------


def _cert(path: pathlib.Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _usages(cert: x509.Certificate) -> set:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def _sans(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {*san.get_values_for_type(x509.DNSName), *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))}


def test_make_certs_names_usages_and_permissions(certs):
    names = sorted(p.name for p in certs.iterdir())
    expected = ["ca", *SERVICES, "gateway", "ops"]
    assert names == sorted([*(f"{n}.pem" for n in expected), *(f"{n}-key.pem" for n in expected)])
    for path in certs.glob("*-key.pem"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    ca = _cert(certs / "ca.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    both = {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    for service in SERVICES:
        cert = _cert(certs / f"{service}.pem")
        cert.verify_directly_issued_by(ca)
        assert cert.subject.rfc4514_string().startswith(f"CN={service}")
        assert _sans(cert) == {service, "localhost", f"{service}.mivaa.svc.cluster.local", "127.0.0.1"}
        assert _usages(cert) == both
    gateway = _cert(certs / "gateway.pem")
    assert {"localhost", "127.0.0.1"} <= _sans(gateway) and _usages(gateway) == both
    ops = _cert(certs / "ops.pem")
    ops.verify_directly_issued_by(ca)
    assert ops.subject.rfc4514_string().startswith("CN=ops")
    assert _usages(ops) == {ExtendedKeyUsageOID.CLIENT_AUTH}  # no serverAuth


def test_make_certs_keeps_what_is_valid_and_force_replaces_it(tmp_path):
    out = tmp_path / "certs"

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(MAKE_CERTS), "--out", str(out), "--services", "search,embedder", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def contents() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in out.iterdir()}

    assert run().count("created") == 5  # ca, search, embedder, gateway, ops
    first = contents()
    assert run().count("kept") == 5
    assert contents() == first

    # A broken or loosened file is repaired alone; the CA and the others stay.
    (out / "search.pem").write_text("garbage")
    (out / "embedder-key.pem").chmod(0o644)
    assert make_certs.make_certs(out, ("search", "embedder")) == {
        "ca": "kept",
        "search": "created",
        "embedder": "kept",
        "gateway": "kept",
        "ops": "kept",
    }
    assert stat.S_IMODE((out / "embedder-key.pem").stat().st_mode) == 0o600
    repaired = contents()
    assert repaired["search.pem"] != first["search.pem"] and repaired["ca.pem"] == first["ca.pem"]

    # A service added later gets its certificate from the same CA.
    assert make_certs.make_certs(out, ("search", "embedder", "ocr"))["ocr"] == "created"
    _cert(out / "ocr.pem").verify_directly_issued_by(_cert(out / "ca.pem"))

    # --force replaces everything, the CA included.
    assert run("--force").count("created") == 5
    forced = contents()
    assert all(forced[name] != repaired[name] for name in repaired if name != "ocr.pem" and name != "ocr-key.pem")

    # A new CA (the old one lost) reissues every certificate it must sign.
    (out / "ca-key.pem").unlink()
    assert set(make_certs.make_certs(out, ("search", "embedder")).values()) == {"created"}
    for name in ("search", "embedder", "gateway", "ops"):
        _cert(out / f"{name}.pem").verify_directly_issued_by(_cert(out / "ca.pem"))


def test_make_certs_rejects_clashing_names(tmp_path):
    with pytest.raises(ValueError):
        make_certs.make_certs(tmp_path, ("search", "ops"))
