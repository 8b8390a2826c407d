"""A real Envoy (rendered by mivaa_gateway) in front of a small in-process gRPC server.

The upstream answers health, reflection and ANY other method (raw bytes in, empty
response out), recording each call's path and metadata, so the gateway's policy is
tested without the real services.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http.client
import os
import pathlib
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

import mivaa_gateway as gateway_render

REPO = pathlib.Path(__file__).resolve().parents[2]

ENVOY = pathlib.Path(sys.executable).parent / "envoy"
STREAMING_REQUESTS = {"UploadDocument", "UpsertChunks", "StreamEmbedTexts", "EmbedImages", "StreamRecognizeText"}


def http_request(port: int, method: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One plain HTTP request (the console's files): status, lower-cased headers, body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Recorded:
    method: str
    metadata: dict[str, str]
    request_bytes: int


@dataclass
class Upstream:
    server: grpc.aio.Server
    port: int
    calls: list[Recorded] = field(default_factory=list)

    def last(self, method_suffix: str) -> Recorded:
        return next(call for call in reversed(self.calls) if call.method.endswith(method_suffix))


class _AnyMethod(grpc.GenericRpcHandler):
    def __init__(self, calls: list[Recorded]):
        self.calls = calls

    def service(self, details):
        method = details.method
        if method.startswith(("/grpc.health.", "/grpc.reflection.")):
            return None  # the real servicers answer these

        def record(context, size: int) -> bytes:
            self.calls.append(Recorded(method, {k: v for k, v in context.invocation_metadata()}, size))
            return b""

        if method.rsplit("/", 1)[-1] in STREAMING_REQUESTS:

            async def stream_unary(requests, context):
                size = 0
                async for chunk in requests:
                    size += len(chunk)
                return record(context, size)

            return grpc.stream_unary_rpc_method_handler(stream_unary)

        async def unary_unary(request, context):
            return record(context, len(request))

        return grpc.unary_unary_rpc_method_handler(unary_unary)


async def start_upstream(credentials: grpc.ServerCredentials | None = None) -> Upstream:
    calls: list[Recorded] = []
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([_AnyMethod(calls)])
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    reflection.enable_server_reflection(
        [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], server
    )
    port = (
        server.add_secure_port("127.0.0.1:0", credentials) if credentials else server.add_insecure_port("127.0.0.1:0")
    )
    await server.start()
    return Upstream(server, port, calls)


def admin_get(admin_socket: pathlib.Path, path: str, timeout: float = 2.0) -> str:
    """GET on Envoy's admin interface, which listens on a unix socket only."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(admin_socket))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


class Envoy:
    """Envoy on a rendered config; stopped as a process group."""

    def __init__(
        self,
        workdir: pathlib.Path,
        upstream_port: int,
        services: tuple[str, ...] = ("extractor", "search", "embedder", "ocr"),
        **options,
    ):
        self.port = free_port()
        self.admin_socket = workdir / f"envoy-{self.port}-admin.sock"
        self.config = workdir / f"envoy-{self.port}.yaml"
        address = f"127.0.0.1:{upstream_port}"
        self.config.write_text(
            gateway_render.render(
                port=self.port,
                admin_socket=str(self.admin_socket),
                upstreams=dict.fromkeys(services, address),
                cors_origins=["http://allowed.example"],
                **options,
            )
        )
        self.log = workdir / f"envoy-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        # Envoy ends itself when its parent exits; the shell in between (which does not exec
        # into Envoy because of the second command) keeps that parent under our control, and
        # its own session lets stop() end exactly this process group.
        argv = [str(ENVOY), "-c", str(self.config), "--use-dynamic-base-id", "--log-level", "warn"]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["/bin/sh", "-c", '"$@"; exit $?', "envoy", *argv],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, timeout: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"envoy exited {self.process.returncode}:\n{self.log.read_text()[-4000:]}")
            try:
                body = await asyncio.to_thread(admin_get, self.admin_socket, "/clusters")
                if "health_flags::healthy" in body and "failed_active_hc" not in body:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.1)
        raise TimeoutError(f"envoy not ready:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


@dataclass
class Pki:
    ca: pathlib.Path
    server_cert: pathlib.Path
    server_key: pathlib.Path
    client_cert: pathlib.Path
    client_key: pathlib.Path


def make_pki(directory: pathlib.Path) -> Pki:
    """A throwaway CA with a server certificate (localhost, 127.0.0.1) and a client certificate."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mivaa test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(name: str, usage, san=None):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return key, builder.sign(ca_key, hashes.SHA256())

    import ipaddress

    server_key, server = leaf(
        "localhost",
        x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        # One stub answers for every upstream: the gateway checks each cluster's service name.
        + [x509.DNSName(name) for name in ("extractor", "search", "embedder", "ocr")],
    )
    client_key, client = leaf("gateway", x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH)
    directory.mkdir(parents=True, exist_ok=True)

    def write(name: str, data: bytes) -> pathlib.Path:
        path = directory / name
        path.write_bytes(data)
        return path

    def pem_key(key) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    return Pki(
        ca=write("ca.pem", ca.public_bytes(serialization.Encoding.PEM)),
        server_cert=write("server.pem", server.public_bytes(serialization.Encoding.PEM)),
        server_key=write("server-key.pem", pem_key(server_key)),
        client_cert=write("client.pem", client.public_bytes(serialization.Encoding.PEM)),
        client_key=write("client-key.pem", pem_key(client_key)),
    )


@contextlib.asynccontextmanager
async def envoy_before_stub(
    tmp_path_factory, name: str, **render_options
) -> AsyncIterator[tuple[pathlib.Path, grpc.aio.Channel]]:
    """A real Envoy with JWT keys of its own in front of a stub upstream: (the keys' folder, a plaintext channel)."""
    from mivaa_cli import auth

    keys = tmp_path_factory.mktemp(f"{name}-keys")
    auth.init_keys(keys)
    upstream = await start_upstream()
    envoy = Envoy(
        tmp_path_factory.mktemp(f"{name}-envoy"), upstream.port, jwks_path=str(keys / auth.JWKS), **render_options
    )
    envoy.start()
    try:
        await envoy.wait_ready()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{envoy.port}") as channel:
            yield keys, channel
    finally:
        envoy.stop()
        await upstream.server.stop(None)
