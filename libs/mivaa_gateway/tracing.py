"""Envoy's own spans: the OpenTelemetry tracer in the public listener, exporting OTLP/gRPC.

With an OTLP endpoint Envoy starts a server span for every request on the public listener and a
client span for the call it makes upstream (spawn_upstream_span: the gateway is a hop of its
own), both named by the request's path, and sends that client span's W3C traceparent upstream,
so the service's server span is its child and a job's trace starts at the gateway.

What a caller can do with tracing headers: continue its own trace (a traceparent it sends names
the trace and the parent of Envoy's span: standard W3C behaviour, and it grants nothing, since
tenant, subject and scopes come from the verified token alone), or ask for its request not to be
sampled (flag 00). It cannot force a trace past the sampling rate: not with a traceparent flagged
01, nor x-client-trace-id (client_sampling 0), nor x-envoy-force-trace (honoured only from
internal addresses). tests/gateway/test_gateway_tracing.py shows each through a real Envoy.
"""

from __future__ import annotations

import ipaddress

from mivaa_gateway.rpcs import HEALTH_CHECK, MAX_SOCKET_PATH

OTLP_CLUSTER = "otlp_collector"
# The gateway as it is named elsewhere (its Deployment, `app: gateway`), beside `extractor`, `search`.
SERVICE_NAME = "gateway"
UNIX_SCHEME = "unix://"
# A span's name is the request's path, cut to this many characters (a client chooses the path).
MAX_SPAN_NAME = 200


def _endpoint_address(endpoint: str) -> tuple[dict, str]:
    """The cluster's address for `unix:///abs/path` or `host:port`, and its discovery type."""
    if endpoint.startswith(UNIX_SCHEME):
        path = endpoint.removeprefix(UNIX_SCHEME)
        if not path.startswith("/") or len(path) > MAX_SOCKET_PATH - 1:
            raise SystemExit(
                f"otlp_endpoint: unix:// needs an absolute socket path of at most {MAX_SOCKET_PATH - 1} bytes"
            )
        return {"pipe": {"path": path}}, "STATIC"
    host, _, port = endpoint.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or "/" in host:
        raise SystemExit(f"otlp_endpoint must be unix:///path or host:port, not {endpoint!r}")
    try:
        ipaddress.ip_address(host)
        discovery = "STATIC"
    except ValueError:
        discovery = "STRICT_DNS"  # a Service name (otel-collector), resolved and followed
    return {"socket_address": {"address": host, "port_value": int(port)}}, discovery


def otlp_cluster(endpoint: str) -> dict:
    """The collector (or the local mesh's receiver) as an HTTP/2 cluster for OTLP's TraceService."""
    address, discovery = _endpoint_address(endpoint)
    return {
        "name": OTLP_CLUSTER,
        "type": discovery,
        "connect_timeout": "2s",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": OTLP_CLUSTER,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}],
        },
    }


def tracing_options(sampling_percent: float) -> dict:
    """The HTTP connection manager's `tracing` block, and a request id that carries no decision."""
    if not 0 <= sampling_percent <= 100:
        raise SystemExit(f"trace_sampling_percent must be within 0..100, not {sampling_percent}")
    return {
        # Envoy samples by a hash of x-request-id and writes its decision into a nibble of it,
        # and this listener (no use_remote_address) would keep a caller's id: a caller could
        # choose or replay an id that forces a trace past the sampling rate. Its id is dropped
        # before anything reads it, so every request id (and sampling decision) is Envoy's own.
        "early_header_mutation_extensions": [
            {
                "name": "envoy.http.early_header_mutation.header_mutation",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation",
                    "mutations": [{"remove": "x-request-id"}],
                },
            }
        ],
        "tracing": {
            "random_sampling": {"value": sampling_percent},
            # x-client-trace-id would let any caller force a trace past the sampling rate.
            "client_sampling": {"value": 0},
            "spawn_upstream_span": True,
            # Spans named as the services name theirs (the gRPC method), not Envoy's "ingress".
            "operation": f"%REQ(:PATH):{MAX_SPAN_NAME}%",
            "upstream_operation": f"%UPSTREAM_CLUSTER% %REQ(:PATH):{MAX_SPAN_NAME}%",
            "provider": {
                "name": "envoy.tracers.opentelemetry",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
                    "grpc_service": {"envoy_grpc": {"cluster_name": OTLP_CLUSTER}, "timeout": "5s"},
                    "service_name": SERVICE_NAME,
                },
            },
        },
    }


def without_health_spans(routes: list[dict]) -> list[dict]:
    """The routes, those of grpc.health Check sampled at 0%: probes and readiness polls would be
    most of the spans and belong to no job (the services do not trace them either)."""
    never = {"overall_sampling": {"numerator": 0}}
    return [
        {**route, "tracing": never} if route["match"].get("path") == HEALTH_CHECK and "route" in route else route
        for route in routes
    ]
