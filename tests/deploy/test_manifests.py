"""Kubernetes manifests: valid against the schemas, hardened, mTLS everywhere, and the gateway config
rendered from the template."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml

from tests.support.certs import make_certs

REPO = pathlib.Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUSTOMIZE_KINDS = {"Kustomization", "Component"}
# CRDs, not in the core schemas: the kind and its API group.
CUSTOM_KINDS = {"ScaledObject": "keda.sh/", "Issuer": "cert-manager.io/", "Certificate": "cert-manager.io/"}
KUBERNETES_VERSION = "1.33.0"


def manifests() -> list[tuple[pathlib.Path, dict]]:
    found = []
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name in ("kustomization.yaml", "envoy.yaml"):
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append((path, document))
    return found


MANIFESTS = manifests()


@pytest.mark.parametrize(
    ("path", "resource"),
    MANIFESTS,
    ids=[f"{p.parent.name}/{p.name}:{r['kind']}/{r['metadata']['name']}" for p, r in MANIFESTS],
)
def test_resource_is_valid(path, resource):
    if resource["kind"] in CUSTOM_KINDS:
        assert resource["apiVersion"].startswith(CUSTOM_KINDS[resource["kind"]])
        return
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


WORKLOADS = [(p, r) for p, r in MANIFESTS if r["kind"] in ("Deployment", "StatefulSet")]
# Each mivaa service workload: its environment prefix and the certificate it serves and calls with.
SERVICE_WORKLOADS = {
    "extractor": ("EXTRACTOR", "extractor"),
    "extractor-worker": ("EXTRACTOR", "extractor"),
    "search": ("SEARCH", "search"),
    "embedder": ("EMBEDDER", "embedder"),
    "ocr": ("OCR", "ocr"),
    "answer": ("ANSWER", "answer"),
}
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
GRPC_PORT = 50051


@pytest.mark.parametrize(("path", "workload"), WORKLOADS, ids=[r["metadata"]["name"] for _, r in WORKLOADS])
def test_workloads_are_hardened(path, workload):
    spec = workload["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["serviceAccountName"] == workload["metadata"]["name"]
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert "readinessProbe" in container


def test_mivaa_services_use_native_grpc_probes():
    for path, workload in WORKLOADS:
        if workload["metadata"]["name"] in SERVICE_WORKLOADS:
            container = workload["spec"]["template"]["spec"]["containers"][0]
            assert all("grpc" in container[probe] for probe in PROBES), path


def test_every_kustomization_lists_existing_files():
    for kustomization in K8S.rglob("kustomization.yaml"):
        config = yaml.safe_load(kustomization.read_text())
        for entry in config.get("resources", []) + config.get("components", []):
            assert (kustomization.parent / entry).exists(), (kustomization, entry)
        for generator in config.get("configMapGenerator", []):
            for file in generator.get("files", []):
                assert (kustomization.parent / file).exists(), (kustomization, file)


def test_network_policies_deny_by_default_and_allow_each_caller():
    policies = {r["metadata"]["name"]: r for _, r in MANIFESTS if r["kind"] == "NetworkPolicy"}
    assert policies["default-deny-ingress"]["spec"]["podSelector"] == {}
    for service in ("extractor", "search", "embedder", "ocr", "answer", "nats", "postgres"):
        assert f"allow-{service}" in policies


def resource(kind: str, name: str, path: pathlib.Path | None = None) -> dict:
    found = [
        r for p, r in MANIFESTS if r["kind"] == kind and r["metadata"]["name"] == name and (path is None or p == path)
    ]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


def pod_spec(name: str) -> dict:
    return resource("Deployment", name, K8S / "base" / f"{name}.yaml")["spec"]["template"]["spec"]


def mounts_by_path(spec: dict, container: dict) -> dict[str, dict]:
    """mountPath -> the volume mounted there (with the mount's readOnly)."""
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    return {
        m["mountPath"]: {**volumes[m["name"]], "readOnly": m.get("readOnly", False)} for m in container["volumeMounts"]
    }


def file_volume(spec: dict, container: dict, path: str) -> tuple[dict, str]:
    """The volume a file path lies in, and the key (file name) it reads there."""
    directory, _, key = path.rpartition("/")
    mounts = mounts_by_path(spec, container)
    assert directory in mounts, f"{path} is in no volume mount of {container['name']}"
    volume = mounts[directory]
    assert volume["readOnly"], f"{directory} must be mounted read-only"
    return volume, key


# -- mTLS and probes of the services --------------------------------------------------------------

TLS_KEYS = {"TLS_CERT": "tls.crt", "TLS_KEY": "tls.key", "TLS_CLIENT_CA": "ca.crt"}  # kubernetes.io/tls + ca.crt


@pytest.mark.parametrize("name", sorted(SERVICE_WORKLOADS))
def test_every_service_mounts_its_certificate_and_turns_mtls_on(name):
    prefix, certificate = SERVICE_WORKLOADS[name]
    spec = pod_spec(name)
    container = spec["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    for suffix, key in TLS_KEYS.items():
        path = env.get(f"{prefix}_{suffix}")
        assert path, f"{name}: {prefix}_{suffix} is not set"
        volume, file = file_volume(spec, container, path)
        assert volume["secret"]["secretName"] == f"mivaa-{certificate}-tls", name
        assert file == key, (name, suffix, path)
    secret = next(v["secret"] for v in spec["volumes"] if "secret" in v)
    # Readable by the service's group only (fsGroup): not by the world.
    assert (
        secret["defaultMode"] & 0o007 == 0
        and spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsGroup"]
    )


@pytest.mark.parametrize("name", sorted(SERVICE_WORKLOADS))
def test_probes_use_the_plaintext_health_port(name):
    """kubelet's gRPC probes cannot present a client certificate: they check <PREFIX>_HEALTH_PORT."""
    prefix, _ = SERVICE_WORKLOADS[name]
    container = pod_spec(name)["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    health_port = int(env[f"{prefix}_HEALTH_PORT"])
    assert health_port not in (0, GRPC_PORT, int(env[f"{prefix}_PORT"]), int(env[f"{prefix}_METRICS_PORT"]))
    assert {"containerPort": health_port, "name": "health"} in container["ports"]
    for probe in PROBES:
        assert container[probe]["grpc"]["port"] == health_port, (name, probe)


def test_peer_addresses_are_names_in_the_peers_certificates():
    peers = resource("ConfigMap", "mivaa-peers")["data"]
    addresses = {variable: value for variable, value in peers.items() if variable.endswith("_ADDR")}
    assert addresses
    for variable, address in addresses.items():
        service = variable.split("_")[-2].lower()  # EXTRACTOR_SEARCH_ADDR -> search
        host, _, port = address.rpartition(":")
        assert host in make_certs.service_spec(service).dns, (
            f"{variable}={address}: {host} is not in {service}'s certificate"
        )
        assert int(port) == GRPC_PORT


def test_network_policies_leave_the_health_port_to_the_node():
    """kubelet probes come from the pod's node, which NetworkPolicy always allows: no rule opens the
    plaintext health port to pods or namespaces, and every service's gRPC port is opened to its callers."""
    health_ports = set()
    for name, (prefix, _) in SERVICE_WORKLOADS.items():
        env = {item["name"]: item.get("value") for item in pod_spec(name)["containers"][0]["env"]}
        health_ports.add(int(env[f"{prefix}_HEALTH_PORT"]))
    policies = [r for _, r in MANIFESTS if r["kind"] == "NetworkPolicy"]
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("ports"), f"{policy['metadata']['name']} opens every port"
            assert not {port["port"] for port in rule["ports"]} & health_ports, policy["metadata"]["name"]


# -- the gateway ----------------------------------------------------------------------------------


def envoy_config() -> dict:
    return yaml.safe_load((K8S / "base" / "envoy.yaml").read_text())


def _walk(value):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


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
        for item in _walk(listener)
        if isinstance(item, dict) and "routes" in item
        for route in item["routes"]
    }
    assert {"extractor", "search", "embedder", "ocr", "answer"} <= routed <= set(clusters)
    for name in routed:
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
    files = {item["filename"] for item in _walk(envoy_config()) if isinstance(item, dict) and "filename" in item}
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


# -- components/cert-manager -----------------------------------------------------------------------

CERT_MANAGER = K8S / "components" / "cert-manager"


def cert_manager(kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for p, r in MANIFESTS if p.parent == CERT_MANAGER and r["kind"] == kind}


# Mounted Secrets that hold no certificate: made by hand (deploy/README.md), never by cert-manager.
NON_CERTIFICATE_SECRETS = {"mivaa-extractor-task-key", "mivaa-nats-users"}


def mounted_secrets() -> set[str]:
    """The certificate Secrets the workloads mount."""
    return {
        volume["secret"]["secretName"]
        for _, workload in WORKLOADS
        for volume in workload["spec"]["template"]["spec"].get("volumes", [])
        if "secret" in volume and volume["secret"]["secretName"] not in NON_CERTIFICATE_SECRETS
    }


@pytest.mark.parametrize("name", ["extractor", "extractor-worker"])
def test_extractor_api_and_workers_share_a_required_task_key(name):
    """Work items carry passwords sealed with this key: both sides mount the same Secret, which must exist."""
    spec = pod_spec(name)
    container = spec["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    volume, key = file_volume(spec, container, env["EXTRACTOR_TASK_KEY_FILE"])
    assert volume["secret"]["secretName"] == "mivaa-extractor-task-key" and key == "task.key"
    assert volume["secret"].get("optional", False) is False
    assert volume["secret"]["defaultMode"] & 0o007 == 0


def test_cert_manager_makes_every_mounted_secret_from_a_self_signed_ca_chain():
    issuers, certificates = cert_manager("Issuer"), cert_manager("Certificate")
    by_secret = {c["spec"]["secretName"]: c for c in certificates.values()}
    assert mounted_secrets() <= set(by_secret)
    # selfSigned -> the CA certificate -> a CA Issuer that signs every mounted certificate.
    ca = next(c for c in certificates.values() if c["spec"].get("isCA"))
    assert "selfSigned" in issuers[ca["spec"]["issuerRef"]["name"]]["spec"]
    ca_issuers = {
        name
        for name, issuer in issuers.items()
        if issuer["spec"].get("ca", {}).get("secretName") == ca["spec"]["secretName"]
    }
    for secret in mounted_secrets():
        spec = by_secret[secret]["spec"]
        assert spec["issuerRef"]["name"] in ca_issuers and spec["issuerRef"]["kind"] == "Issuer", secret
    for service in {certificate for _, certificate in SERVICE_WORKLOADS.values()}:
        spec = by_secret[f"mivaa-{service}-tls"]["spec"]
        # The names tools/make_certs.py gives it, so either source serves the same manifests.
        assert set(make_certs.service_spec(service).dns) <= set(spec["dnsNames"]), service
        assert {"server auth", "client auth"} <= set(spec["usages"]), service
    assert "client auth" in by_secret["mivaa-gateway-mtls"]["spec"]["usages"]
    assert "server auth" in by_secret["mivaa-gateway-tls"]["spec"]["usages"]


# -- kustomize builds ------------------------------------------------------------------------------

OVERLAY_COMPONENTS = [
    ["network-policies"],
    ["network-policies", "cert-manager", "keda-autoscaling", "gpu-embedder"],
]


def kustomize(directory: pathlib.Path) -> list[dict]:
    if binary := shutil.which("kustomize"):
        command = [binary, "build", str(directory)]
    elif binary := shutil.which("kubectl"):
        command = [binary, "kustomize", str(directory)]
    else:
        pytest.skip("neither kustomize nor kubectl is installed")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def test_the_local_overlay_builds_and_validates():
    built = kustomize(K8S / "overlays" / "local")
    for item in built:
        if item["kind"] not in CUSTOM_KINDS:
            kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)
        if item["kind"] != "Namespace":  # every namespaced resource, the components' too
            assert item["metadata"].get("namespace") == "mivaa", (item["kind"], item["metadata"]["name"])
    kinds = {item["kind"] for item in built}
    assert {"Deployment", "NetworkPolicy", "ConfigMap"} <= kinds


@pytest.mark.parametrize("components", OVERLAY_COMPONENTS, ids=["+".join(c) for c in OVERLAY_COMPONENTS])
def test_base_with_components_builds_and_validates(tmp_path, components):
    # kustomize takes relative paths only: an overlay beside a link to deploy/k8s.
    (tmp_path / "k8s").symlink_to(K8S, target_is_directory=True)
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "namespace": "mivaa",
                "resources": ["../k8s/base"],
                "components": [f"../k8s/components/{name}" for name in components],
            }
        )
    )
    built = kustomize(overlay)
    for item in built:
        if item["kind"] in CUSTOM_KINDS:
            assert item["apiVersion"].startswith(CUSTOM_KINDS[item["kind"]])
        else:
            kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)
    if "cert-manager" in components:
        made = {item["spec"]["secretName"] for item in built if item["kind"] == "Certificate"}
        assert mounted_secrets() <= made


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


