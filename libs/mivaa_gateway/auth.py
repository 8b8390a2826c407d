"""Authentication and authorization filters: JWT (jwt_authn), RBAC on the verified claims, local replies."""

from __future__ import annotations

import urllib.parse

from mivaa_gateway.rpcs import (
    HEALTH_CHECK,
    HEALTH_SERVICE_HEADER,
    JWT_FILTER,
    READ_RPCS,
    REFLECTION_PREFIX,
    SCOPES_HEADER,
    SUBJECT_CLAIM_REGEX,
    SUBJECT_HEADER,
    TENANT_CLAIM_REGEX,
    TENANT_HEADER,
    WRITE_RPCS,
)
from mivaa_gateway.upstreams import upstream_tls_socket


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


def _any_of(providers: dict[str, dict]) -> dict:
    """A token from any of the issuers (mivaa's own, and an OpenID provider's when configured)."""
    if len(providers) == 1:
        return {"provider_name": next(iter(providers))}
    return {"requires_any": {"requirements": [{"provider_name": name} for name in providers]}}


def _health_header() -> dict:
    return {"name": HEALTH_SERVICE_HEADER, "present_match": True}


def _paths(paths) -> dict:
    return {"or_rules": {"rules": [{"url_path": {"path": {"exact": path}}} for path in paths]}}


def auth_filters(
    *,
    providers: dict[str, dict],
    rate_limited: bool,
    buffered: bool,
    open_matches: tuple[dict, ...] = (),
    open_permissions: dict | None = None,
) -> list[dict]:
    """open_matches: requests served without a token (GET of the console's static files; jwt_authn
    skips them) and open_permissions the RBAC rule that lets anyone make them."""
    strip = {
        "name": "envoy.filters.http.header_mutation",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation",
            # Before jwt_authn: a client's own x-mivaa-tenant / -subject / -scopes never pass.
            "mutations": {
                "request_mutations": [{"remove": TENANT_HEADER}, {"remove": SUBJECT_HEADER}, {"remove": SCOPES_HEADER}]
            },
        },
    }
    jwt = {
        "name": JWT_FILTER,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": providers,
            "rules": [
                # One named service's health: the admin screen's, with a token (RBAC: admin).
                {
                    "match": {"path": HEALTH_CHECK, "headers": [_health_header()]},
                    "requires": {"provider_name": "mivaa"},
                },
                {"match": {"path": HEALTH_CHECK}},  # open: probes and load balancers
                *({"match": match} for match in open_matches),
                {"match": {"prefix": "/"}, "requires": _any_of(providers)},
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
                    "health": {
                        "permissions": [
                            {
                                "and_rules": {
                                    "rules": [
                                        {"url_path": {"path": {"exact": HEALTH_CHECK}}},
                                        {"not_rule": {"header": _health_header()}},
                                    ]
                                }
                            }
                        ],
                        "principals": [{"any": True}],
                    },
                    # jwt_authn already demands a valid token here; any scope will do.
                    "reflection": {
                        "permissions": [{"url_path": {"path": {"prefix": REFLECTION_PREFIX}}}],
                        "principals": [_scope_principal()],
                    },
                    **(
                        {"console": {"permissions": [open_permissions], "principals": [{"any": True}]}}
                        if open_permissions
                        else {}
                    ),
                    "read": {"permissions": [_paths(READ_RPCS)], "principals": [_scope_principal("read")]},
                    "write": {"permissions": [_paths(WRITE_RPCS)], "principals": [_scope_principal("write")]},
                    "admin": {"permissions": [{"any": True}], "principals": [_scope_principal("admin")]},
                },
            },
        },
    }
    filters: list[dict] = [strip, jwt, rbac]
    if rate_limited:
        # Off unless a route carries its own config (every route class's method routes).
        filters.append(
            {
                "name": "envoy.filters.http.local_ratelimit",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                    "stat_prefix": "ratelimit",
                },
            }
        )
    if buffered:
        filters.append(
            {
                "name": "envoy.filters.http.buffer",
                "disabled": True,  # switched on by the upload route only
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer",
                    "max_request_bytes": 1,
                },
            }
        )
    return filters


