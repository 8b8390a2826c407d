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

import pathlib

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
# The page may talk to its own origin only; no inline script, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


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
    return [{"path": url_path, "headers": [_get_or_head()]} for url_path in files]


def console_routes(files: dict[str, pathlib.Path]) -> list[dict]:
    routes = []
    for match, (url_path, path) in zip(console_matches(files), files.items(), strict=True):
        headers = {"content-type": CONTENT_TYPES[path.suffix], **_served_headers(url_path.startswith(ASSETS))}
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
    return [{**path, "headers": [_get_or_head()]} for path in UPSTREAM_PATHS]


def upstream_routes() -> list[dict]:
    return [
        {
            "match": match,
            "route": {"cluster": UPSTREAM_CLUSTER, "timeout": "10s"},
            # The file server's own content type stays; nothing it says about caching or framing does.
            "response_headers_to_add": _overwrite(_served_headers("prefix" in match)),
        }
        for match in upstream_matches()
    ]


def open_upstream_permissions() -> dict:
    """RBAC: GET/HEAD of the console's paths, for anyone."""
    paths = [
        {"url_path": {"path": {"exact": p["path"]} if "path" in p else {"prefix": p["prefix"]}}} for p in UPSTREAM_PATHS
    ]
    return {"and_rules": {"rules": [{"header": _get_or_head()}, {"or_rules": {"rules": paths}}]}}


def _served_headers(hashed: bool) -> dict[str, str]:
    return {
        # Vite names assets by content hash: cache them for good; index.html is always revalidated.
        "cache-control": "public, max-age=31536000, immutable" if hashed else "no-cache",
        "x-content-type-options": "nosniff",
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "referrer-policy": "no-referrer",
    }


def _overwrite(headers: dict[str, str]) -> list[dict]:
    return [
        {"header": {"key": key, "value": value}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
        for key, value in headers.items()
    ]


def _get_or_head() -> dict:
    return {"name": ":method", "string_match": {"safe_regex": {"regex": "GET|HEAD"}}}


def open_console_permissions(files: dict[str, pathlib.Path]) -> dict:
    """RBAC: GET/HEAD of exactly these paths, for anyone (the page itself holds no data)."""
    return {
        "and_rules": {
            "rules": [
                {"header": _get_or_head()},
                {"or_rules": {"rules": [{"url_path": {"path": {"exact": p}}} for p in files]}},
            ]
        }
    }


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
