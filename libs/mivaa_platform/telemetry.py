"""Metrics (Prometheus) and tracing (OpenTelemetry) set-up, shared by every service.

Tracing follows the standard OTEL_* variables: with OTEL_EXPORTER_OTLP_ENDPOINT
set, spans go there over OTLP/gRPC; otherwise spans are still created (so
trace ids reach logs and cross NATS) but not exported.
"""

from __future__ import annotations

import os

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import Counter, Histogram, start_http_server

RPC_DURATION = Histogram(
    "mivaa_rpc_duration_seconds",
    "Server-side duration of gRPC calls.",
    ["service", "method", "code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
RPC_ERRORS = Counter(
    "mivaa_rpc_errors_total",
    "gRPC calls that ended with a non-OK status, by reason.",
    ["service", "method", "code", "reason"],
)

_configured = False


def configure_tracing(service: str) -> None:
    """Installs the global tracer provider once per process and instruments grpc.aio."""
    global _configured
    if _configured:
        return
    _configured = True
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service)})
    provider = TracerProvider(resource=resource)
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)

    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcAioInstrumentorServer

    GrpcAioInstrumentorServer().instrument()
    GrpcAioInstrumentorClient().instrument()


def start_metrics_server(port: int, host: str = "127.0.0.1") -> int:
    """Serves /metrics; returns the bound port (0 disables)."""
    if port <= 0:
        return 0
    server, _thread = start_http_server(port, addr=host)
    return server.server_port


def inject_trace_headers(headers: dict[str, str] | None = None) -> dict[str, str]:
    """W3C trace context for a message leaving this process (NATS headers)."""
    carrier = dict(headers or {})
    propagate.inject(carrier)
    return carrier


def extract_trace_context(headers: dict[str, str] | None):
    """The remote context of a received message, to parent spans that handle it."""
    return propagate.extract(headers or {})
