"""Custom resources kubernetes-validate has no schema for (CloudNativePG's Cluster, prometheus-operator's
PodMonitor and PrometheusRule) checked against the fields their CRDs define (tests/deploy/crd_schemas.py)."""

from __future__ import annotations

import jsonschema
import pytest

from tests.deploy.crd_schemas import SCHEMAS
from tests.deploy.k8s_manifests import CUSTOM_KINDS, MANIFESTS, overlay

CHECKED = [(p, r) for p, r in MANIFESTS if r["kind"] in SCHEMAS]


@pytest.mark.parametrize(
    ("path", "resource"), CHECKED, ids=[f"{r['kind']}/{r['metadata']['name']}" for _, r in CHECKED]
)
def test_custom_resource_has_the_fields_its_crd_defines(path, resource):
    jsonschema.validate(resource, SCHEMAS[resource["kind"]])


def test_the_prod_overlay_builds_every_checked_kind_and_each_passes():
    built = [r for r in overlay("prod") if r["kind"] in SCHEMAS]
    assert {r["kind"] for r in built} == set(SCHEMAS)
    for item in built:
        assert item["apiVersion"].startswith(CUSTOM_KINDS[item["kind"]])
        jsonschema.validate(item, SCHEMAS[item["kind"]])


@pytest.mark.parametrize(
    ("kind", "broken"),
    [
        ("Cluster", {"spec": {"instances": "3"}}),  # a string where the CRD wants an integer
        ("Cluster", {"spec": {"instances": 3, "bootstrap": {"initdb": {"postInitApplicationSql": []}}}}),  # typo
        ("Cluster", {"spec": {"imageName": "x"}}),  # instances is required
        ("PodMonitor", {"spec": {"podMetricsEndpoints": []}}),  # selector is required
        ("PrometheusRule", {"spec": {"groups": [{"name": "g", "rules": [{"alert": "A"}]}]}}),  # expr is required
    ],
)
def test_the_schemas_catch_what_the_operator_would_refuse_or_prune(kind, broken):
    api_version = {"Cluster": "postgresql.cnpg.io/v1"}.get(kind, "monitoring.coreos.com/v1")
    document = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}} | broken
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMAS[kind])
