"""components/tracing in the prod overlay: an OpenTelemetry Collector on otel-collector:4317 that
every mivaa service exports its spans to, reachable from those services only."""

from __future__ import annotations

import yaml

from tests.deploy.k8s_manifests import SERVICE_WORKLOADS, find, overlay

ENDPOINT = "http://otel-collector:4317"


def collector_config(built) -> dict:
    [config] = [
        r for r in built if r["kind"] == "ConfigMap" and r["metadata"]["name"].startswith("otel-collector-config")
    ]
    return yaml.safe_load(config["data"]["collector.yml"])


def environment(built, deployment: dict) -> dict[str, str]:
    """The container's variables as the kubelet sets them: its envFrom ConfigMaps, then its env values."""
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= find(built, "ConfigMap", source["configMapRef"]["name"])["data"]
    return env | {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}


def test_every_service_exports_its_spans_to_the_collector():
    built = overlay("prod")
    for name in SERVICE_WORKLOADS:
        env = environment(built, find(built, "Deployment", name))
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == ENDPOINT, name
        assert env["OTEL_SERVICE_NAME"], name
    # The base (and dev) export nothing.
    assert find(overlay("dev"), "ConfigMap", "mivaa-peers")["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == ""


def test_the_collector_serves_otlp_grpc_on_4317():
    built = overlay("prod")
    service = find(built, "Service", "otel-collector")["spec"]
    assert service["ports"] == [{"name": "otlp-grpc", "port": 4317, "targetPort": "otlp-grpc"}]
    [container] = find(built, "Deployment", "otel-collector")["spec"]["template"]["spec"]["containers"]
    assert {"containerPort": 4317, "name": "otlp-grpc"} in container["ports"]
    assert container["args"] == ["--config=/etc/otelcol/collector.yml"]
    config = collector_config(built)
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"


def test_the_pipeline_limits_memory_batches_and_exports_to_debug_by_default():
    config = collector_config(overlay("prod"))
    [pipeline] = config["service"]["pipelines"].values()
    assert pipeline["receivers"] == ["otlp"]
    # memory_limiter first, so data is refused before anything else holds it.
    assert pipeline["processors"] == ["memory_limiter", "batch"]
    assert pipeline["exporters"] == ["debug"] and "debug" in config["exporters"]
    limit_mib = config["processors"]["memory_limiter"]["limit_mib"]
    [container] = find(overlay("prod"), "Deployment", "otel-collector")["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["limits"]["memory"].endswith("Mi")
    assert limit_mib < int(container["resources"]["limits"]["memory"].removesuffix("Mi"))
    # The probes' endpoint is the health_check extension's.
    assert config["extensions"]["health_check"]["endpoint"].endswith(":13133")
    assert container["readinessProbe"]["httpGet"]["port"] == "health"


def test_only_the_services_reach_the_collector():
    policy = find(overlay("prod"), "NetworkPolicy", "allow-otel-collector")["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app": "otel-collector"}}
    [rule] = policy["ingress"]
    assert rule["ports"] == [{"port": 4317, "protocol": "TCP"}]
    callers = {peer["podSelector"]["matchLabels"]["app"] for peer in rule["from"]}
    assert set(SERVICE_WORKLOADS) <= callers <= set(SERVICE_WORKLOADS) | {"gateway"}


def test_the_gateway_sends_its_own_spans_to_the_collector():
    """components/tracing swaps the gateway's config for the variant with Envoy's tracer."""
    built = overlay("prod")
    [config] = [r for r in built if r["kind"] == "ConfigMap" and r["metadata"]["name"].startswith("envoy-config")]
    envoy = yaml.safe_load(config["data"]["envoy.yaml"])
    clusters = {cluster["name"]: cluster for cluster in envoy["static_resources"]["clusters"]}
    [collector] = [c for c in clusters.values() if "otel-collector" in str(c.get("load_assignment"))]
    address = collector["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
    assert address["socket_address"] == {"address": "otel-collector", "port_value": 4317}
    assert "envoy.tracers.opentelemetry" in config["data"]["envoy.yaml"]
    [gateway] = [r for r in built if r["kind"] == "Deployment" and r["metadata"]["name"] == "gateway"]
    volumes = gateway["spec"]["template"]["spec"]["volumes"]
    assert {"name": config["metadata"]["name"]} in [v.get("configMap") for v in volumes if "configMap" in v]
    # dev keeps the base's config: no tracer.
    [dev] = [r for r in overlay("dev") if r["kind"] == "ConfigMap" and r["metadata"]["name"].startswith("envoy-config")]
    assert "envoy.tracers.opentelemetry" not in dev["data"]["envoy.yaml"]
