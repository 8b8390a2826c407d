"""Renders gateway/envoy.template.yaml into a config Envoy can load.

    python gateway/render.py --out envoy.yaml --port 8080 --admin-port 9901 \
        --upstream extractor=127.0.0.1:50051 --upstream search=127.0.0.1:50052 \
        --upstream embedder=127.0.0.1:50053 --cors-origin http://localhost:5173
"""

from __future__ import annotations

import argparse
import json
import pathlib
import string

TEMPLATE = pathlib.Path(__file__).with_name("envoy.template.yaml")
UPSTREAMS = ("extractor", "search", "embedder")
# Services a mesh may run without; each gets its route and cluster only when given.
OPTIONAL_UPSTREAMS = {"ocr": "/mivaa.ocr.v1.OcrService/"}


def _cluster(name: str, address: str) -> str:
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
"""


def render(*, port: int, admin_port: int, upstreams: dict[str, str], cors_origins: list[str], listen_address: str = "127.0.0.1") -> str:
    missing = [name for name in UPSTREAMS if name not in upstreams]
    if missing:
        raise SystemExit(f"missing --upstream for: {', '.join(missing)}")
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
    return string.Template(TEMPLATE.read_text()).substitute(
        GATEWAY_PORT=port,
        ADMIN_PORT=admin_port,
        LISTEN_ADDRESS=listen_address,
        CORS_ORIGINS=json.dumps(origins),
        OPTIONAL_ROUTES=routes,
        CLUSTERS="".join(_cluster(name, upstreams[name]) for name in (*UPSTREAMS, *optional)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--admin-port", type=int, default=9901)
    parser.add_argument("--listen-address", default="127.0.0.1")
    parser.add_argument("--upstream", action="append", default=[], help="name=host:port")
    parser.add_argument("--cors-origin", action="append", default=[])
    args = parser.parse_args()
    upstreams = dict(item.split("=", 1) for item in args.upstream)
    args.out.write_text(
        render(port=args.port, admin_port=args.admin_port, upstreams=upstreams, cors_origins=args.cors_origin, listen_address=args.listen_address)
    )


if __name__ == "__main__":
    main()
