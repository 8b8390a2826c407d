"""Renders gateway/envoy.template.yaml into a config Envoy can load.

    python gateway/render.py --out envoy.yaml --port 8080 --admin-socket /run/envoy/admin.sock \
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
                             watches, embeddings, ocr, reflection) with a per-subject
                             token bucket and one shared by all subjects; health Check a
                             shared one; over the limit: grpc-status 8
                             RESOURCE_EXHAUSTED. See RateLimits.
  max_upload_bytes           UploadDocument bodies over this are refused at the gateway
                             (the buffer filter: store-and-forward, see _upload_route).
  upstream_tls_ca,           every upstream cluster (and its gRPC health checks) speaks
  upstream_tls_cert,         TLS, verifies the CA and presents this client certificate
  upstream_tls_key           (mTLS).
  max_concurrent_streams     HTTP/2 streams per downstream connection (default 1000).

The admin interface is always a unix socket (admin_socket, mode 0600), never a TCP port:

  stats_port                 a `stats` listener (on listen_address) that serves GET
                             /stats/prometheus, read from the admin socket, and 404 for
                             every other path: what Prometheus scrapes.
  stats_tls_cert,            the stats listener speaks TLS with this certificate and
  stats_tls_key,             answers only clients with a certificate from
  stats_client_ca            stats_client_ca (mTLS), like the services' /metrics.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import string
import urllib.parse
from dataclasses import dataclass

TEMPLATE = pathlib.Path(__file__).with_name("envoy.template.yaml")
UPSTREAMS = ("extractor", "search", "embedder")
# Services a mesh may run without; each gets its route and cluster only when given.
OPTIONAL_UPSTREAMS = {"ocr": "/mivaa.ocr.v1.OcrService/"}


# What each scope grants through the gateway (full gRPC paths). admin grants everything;
# any RPC not listed here (the internal ones: CreateDocument, UpdateDocument, UpsertChunks,
# StreamEmbedTexts, EmbedImages, StreamRecognizeText, and new RPCs until they are listed)
# is admin-only.
_EXTRACTOR = "/mivaa.extractor.v1.ExtractorService/"
_SEARCH = "/mivaa.search.v1.SearchService/"
_EMBEDDER = "/mivaa.embedder.v1.EmbedderService/"
_OCR = "/mivaa.ocr.v1.OcrService/"
READ_RPCS = (
    *(_EXTRACTOR + m for m in ("GetJob", "ListJobs", "WatchJob")),
    *(_SEARCH + m for m in ("GetDocument", "ListDocuments", "SearchChunks", "ListPages", "ExportDocument",
                            "ListImages", "GetImage", "GetImageContent", "SearchImages")),
    *(_EMBEDDER + m for m in ("EmbedTexts", "ListModels")),
    *(_OCR + m for m in ("ListEngines",)),
)
# RecognizeText spends an OCR engine's compute on the caller's image, like an upload spends
# extraction: it needs write.
WRITE_RPCS = (_EXTRACTOR + "UploadDocument", _SEARCH + "DeleteDocument", _EXTRACTOR + "CancelJob", _OCR + "RecognizeText")
UPLOAD_RPCS = (_EXTRACTOR + "UploadDocument",)
SEARCH_RPCS = (_SEARCH + "SearchChunks", _SEARCH + "SearchImages")
HEALTH_PREFIX = "/grpc.health.v1.Health/"
STATS_PATH = "/stats/prometheus"
ADMIN_CLUSTER = "envoy_admin"
# Admin socket paths must fit in sun_path (108 bytes on Linux, with its NUL).
MAX_SOCKET_PATH = 107
REFLECTION_PREFIX = "/grpc.reflection."
TENANT_HEADER = "x-mivaa-tenant"
SUBJECT_HEADER = "x-mivaa-subject"
JWT_FILTER = "envoy.filters.http.jwt_authn"
_OMIT = "#<omit>"  # a placeholder line rendered as nothing (not even a blank line)


@dataclass(frozen=True)
class Budget:
    """A token bucket: `rate` requests a second, bursts up to `burst`."""

    rate: int
    burst: int


@dataclass(frozen=True)
class RateLimits:
    """Local (per Envoy process) rate limits, applied when JWT authentication is on.

    Every public RPC belongs to one route class (ROUTE_CLASSES) with two budgets. Each subject
    (the token's `sub`) gets its own bucket per route class, created on its first request
    (local_ratelimit dynamic descriptors, at most max_subjects buckets per route class, least
    recently used evicted). The shared bucket bounds the route class for all subjects together.
    None switches a budget off. Health is open (no subject): it has a shared budget only.
    """

    upload_per_subject: Budget | None = Budget(10, 20)
    upload_shared: Budget | None = Budget(100, 200)
    search_per_subject: Budget | None = Budget(50, 100)
    search_shared: Budget | None = Budget(500, 1000)
    read_per_subject: Budget | None = Budget(100, 200)
    read_shared: Budget | None = Budget(1000, 2000)
    change_per_subject: Budget | None = Budget(10, 20)
    change_shared: Budget | None = Budget(100, 200)
    export_per_subject: Budget | None = Budget(20, 40)
    export_shared: Budget | None = Budget(200, 400)
    # An ingest follows each of its jobs with one watch: a directory's worth may start at once.
    watch_per_subject: Budget | None = Budget(20, 100)
    watch_shared: Budget | None = Budget(200, 1000)
    embed_per_subject: Budget | None = Budget(50, 100)
    embed_shared: Budget | None = Budget(500, 1000)
    ocr_per_subject: Budget | None = Budget(5, 10)
    ocr_shared: Budget | None = Budget(50, 100)
    reflection_per_subject: Budget | None = Budget(5, 10)
    reflection_shared: Budget | None = Budget(50, 100)
    health_shared: Budget | None = Budget(200, 400)
    max_subjects: int = 10000

    @classmethod
    def uniform(cls, per_subject: Budget | None, shared: Budget | None, **overrides) -> RateLimits:
        """The same budgets for every route class (tests), some overridden by keyword."""
        budgets = {f"{name}_per_subject": per_subject for name in ROUTE_CLASSES} | {f"{name}_shared": shared for name in ROUTE_CLASSES}
        budgets["health_shared"] = shared
        return cls(**(budgets | overrides))

    def budgets(self, route_class: str) -> tuple[Budget | None, Budget | None]:
        return getattr(self, f"{route_class}_per_subject"), getattr(self, f"{route_class}_shared")


# The route classes: every public RPC is in exactly one, with its own budgets (RateLimits
# fields <class>_per_subject and <class>_shared) and the stat prefix / x-mivaa-ratelimited
# value `label`. Reflection is matched by prefix (its stream is the whole API listing).
ROUTE_CLASSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "upload": ("uploads", UPLOAD_RPCS),
    "search": ("searches", SEARCH_RPCS),
    "read": ("reads", (
        *(_EXTRACTOR + m for m in ("GetJob", "ListJobs")),
        *(_SEARCH + m for m in ("GetDocument", "ListDocuments", "ListPages", "ListImages", "GetImage")),
        _EMBEDDER + "ListModels", _OCR + "ListEngines",
    )),
    "change": ("changes", (_SEARCH + "DeleteDocument", _EXTRACTOR + "CancelJob")),
    "export": ("exports", (_SEARCH + "ExportDocument", _SEARCH + "GetImageContent")),
    "watch": ("watches", (_EXTRACTOR + "WatchJob",)),
    "embed": ("embeddings", (_EMBEDDER + "EmbedTexts",)),
    "ocr": ("ocr", (_OCR + "RecognizeText",)),
    "reflection": ("reflection", ()),
}
# Each method route keeps its service's timeouts: (cluster, route timeout, grpc-timeout ceiling).
# Uploads, watches and OCR stream or wait for work: the caller's grpc-timeout bounds them.
SERVICE_ROUTES = {
    _EXTRACTOR: ("extractor", "0s", "3600s"),
    _SEARCH: ("search", "60s", "600s"),
    _EMBEDDER: ("embedder", "120s", "600s"),
    _OCR: ("ocr", "0s", "1800s"),
}
HEALTH_CHECK = HEALTH_PREFIX + "Check"
# Token rules, checked by RBAC on the verified claims: a tenant in the characters the services
# accept (mivaa_platform.tenancy; a bounded repeat like its {0,63} is past Envoy's RE2 program
# size limit, so the services refuse an over-long one: INVALID_TENANT) and a non-empty subject
# without control characters.
TENANT_CLAIM_REGEX = r"[A-Za-z0-9][A-Za-z0-9._-]*"
SUBJECT_CLAIM_REGEX = r"[^\x00-\x20\x7f][^\x00-\x1f\x7f]*"
DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600


def _yaml(value, indent: int) -> list[str]:
    """A small block-style YAML emitter for the fragments (scalars as JSON, which YAML reads)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{json.dumps(key)}:")
                lines.extend(_yaml(item, indent + 2))
            else:
                lines.append(f"{pad}{json.dumps(key)}: {json.dumps(item)}")
    elif isinstance(value, list):
        for item in value:
            nested = _yaml(item, indent + 2)
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {json.dumps(item)}")
    else:
        lines.append(f"{pad}{json.dumps(value)}")
    return lines


def _block(value, indent: int) -> str:
    return "\n".join(_yaml(value, indent)) if value else _OMIT


def _upstream_tls(
    host: str, ca: str, cert: str | None, key: str | None, alpn: list[str] | None = None, *, peer_name: str = ""
) -> dict:
    context: dict = {"validation_context": {"trusted_ca": {"filename": ca}}}
    if peer_name:
        # Every certificate from the CA is trusted; only the service's own may answer for it.
        context["validation_context"]["match_typed_subject_alt_names"] = [
            {"san_type": "DNS", "matcher": {"exact": peer_name}}
        ]
    if cert and key:
        context["tls_certificates"] = [{"certificate_chain": {"filename": cert}, "private_key": {"filename": key}}]
    if alpn:
        context["alpn_protocols"] = alpn
    tls: dict = {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", "common_tls_context": context}
    if host and not host.replace(".", "").isdigit() and ":" not in host:
        tls["sni"] = host
    return {"name": "envoy.transport_sockets.tls", "typed_config": tls}


def _cluster(name: str, address: str, tls: dict | None = None) -> str:
    host, _, port = address.rpartition(":")
    # Every gRPC upstream speaks HTTP/2 and is health-checked with grpc.health.v1.
    return f"""    - name: {name}
      type: STRICT_DNS
      connect_timeout: 2s
      lb_policy: ROUND_ROBIN
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options:
              max_concurrent_streams: 1000
      health_checks:
        - timeout: 2s
          interval: 5s
          unhealthy_threshold: 3
          healthy_threshold: 1
          grpc_health_check: {{}}
      load_assignment:
        cluster_name: {name}
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: {{ address: {host}, port_value: {port} }}
""" + (("      transport_socket:\n" + "\n".join(_yaml(_upstream_tls(host, **tls, alpn=["h2"], peer_name=name), 8)) + "\n") if tls else "")


def _scope_principal(*scopes: str) -> dict:  # no scopes: any scope
    """A verified token holding one of scopes (in the normalized scope list), a valid tenant and a subject.

    A missing, null or empty `tenant` or `sub` claim matches no regex: refused (403), never
    served as the services' default tenant or outside the per-subject budgets.
    """
    def claim(name: str, value: dict) -> dict:
        matcher = {"filter": JWT_FILTER, "path": [{"key": "jwt_payload"}, {"key": name}], "value": value}
        return {"sourced_metadata": {"metadata_matcher": matcher}}  # dynamic metadata, set by jwt_authn

    one_of = [claim("scope", {"list_match": {"one_of": {"string_match": {"exact": scope}}}}) for scope in scopes]
    identity = [
        claim("tenant", {"string_match": {"safe_regex": {"regex": TENANT_CLAIM_REGEX}}}),
        claim("sub", {"string_match": {"safe_regex": {"regex": SUBJECT_CLAIM_REGEX}}}),
    ]
    if not one_of:
        return {"and_ids": {"ids": identity}}
    return {"and_ids": {"ids": [{"or_ids": {"ids": one_of}} if len(one_of) > 1 else one_of[0], *identity]}}


def _paths(paths) -> dict:
    return {"or_rules": {"rules": [{"url_path": {"path": {"exact": path}}} for path in paths]}}


def _auth_filters(*, provider: dict, rate_limited: bool, buffered: bool) -> list[dict]:
    strip = {
        "name": "envoy.filters.http.header_mutation",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
            # Before jwt_authn: a client's own x-mivaa-tenant / x-mivaa-subject never pass.
            "mutations": {"request_mutations": [{"remove": TENANT_HEADER}, {"remove": SUBJECT_HEADER}]},
        },
    }
    jwt = {
        "name": JWT_FILTER,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {"mivaa": provider},
            "rules": [
                {"match": {"path": HEALTH_CHECK}},  # open: probes and load balancers
                {"match": {"prefix": "/"}, "requires": {"provider_name": "mivaa"}},
            ],
            "bypass_cors_preflight": True,
        },
    }
    rbac = {
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "rules": {
                "action": "ALLOW",
                "policies": {
                    # Check only: a Watch is a stream held open on a service for as long as the
                    # caller likes, which probes do not need (admin may still watch).
                    "health": {"permissions": [{"url_path": {"path": {"exact": HEALTH_CHECK}}}], "principals": [{"any": True}]},
                    # jwt_authn already demands a valid token here; any scope will do.
                    "reflection": {"permissions": [{"url_path": {"path": {"prefix": REFLECTION_PREFIX}}}], "principals": [_scope_principal()]},
                    "read": {"permissions": [_paths(READ_RPCS)], "principals": [_scope_principal("read")]},
                    "write": {"permissions": [_paths(WRITE_RPCS)], "principals": [_scope_principal("write")]},
                    "admin": {"permissions": [{"any": True}], "principals": [_scope_principal("admin")]},
                },
            },
        },
    }
    filters = [strip, jwt, rbac]
    if rate_limited:
        # Off unless a route carries its own config (every route class's method routes).
        filters.append({
            "name": "envoy.filters.http.local_ratelimit",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", "stat_prefix": "ratelimit"},
        })
    if buffered:
        filters.append({
            "name": "envoy.filters.http.buffer",
            "disabled": True,  # switched on by the upload route only
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer", "max_request_bytes": 1},
        })
    return filters


