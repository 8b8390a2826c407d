"""The gateway's Kubernetes manifests: listener TLS, jwt_authn and upstream mTLS in the Envoy config,
its mounts, and the config rendered from the template."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
import yaml

from tests.deploy.k8s_manifests import (
    K8S,
    file_volume,
    mounts_by_path,
    pod_spec,
    resource,
    walk,
)
from tests.support.certs import make_certs

# -- the gateway ----------------------------------------------------------------------------------


def envoy_config() -> dict:
    return yaml.safe_load((K8S / "base" / "envoy.yaml").read_text())


def listeners() -> dict[str, dict]:
    return {listener["name"]: listener for listener in envoy_config()["static_resources"]["listeners"]}


def test_gateway_config_has_listener_tls_jwt_and_upstream_mtls():
    config = envoy_config()
    assert set(listeners()) == {"public", "stats"}
    listener = listeners()["public"]
    [chain] = listener["filter_chains"]
    downstream = chain["transport_socket"]["typed_config"]
    assert downstream["@type"].endswith("DownstreamTlsContext")
    assert downstream["common_tls_context"]["tls_certificates"]

    [manager] = chain["filters"]
    filters = {f["name"]: f for f in manager["typed_config"]["http_filters"]}
    jwt = filters["envoy.filters.http.jwt_authn"]["typed_config"]
    assert all("local_jwks" in p or "remote_jwks" in p for p in jwt["providers"].values())
    assert {"match": {"prefix": "/"}, "requires": {"provider_name": "mivaa"}} in jwt["rules"]
    assert "envoy.filters.http.rbac" in filters

    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    routed = {
        route["route"]["cluster"]
        for item in walk(listener)
        if isinstance(item, dict) and "routes" in item
        for route in item["routes"]
        if "route" in route  # direct responses (console files, an unknown health target) reach no cluster
    }
    assert {"extractor", "search", "embedder", "ocr", "answer", "console"} <= routed <= set(clusters)
    # The console's static files are public and its server is reachable from the gateway only
    # (network policy): plain HTTP. Every gRPC service is mTLS.
    for name in routed - {"console"}:
        upstream = clusters[name]["transport_socket"]["typed_config"]
        assert upstream["@type"].endswith("UpstreamTlsContext"), name
        context = upstream["common_tls_context"]
        assert context["validation_context"]["trusted_ca"]["filename"], name
        assert context["tls_certificates"], f"{name}: no client certificate, the services require one"


def test_gateway_admin_is_a_unix_socket_and_prometheus_gets_only_stats_over_mtls():
    """The admin interface (stop, drain, debug logs) has no port; the stats listener forwards GET
    /stats/prometheus to it and nothing else, to clients with a certificate from the mivaa CA."""
    config = envoy_config()
    admin = config["admin"]["address"]
    assert set(admin) == {"pipe"} and admin["pipe"]["mode"] == 0o600
    socket_dir = admin["pipe"]["path"].rpartition("/")[0]
    stats = listeners()["stats"]
    [chain] = stats["filter_chains"]
    tls = chain["transport_socket"]["typed_config"]
    assert tls["require_client_certificate"] is True
    assert tls["common_tls_context"]["validation_context"]["trusted_ca"]["filename"] == f"{GATEWAY_FILES}/mtls/ca.crt"
    [manager] = chain["filters"]
    [host] = manager["typed_config"]["route_config"]["virtual_hosts"]
    forwarded = [route for route in host["routes"] if "route" in route]
    assert [route["match"]["path"] for route in forwarded] == ["/stats/prometheus"]
    assert all("direct_response" in route for route in host["routes"] if "route" not in route)
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    [endpoint] = clusters[forwarded[0]["route"]["cluster"]]["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert endpoint["endpoint"]["address"] == {"pipe": {"path": admin["pipe"]["path"]}}

    spec = pod_spec("gateway")
    [container] = spec["containers"]
    port = stats["address"]["socket_address"]["port_value"]
    assert {p["containerPort"]: p["name"] for p in container["ports"]} == {8080: "https", port: "stats"}
    assert "emptyDir" in mounts_by_path(spec, container)[socket_dir]  # the pod's own, no other container's
    annotations = resource("Deployment", "gateway")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/scheme"] == "https"
    scrape = resource("NetworkPolicy", "allow-metrics-scrape")
    assert {"port": port, "protocol": "TCP"} in scrape["spec"]["ingress"][0]["ports"]


def test_gateway_mounts_every_file_its_config_names():
    spec = pod_spec("gateway")
    [container] = spec["containers"]
    files = {item["filename"] for item in walk(envoy_config()) if isinstance(item, dict) and "filename" in item}
    assert files
    sources = {}
    for path in files:
        volume, key = file_volume(spec, container, path)
        source = volume.get("secret", {}).get("secretName") or volume["configMap"]["name"]
        sources.setdefault(source, set()).add(key)
    assert sources == {
        "mivaa-gateway-tls": {"tls.crt", "tls.key"},
        "mivaa-gateway-mtls": {"tls.crt", "tls.key", "ca.crt"},
        "mivaa-jwks": {"jwks.json"},
    }
    # The config itself comes from the generated ConfigMap, at the path Envoy is started with.
    assert mounts_by_path(spec, container)["/etc/envoy"]["configMap"]["name"] == "envoy-config"
    assert container["args"][:2] == ["-c", "/etc/envoy/envoy.yaml"]


# -- the rendered Envoy config ---------------------------------------------------------------------

# The mount points of the gateway's Secrets and ConfigMap (deploy/k8s/base/gateway.yaml).
GATEWAY_FILES = "/etc/mivaa"
# Must be the arguments of the Makefile's deploy-config line, in the same order.
DEPLOY_RENDER_ARGS = [
    "--port",
    "8080",
    "--admin-socket",
    "/var/run/envoy/admin.sock",
    "--listen-address",
    "0.0.0.0",
    "--upstream",
    "extractor=extractor:50051",
    "--upstream",
    "search=search:50051",
    "--upstream",
    "embedder=embedder:50051",
    "--upstream",
    "ocr=ocr:50051",
    "--upstream",
    "answer=answer:50051",
    "--cors-origin",
    "https://console.mivaa.example",
    "--console-upstream",
    "console:8080",
    "--tls-cert",
    f"{GATEWAY_FILES}/tls/tls.crt",
    "--tls-key",
    f"{GATEWAY_FILES}/tls/tls.key",
    "--jwks-path",
    f"{GATEWAY_FILES}/jwks/jwks.json",
    "--issuer",
    "mivaa-dev",
    "--audience",
    "mivaa",
    "--upstream-tls-ca",
    f"{GATEWAY_FILES}/mtls/ca.crt",
    "--upstream-tls-cert",
    f"{GATEWAY_FILES}/mtls/tls.crt",
    "--upstream-tls-key",
    f"{GATEWAY_FILES}/mtls/tls.key",
    "--stats-port",
    "9901",
    "--stats-tls-cert",
    f"{GATEWAY_FILES}/mtls/tls.crt",
    "--stats-tls-key",
    f"{GATEWAY_FILES}/mtls/tls.key",
    "--stats-client-ca",
    f"{GATEWAY_FILES}/mtls/ca.crt",
]


def gateway_files(root: pathlib.Path) -> pathlib.Path:
    """What the gateway pod mounts under /etc/mivaa, made the way deploy/README.md says, under root."""
    from mivaa_cli.auth import init_keys

    certs = root / "certs"
    make_certs.make_certs(certs, ())
    for directory in ("tls", "mtls"):
        (root / directory).mkdir()
        (root / directory / "tls.crt").write_bytes((certs / "gateway.pem").read_bytes())
        (root / directory / "tls.key").write_bytes((certs / "gateway-key.pem").read_bytes())
        (root / directory / "ca.crt").write_bytes((certs / "ca.pem").read_bytes())
    init_keys(root / "jwks")
    return root


# The Makefile's second render: components/tracing's gateway sends its spans to the collector.
TRACING_RENDER_ARGS = ["--otlp-endpoint", "otel-collector:4317"]


@pytest.mark.parametrize(
    ("rendered", "extra_args"), [("base/envoy.yaml", []), ("components/tracing/envoy.yaml", TRACING_RENDER_ARGS)]
)
def test_rendered_gateway_config_matches_the_template(tmp_path, rendered, extra_args):
    committed = (K8S / rendered).read_text()
    out = tmp_path / "envoy.yaml"
    subprocess.run(
        [sys.executable, "-m", "mivaa_gateway", *DEPLOY_RENDER_ARGS, *extra_args, "--out", str(out)],
        check=True,
    )
    body = "\n".join(line for line in committed.splitlines() if not line.startswith("# Rendered by"))
    assert body.strip() == out.read_text().strip(), "run `make deploy-config` after changing libs/mivaa_gateway/"
    # Envoy reads the certificates and the JWKS while validating: the same config, with the
    # pod's mount points replaced by real files.
    files = gateway_files(tmp_path / "etc-mivaa")
    local = tmp_path / "envoy-local.yaml"
    local.write_text(out.read_text().replace(f"{GATEWAY_FILES}/", f"{files}/"))
    envoy = pathlib.Path(sys.executable).parent / "envoy"
    result = subprocess.run(
        [str(envoy), "--mode", "validate", "-c", str(local)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
