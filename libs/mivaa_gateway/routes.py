"""Per-RPC routes: each route class's rate limits and its service's timeouts, and the upload body limit."""

from __future__ import annotations

from mivaa_gateway.rate_limits import RateLimits, rate_limit_config
from mivaa_gateway.rpcs import (
    HEALTH_CHECK,
    HEALTH_SERVICE_HEADER,
    REFLECTION_PREFIX,
    ROUTE_CLASSES,
    SERVICE_ROUTES,
    UPLOAD_RPCS,
)


def _filter_config(config: dict) -> dict:
    return {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "config": config}


def _method_route(match: dict, route: dict, filters: dict) -> dict:
    return (
        {"match": match, "route": route, "typed_per_filter_config": filters}
        if filters
        else {"match": match, "route": route}
    )


def method_routes(*, rate_limits: RateLimits | None, max_upload_bytes: int | None, optional: list[str]) -> list[dict]:
    """Routes for single RPCs that need their own filter configs, ahead of the per-service prefixes.

    With rate limits, one route per public RPC (its route class's budgets, its service's
    timeouts), plus health Check (shared budget) and reflection (prefix); RPCs not listed
    (the admin-only internal ones) fall through to the per-service prefix routes.
    """
    routes = []
    clusters = {"extractor", "search", "embedder", *optional}
    for route_class, (label, paths) in ROUTE_CLASSES.items() if rate_limits is not None else ():
        assert rate_limits is not None  # the loop runs only with rate limits
        per_subject, shared = rate_limits.budgets(route_class)
        limit = rate_limit_config(label, per_subject, shared, rate_limits.max_subjects)
        filters = {"envoy.filters.http.local_ratelimit": limit} if limit else {}
        if route_class == "reflection":
            routes.append(
                _method_route({"prefix": REFLECTION_PREFIX}, {"cluster": "extractor", "timeout": "0s"}, filters)
            )
            continue
        for path in paths:
            cluster, timeout, ceiling = next(
                value for prefix, value in SERVICE_ROUTES.items() if path.startswith(prefix)
            )
            if cluster not in clusters:
                continue
            route_filters = dict(filters)
            if path in UPLOAD_RPCS and max_upload_bytes is not None:
                route_filters["envoy.filters.http.buffer"] = _upload_buffer(max_upload_bytes)
            routes.append(
                _method_route(
                    {"path": path},
                    {
                        "cluster": cluster,
                        "timeout": timeout,
                        "max_stream_duration": {"grpc_timeout_header_max": ceiling},
                    },
                    route_filters,
                )
            )
    health = (
        rate_limit_config("health", None, rate_limits.health_shared, rate_limits.max_subjects)
        if rate_limits is not None
        else None
    )
    health_filters = {"envoy.filters.http.local_ratelimit": health} if health else {}
    for cluster in sorted(clusters):
        # One service's own health (the admin screen), named by a header: admin only (auth.py).
        header = {"name": HEALTH_SERVICE_HEADER, "string_match": {"exact": cluster}}
        routes.append(
            _method_route(
                {"path": HEALTH_CHECK, "headers": [header]}, {"cluster": cluster, "timeout": "10s"}, health_filters
            )
        )
    # Any other name: no such service here (404, which gRPC reads as UNIMPLEMENTED), never the open Check's.
    named = {"name": HEALTH_SERVICE_HEADER, "present_match": True}
    routes.append({"match": {"path": HEALTH_CHECK, "headers": [named]}, "direct_response": {"status": 404}})
    if health:
        routes.append(
            _method_route(
                {"path": HEALTH_CHECK},
                {"cluster": "extractor", "timeout": "10s"},
                {"envoy.filters.http.local_ratelimit": health},
            )
        )
    if rate_limits is None and max_upload_bytes is not None:
        for path in UPLOAD_RPCS:
            routes.append(
                _method_route(
                    {"path": path},
                    {
                        "cluster": "extractor",
                        "timeout": "0s",
                        "max_stream_duration": {"grpc_timeout_header_max": "3600s"},
                    },
                    {"envoy.filters.http.buffer": _upload_buffer(max_upload_bytes)},
                )
            )
    return routes


def _upload_buffer(max_upload_bytes: int) -> dict:
    return _filter_config(
        {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute",
            "buffer": {"max_request_bytes": max_upload_bytes},
        }
    )
