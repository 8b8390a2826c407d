"""The web console's static files, on the gateway's own origin (no CORS: the page and its
grpc-web calls share one origin).

Locally (console_dir) each file of the built console (console/dist) becomes one exact-path
route with a direct_response that Envoy reads at start: no file server, and nothing but GET
of those exact paths is opened without a token; a rebuilt console is served after the
gateway restarts. In a cluster (console_upstream) the files come from the console's static
file server (its image holds the build, so the gateway need not know the hashed names):
GET of the paths a Vite build has ("/", index.html, favicon.svg, /assets/*) is routed there.
Either way the gateway sets the caching and security headers, here in one place.
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field

from mivaa_gateway.oidc import Oidc, console_config

# The console's settings (an OpenID provider to sign in with), written by the gateway itself.
CONFIG_PATH = "/config.json"
# Envoy refuses a direct_response body over this (its default is 4 KiB); the console's
# files are far below it (the build fails when the initial bundle passes 500 kB gzip).
MAX_FILE_BYTES = 4 * 1024 * 1024
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}


def content_security_policy(connect: tuple[str, ...] = ()) -> str:
    """The page may talk to its own origin only (and to an OpenID provider's, when configured,
    for discovery and the token exchange); no inline script, no framing."""
    sources = " ".join(("'self'", *connect))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src {sources}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


@dataclass
class ConsoleServing:
    """What serving the console adds to the gateway's config."""

    routes: list[dict] = field(default_factory=list)
    open_matches: list[dict] = field(default_factory=list)  # jwt_authn lets these pass without a token
    open_permissions: dict | None = None  # and RBAC lets anyone make them
    clusters: list[dict] = field(default_factory=list)
    route_config_options: dict | None = None


def console_serving(
    console_dir: str | pathlib.Path | None, console_upstream: str | None, oidc: Oidc | None
) -> ConsoleServing:
    if console_dir and console_upstream:
        raise SystemExit("console_dir or console_upstream, not both")
    if not (console_dir or console_upstream):
        return ConsoleServing()
    csp = content_security_policy((oidc.origin,) if oidc else ())
    config: dict = {
        "match": _get({"path": CONFIG_PATH}),
        "direct_response": {"status": 200, "body": {"inline_string": json.dumps(console_config(oidc))}},
        "response_headers_to_add": _overwrite({"content-type": CONTENT_TYPES[".json"], **_served_headers(False, csp)}),
    }
    config_rule = {"url_path": {"path": {"exact": CONFIG_PATH}}}
    if console_upstream:
        return ConsoleServing(
            routes=[config, *upstream_routes(csp)],
            open_matches=[config["match"], *upstream_matches()],
            open_permissions=_open_get(
                [config_rule, *({"url_path": {"path": _path_matcher(p)}} for p in UPSTREAM_PATHS)]
            ),
            clusters=[upstream_cluster(console_upstream)],
        )
    files = console_files(pathlib.Path(console_dir or ""))
    return ConsoleServing(
        routes=[config, *console_routes(files, csp)],
        open_matches=[config["match"], *console_matches(files)],
        open_permissions=_open_get([config_rule, *({"url_path": {"path": {"exact": p}}} for p in files)]),
        route_config_options={"max_direct_response_body_size_bytes": MAX_FILE_BYTES},
    )


def _open_get(paths: list[dict]) -> dict:
    """RBAC: GET/HEAD of exactly these paths, for anyone (the page itself holds no data)."""
    return {"and_rules": {"rules": [{"header": _get_or_head()}, {"or_rules": {"rules": paths}}]}}


def _path_matcher(path: dict) -> dict:
    return {"exact": path["path"]} if "path" in path else {"prefix": path["prefix"]}


def console_files(dist: pathlib.Path) -> dict[str, pathlib.Path]:
    """URL path -> file, for every servable file of the build ("/" is index.html)."""
    index = dist / "index.html"
    if not index.is_file():
        raise SystemExit(f"console: no index.html in {dist} (build it: npm run build in console/)")
    files = {"/": index}
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        if path.suffix not in CONTENT_TYPES:
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SystemExit(f"console: {path} is over {MAX_FILE_BYTES} bytes")
        files["/" + path.relative_to(dist).as_posix()] = path
    return files


def console_matches(files: dict[str, pathlib.Path]) -> list[dict]:
    """GET or HEAD of exactly one of the files: what the routes serve and what needs no token."""
    return [_get({"path": url_path}) for url_path in files]


def console_routes(files: dict[str, pathlib.Path], csp: str) -> list[dict]:
    routes = []
    for match, (url_path, path) in zip(console_matches(files), files.items(), strict=True):
        headers = {"content-type": CONTENT_TYPES[path.suffix], **_served_headers(url_path.startswith(ASSETS), csp)}
        routes.append(
            {
                "match": match,
                "direct_response": {"status": 200, "body": {"filename": str(path.resolve())}},
                "response_headers_to_add": _overwrite(headers),
            }
        )
    return routes


# What a Vite build serves: index.html (also as "/"), the public folder's favicon and the
# content-hashed bundle under /assets/.
ASSETS = "/assets/"
UPSTREAM_PATHS: tuple[dict, ...] = (
    {"path": "/"},
    {"path": "/index.html"},
    {"path": "/favicon.svg"},
    {"prefix": ASSETS},
)
UPSTREAM_CLUSTER = "console"


def upstream_matches() -> list[dict]:
    return [_get(path) for path in UPSTREAM_PATHS]


def upstream_routes(csp: str) -> list[dict]:
    return [
        {
            "match": match,
            "route": {"cluster": UPSTREAM_CLUSTER, "timeout": "10s"},
            # The file server's own content type stays; nothing it says about caching or framing does.
            "response_headers_to_add": _overwrite(_served_headers("prefix" in match, csp)),
        }
        for match in upstream_matches()
    ]


def _served_headers(hashed: bool, csp: str) -> dict[str, str]:
    return {
        # Vite names assets by content hash: cache them for good; index.html is always revalidated.
        "cache-control": "public, max-age=31536000, immutable" if hashed else "no-cache",
        "x-content-type-options": "nosniff",
        "content-security-policy": csp,
        "referrer-policy": "no-referrer",
    }


def _overwrite(headers: dict[str, str]) -> list[dict]:
    return [
        {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
        for key, value in headers.items()
    ]


def _get(path: dict) -> dict:
    return {**path, "headers": [_get_or_head()]}


def _get_or_head() -> dict:
    return {"name": ":method", "string_match": {"safe_regex": {"regex": "GET|HEAD"}}}


def upstream_cluster(address: str) -> dict:
    """The console's static file server: HTTP/1.1 inside the cluster (it serves public files only)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"console upstream must be host:port: {address}")
    endpoint = {"endpoint": {"address": {"socket_address": {"address": host, "port_value": int(port)}}}}
    return {
        "name": UPSTREAM_CLUSTER,
        "type": "STRICT_DNS",
        "connect_timeout": "2s",
        "load_assignment": {"cluster_name": UPSTREAM_CLUSTER, "endpoints": [{"lb_endpoints": [endpoint]}]},
    }
