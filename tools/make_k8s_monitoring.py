"""Writes deploy/k8s/components/monitoring's rules and dashboards from deploy/observability.

    python tools/make_k8s_monitoring.py            # (re)write rules.yaml and dashboards.yaml
    python tools/make_k8s_monitoring.py --check    # fail when a file differs from what this writes

kustomize refuses files outside a kustomization's directory (its load restrictor), so a
configMapGenerator cannot read deploy/observability: these manifests carry copies, and the check
above (run by tests/deploy/test_monitoring_manifests.py) keeps them equal to the sources.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
SOURCES = REPO / "deploy" / "observability"
COMPONENT = REPO / "deploy" / "k8s" / "components" / "monitoring"
HEADER = "# Written by tools/make_k8s_monitoring.py from deploy/observability/{}: edit those, then rerun it.\n"
LABELS = {"app.kubernetes.io/part-of": "mivaa"}
# The label kube-prometheus-stack's Grafana sidecar loads dashboards from (its default).
DASHBOARD_LABEL = {"grafana_dashboard": "1"}


def rule_files() -> list[pathlib.Path]:
    return sorted((SOURCES / "rules").glob("*.yml"))


def dashboard_files() -> list[pathlib.Path]:
    return sorted((SOURCES / "dashboards").glob("*.json"))


def prometheus_rules() -> list[dict]:
    """A PrometheusRule per rule file: the file's groups, unchanged."""
    return [
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": path.stem, "labels": dict(LABELS)},
            "spec": {"groups": yaml.safe_load(path.read_text())["groups"]},
        }
        for path in rule_files()
    ]


def dashboard_config_maps() -> list[dict]:
    """A ConfigMap per dashboard (one each keeps every object far under the 1 MiB limit)."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{path.stem}-dashboard", "labels": LABELS | DASHBOARD_LABEL},
            "data": {path.name: path.read_text()},
        }
        for path in dashboard_files()
    ]


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (a dashboard's JSON, a rule's expression) as readable `|` blocks."""


def _string(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockDumper.add_representer(str, _string)


def _dump(documents: list[dict]) -> str:
    return yaml.dump_all(documents, Dumper=_BlockDumper, sort_keys=False, width=1000, allow_unicode=True)


def rendered() -> dict[pathlib.Path, str]:
    return {
        COMPONENT / "rules.yaml": HEADER.format("rules") + _dump(prometheus_rules()),
        COMPONENT / "dashboards.yaml": HEADER.format("dashboards") + _dump(dashboard_config_maps()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a written file is out of date")
    args = parser.parse_args()
    stale = [path for path, text in rendered().items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(REPO)} is out of date: python tools/make_k8s_monitoring.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in rendered().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