# jwt_authn answers a token for another audience with 403 (so gRPC would see
# PERMISSION_DENIED); like RFC 6750's invalid_token it is an authentication failure: 401.
# Only jwt_authn's own 403s are rewritten (the RBAC filter's 403 stays).
_AUDIENCE_IS_UNAUTHENTICATED = {
    "mappers": [{
        "filter": {"extension_filter": {
            "name": "envoy.access_loggers.extension_filters.cel",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter",
                "expression": "response.code == 403 && response.code_details.startsWith('jwt_authn_access_denied')",
            },
        }},
        "status_code": 401,
    }],
}
# The buffer filter refuses an oversized upload with 413, which gRPC would read as
# UNKNOWN; RESOURCE_EXHAUSTED is what gRPC servers answer for a message over their limit.
_TOO_LARGE_IS_RESOURCE_EXHAUSTED = {
    "filter": {"status_code_filter": {"comparison": {"op": "EQ", "value": {"default_value": 413, "runtime_key": "mivaa.too_large"}}}},
    "headers_to_add": [{"header": {"key": "grpc-status", "value": "8"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}],
}


def _local_replies(authenticated: bool, upload_limit: bool) -> dict | None:
    mappers = (_AUDIENCE_IS_UNAUTHENTICATED["mappers"] if authenticated else []) + ([_TOO_LARGE_IS_RESOURCE_EXHAUSTED] if upload_limit else [])
    return {"local_reply_config": {"mappers": mappers}} if mappers else None


def _bucket(budget: Budget) -> dict:
    return {"max_tokens": budget.burst, "tokens_per_fill": budget.rate, "fill_interval": "1s"}


def _rate_limit(name: str, per_subject: Budget | None, shared: Budget | None, max_subjects: int) -> dict | None:
    if per_subject is None and shared is None:
        return None
    everyone = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}
    config: dict = {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        "stat_prefix": name,
        # No shared budget: a bucket too large to matter (the filter needs a default bucket).
        "token_bucket": _bucket(shared or Budget(1_000_000, 1_000_000)),
        "filter_enabled": {**everyone, "runtime_key": f"ratelimit.{name}.enabled"},
        "filter_enforced": {**everyone, "runtime_key": f"ratelimit.{name}.enforced"},
        "rate_limited_as_resource_exhausted": True,
        "response_headers_to_add": [{"append_action": "OVERWRITE_IF_EXISTS_OR_ADD", "header": {"key": "x-mivaa-ratelimited", "value": name}}],
    }
    if per_subject is not None:
        # An entry with an empty value is a wildcard: one bucket per distinct subject (dynamic descriptors).
        config["descriptors"] = [{"entries": [{"key": "subject", "value": ""}], "token_bucket": _bucket(per_subject)}]
        config["rate_limits"] = [{"actions": [{"request_headers": {"header_name": SUBJECT_HEADER, "descriptor_key": "subject"}}]}]
        config["max_dynamic_descriptors"] = max_subjects
    return config


