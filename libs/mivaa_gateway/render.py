"""render(): the template with every fragment spliced in, checked options first."""

from __future__ import annotations

import json
import pathlib
import string
from importlib import resources

from mivaa_gateway.auth import auth_filters, jwt_provider, local_replies
from mivaa_gateway.console import console_serving
from mivaa_gateway.oidc import JWKS_CLUSTER as OIDC_JWKS_CLUSTER
from mivaa_gateway.oidc import PROVIDER_NAME as OIDC_PROVIDER
from mivaa_gateway.oidc import Oidc
from mivaa_gateway.rate_limits import RateLimits
from mivaa_gateway.routes import method_routes
from mivaa_gateway.rpcs import (
    DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    MAX_SOCKET_PATH,
    OPTIONAL_UPSTREAMS,
    UPSTREAMS,
)
from mivaa_gateway.tracing import otlp_cluster, tracing_options, without_health_spans
from mivaa_gateway.upstreams import (
    admin_cluster,
    listener_tls_socket,
    stats_listener,
    upstream_cluster,
)
from mivaa_gateway.yaml_blocks import OMIT, yaml_block

# Package data: rendering works the same from a source checkout and from an installed wheel.
TEMPLATE = resources.files("mivaa_gateway").joinpath("envoy.template.yaml")
DEFAULT_RATE_LIMITS = RateLimits()


