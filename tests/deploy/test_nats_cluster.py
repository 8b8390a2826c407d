"""components/nats-cluster in the prod overlay: three JetStream servers with their own volumes on
different nodes, routes between them over mutual TLS, the base's users and permissions, a
disruption budget, and streams declared with three replicas. (tests/platform/test_stream_replicas.py
starts three real servers from the rendered config.)"""

from __future__ import annotations

import subprocess
import sys

import kubernetes_validate

from tests.deploy.k8s_manifests import CUSTOM_KINDS, K8S, KUBERNETES_VERSION, REPO, find, overlay

COMPONENT = K8S / "components" / "nats-cluster"


def nats(built) -> dict:
    return find(built, "StatefulSet", "nats")


def nats_config(built) -> str:
    [config] = [r for r in built if r["kind"] == "ConfigMap" and r["metadata"]["name"].startswith("nats-config")]
    return config["data"]["nats.conf"]


def test_the_prod_overlay_builds_and_validates():
    for item in overlay("prod"):
        if item["kind"] not in CUSTOM_KINDS:
            kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)
        if item["kind"] != "Namespace":
            assert item["metadata"].get("namespace") == "mivaa", (item["kind"], item["metadata"]["name"])


def test_rendered_configs_are_up_to_date():
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "render_nats_config.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_three_servers_one_volume_each_on_different_nodes():
    statefulset = nats(overlay("prod"))
    spec = statefulset["spec"]
    assert spec["replicas"] == 3 and spec["serviceName"] == "nats-headless"
    [claim] = spec["volumeClaimTemplates"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert {"name": "data", "mountPath": "/data"} in spec["template"]["spec"]["containers"][0]["volumeMounts"]
    [term] = spec["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term == {"labelSelector": {"matchLabels": {"app": "nats"}}, "topologyKey": "kubernetes.io/hostname"}
    budget = find(overlay("prod"), "PodDisruptionBudget", "nats")
    assert budget["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "nats"}}}


def test_routes_resolve_through_the_headless_service_to_each_pod():
    built = overlay("prod")
    headless = find(built, "Service", "nats-headless")["spec"]
    assert headless["clusterIP"] == "None"
    assert headless["selector"] == nats(built)["spec"]["selector"]["matchLabels"]
    assert {"name": "cluster", "port": 6222, "targetPort": 6222} in headless["ports"]
    container = nats(built)["spec"]["template"]["spec"]["containers"][0]
    assert {"containerPort": 6222, "name": "cluster"} in container["ports"]
    config = nats_config(built)
    for index in range(3):
        assert f'"nats-route://nats-{index}.nats-headless:6222"' in config
    # server_name: each pod's own name, from the downward API.
    assert "server_name: $POD_NAME\n" in config
    pod_name = next(e for e in container["env"] if e["name"] == "POD_NAME")
    assert pod_name["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_routes_are_mutual_tls_with_a_certificate_naming_each_route():
    built = overlay("prod")
    config = nats_config(built)
    assert '"ca_file": "/etc/nats/tls/ca.crt", "verify_cert_and_check_known_urls": true' in config
    assert '"no_advertise": true' in config
    names = set(find(built, "Certificate", "mivaa-nats-tls")["spec"]["dnsNames"])
    assert {f"nats-{index}.nats-headless" for index in range(3)} <= names
    # Only the other NATS pods reach the route port.
    rules = find(built, "NetworkPolicy", "allow-nats")["spec"]["ingress"]
    route_rules = [rule for rule in rules if {p["port"] for p in rule["ports"]} & {6222}]
    assert route_rules == [
        {"from": [{"podSelector": {"matchLabels": {"app": "nats"}}}], "ports": [{"port": 6222, "protocol": "TCP"}]}
    ]


def test_the_clustered_config_keeps_the_base_users_and_permissions():
    base = (K8S / "base" / "nats.conf").read_text()
    clustered = nats_config(overlay("prod"))
    assert clustered == (COMPONENT / "nats.conf").read_text()
    authorization = base[base.index("authorization {") :]
    assert clustered.endswith(authorization)
    assert "http" not in clustered.replace("nats-route://", "")


def test_streams_get_three_replicas_and_keda_asks_each_server():
    built = overlay("prod")
    peers = find(built, "ConfigMap", "mivaa-peers")["data"]
    assert peers["EXTRACTOR_NATS_STREAM_REPLICAS"] == "3"
    assert peers["EXTRACTOR_NATS_URL"] == "tls://nats:4222"  # clients still dial the Service
    for name in ("extractor-worker", "ocr"):
        for trigger in find(built, "ScaledObject", name)["spec"]["triggers"]:
            if trigger["type"] == "nats-jetstream":
                endpoint = trigger["metadata"]["natsServerMonitoringEndpoint"]
                assert endpoint == "nats-headless.mivaa.svc.cluster.local:8222", name


def test_dev_stays_a_single_server():
    built = overlay("dev")
    assert nats(built)["spec"]["replicas"] == 1
    assert "EXTRACTOR_NATS_STREAM_REPLICAS" not in find(built, "ConfigMap", "mivaa-peers")["data"]
    assert "cluster" not in nats_config(built)
    assert find(built, "StatefulSet", "postgres")["spec"]["replicas"] == 1
    assert not [r for r in built if r["kind"] == "Cluster" or r["metadata"]["name"] == "otel-collector"]


def test_a_stopping_server_hands_over_in_lame_duck_mode_within_its_grace_period():
    statefulset = nats(overlay("prod"))
    pod = statefulset["spec"]["template"]["spec"]
    [container] = pod["containers"]
    hook = " ".join(container["lifecycle"]["preStop"]["exec"]["command"])
    assert "nats-server --signal ldm=/tmp/nats.pid" in hook and "--pid=/tmp/nats.pid" in container["args"]
    assert {"name": "run", "mountPath": "/tmp"} in container["volumeMounts"]  # the root is read-only
    config = nats_config(overlay("prod"))
    seconds = {
        key: int(value.removesuffix('s"'))
        for key, value in (line.split(': "') for line in config.splitlines() if line.startswith("lame_duck_"))
    }
    assert seconds.keys() == {"lame_duck_grace_period", "lame_duck_duration"}
    assert sum(seconds.values()) < pod["terminationGracePeriodSeconds"]