def _filter_config(config: dict) -> dict:
    return {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "config": config}


def _method_route(match: dict, route: dict, filters: dict) -> dict:
    return {"match": match, "route": route, "typed_per_filter_config": filters} if filters else {"match": match, "route": route}


def _method_routes(*, rate_limits: RateLimits | None, max_upload_bytes: int | None, optional: list[str]) -> list[dict]:
    """Routes for single RPCs that need their own filter configs, ahead of the per-service prefixes.

    With rate limits, one route per public RPC (its route class's budgets, its service's
    timeouts), plus health Check (shared budget) and reflection (prefix); RPCs not listed
    (the admin-only internal ones) fall through to the per-service prefix routes.
    """
    routes = []
    clusters = {"extractor", "search", "embedder", *optional}
    for route_class, (label, paths) in ROUTE_CLASSES.items() if rate_limits is not None else ():
        per_subject, shared = rate_limits.budgets(route_class)
        limit = _rate_limit(label, per_subject, shared, rate_limits.max_subjects)
        filters = {"envoy.filters.http.local_ratelimit": limit} if limit else {}
        if route_class == "reflection":
            routes.append(_method_route({"prefix": REFLECTION_PREFIX}, {"cluster": "extractor", "timeout": "0s"}, filters))
            continue
        for path in paths:
            cluster, timeout, ceiling = next(value for prefix, value in SERVICE_ROUTES.items() if path.startswith(prefix))
            if cluster not in clusters:
                continue
            route_filters = dict(filters)
            if path in UPLOAD_RPCS and max_upload_bytes is not None:
                route_filters["envoy.filters.http.buffer"] = _upload_buffer(max_upload_bytes)
            routes.append(_method_route({"path": path}, {"cluster": cluster, "timeout": timeout, "max_stream_duration": {"grpc_timeout_header_max": ceiling}}, route_filters))
    if rate_limits is not None and (health := _rate_limit("health", None, rate_limits.health_shared, rate_limits.max_subjects)):
        routes.append(_method_route({"path": HEALTH_CHECK}, {"cluster": "extractor", "timeout": "10s"}, {"envoy.filters.http.local_ratelimit": health}))
    if rate_limits is None and max_upload_bytes is not None:
        for path in UPLOAD_RPCS:
            routes.append(_method_route(
                {"path": path}, {"cluster": "extractor", "timeout": "0s", "max_stream_duration": {"grpc_timeout_header_max": "3600s"}},
                {"envoy.filters.http.buffer": _upload_buffer(max_upload_bytes)},
            ))
    return routes


