"""components/monitoring: it builds with the base, every PodMonitor scrapes a port its pods have with
a certificate that exists, and its rules and dashboards are exactly the files of deploy/observability."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from tests.deploy.k8s_manifests import K8S, REPO, SERVICE_WORKLOADS, build_with_components, pod_spec, resource

COMPONENT = K8S / "components" / "monitoring"
OBSERVABILITY = REPO / "deploy" / "observability"
GATEWAY_STATS = ("gateway", "stats", "/stats/prometheus")


def documents(name: str) -> list[dict]:
    return [document for document in yaml.safe_load_all((COMPONENT / name).read_text()) if document]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> list[dict]:
    return build_with_components(tmp_path_factory.mktemp("monitoring"), ["cert-manager", "monitoring"])


def test_generated_manifests_are_up_to_date():
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "make_k8s_monitoring.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_rules_are_exactly_the_rule_files():
    rules = {rule["metadata"]["name"]: rule for rule in documents("rules.yaml")}
    sources = {path.stem: path for path in (OBSERVABILITY / "rules").glob("*.yml")}
    assert set(rules) == set(sources)
    for name, path in sources.items():
        assert rules[name]["kind"] == "PrometheusRule"
        assert rules[name]["spec"]["groups"] == yaml.safe_load(path.read_text())["groups"], name


def test_dashboards_are_exactly_the_dashboard_files():
    carried = {}
    for config_map in documents("dashboards.yaml"):
        assert config_map["kind"] == "ConfigMap"
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        carried |= config_map["data"]
    sources = {path.name: path.read_text() for path in (OBSERVABILITY / "dashboards").glob("*.json")}
    assert carried == sources
    for text in carried.values():
        json.loads(text)


def test_every_workload_with_a_metrics_port_has_a_monitor(built):
    monitored = {m["spec"]["selector"]["matchLabels"]["app"] for m in built if m["kind"] == "PodMonitor"}
    assert set(SERVICE_WORKLOADS) | {"gateway"} <= monitored


def _pods(built: list[dict], selector: dict) -> list[dict]:
    """The pod templates of the built workloads whose labels match a selector's matchLabels."""
    return [
        workload["spec"]["template"]
        for workload in built
        if workload["kind"] in ("Deployment", "StatefulSet")
        and selector["matchLabels"].items() <= workload["spec"]["template"]["metadata"]["labels"].items()
    ]


def test_every_monitored_port_exists_on_the_pods_it_selects(built):
    for monitor in (m for m in built if m["kind"] == "PodMonitor"):
        pods = _pods(built, monitor["spec"]["selector"])
        assert pods, f"{monitor['metadata']['name']} selects no pod"
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            for pod in pods:
                ports = {port.get("name") for c in pod["spec"]["containers"] for port in c.get("ports", [])}
                assert endpoint["port"] in ports, (monitor["metadata"]["name"], endpoint["port"])


def test_monitors_scrape_over_mtls_with_the_prometheus_certificate(built):
    certificates = {item["spec"]["secretName"]: item for item in built if item["kind"] == "Certificate"}
    for monitor in (m for m in built if m["kind"] == "PodMonitor"):
        app = monitor["spec"]["selector"]["matchLabels"]["app"]
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            tls = endpoint["tlsConfig"]
            assert endpoint["scheme"] == "https"
            secrets = {tls["ca"]["secret"]["name"], tls["cert"]["secret"]["name"], tls["keySecret"]["name"]}
            assert secrets == {"mivaa-prometheus"}
            assert "client auth" in certificates["mivaa-prometheus"]["spec"]["usages"]
            # The pod's certificate must hold the name Prometheus checks.
            served = "mivaa-gateway-mtls" if app == "gateway" else f"mivaa-{SERVICE_WORKLOADS[app][1]}-tls"
            assert tls["serverName"] in certificates[served]["spec"]["dnsNames"], app
            if app == "gateway":
                assert (app, endpoint["port"], endpoint["path"]) == GATEWAY_STATS


def test_the_prod_overlay_includes_the_component():
    prod = yaml.safe_load((K8S / "overlays" / "prod" / "kustomization.yaml").read_text())
    assert "../../components/monitoring" in prod["components"]


def test_trace_export_is_off_until_an_overlay_names_a_collector():
    """The services export traces only where OTEL_EXPORTER_OTLP_ENDPOINT is non-empty."""
    assert resource("ConfigMap", "mivaa-peers")["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == ""
    for name in SERVICE_WORKLOADS:
        assert {"configMapRef": {"name": "mivaa-peers"}} in pod_spec(name)["containers"][0]["envFrom"], name
