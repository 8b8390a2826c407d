"""Writes the Grafana dashboards of deploy/observability/dashboards from the panel lists below.

    python tools/make_dashboards.py            # (re)write the JSON files
    python tools/make_dashboards.py --check    # fail when a file differs from what this writes

Every panel's query runs against the local mesh's Prometheus in tests/observability/test_dashboards.py,
so no panel is empty or broken. `$__rate_interval` is Grafana's; `$service` the services dashboard's variable.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parents[1] / "deploy" / "observability" / "dashboards"
SERVER_ERRORS = 'code=~"INTERNAL|UNKNOWN|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS|UNIMPLEMENTED"'
RI = "$__rate_interval"
SEARCH_METHODS = 'service="search", method=~"SearchChunks|SearchImages"'

# (title, unit, [(expr, legend)]): a time series each. The queue gauges are max()ed, never summed: every
# extractor API replica reports the same JetStream consumer.
Panel = tuple[str, str, list[tuple[str, str]]]


def calls_by(label: str, selector: str = "") -> str:
    """Calls per second of the services' RPC metrics, summed by `label`."""
    matcher = f"{{{selector}}}" if selector else ""
    return f"sum by ({label}) (rate(mivaa_rpc_duration_seconds_count{matcher}[{RI}]))"


OVERVIEW: list[Panel] = [
    ("Calls per second by service", "reqps", [(calls_by("service"), "{{service}}")]),
    (
        "Server error ratio (objective: under 0.1%)",
        "percentunit",
        [
            (
                f"(sum(rate(mivaa_rpc_errors_total{{{SERVER_ERRORS}}}[{RI}])) or vector(0))"
                f" / sum(rate(mivaa_rpc_duration_seconds_count[{RI}]))",
                "errors",
            )
        ],
    ),
    (
        "Search latency p95 (objective: 500 ms)",
        "s",
        [
            (
                f"histogram_quantile(0.95, sum by (le) (rate(mivaa_rpc_duration_seconds_bucket{{{SEARCH_METHODS}}}[{RI}])))",
                "p95",
            )
        ],
    ),
    ("Pages per second", "short", [(f"sum(rate(mivaa_pages_processed_total[{RI}])) or vector(0)", "pages/s")]),
    (
        "Jobs entering each state (last hour)",
        "short",
        [("sum by (state) (increase(mivaa_jobs_total[1h]))", "{{state}}")],
    ),
    ("Work queue pending", "short", [('max by (consumer) (mivaa_queue_messages{kind="pending"})', "{{consumer}}")]),
    ("Scrape targets up", "short", [("up", "{{process}}")]),
]

PIPELINE: list[Panel] = [
    ("Jobs entering each state per second", "ops", [(f"sum by (state) (rate(mivaa_jobs_total[{RI}]))", "{{state}}")]),
    (
        "Pages per second by tenant",
        "short",
        [(f"sum by (tenant) (rate(mivaa_pages_processed_total[{RI}]))", "{{tenant}}")],
    ),
    (
        "Stage duration p95 (finished jobs)",
        "s",
        [
            (
                "histogram_quantile(0.95, sum by (le, stage) (rate(mivaa_job_stage_duration_seconds_bucket[1h])))",
                "{{stage}}",
            )
        ],
    ),
    (
        "Work queue: pending, ack-pending, redelivered",
        "short",
        [("max by (consumer, kind) (mivaa_queue_messages)", "{{consumer}} {{kind}}")],
    ),
    ("Oldest pending work item", "s", [("max by (consumer) (mivaa_queue_oldest_pending_age_seconds)", "{{consumer}}")]),
    (
        "Embedding batch size (mean)",
        "short",
        [
            (
                "sum by (model) (rate(mivaa_embedding_batch_size_sum[1h])) / sum by (model) (rate(mivaa_embedding_batch_size_count[1h]))",
                "{{model}}",
            )
        ],
    ),
    (
        "Embedding model latency p95",
        "s",
        [
            (
                "histogram_quantile(0.95, sum by (le, model) (rate(mivaa_embedding_model_seconds_bucket[1h])))",
                "{{model}}",
            )
        ],
    ),
    (
        "OCR pages per second",
        "short",
        [(f"sum by (engine) (rate(mivaa_ocr_pages_total[{RI}])) or vector(0)", "{{engine}}")],
    ),
    (
        "Database pool connections",
        "short",
        [("sum by (service, state) (mivaa_db_pool_connections)", "{{service}} {{state}}")],
    ),
    (
        "Per-tenant usage (last 24 h)",
        "short",
        [
            ("sum by (tenant) (increase(mivaa_tenant_documents_total[24h]))", "{{tenant}} documents"),
            ("sum by (tenant) (increase(mivaa_pages_processed_total[24h]))", "{{tenant}} pages"),
            ("sum by (tenant) (increase(mivaa_tenant_searches_total[24h]))", "{{tenant}} searches"),
        ],
    ),
    (
        "Stored bytes per tenant (last 24 h)",
        "bytes",
        [("sum by (tenant) (increase(mivaa_tenant_stored_bytes_total[24h]))", "{{tenant}}")],
    ),
    (
        "Free space on volumes",
        "percentunit",
        [("mivaa_volume_avail_bytes / mivaa_volume_size_bytes", "{{service}} {{volume}}")],
    ),
]

