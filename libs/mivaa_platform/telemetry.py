"""Metrics (Prometheus) and tracing (OpenTelemetry) set-up, shared by every service.

The /metrics endpoint speaks what the service's gRPC port speaks: with the service's TLS
configured (<PREFIX>_TLS_CERT, _TLS_KEY, _TLS_CLIENT_CA) it is HTTPS and a scraper must present
a certificate from the mesh CA (mTLS), like any caller; without TLS it is plain HTTP.

Tracing follows the standard OTEL_* variables: with OTEL_EXPORTER_OTLP_ENDPOINT
set, spans go there over OTLP/gRPC; otherwise spans are still created (so
trace ids reach logs and cross NATS) but not exported.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
from collections.abc import Awaitable
from socketserver import ThreadingMixIn
from typing import TypeVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from google.protobuf import descriptor_pool
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import REGISTRY, Counter, Histogram, make_wsgi_app

from mivaa_platform.config import ConfigError, ServerSettings

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


def initialize_rpc_series(service_label: str, service_name: str) -> None:
    """Creates each method's successful-call series at zero, so the first calls already show in a
    rate (a series born at its first call would hide that call from rate() and increase())."""
    try:
        descriptor = descriptor_pool.Default().FindServiceByName(service_name)
    except KeyError:
        return  # a service registered without its descriptor (tests' fakes): no series ahead of time
    for method in descriptor.methods:
        RPC_DURATION.labels(service_label, method.name, "OK")


# A scraper has this long to finish its TLS handshake and send its request.
METRICS_CLIENT_TIMEOUT_S = 10.0


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

    from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcAioInstrumentorServer, filters

    # Health checks (probes, the mesh's readiness polls, dependency checks) would be most of the
    # spans and belong to no job: they are not traced.
    not_health = filters.negate(filters.health_check())
    GrpcAioInstrumentorServer(filter_=not_health).instrument()
    GrpcAioInstrumentorClient(filter_=not_health).instrument()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass  # one line per scrape is noise


class _MetricsServer(ThreadingMixIn, WSGIServer):
    """One thread per connection; the TLS handshake happens in that thread, under a timeout,
    so a client that connects and says nothing holds only its own thread, never the accept loop."""

    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def get_request(self):
        connection, address = self.socket.accept()
        connection.settimeout(METRICS_CLIENT_TIMEOUT_S)
        if self.tls is not None:
            connection = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def finish_request(self, request, client_address) -> None:
        if self.tls is not None:
            try:
                request.do_handshake()  # no certificate from the mesh CA: refused here
            except (OSError, ssl.SSLError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        pass  # a scraper that went away (or timed out) is not the service's error


def _metrics_tls(settings: ServerSettings) -> ssl.SSLContext | None:
    paths = (settings.tls_cert, settings.tls_key, settings.tls_client_ca)
    if not any(paths):
        return None
    if not all(paths):
        raise ConfigError("metrics: TLS needs the certificate, its key and the client CA together")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
        context.load_verify_locations(cafile=settings.tls_client_ca)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"metrics: cannot load the TLS files: {error}") from None
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def start_metrics_server(port: int, host: str = "127.0.0.1", *, tls: ServerSettings | None = None) -> int:
    """Serves /metrics; returns the bound port (0 disables). With `tls` holding the service's
    TLS files: HTTPS, and only clients with a certificate from its client CA get an answer."""
    if port <= 0:
        return 0
    context = _metrics_tls(tls) if tls is not None else None

    class Server(_MetricsServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    Server.tls = context
    server = make_server(host, port, make_wsgi_app(REGISTRY), Server, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server.server_port


def inject_trace_headers(headers: dict[str, str] | None = None) -> dict[str, str]:
    """W3C trace context for a message leaving this process (NATS headers)."""
    carrier = dict(headers or {})
    propagate.inject(carrier)
    return carrier


def extract_trace_context(headers: dict[str, str] | None):
    """The remote context of a received message, to parent spans that handle it."""
    return propagate.extract(headers or {})


_tracer = trace.get_tracer("mivaa")
_T = TypeVar("_T")


async def traced(name: str, step: Awaitable[_T], **attributes: str | int) -> _T:
    """Awaits `step` inside a span called `name` (a stage of the pipeline in a job's trace)."""
    with _tracer.start_as_current_span(name, attributes={f"mivaa.{key}": value for key, value in attributes.items()}):
        return await step