def _upload_buffer(max_upload_bytes: int) -> dict:
    return _filter_config({"@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute", "buffer": {"max_request_bytes": max_upload_bytes}})


def _jwt_provider(
    *, jwks_path: str | None, jwks_uri: str | None, issuer: str, audiences: list[str], max_lifetime_seconds: int
) -> tuple[dict, list[dict]]:
    provider: dict = {
        "issuer": issuer,
        "audiences": list(audiences),
        # A token without exp, or one made to live longer than this (exp - iat), is refused (401).
        "require_expiration": True,
        "max_lifetime": f"{max_lifetime_seconds}s",
        "payload_in_metadata": "jwt_payload",
        "normalize_payload_in_metadata": {"space_delimited_claims": ["scope"]},
        "claim_to_headers": [{"header_name": TENANT_HEADER, "claim_name": "tenant"}, {"header_name": SUBJECT_HEADER, "claim_name": "sub"}],
        "clock_skew_seconds": 30,
    }
    clusters = []
    if jwks_path:
        provider["local_jwks"] = {"filename": str(jwks_path)}
    else:
        url = urllib.parse.urlsplit(jwks_uri)
        secure = url.scheme == "https"
        port = url.port or (443 if secure else 80)
        provider["remote_jwks"] = {
            "http_uri": {"uri": jwks_uri, "cluster": "jwks", "timeout": "5s"},
            "cache_duration": "600s",
            "async_fetch": {},  # fetched at start and refreshed in the background
            "retry_policy": {"num_retries": 3},
        }
        cluster: dict = {
            "name": "jwks",
            "type": "LOGICAL_DNS",
            "dns_lookup_family": "V4_PREFERRED",
            "connect_timeout": "5s",
            "load_assignment": {"cluster_name": "jwks", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": url.hostname, "port_value": port}}}}]}]},
        }
        clusters.append(cluster)
    return provider, clusters


def _listener_tls(cert: str, key: str) -> dict:
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": {
                "alpn_protocols": ["h2", "http/1.1"],  # native gRPC on h2, grpc-web from browsers on either
                "tls_params": {"tls_minimum_protocol_version": "TLSv1_2"},
                "tls_certificates": [{"certificate_chain": {"filename": str(cert)}, "private_key": {"filename": str(key)}}],
            },
        },
    }


