"""Kubernetes manifests: valid against the schemas, hardened, and the gateway config rendered from the template."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUSTOMIZE_KINDS = {"Kustomization", "Component"}
CUSTOM_KINDS = {"ScaledObject"}  # KEDA CRD: not in the core schemas


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


@pytest.mark.parametrize(("path", "resource"), MANIFESTS, ids=[f"{p.parent.name}/{p.name}:{r['kind']}/{r['metadata']['name']}" for p, r in MANIFESTS])
def test_resource_is_valid(path, resource):
    if resource["kind"] in CUSTOM_KINDS:
        assert resource["apiVersion"].startswith("keda.sh/")
        return
    kubernetes_validate.validate(resource, "1.33.0", strict=True)


WORKLOADS = [(p, r) for p, r in MANIFESTS if r["kind"] in ("Deployment", "StatefulSet")]


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
        if workload["metadata"]["name"] in ("embedder", "search", "extractor", "extractor-worker", "ocr"):
            container = workload["spec"]["template"]["spec"]["containers"][0]
            assert "grpc" in container["readinessProbe"] and "grpc" in container["livenessProbe"], path


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
    for service in ("extractor", "search", "embedder", "ocr", "nats", "postgres"):
        assert f"allow-{service}" in policies


def test_rendered_gateway_config_matches_the_template(tmp_path):
    committed = (K8S / "base" / "envoy.yaml").read_text()
    out = tmp_path / "envoy.yaml"
    subprocess.run(
        [sys.executable, str(REPO / "gateway" / "render.py"), *DEPLOY_RENDER_ARGS, "--out", str(out)],
        check=True,
    )
    body = "\n".join(line for line in committed.splitlines() if not line.startswith("# Rendered by"))
    assert body.strip() == out.read_text().strip(), "run `make deploy-config` after changing gateway/"
    envoy = pathlib.Path(sys.executable).parent / "envoy"
    result = subprocess.run([str(envoy), "--mode", "validate", "-c", str(out)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


DEPLOY_RENDER_ARGS = [
    "--port", "8080", "--admin-port", "9901", "--listen-address", "0.0.0.0",
    "--upstream", "extractor=extractor:50051", "--upstream", "search=search:50051", "--upstream", "embedder=embedder:50051",
    "--upstream", "ocr=ocr:50051",
    "--cors-origin", "https://console.mivaa.example",
]