PUBLIC = 'envoy_http_conn_manager_prefix="public"'
GATEWAY: list[Panel] = [
    (
        "Requests per second by status class",
        "reqps",
        [
            (
                f"sum by (envoy_response_code_class) (rate(envoy_http_downstream_rq_xx{{{PUBLIC}}}[{RI}]))",
                "{{envoy_response_code_class}}xx",
            )
        ],
    ),
    (
        "Request duration p95",
        "ms",
        [
            (
                f"histogram_quantile(0.95, sum by (le) (rate(envoy_http_downstream_rq_time_bucket{{{PUBLIC}}}[{RI}])))",
                "p95",
            )
        ],
    ),
    (
        "Upstream requests per second by service",
        "reqps",
        [
            (
                f'sum by (envoy_cluster_name) (rate(envoy_cluster_upstream_rq_total{{envoy_cluster_name!="envoy_admin"}}[{RI}]))',
                "{{envoy_cluster_name}}",
            )
        ],
    ),
    (
        "Rate-limited requests by route class",
        "reqps",
        [
            (
                f"sum by (envoy_local_http_ratelimit_prefix) (rate(envoy_http_local_rate_limit_rate_limited[{RI}]))",
                "{{envoy_local_http_ratelimit_prefix}}",
            )
        ],
    ),
    ("Active client connections", "short", [(f"envoy_http_downstream_cx_active{{{PUBLIC}}}", "connections")]),
    ("Days until the first certificate expires", "d", [("envoy_server_days_until_first_cert_expiring", "days")]),
]

SERVICE = 'service="$service"'
SERVICES: list[Panel] = [
    ("Calls per second by method", "reqps", [(calls_by("method", SERVICE), "{{method}}")]),
    (
        "Latency p50 / p95 / p99",
        "s",
        [
            (
                f"histogram_quantile({q}, sum by (le) (rate(mivaa_rpc_duration_seconds_bucket{{{SERVICE}}}[{RI}])))",
                f"p{round(q * 100)}",
            )
            for q in (0.5, 0.95, 0.99)
        ],
    ),
    (
        "Errors per second by code and reason",
        "reqps",
        [
            (
                f"sum by (code, reason) (rate(mivaa_rpc_errors_total{{{SERVICE}}}[{RI}])) or vector(0)",
                "{{code}} {{reason}}",
            )
        ],
    ),
    ("Resident memory", "bytes", [('process_resident_memory_bytes{job=~"$service|$service-worker"}', "{{process}}")]),
    (
        "CPU seconds per second",
        "short",
        [(f'rate(process_cpu_seconds_total{{job=~"$service|$service-worker"}}[{RI}])', "{{process}}")],
    ),
    ("Open file descriptors", "short", [('process_open_fds{job=~"$service|$service-worker"}', "{{process}}")]),
]

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _panel(index: int, panel: Panel) -> dict:
    title, unit, targets = panel
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
        "targets": [
            {"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for n, (expr, legend) in enumerate(targets)
        ],
    }


def _variables(service: bool) -> list[dict]:
    found = [
        {
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {"text": "Prometheus", "value": "prometheus"},
        }
    ]
    if service:
        found.append(
            {
                "name": "service",
                "label": "Service",
                "type": "query",
                "datasource": DATASOURCE,
                "query": {"query": "label_values(mivaa_rpc_duration_seconds_count, service)", "refId": "service"},
                "definition": "label_values(mivaa_rpc_duration_seconds_count, service)",
                "refresh": 2,
                "current": {"text": "search", "value": "search"},
            }
        )
    return found


def dashboard(uid: str, title: str, panels: list[Panel], *, service: bool = False) -> dict:
    return {
        "uid": uid,
        "title": title,
        "tags": ["mivaa"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "timezone": "browser",
        "templating": {"list": _variables(service)},
        "annotations": {"list": []},
        "panels": [_panel(index, panel) for index, panel in enumerate(panels)],
    }


DASHBOARDS = {
    "mivaa-overview.json": dashboard("mivaa-overview", "mivaa: overview", OVERVIEW),
    "mivaa-pipeline.json": dashboard("mivaa-pipeline", "mivaa: pipeline", PIPELINE),
    "mivaa-gateway.json": dashboard("mivaa-gateway", "mivaa: gateway (Envoy)", GATEWAY),
    "mivaa-services.json": dashboard("mivaa-services", "mivaa: per service", SERVICES, service=True),
}


def render(name: str) -> str:
    return json.dumps(DASHBOARDS[name], indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a dashboard file is not what this writes")
    args = parser.parse_args()
    stale = [name for name in DASHBOARDS if not (OUT / name).is_file() or (OUT / name).read_text() != render(name)]
    if args.check:
        for name in stale:
            print(f"{OUT / name} is stale: run python tools/make_dashboards.py", file=sys.stderr)
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name in DASHBOARDS:
        (OUT / name).write_text(render(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