# jwt_authn answers a token for another audience with 403 (so gRPC would see
# PERMISSION_DENIED); like RFC 6750's invalid_token it is an authentication failure: 401.
# Only jwt_authn's own 403s are rewritten (the RBAC filter's 403 stays).
_AUDIENCE_IS_UNAUTHENTICATED = {
    "mappers": [
        {
            "filter": {
                "extension_filter": {
                    "name": "envoy.access_loggers.extension_filters.cel",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter",
                        "expression": "response.code == 403 && response.code_details.startsWith('jwt_authn_access_denied')",
                    },
                }
            },
            "status_code": 401,
        }
    ],
}
# The buffer filter refuses an oversized upload with 413, which gRPC would read as
# UNKNOWN; RESOURCE_EXHAUSTED is what gRPC servers answer for a message over their limit.
_TOO_LARGE_IS_RESOURCE_EXHAUSTED = {
    "filter": {
        "status_code_filter": {
            "comparison": {"op": "EQ", "value": {"default_value": 413, "runtime_key": "mivaa.too_large"}}
        }
    },
    "headers_to_add": [{"header": {"key": "grpc-status", "value": "8"}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}],
}


def local_replies(authenticated: bool, upload_limit: bool) -> dict | None:
    mappers = (_AUDIENCE_IS_UNAUTHENTICATED["mappers"] if authenticated else []) + (
        [_TOO_LARGE_IS_RESOURCE_EXHAUSTED] if upload_limit else []
    )
    return {"local_reply_config": {"mappers": mappers}} if mappers else None


def jwt_provider(
    *,
    jwks_path: str | None,
    jwks_uri: str | None,
    jwks_ca: str | None,
    issuer: str,
    audiences: list[str],
    max_lifetime_seconds: int,
    cluster_name: str = "jwks",
    fast_listener: bool = False,
) -> tuple[dict, list[dict]]:
    provider: dict = {
        "issuer": issuer,
        "audiences": list(audiences),
        # A token without exp, or one made to live longer than this (exp - iat), is refused (401).
        "require_expiration": True,
        "max_lifetime": f"{max_lifetime_seconds}s",
        "payload_in_metadata": "jwt_payload",
        "normalize_payload_in_metadata": {"space_delimited_claims": ["scope"]},
        "claim_to_headers": [
            {"header_name": TENANT_HEADER, "claim_name": "tenant"},
            {"header_name": SUBJECT_HEADER, "claim_name": "sub"},
            {"header_name": SCOPES_HEADER, "claim_name": "scope"},
        ],
        "clock_skew_seconds": 30,
    }
    clusters = []
    if jwks_path:
        provider["local_jwks"] = {"filename": str(jwks_path)}
    else:
        url = urllib.parse.urlsplit(jwks_uri or "")
        secure = url.scheme == "https"
        port = url.port or (443 if secure else 80)
        provider["remote_jwks"] = {
            "http_uri": {"uri": jwks_uri, "cluster": cluster_name, "timeout": "5s"},
            "cache_duration": "600s",
            # Fetched at start and refreshed in the background. The listener waits for the first
            # fetch unless another issuer's tokens can be served meanwhile (fast_listener): an
            # OpenID provider that is down must not keep the gateway from serving mivaa tokens.
            "async_fetch": {"fast_listener": True} if fast_listener else {},
            "retry_policy": {"num_retries": 3},
        }
        cluster: dict = {
            "name": cluster_name,
            "type": "LOGICAL_DNS",
            "dns_lookup_family": "V4_PREFERRED",
            "connect_timeout": "5s",
            "load_assignment": {
                "cluster_name": cluster_name,
                "endpoints": [
                    {
                        "lb_endpoints": [
                            {"endpoint": {"address": {"socket_address": {"address": url.hostname, "port_value": port}}}}
                        ]
                    }
                ],
            },
        }
        if secure:
            cluster["transport_socket"] = upstream_tls_socket(
                url.hostname or "", jwks_ca or "/etc/ssl/certs/ca-certificates.crt", None, None
            )
        clusters.append(cluster)
    return provider, clusters
