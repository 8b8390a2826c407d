"""python -m mivaa_gateway --out envoy.yaml ...: renders the Envoy config from the command line."""

from __future__ import annotations

import argparse
import pathlib

from mivaa_gateway import __doc__ as OPTIONS  # noqa: N812 - the package docstring, used as the options text
from mivaa_gateway.oidc import add_oidc_options, oidc_from_args
from mivaa_gateway.render import render
from mivaa_gateway.rpcs import DEFAULT_MAX_TOKEN_LIFETIME_SECONDS


def main() -> None:
    parser = argparse.ArgumentParser(description=OPTIONS, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    console = parser.add_mutually_exclusive_group()
    console.add_argument("--console-dir", help="the built web console (console/dist), served on this origin")
    console.add_argument("--console-upstream", help="host:port of the console's static file server (in a cluster)")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--jwks-path")
    parser.add_argument("--jwks-uri")
    parser.add_argument("--jwks-ca")
    parser.add_argument("--issuer", default="mivaa-dev")
    parser.add_argument("--audience", action="append", default=[])
    add_oidc_options(parser)
    parser.add_argument("--max-upload-bytes", type=int)
    parser.add_argument("--upstream-tls-ca")
    parser.add_argument("--upstream-tls-cert")
    parser.add_argument("--upstream-tls-key")
    parser.add_argument("--max-concurrent-streams", type=int, default=1000)
    parser.add_argument(
        "--max-token-lifetime",
        type=int,
        default=DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
        help="seconds a token may live (exp - iat)",
    )
    parser.add_argument(
        "--otlp-endpoint", help="send Envoy's spans over OTLP/gRPC to unix:///path or host:port (none: no tracing)"
    )
    parser.add_argument("--trace-sampling", type=float, default=100.0, help="percent of requests traced (default 100)")
    args = parser.parse_args()
    upstreams = dict(item.split("=", 1) for item in args.upstream)
    oidc = oidc_from_args(args)
    args.out.write_text(
        render(
            port=args.port,
            admin_socket=args.admin_socket,
            upstreams=upstreams,
            cors_origins=args.cors_origin,
            console_dir=args.console_dir,
            console_upstream=args.console_upstream,
            oidc=oidc,
            listen_address=args.listen_address,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            jwks_path=args.jwks_path,
            jwks_uri=args.jwks_uri,
            jwks_ca=args.jwks_ca,
            issuer=args.issuer,
            audiences=args.audience or ["mivaa"],
            max_upload_bytes=args.max_upload_bytes,
            upstream_tls_ca=args.upstream_tls_ca,
            upstream_tls_cert=args.upstream_tls_cert,
            upstream_tls_key=args.upstream_tls_key,
            max_concurrent_streams=args.max_concurrent_streams,
            max_token_lifetime_seconds=args.max_token_lifetime,
            stats_port=args.stats_port,
            stats_tls_cert=args.stats_tls_cert,
            stats_tls_key=args.stats_tls_key,
            stats_client_ca=args.stats_client_ca,
            otlp_endpoint=args.otlp_endpoint,
            trace_sampling_percent=args.trace_sampling,
        )
    )


if __name__ == "__main__":
    main()