def test_rendered_gateway_config_matches_the_template(tmp_path):
    committed = (K8S / "base" / "envoy.yaml").read_text()
    out = tmp_path / "envoy.yaml"
    subprocess.run(
        [sys.executable, "-m", "mivaa_gateway", *DEPLOY_RENDER_ARGS, "--out", str(out)],
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


# -- database passwords ----------------------------------------------------------------------------


def test_no_manifest_holds_a_secret_value():
    """Secrets are created apart (deploy/README.md): no Secret object, no literal password or DSN."""
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name == "envoy.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if not document:
                continue
            assert document["kind"] != "Secret", f"{path}: a Secret belongs outside the manifests"
            for item in _walk(document):
                if isinstance(item, dict) and "name" in item and "value" in item:
                    # A variable that names the file a mounted Secret lands in holds a path, not a secret.
                    names_a_file = item["name"].endswith("_FILE") and str(item["value"]).startswith("/etc/mivaa/")
                    if not names_a_file:
                        assert not any(
                            word in item["name"].upper() for word in ("PASSWORD", "DATABASE_URL", "SECRET")
                        ), (path, item)
                if isinstance(item, str):
                    assert "postgresql://" not in item and "change-me" not in item, (path, item)


def test_search_connects_as_an_app_role_that_is_not_the_superuser():
    """PostgreSQL's superuser is for its own first start; search gets the `mivaa` role, no superuser."""
    database = resource("StatefulSet", "postgres")["spec"]["template"]["spec"]
    env = {item["name"]: item for item in database["containers"][0]["env"]}
    assert env["POSTGRES_USER"]["value"] == "postgres"
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "mivaa-postgres-superuser"
    assert env["POSTGRES_HOST_AUTH_METHOD"]["value"] == "scram-sha-256"
    assert (
        "trust" not in env["POSTGRES_INITDB_ARGS"]["value"]
        and "--auth-local=scram-sha-256" in env["POSTGRES_INITDB_ARGS"]["value"]
    )
    init = resource("ConfigMap", "postgres-init")["data"]["10-mivaa-app-role.sh"]
    assert "CREATE ROLE mivaa LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" in init
    assert "CREATE DATABASE mivaa OWNER mivaa" in init and "CREATE EXTENSION IF NOT EXISTS vector" in init
    [mount] = [m for m in database["containers"][0]["volumeMounts"] if m["mountPath"] == "/docker-entrypoint-initdb.d"]
    assert {"name": mount["name"], "configMap": {"name": "postgres-init"}} in database["volumes"]
    # Search reads its DSN (the app role's) from mivaa-database and never sees the superuser's Secret.
    search = pod_spec("search")
    referenced = {
        item["secretKeyRef"]["name"] for item in _walk(search) if isinstance(item, dict) and "secretKeyRef" in item
    }
    assert referenced == {"mivaa-database"}


# -- NATS -----------------------------------------------------------------------------------------

NATS_CLIENTS = {
    "extractor": ("EXTRACTOR", "extractor"),
    "extractor-worker": ("EXTRACTOR", "worker"),
    "search": ("SEARCH", "search"),
}


def nats_pod_spec() -> dict:
    return resource("StatefulSet", "nats", K8S / "base" / "nats.yaml")["spec"]["template"]["spec"]


def _render_nats_config():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "mivaa_tools_render_nats_config", REPO / "tools" / "render_nats_config.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nats_config_is_rendered_from_the_declared_permissions():
    """deploy/k8s/base/nats.conf is what mivaa_platform.bus_access declares (tools/render_nats_config.py)."""
    assert (K8S / "base" / "nats.conf").read_text() == _render_nats_config().render()


def test_nats_requires_tls_and_users_and_exposes_no_monitoring_port():
    config = (K8S / "base" / "nats.conf").read_text()
    assert "authorization {" in config and "tls:" in config
    assert "http" not in config and "no_auth_user" not in config
    for role in ("extractor", "worker", "search", "ops"):
        assert f'"user": "{role}", "password": $NATS_PASSWORD_{role.upper()},' in config
    assert [port["port"] for port in resource("Service", "nats")["spec"]["ports"]] == [4222]
    container = nats_pod_spec()["containers"][0]
    assert [port["containerPort"] for port in container["ports"]] == [4222]
    assert not any("http" in arg for arg in container["args"])
    assert all("httpGet" not in container[probe] for probe in ("readinessProbe", "livenessProbe"))


def test_nats_passwords_come_from_a_secret_the_manifests_do_not_define():
    """No default NATS password in the manifests: the server and each client read mivaa-nats-users."""
    container = nats_pod_spec()["containers"][0]
    variables = {item["name"]: item for item in container["env"] if item["name"].startswith("NATS_PASSWORD_")}
    assert set(variables) == {
        "NATS_PASSWORD_EXTRACTOR",
        "NATS_PASSWORD_WORKER",
        "NATS_PASSWORD_SEARCH",
        "NATS_PASSWORD_OPS",
    }
    for item in variables.values():
        assert "value" not in item and item["valueFrom"]["secretKeyRef"]["name"] == "mivaa-nats-users"
    assert not [r for _, r in MANIFESTS if r["kind"] == "Secret" and r["metadata"]["name"] == "mivaa-nats-users"]
    assert "mivaa-nats-tls" in mounted_secrets()


@pytest.mark.parametrize("name", sorted(NATS_CLIENTS))
def test_each_nats_client_has_its_own_user_password_file_and_verifies_tls(name):
    prefix, user = NATS_CLIENTS[name]
    spec = pod_spec(name)
    container = spec["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env[f"{prefix}_NATS_USER"] == user
    volume, file = file_volume(spec, container, env[f"{prefix}_NATS_PASSWORD_FILE"])
    # Only this role's key of the Secret is mounted: a worker cannot read the API's password.
    assert volume["secret"]["secretName"] == "mivaa-nats-users"
    assert volume["secret"]["items"] == [{"key": user, "path": file}]
    assert volume["secret"]["defaultMode"] & 0o007 == 0
    ca_volume, ca_file = file_volume(spec, container, env[f"{prefix}_NATS_CA_FILE"])
    assert ca_volume["secret"]["secretName"].endswith("-tls") and ca_file == "ca.crt"
    url = resource("ConfigMap", "mivaa-peers")["data"][f"{prefix}_NATS_URL"]
    scheme, _, address = url.partition("://")
    assert scheme == "tls" and address.rpartition(":")[0] in make_certs.service_spec("nats").dns


def test_nats_monitoring_is_opened_only_for_keda():
    """The base opens no monitoring port; components/keda-autoscaling does, for KEDA alone."""
    policies = [r for _, r in MANIFESTS if r["kind"] == "NetworkPolicy"]
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            if 8222 in {port["port"] for port in rule.get("ports", [])}:
                assert policy["spec"]["podSelector"] == {"matchLabels": {"app": "nats"}}
                assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}]
    trigger = resource("ScaledObject", "extractor-worker")["spec"]["triggers"][0]["metadata"]
    assert trigger["natsServerMonitoringEndpoint"].startswith("nats-monitoring.")


def test_tenant_users_render_for_an_overlay():
    """render_nats_config --tenant: a tenant's consumer user reads its events only, password from the environment."""
    from mivaa_platform import bus_access

    tool = _render_nats_config()
    config = tool.render(("acme.eu",))
    assert '"user": "tenant-acme%2Eeu", "password": $NATS_PASSWORD_TENANT_ACME_EU,' in config
    assert bus_access.tenant_permissions("acme.eu")["subscribe"]["allow"][1] == "mivaa.jobs.acme%2Eeu.>"
    with pytest.raises(ValueError):
        tool.render(("acme.eu", "acme_eu"))
