"""Scaling and availability as deployed: the dev and prod overlays build and validate, every
Deployment is scaled by one thing only (an HPA on CPU, or KEDA on the work queue's lag), every one
has a disruption budget, and the GPU embedder lands on GPU nodes."""

from __future__ import annotations

import kubernetes_validate
import pytest

from mivaa_platform.messaging import PAGES_CONSUMER, WORK_CONSUMER, WORK_STREAM
from tests.deploy.k8s_manifests import CUSTOM_KINDS, K8S, KUBERNETES_VERSION, build_with_components, kustomize

OVERLAYS = ("local", "dev", "prod")
QUEUE_CONSUMERS = {"extractor-worker", "ocr"}  # scaled on the work queue's lag
# A fixed number of replicas per overlay (otel-collector: components/tracing, in prod).
FIXED = {"gateway", "console", "otel-collector"}


@pytest.fixture(scope="module")
def built() -> dict[str, list[dict]]:
    return {overlay: kustomize(K8S / "overlays" / overlay) for overlay in OVERLAYS}


def by_kind(items: list[dict], kind: str) -> dict[str, dict]:
    return {item["metadata"]["name"]: item for item in items if item["kind"] == kind}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds_and_validates(built, overlay):
    for item in built[overlay]:
        if item["kind"] in CUSTOM_KINDS:
            assert item["apiVersion"].startswith(CUSTOM_KINDS[item["kind"]])
        else:
            kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)
        if item["kind"] != "Namespace":
            assert item["metadata"].get("namespace") == "mivaa", (overlay, item["kind"], item["metadata"]["name"])


def test_prod_scales_every_deployment_once(built):
    items = built["prod"]
    deployments = by_kind(items, "Deployment")
    hpas = {h["spec"]["scaleTargetRef"]["name"] for h in by_kind(items, "HorizontalPodAutoscaler").values()}
    scaled = {s["spec"]["scaleTargetRef"]["name"] for s in by_kind(items, "ScaledObject").values()}
    assert scaled == QUEUE_CONSUMERS and not hpas & scaled
    assert hpas | scaled | FIXED == set(deployments)
    for name in hpas | scaled:
        # The autoscaler owns the count: a replicas in the manifest would reset it on every apply.
        assert deployments[name]["spec"].get("replicas") is None, name
    for hpa in by_kind(items, "HorizontalPodAutoscaler").values():
        assert hpa["spec"]["minReplicas"] >= 2, hpa["metadata"]["name"]  # one serves during a drain


def test_queue_consumers_scale_on_the_work_queue_lag(built):
    consumers = {}
    for name, scaled in by_kind(built["prod"], "ScaledObject").items():
        lags = [t for t in scaled["spec"]["triggers"] if t["type"] == "nats-jetstream"]
        consumers[name] = {lag["metadata"]["consumer"] for lag in lags}
        for lag in lags:
            assert lag["metadata"]["stream"] == WORK_STREAM, name
            host = lag["metadata"]["natsServerMonitoringEndpoint"].split(".")[0]
            assert host in by_kind(built["prod"], "Service"), name
            assert int(lag["metadata"]["lagThreshold"]) > 0
    # Workers also scale on a long document's pending page ranges; OCR follows the documents.
    assert consumers == {"extractor-worker": {WORK_CONSUMER, PAGES_CONSUMER}, "ocr": {WORK_CONSUMER}}


def test_dev_runs_one_pod_each_without_autoscalers(built):
    items = built["dev"]
    assert not by_kind(items, "HorizontalPodAutoscaler") and not by_kind(items, "ScaledObject")
    for name, deployment in by_kind(items, "Deployment").items():
        assert deployment["spec"].get("replicas", 1) == 1, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_disruption_budget_that_allows_a_drain(built, overlay):
    items = built[overlay]
    budgets = {b["spec"]["selector"]["matchLabels"]["app"]: b for b in by_kind(items, "PodDisruptionBudget").values()}
    for name, deployment in by_kind(items, "Deployment").items():
        app = deployment["spec"]["selector"]["matchLabels"]["app"]
        assert app in budgets, f"{overlay}: {name} has no PodDisruptionBudget"
        assert budgets[app]["spec"].get("maxUnavailable") == 1, name
    singletons = {
        s["spec"]["selector"]["matchLabels"]["app"]
        for s in by_kind(items, "StatefulSet").values()
        if s["spec"].get("replicas", 1) == 1
    }
    assert not singletons & set(budgets), "a budget on a one-pod StatefulSet blocks every drain of its node"


def test_gpu_embedder_runs_the_cuda_image_on_gpu_nodes(tmp_path):
    [embedder] = [
        item
        for item in build_with_components(tmp_path, ["gpu-embedder"])
        if item["kind"] == "Deployment" and item["metadata"]["name"] == "embedder"
    ]
    spec = embedder["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert container["image"].startswith("ghcr.io/mivaa/embedder-gpu:")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