def render(
    *,
    port: int,
    admin_socket: str,
    upstreams: dict[str, str],
    cors_origins: list[str],
    listen_address: str = "127.0.0.1",
    tls_cert: str | None = None,
    tls_key: str | None = None,
    jwks_path: str | None = None,
    jwks_uri: str | None = None,
    jwks_ca: str | None = None,
    issuer: str = "mivaa-dev",
    audiences: list[str] | tuple[str, ...] = ("mivaa",),
    rate_limits: RateLimits | None = DEFAULT_RATE_LIMITS,
    max_upload_bytes: int | None = None,
    upstream_tls_ca: str | None = None,
    upstream_tls_cert: str | None = None,
    upstream_tls_key: str | None = None,
    max_concurrent_streams: int = 1000,
    max_token_lifetime_seconds: int = DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    stats_port: int | None = None,
    stats_tls_cert: str | None = None,
    stats_tls_key: str | None = None,
    stats_client_ca: str | None = None,
    console_dir: str | pathlib.Path | None = None,
    console_upstream: str | None = None,
    oidc: Oidc | None = None,
    otlp_endpoint: str | None = None,
    trace_sampling_percent: float = 100.0,
) -> str:
    missing = [name for name in UPSTREAMS if name not in upstreams]
    if missing:
        raise SystemExit(f"missing --upstream for: {', '.join(missing)}")
    if bool(tls_cert) != bool(tls_key):
        raise SystemExit("tls_cert and tls_key go together")
    if jwks_path and jwks_uri:
        raise SystemExit("jwks_path or jwks_uri, not both")
    if bool(upstream_tls_cert) != bool(upstream_tls_key) or (upstream_tls_cert and not upstream_tls_ca):
        raise SystemExit("upstream_tls_cert and upstream_tls_key go together, with upstream_tls_ca")
    if not admin_socket.startswith("/") or len(admin_socket) > MAX_SOCKET_PATH - 1:
        raise SystemExit(
            f"admin_socket must be an absolute path of at most {MAX_SOCKET_PATH - 1} bytes: {admin_socket}"
        )
    stats_tls_files = (stats_tls_cert, stats_tls_key, stats_client_ca)
    if any(stats_tls_files) and not (all(stats_tls_files) and stats_port):
        raise SystemExit("stats_tls_cert, stats_tls_key and stats_client_ca go together, with stats_port")
    origins = [{"exact": origin} for origin in cors_origins] or [{"exact": "http://localhost:5173"}]
    optional = [name for name in OPTIONAL_UPSTREAMS if name in upstreams]
    routes = "".join(
        f"""                        - match: {{ prefix: "{OPTIONAL_UPSTREAMS[name]}" }}
                          route:
                            cluster: {name}
                            timeout: 0s
                            max_stream_duration: {{ grpc_timeout_header_max: 1800s }}
"""
        for name in optional
    ).rstrip("\n")
    authenticated = bool(jwks_path or jwks_uri)
    if oidc and not authenticated:
        raise SystemExit("oidc needs JWT authentication (jwks_path or jwks_uri) on")
    console = console_serving(console_dir, console_upstream, oidc)
    limits = rate_limits if authenticated else None  # budgets are per subject: only with tokens
    filters: list[dict] = []
    extra_clusters: list[dict] = []
    if authenticated:
        provider, extra_clusters = jwt_provider(
            jwks_path=jwks_path,
            jwks_uri=jwks_uri,
            jwks_ca=jwks_ca,
            issuer=issuer,
            audiences=list(audiences),
            max_lifetime_seconds=max_token_lifetime_seconds,
        )
        providers = {"mivaa": provider}
        if oidc:
            providers[OIDC_PROVIDER], oidc_clusters = jwt_provider(
                jwks_path=None,
                jwks_uri=oidc.jwks_uri,
                jwks_ca=oidc.jwks_ca,
                issuer=oidc.issuer,
                audiences=[oidc.audience],
                max_lifetime_seconds=max_token_lifetime_seconds,
                cluster_name=OIDC_JWKS_CLUSTER,
                fast_listener=True,
            )
            extra_clusters += oidc_clusters
        filters = auth_filters(
            providers=providers,
            rate_limited=limits is not None,
            buffered=max_upload_bytes is not None,
            open_matches=tuple(console.open_matches),
            open_permissions=console.open_permissions,
        )
    elif max_upload_bytes is not None:
        filters = [
            {
                "name": "envoy.filters.http.buffer",
                "disabled": True,
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer",
                    "max_request_bytes": 1,
                },
            }
        ]
    extra_clusters += console.clusters
    routes_by_method = console.routes + method_routes(
        rate_limits=limits, max_upload_bytes=max_upload_bytes, optional=optional
    )
    hcm_options = local_replies(authenticated, max_upload_bytes is not None) or {}
    if otlp_endpoint:
        hcm_options |= tracing_options(trace_sampling_percent)
        extra_clusters.append(otlp_cluster(otlp_endpoint))
        routes_by_method = without_health_spans(routes_by_method)
    upstream_tls = (
        {"ca": upstream_tls_ca, "cert": upstream_tls_cert, "key": upstream_tls_key} if upstream_tls_ca else None
    )
    extra_listeners: list[dict] = []
    if stats_port:
        stats_tls = (
            {"cert": stats_tls_cert, "key": stats_tls_key, "client_ca": stats_client_ca} if stats_tls_cert else None
        )
        extra_listeners.append(stats_listener(stats_port, listen_address, stats_tls))
        extra_clusters = [*extra_clusters, admin_cluster(admin_socket)]
    text = string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        GATEWAY_PORT=port,
        ADMIN_SOCKET=json.dumps(admin_socket),
        LISTEN_ADDRESS=listen_address,
        CORS_ORIGINS=json.dumps(origins),
        MAX_CONCURRENT_STREAMS=max_concurrent_streams,
        METHOD_ROUTES=yaml_block(routes_by_method, 24),
        ROUTE_CONFIG_OPTIONS=yaml_block(console.route_config_options, 18),
        OPTIONAL_ROUTES=routes,
        AUTH_FILTERS=yaml_block(filters, 18),
        HCM_OPTIONS=yaml_block(hcm_options, 16),
        LISTENER_TLS=yaml_block(
            {"transport_socket": listener_tls_socket(tls_cert, tls_key)} if tls_cert and tls_key else None, 10
        ),
        EXTRA_LISTENERS=yaml_block(extra_listeners, 4),
        CLUSTERS="".join(upstream_cluster(name, upstreams[name], upstream_tls) for name in (*UPSTREAMS, *optional)),
        EXTRA_CLUSTERS=(yaml_block(extra_clusters, 4) + "\n") if extra_clusters else "",
    )
    return "".join(line for line in text.splitlines(keepends=True) if line.rstrip("\n") != OMIT)
