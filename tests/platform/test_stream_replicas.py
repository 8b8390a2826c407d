"""How many servers keep each stream: <PREFIX>_NATS_STREAM_REPLICAS (1 by default), and
ensure_topology declaring every stream and bucket with it on real servers started from the
Kubernetes configs (tools/render_nats_config.py's settings, with local paths and ports), the
extractor's own user declaring them; and the clustered config's routes admitting only a server
whose certificate names a route."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import importlib.util
import os
import pathlib
import shutil
import socket
import subprocess
import time

import nats
import pytest

from mivaa_cli.localmesh.processes import installed_binary
from mivaa_platform import messaging
from mivaa_platform.config import ConfigError
from tests.support.certs import make_certs

REPO = pathlib.Path(__file__).resolve().parents[2]
STREAMS = (
    messaging.WORK_STREAM,
    messaging.EVENTS_STREAM,
    f"KV_{messaging.JOBS_BUCKET}",
    f"KV_{messaging.BATCHES_BUCKET}",
    f"KV_{messaging.WEBHOOKS_BUCKET}",
    f"KV_{messaging.WEBHOOK_DELIVERIES_BUCKET}",
    messaging.ORIGINALS_STREAM,
)


def test_one_replica_unless_set():
    env = {"EXTRACTOR_NATS_URL": "tls://nats:4222"}
    assert messaging.NatsSettings.from_env("EXTRACTOR", env).stream_replicas == 1
    settings = messaging.NatsSettings.from_env("EXTRACTOR", env | {"EXTRACTOR_NATS_STREAM_REPLICAS": "3"})
    assert settings.stream_replicas == 3


@pytest.mark.parametrize("value", ["0", "6", "-1", "three"])
def test_replicas_outside_what_jetstream_allows_stop_start_up(value):
    env = {"EXTRACTOR_NATS_URL": "tls://nats:4222", "EXTRACTOR_NATS_STREAM_REPLICAS": value}
    with pytest.raises(ConfigError, match="EXTRACTOR_NATS_STREAM_REPLICAS"):
        messaging.NatsSettings.from_env("EXTRACTOR", env)


def _tool():
    spec = importlib.util.spec_from_file_location(
        "mivaa_tools_render_nats_config", REPO / "tools" / "render_nats_config.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class _Servers:
    """nats-servers from the Kubernetes config (clustered when more than one: routed over mutual
    TLS on localhost, as `nats-route://localhost:<port>`), each with a certificate of its own choice."""

    PASSWORD = "cluster-test-password"

    def __init__(self, tmp_path: pathlib.Path, size: int):
        binary = installed_binary("nats-server")
        self.binary, self.tmp_path, self.size = binary, tmp_path, size
        self.certs = tmp_path / "certs"
        make_certs.make_certs(self.certs, ("nats", "extractor"))
        (self.certs / "password").write_text(self.PASSWORD)
        self.tool = _tool()
        ports = _free_ports(2 * size)
        self.client_ports, self.cluster_ports = ports[:size], ports[size:]
        self.routes = [f"nats-route://localhost:{port}" for port in self.cluster_ports]
        self.processes: list[subprocess.Popen] = []

    def tls_dir(self, name: str, cert: bytes, key: bytes) -> pathlib.Path:
        folder = self.tmp_path / f"tls-{name}"
        folder.mkdir()
        (folder / "tls.crt").write_bytes(cert)
        (folder / "tls.key").write_bytes(key)
        shutil.copy(self.certs / "ca.pem", folder / "ca.crt")
        return folder

    def start(self, name: str, client_port: int, cluster_port: int, tls_dir: pathlib.Path) -> None:
        settings = self.tool.server_settings(
            clustered=self.size > 1,
            store_dir=str(self.tmp_path / f"data-{name}"),
            tls_dir=str(tls_dir),
            port=client_port,
            cluster_port=cluster_port,
            routes=self.routes,
        )
        settings["host"] = "127.0.0.1"
        config = self.tmp_path / f"{name}.conf"
        config.write_text(self.tool.config(settings))
        env = os.environ | {self.tool.password_variable(role): self.PASSWORD for role in self.tool.ROLES}
        log = (self.tmp_path / f"{name}.log").open("w")
        self.processes.append(
            subprocess.Popen([self.binary, "-c", str(config)], env=env | {"POD_NAME": name}, stdout=log, stderr=log)
        )

    def start_all(self) -> None:
        nats_tls = self.tls_dir(
            "nats", (self.certs / "nats.pem").read_bytes(), (self.certs / "nats-key.pem").read_bytes()
        )
        for index in range(self.size):
            self.start(f"nats-{index}", self.client_ports[index], self.cluster_ports[index], nats_tls)
        _wait_for_port(self.client_ports[0])

    def settings(self, user: str) -> messaging.NatsSettings:
        return messaging.NatsSettings(
            url=f"tls://localhost:{self.client_ports[0]}",
            user=user,
            password_file=str(self.certs / "password"),
            ca_file=str(self.certs / "ca.pem"),
            stream_replicas=self.size,
        )

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=10)


@contextlib.contextmanager
def _servers(tmp_path: pathlib.Path, size: int):
    servers = _Servers(tmp_path, size)
    try:
        servers.start_all()
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def nats_cluster(tmp_path):
    with _servers(tmp_path, 3) as servers:
        yield servers


@pytest.fixture
def nats_single(tmp_path):
    with _servers(tmp_path, 1) as servers:
        yield servers


async def _jetstream_ready(js, timeout: float = 60.0) -> None:
    """JetStream answers once the three servers have routed and elected a meta leader."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await js.account_info()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def test_the_extractor_declares_every_stream_with_three_replicas_on_a_cluster(nats_cluster):
    settings = nats_cluster.settings("extractor")
    nc = await nats.connect(**settings.connect_options())
    try:
        js = nc.jetstream()
        await _jetstream_ready(js)
        await messaging.ensure_topology(js, replicas=settings.stream_replicas)
        for stream in STREAMS:
            info = await js.stream_info(stream)
            assert info.config.num_replicas == 3, stream
            # The leader and two followers, each on another server.
            assert info.cluster is not None and len(info.cluster.replicas or []) == 2, stream
            servers = {info.cluster.leader, *(peer.name for peer in info.cluster.replicas)}
            assert servers == {"nats-0", "nats-1", "nats-2"}, stream
        # Declaring again (another replica of the extractor starting) changes nothing.
        await messaging.ensure_topology(js, replicas=3)
        assert (await js.stream_info(messaging.WORK_STREAM)).config.num_replicas == 3
    finally:
        await nc.close()


