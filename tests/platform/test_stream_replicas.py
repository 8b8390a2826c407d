"""How many servers keep each stream: <PREFIX>_NATS_STREAM_REPLICAS (1 by default), and
ensure_topology declaring every stream and bucket with it on three real clustered servers started
from the Kubernetes component's rendered config (tools/render_nats_config.py --clustered settings,
with local paths and ports), the extractor's own user declaring them."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import pathlib
import shutil
import socket
import subprocess
import time

import nats
import pytest

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


@contextlib.contextmanager
def _servers(tmp_path: pathlib.Path, count: int):
    """`count` nats-servers from the Kubernetes config (clustered when more than one: routed over
    mutual TLS on localhost); yields the extractor's settings for the first."""
    binary = shutil.which("nats-server")
    if binary is None:
        pytest.skip("nats-server is not installed")
    certs = tmp_path / "certs"
    make_certs.make_certs(certs, ("nats", "extractor"))
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir()
    for source, target in (("nats.pem", "tls.crt"), ("nats-key.pem", "tls.key"), ("ca.pem", "ca.crt")):
        shutil.copy(certs / source, tls_dir / target)
    tool = _tool()
    ports = _free_ports(2 * count)
    client_ports, cluster_ports = ports[:count], ports[count:]
    routes = [f"nats-route://localhost:{port}" for port in cluster_ports]
    password = "cluster-test-password"
    env = os.environ | {tool.password_variable(role): password for role in tool.ROLES}
    processes = []
    try:
        for index in range(count):
            settings = tool.server_settings(
                clustered=count > 1,
                store_dir=str(tmp_path / f"data-{index}"),
                tls_dir=str(tls_dir),
                port=client_ports[index],
                cluster_port=cluster_ports[index],
                routes=routes,
            )
            settings["host"] = "127.0.0.1"
            config = tmp_path / f"nats-{index}.conf"
            config.write_text(tool.config(settings))
            log = (tmp_path / f"nats-{index}.log").open("w")
            processes.append(
                subprocess.Popen(
                    [binary, "-c", str(config)], env=env | {"POD_NAME": f"nats-{index}"}, stdout=log, stderr=log
                )
            )
        (certs / "extractor.password").write_text(password)
        _wait_for_port(client_ports[0])
        yield messaging.NatsSettings(
            url=f"tls://localhost:{client_ports[0]}",
            user="extractor",
            password_file=str(certs / "extractor.password"),
            ca_file=str(tls_dir / "ca.crt"),
            stream_replicas=count,
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


@pytest.fixture
def nats_cluster(tmp_path):
    with _servers(tmp_path, 3) as settings:
        yield settings


@pytest.fixture
def nats_single(tmp_path):
    with _servers(tmp_path, 1) as settings:
        yield settings


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
    nc = await nats.connect(**nats_cluster.connect_options())
    try:
        js = nc.jetstream()
        await _jetstream_ready(js)
        await messaging.ensure_topology(js, replicas=nats_cluster.stream_replicas)
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
    nc = await nats.connect(**nats_single.connect_options())
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