def _stats_listener(port: int, address: str, tls: dict | None) -> dict:
    """GET /stats/prometheus, forwarded to the admin socket; anything else: 404, never the admin."""
    routes = [
        {
            "match": {"path": STATS_PATH, "headers": [{"name": ":method", "string_match": {"exact": "GET"}}]},
            "route": {"cluster": ADMIN_CLUSTER, "timeout": "10s"},
        },
        {"match": {"prefix": "/"}, "direct_response": {"status": 404}},
    ]
    manager = {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": "stats",
            "codec_type": "AUTO",
            "route_config": {"name": "stats", "virtual_hosts": [{"name": "stats", "domains": ["*"], "routes": routes}]},
            "http_filters": [{
                "name": "envoy.filters.http.router",
                "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
            }],
        },
    }
    chain: dict = {"filters": [manager]}
    if tls:
        chain["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                "require_client_certificate": True,
                "common_tls_context": {
                    "tls_params": {"tls_minimum_protocol_version": "TLSv1_2"},
                    "tls_certificates": [{"certificate_chain": {"filename": tls["cert"]}, "private_key": {"filename": tls["key"]}}],
                    "validation_context": {"trusted_ca": {"filename": tls["client_ca"]}},
                },
            },
        }
    return {"name": "stats", "address": {"socket_address": {"address": address, "port_value": port}}, "filter_chains": [chain]}


