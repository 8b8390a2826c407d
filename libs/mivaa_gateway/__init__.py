"""The Envoy gateway's config, rendered from envoy.template.yaml (package data).

    python -m mivaa_gateway --out envoy.yaml --port 8080 --admin-socket /run/envoy/admin.sock \
        --upstream extractor=127.0.0.1:50051 --upstream search=127.0.0.1:50052 \
        --upstream embedder=127.0.0.1:50053 --cors-origin http://localhost:5173

With no security options the config is the open one (what deploy/k8s/base/envoy.yaml holds).
Each option below switches one thing on (render() keywords; CLI flags in --help):

  tls_cert, tls_key          TLS on the public listener (ALPN h2 + http/1.1, so native
                             gRPC and grpc-web both work).
  jwks_path | jwks_uri       JWT authentication (jwt_authn) with a local JWKS file, or a
  issuer, audiences          remote JWKS URL (its own cluster; https verified against
  jwks_ca                    jwks_ca, default the system bundle). Every route needs a
                             valid token (iss, aud, signature, an exp no further than
                             max_token_lifetime_seconds (default 24 h) from its iat)
                             except grpc.health.v1.Health/Check, which stays open for
                             probes (Health/Watch is admin-only).
                             Reflection needs a valid token with any scope.
                             No/expired/bad token: HTTP 401, which Envoy sends to gRPC
                             clients as grpc-status 16 UNAUTHENTICATED.
                             Then RBAC on the verified claims: `scope` (OAuth form, one
                             space-separated string; normalized to a list) must hold
                             read for READ_RPCS, write for WRITE_RPCS, admin for anything
                             else (the internal service-to-service RPCs); admin passes
                             everywhere; the `tenant` claim must be a valid tenant id
                             and `sub` non-empty (no control characters). Otherwise
                             HTTP 403 = grpc-status 7 PERMISSION_DENIED.
                             Incoming x-mivaa-tenant / x-mivaa-subject are stripped and
                             then set from the token's `tenant` and `sub` claims. The
                             Authorization header is not forwarded upstream.
  rate_limits                (with JWT only) every public RPC is in a route class
                             (ROUTE_CLASSES: uploads, searches, reads, changes, exports,
                             watches, embeddings, ocr, answers, renders, image_analyses, admin,
                             reembeddings,
                             reflection) with a
                             per-subject token bucket and one shared by all subjects; health Check a
                             shared one; over the limit: grpc-status 8
                             RESOURCE_EXHAUSTED. See RateLimits.
  max_upload_bytes           UploadDocument bodies over this are refused at the gateway
                             (the buffer filter: store-and-forward, see _upload_route).
  upstream_tls_ca,           every upstream cluster (and its gRPC health checks) speaks
  upstream_tls_cert,         TLS, verifies the CA and presents this client certificate
  upstream_tls_key           (mTLS).
  max_concurrent_streams     HTTP/2 streams per downstream connection (default 1000).
  console_dir |              the web console on this origin: the built files served by
  console_upstream           Envoy itself, or (in a cluster) GET of "/", /index.html,
                             /favicon.svg and /assets/* routed to the console's static
                             file server (host:port). Those GETs need no token, nor
                             GET /config.json: the console's settings (the OpenID provider).
  oidc                       (with JWT) an OpenID provider's access tokens are accepted
                             beside the mivaa issuer's (remote JWKS, same claims: tenant,
                             sub, scope, aud), and the console offers sign-in there
                             (authorization code + PKCE; CSP connect-src allows its origin).
  otlp_endpoint              Envoy's own spans (OpenTelemetry tracer, service name
  trace_sampling_percent     gateway) over OTLP/gRPC to unix:///path or host:port:
                             a server span per request and a client span per upstream
                             call, whose traceparent the service continues (tracing.py).
                             Sampled at trace_sampling_percent (default 100); none
                             without an endpoint.

The admin interface is always a unix socket (admin_socket, mode 0600), never a TCP port:

  stats_port                 a `stats` listener (on listen_address) that serves GET
                             /stats/prometheus, read from the admin socket, and 404 for
                             every other path: what Prometheus scrapes.
  stats_tls_cert,            the stats listener speaks TLS with this certificate and
  stats_tls_key,             answers only clients with a certificate from
  stats_client_ca            stats_client_ca (mTLS), like the services' /metrics.
"""

from __future__ import annotations

from mivaa_gateway.oidc import Oidc
from mivaa_gateway.rate_limits import Budget, RateLimits
from mivaa_gateway.render import render
from mivaa_gateway.rpcs import (
    DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    READ_RPCS,
    ROUTE_CLASSES,
    WRITE_RPCS,
)

__all__ = [
    "DEFAULT_MAX_TOKEN_LIFETIME_SECONDS",
    "READ_RPCS",
    "ROUTE_CLASSES",
    "WRITE_RPCS",
    "Budget",
    "Oidc",
    "RateLimits",
    "render",
]
