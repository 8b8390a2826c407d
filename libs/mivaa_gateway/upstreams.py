"""Clusters and listeners: the upstream services (mTLS), the public listener's TLS, the stats listener."""

from __future__ import annotations

from mivaa_gateway.rpcs import ADMIN_CLUSTER, STATS_PATH
from mivaa_gateway.yaml_blocks import yaml_lines


def upstream_tls_socket(
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
    tls: dict = {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        "common_tls_context": context,
    }
    if host and not host.replace(".", "").isdigit() and ":" not in host:
        tls["sni"] = host
    return {"name": "envoy.transport_sockets.tls", "typed_config": tls}


def upstream_cluster(name: str, address: str, tls: dict | None = None) -> str:
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
""" + (
        (
            "      transport_socket:\n"
            + "\n".join(yaml_lines(upstream_tls_socket(host, **tls, alpn=["h2"], peer_name=name), 8))
            + "\n"
        )
        if tls
        else ""
    )


def listener_tls_socket(cert: str, key: str) -> dict:
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": {
                "alpn_protocols": ["h2", "http/1.1"],  # native gRPC on h2, grpc-web from browsers on either
                "tls_params": {"tls_minimum_protocol_version": "TLSv1_2"},
                "tls_certificates": [
                    {"certificate_chain": {"filename": str(cert)}, "private_key": {"filename": str(key)}}
                ],
            },
        },
    }


def stats_listener(port: int, address: str, tls: dict | None) -> dict:
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
            "http_filters": [
                {
                    "name": "envoy.filters.http.router",
                    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
                }
            ],
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
                    "tls_certificates": [
                        {"certificate_chain": {"filename": tls["cert"]}, "private_key": {"filename": tls["key"]}}
                    ],
                    "validation_context": {"trusted_ca": {"filename": tls["client_ca"]}},
                },
            },
        }
    return {
        "name": "stats",
        "address": {"socket_address": {"address": address, "port_value": port}},
        "filter_chains": [chain],
    }


def admin_cluster(admin_socket: str) -> dict:
    return {
        "name": ADMIN_CLUSTER,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": ADMIN_CLUSTER,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"pipe": {"path": admin_socket}}}}]}],
        },
    }