def _admin_cluster(admin_socket: str) -> dict:
    return {
        "name": ADMIN_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": ADMIN_CLUSTER,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"pipe": {"path": admin_socket}}}}]}],
        },
    }


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
    rate_limits: RateLimits | None = RateLimits(),
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
        raise SystemExit(f"admin_socket must be an absolute path of at most {MAX_SOCKET_PATH - 1} bytes: {admin_socket}")
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
    limits = rate_limits if authenticated else None  # budgets are per subject: only with tokens
    filters: list[dict] = []
    extra_clusters: list[dict] = []
    if authenticated:
        provider, extra_clusters = _jwt_provider(
            jwks_path=jwks_path, jwks_uri=jwks_uri, issuer=issuer, audiences=list(audiences), max_lifetime_seconds=max_token_lifetime_seconds
        )
        filters = _auth_filters(provider=provider, rate_limited=limits is not None, buffered=max_upload_bytes is not None)
        if jwks_uri and urllib.parse.urlsplit(jwks_uri).scheme == "https":
            host = urllib.parse.urlsplit(jwks_uri).hostname
            extra_clusters[0]["transport_socket"] = _upstream_tls(host, jwks_ca or "/etc/ssl/certs/ca-certificates.crt", None, None)
    elif max_upload_bytes is not None:
        filters = [{
            "name": "envoy.filters.http.buffer",
            "disabled": True,
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer", "max_request_bytes": 1},
        }]
    upstream_tls = {"ca": upstream_tls_ca, "cert": upstream_tls_cert, "key": upstream_tls_key} if upstream_tls_ca else None
    extra_listeners: list[dict] = []
    if stats_port:
        stats_tls = {"cert": stats_tls_cert, "key": stats_tls_key, "client_ca": stats_client_ca} if stats_tls_cert else None
        extra_listeners.append(_stats_listener(stats_port, listen_address, stats_tls))
        extra_clusters = [*extra_clusters, _admin_cluster(admin_socket)]
    text = string.Template(TEMPLATE.read_text()).substitute(
        GATEWAY_PORT=port,
        ADMIN_SOCKET=json.dumps(admin_socket),
        LISTEN_ADDRESS=listen_address,
        CORS_ORIGINS=json.dumps(origins),
        MAX_CONCURRENT_STREAMS=max_concurrent_streams,
        METHOD_ROUTES=_block(_method_routes(rate_limits=limits, max_upload_bytes=max_upload_bytes, optional=optional), 24),
        OPTIONAL_ROUTES=routes,
        AUTH_FILTERS=_block(filters, 18),
        HCM_OPTIONS=_block(_local_replies(authenticated, max_upload_bytes is not None), 16),
        LISTENER_TLS=_block({"transport_socket": _listener_tls(tls_cert, tls_key)} if tls_cert else None, 10),
        EXTRA_LISTENERS=_block(extra_listeners, 4),
        CLUSTERS="".join(_cluster(name, upstreams[name], upstream_tls) for name in (*UPSTREAMS, *optional)),
        EXTRA_CLUSTERS=(_block(extra_clusters, 4) + "\n") if extra_clusters else "",
    )
    return "".join(line for line in text.splitlines(keepends=True) if line.rstrip("\n") != _OMIT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--admin-socket", required=True, help="the admin interface's unix socket (mode 0600)")
    parser.add_argument("--stats-port", type=int, help="a listener serving only GET /stats/prometheus")
    parser.add_argument("--stats-tls-cert")
    parser.add_argument("--stats-tls-key")
    parser.add_argument("--stats-client-ca")
    parser.add_argument("--listen-address", default="127.0.0.1")
    parser.add_argument("--upstream", action="append", default=[], help="name=host:port")
    parser.add_argument("--cors-origin", action="append", default=[])
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--jwks-path")
    parser.add_argument("--jwks-uri")
    parser.add_argument("--jwks-ca")
    parser.add_argument("--issuer", default="mivaa-dev")
    parser.add_argument("--audience", action="append", default=[])
    parser.add_argument("--max-upload-bytes", type=int)
    parser.add_argument("--upstream-tls-ca")
    parser.add_argument("--upstream-tls-cert")
    parser.add_argument("--upstream-tls-key")
    parser.add_argument("--max-concurrent-streams", type=int, default=1000)
    parser.add_argument("--max-token-lifetime", type=int, default=DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, help="seconds a token may live (exp - iat)")
    args = parser.parse_args()
    upstreams = dict(item.split("=", 1) for item in args.upstream)
    args.out.write_text(
        render(
            port=args.port, admin_socket=args.admin_socket, upstreams=upstreams, cors_origins=args.cors_origin, listen_address=args.listen_address,
            tls_cert=args.tls_cert, tls_key=args.tls_key, jwks_path=args.jwks_path, jwks_uri=args.jwks_uri, jwks_ca=args.jwks_ca,
            issuer=args.issuer, audiences=args.audience or ["mivaa"], max_upload_bytes=args.max_upload_bytes,
            upstream_tls_ca=args.upstream_tls_ca, upstream_tls_cert=args.upstream_tls_cert, upstream_tls_key=args.upstream_tls_key,
            max_concurrent_streams=args.max_concurrent_streams, max_token_lifetime_seconds=args.max_token_lifetime,
            stats_port=args.stats_port, stats_tls_cert=args.stats_tls_cert, stats_tls_key=args.stats_tls_key,
            stats_client_ca=args.stats_client_ca,
        )
    )


if __name__ == "__main__":
    main()
