"""Calls spread over replicas. In the cluster every service-to-service address is a headless
Service's name (`dns:///search:50051`: one address per ready pod) and every channel balances with
round_robin; the gateway's clusters are STRICT_DNS with ROUND_ROBIN over the same names. Here two
real server processes stand behind one target that resolves to both, as a headless name does."""

from __future__ import annotations

import collections
import subprocess
import sys

import pytest
import yaml

from mivaa_platform.channels import create_channel
from mivaa_platform.tls import ClientTls
from tests.deploy.k8s_manifests import K8S, MANIFESTS, resource
from tests.support.certs import make_certs

SERVER = K8S.parents[1] / "tests" / "deploy" / "replica_server.py"
# The gRPC services other pods or the gateway call (extractor-worker is called by no one).
CALLED = ("extractor", "search", "embedder", "ocr", "answer")


@pytest.fixture
def replicas(tmp_path):
    certs = tmp_path / "certs"
    make_certs.make_certs(certs, ("search", "extractor"))
    processes = [
        subprocess.Popen([sys.executable, str(SERVER), name, str(certs)], stdout=subprocess.PIPE, text=True)
        for name in ("search-0", "search-1")
    ]
    try:
        ports = [int(process.stdout.readline()) for process in processes]
        yield certs, ports
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)


async def test_two_replicas_behind_one_name_both_serve(replicas):
    certs, ports = replicas
    # What a headless Service's name resolves to, written out: one address per ready pod.
    target = "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports)
    # The extractor's client certificate, and the name the cluster dials (`search`) checked in the replicas'.
    tls = ClientTls.from_cert_dir(certs, "extractor", server_name="search")
    channel = create_channel(target, tls=tls, unary_seconds=10)
    try:
        call = channel.unary_unary("/mivaa.test.v1.Replica/Name")
        answers = collections.Counter([(await call(b"")).decode() for _ in range(40)])
    finally:
        await channel.close()
    assert set(answers) == {"search-0", "search-1"}, answers
    assert min(answers.values()) >= 15, answers  # round robin: about half each


def test_called_services_are_headless():
    for name in CALLED:
        service = resource("Service", name)
        assert service["spec"].get("clusterIP") == "None", f"{name}: a ClusterIP pins each connection to one pod"


def test_peer_addresses_resolve_every_pod():
    peers = resource("ConfigMap", "mivaa-peers")["data"]
    addresses = [value for variable, value in peers.items() if variable.endswith("_ADDR")]
    assert addresses and all(value.startswith("dns:///") for value in addresses), addresses


def test_gateway_balances_each_grpc_cluster_over_the_headless_name():
    config = yaml.safe_load((K8S / "base" / "envoy.yaml").read_text())
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    for name in CALLED:
        cluster = clusters[name]
        assert cluster["type"] == "STRICT_DNS" and cluster["lb_policy"] == "ROUND_ROBIN", name
        [endpoints] = cluster["load_assignment"]["endpoints"]
        [endpoint] = endpoints["lb_endpoints"]
        assert endpoint["endpoint"]["address"]["socket_address"]["address"] == name


def test_no_headless_service_publishes_pods_that_are_not_ready():
    for _, item in MANIFESTS:
        if item["kind"] == "Service" and item["spec"].get("clusterIP") == "None":
            assert not item["spec"].get("publishNotReadyAddresses"), item["metadata"]["name"]
