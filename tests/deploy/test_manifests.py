"""Kubernetes manifests: valid against the schemas, hardened, mTLS between the services, and every
overlay builds (the gateway, certificates and NATS are in their own test modules)."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from tests.deploy.k8s_manifests import (
    CUSTOM_KINDS,
    GRPC_PORT,
    K8S,
    KUBERNETES_VERSION,
    MANIFESTS,
    OVERLAY_COMPONENTS,
    PROBES,
    SERVICE_WORKLOADS,
    WORKLOADS,
    build_with_components,
    file_volume,
    kustomize,
    mounted_secrets,
    pod_spec,
    resource,
)
from tests.support.certs import make_certs


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
    for service in ("extractor", "search", "embedder", "ocr", "answer", "nats", "postgres", "console"):
        assert f"allow-{service}" in policies


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
        # dns:///search:50051: gRPC checks the peer's certificate against the authority, `search`.
        host, _, port = address.removeprefix("dns:///").rpartition(":")
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


# -- kustomize builds ------------------------------------------------------------------------------


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
    built = build_with_components(tmp_path, components)
    for item in built:
        if item["kind"] in CUSTOM_KINDS:
            assert item["apiVersion"].startswith(CUSTOM_KINDS[item["kind"]])
        else:
            kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)
    if "cert-manager" in components:
        made = {item["spec"]["secretName"] for item in built if item["kind"] == "Certificate"}
        assert mounted_secrets() <= made
