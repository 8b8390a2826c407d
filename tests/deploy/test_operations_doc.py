"""docs/operations.md stays true to the tree: its sections are there, and every overlay, component,
image target and manifest name it tells an operator to use exists."""

from __future__ import annotations

import re

from tests.deploy.dockerfile import REPO, stages
from tests.deploy.k8s_manifests import K8S, MANIFESTS

DOC = (REPO / "docs" / "operations.md").read_text()


def test_every_operation_has_a_section():
    headings = set(re.findall(r"^## (.+)$", DOC, flags=re.MULTILINE))
    wanted = {"Deploy", "Scale", "Rotate certificates", "Back up and restore", "Upgrade"}
    assert wanted | {"Rotate the JWKS (token signing keys)"} <= headings


def test_named_overlays_components_and_targets_exist():
    for overlay in re.findall(r"overlays/(\w+)", DOC):
        assert (K8S / "overlays" / overlay / "kustomization.yaml").exists(), overlay
    for component in re.findall(r"components/([\w-]+)", DOC):
        assert (K8S / "components" / component / "kustomization.yaml").exists(), component
    [loop] = re.findall(r"for target in ([\w -]+); do", DOC)
    assert set(loop.split()) <= set(stages()), loop


def test_named_workloads_and_autoscalers_exist():
    names = {(r["kind"].lower(), r["metadata"]["name"]) for _, r in MANIFESTS}
    kinds = {"deployment": "deployment", "statefulset": "statefulset", "hpa": "horizontalpodautoscaler"}
    kinds["scaledobject"] = "scaledobject"
    for kind, name in re.findall(r"\b(deployment|statefulset|hpa|scaledobject)[/ ]([a-z][\w-]+)", DOC):
        if name not in ("the", "one", "a"):
            assert (kinds[kind], name) in names, (kind, name)