async def test_a_single_server_keeps_one_copy_of_each_stream(nats_single):
    nc = await nats.connect(**nats_single.settings("extractor").connect_options())
    try:
        js = nc.jetstream()
        await _jetstream_ready(js)
        await messaging.ensure_topology(js)  # the default: EXTRACTOR_NATS_STREAM_REPLICAS unset
        for stream in STREAMS:
            assert (await js.stream_info(stream)).config.num_replicas == 1, stream
        # More copies than there are servers: JetStream refuses, and start-up fails loudly.
        with pytest.raises(nats.js.errors.APIError):
            await messaging.ensure_topology(js, replicas=3)
    finally:
        await nc.close()


def _certificate_without_the_route_names(certs: pathlib.Path) -> tuple[bytes, bytes]:
    """From the mivaa CA, for a client and server, naming `search` only (as a service's does): not
    `localhost`, the host of every route URL here (nats-<n>.nats-headless in the cluster)."""
    from cryptography.hazmat.primitives import serialization

    ca_cert, ca_key = make_certs._load(certs / "ca.pem", certs / "ca-key.pem")
    spec = make_certs.Spec("search", ("search",), (), True, True)
    now = datetime.datetime.now(datetime.UTC)
    cert, key = make_certs._new_leaf(spec, ca_cert, ca_key, 30, now)
    return cert.public_bytes(serialization.Encoding.PEM), make_certs._key_pem(key)


async def _four_replicas_placed(js, timeout: float) -> bool:
    """Whether a stream of four replicas can be placed (only with a fourth server in the cluster)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await js.add_stream(name="PROBE", subjects=["probe.>"], num_replicas=4)
            return True
        except nats.js.errors.APIError:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.5)


async def test_only_a_certificate_naming_a_route_joins_the_cluster(nats_cluster):
    """Mutual TLS on the routes: a server with another mivaa certificate is refused (a service's
    certificate cannot join the cluster); the same server with the NATS certificate joins."""
    nc = await nats.connect(**nats_cluster.settings("ops").connect_options())
    try:
        js = nc.jetstream()
        await _jetstream_ready(js)
        client_port, cluster_port = _free_ports(2)
        cert, key = _certificate_without_the_route_names(nats_cluster.certs)
        nats_cluster.start("intruder", client_port, cluster_port, nats_cluster.tls_dir("intruder", cert, key))
        assert not await _four_replicas_placed(js, timeout=8)
        nats_tls = nats_cluster.tmp_path / "tls-nats"
        client_port, cluster_port = _free_ports(2)
        nats_cluster.start("nats-3", client_port, cluster_port, nats_tls)
        assert await _four_replicas_placed(js, timeout=30)
    finally:
        await nc.close()
    # The servers refused its routes (and not, say, its JetStream): its log says so.
    assert "Route Error 'Authorization Violation'" in (nats_cluster.tmp_path / "intruder.log").read_text()
