"""The Kubernetes manifests under deploy/k8s, loaded once, and lookups the manifest tests share."""

from __future__ import annotations

import functools
import pathlib
import shutil
import subprocess

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUSTOMIZE_KINDS = {"Kustomization", "Component"}
# CRDs, not in the core schemas: the kind and its API group.
CUSTOM_KINDS = {
    "ScaledObject": "keda.sh/",
    "Issuer": "cert-manager.io/",
    "Certificate": "cert-manager.io/",
    "PodMonitor": "monitoring.coreos.com/",
    "PrometheusRule": "monitoring.coreos.com/",
    "Cluster": "postgresql.cnpg.io/",
}
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


OVERLAY_COMPONENTS = [
    ["network-policies"],
    ["network-policies", "cert-manager", "autoscaling", "keda-autoscaling", "gpu-embedder", "clip-model", "monitoring"],
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


def build_with_components(tmp_path: pathlib.Path, components: list[str]) -> list[dict]:
    """The base with these components, as `kustomize build` makes it (an overlay in tmp_path)."""
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
    return kustomize(overlay)


def walk(value):
    """Every dict, list and scalar inside `value`, depth first."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


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


@functools.cache
def overlay(name: str) -> tuple[dict, ...]:
    """An overlay under deploy/k8s/overlays, as `kustomize build` makes it (built once per run)."""
    return tuple(kustomize(K8S / "overlays" / name))


def find(built, kind: str, name: str) -> dict:
    found = [r for r in built if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]
