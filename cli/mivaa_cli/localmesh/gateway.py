"""The local mesh's Envoy: its config (mivaa_gateway.render with the mesh's ports, certificates,
token keys and trace receiver) and its process."""

from __future__ import annotations

import os
import pathlib
from typing import TYPE_CHECKING

from mivaa_cli.localmesh.health import wait_serving
from mivaa_cli.localmesh.oidc import load_oidc
from mivaa_cli.localmesh.processes import ManagedProcess, start_process, wait_for_port, write_private
from mivaa_cli.localmesh.traces import socket_path as trace_socket_path
from mivaa_gateway import render

if TYPE_CHECKING:
    from mivaa_cli.localmesh.mesh import LocalMesh

# The extractor's default upload cap (EXTRACTOR_MAX_UPLOAD_BYTES) and the framing an upload adds to it.
DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
GATEWAY_UPLOAD_SLACK_BYTES = 1024 * 1024


def max_upload_bytes(extra_env: dict[str, str]) -> int:
    configured = extra_env.get("EXTRACTOR_MAX_UPLOAD_BYTES") or os.environ.get("EXTRACTOR_MAX_UPLOAD_BYTES")
    return int(configured) if configured else DEFAULT_MAX_UPLOAD_BYTES


def gateway_config(mesh: LocalMesh, *, console_dir: pathlib.Path | None, max_token_lifetime_seconds: int) -> str:
    certs = mesh.certs_dir
    return render(
        port=mesh.ports.gateway,
        admin_socket=str(mesh.envoy_admin_socket),
        stats_port=mesh.ports.gateway_stats,
        stats_tls_cert=str(certs / "gateway.pem"),
        stats_tls_key=str(certs / "gateway-key.pem"),
        stats_client_ca=str(mesh.ca_path),
        upstreams={
            name: mesh.address(name)
            for name in ("extractor", "search", "embedder", "answer", *(["ocr"] if mesh.ocr else []))
        },
        cors_origins=os.environ.get("MIVAA_CORS_ORIGINS", "http://localhost:5173").split(","),
        console_dir=console_dir,
        oidc=load_oidc(mesh.state_dir),
        tls_cert=str(certs / "gateway.pem"),
        tls_key=str(certs / "gateway-key.pem"),
        jwks_path=str(mesh.auth_dir / "jwks.json"),
        upstream_tls_ca=str(mesh.ca_path),
        upstream_tls_cert=str(certs / "gateway.pem"),
        upstream_tls_key=str(certs / "gateway-key.pem"),
        # A little above the extractor's own cap, so a slightly large upload gets the
        # extractor's FILE_TOO_LARGE and a huge one is cut at the gateway.
        max_upload_bytes=max_upload_bytes(mesh.extra_env) + GATEWAY_UPLOAD_SLACK_BYTES,
        # The dev token `mivaa up` writes lives long; the gateway of this loopback-only mesh
        # accepts that lifetime (deployed gateways: render's 24 h).
        max_token_lifetime_seconds=max_token_lifetime_seconds,
        # Envoy's spans go to the mesh's trace receiver, like every service's: a job's trace
        # starts at the gateway.
        otlp_endpoint=f"unix://{trace_socket_path(mesh.state_dir)}",
    )


def start_gateway(mesh: LocalMesh, envoy: str, config_text: str) -> ManagedProcess:
    config = mesh.state_dir / "envoy.yaml"
    write_private(config, config_text)
    # Envoy stops itself with SIGTERM when its parent exits, which would take the gateway
    # down with `mivaa up`. A shell that waits for it stays its parent for its whole life;
    # the second command keeps the shell from exec-ing into Envoy. Both share one process
    # group, so stopping the group stops Envoy.
    mesh.envoy_admin_socket.unlink(missing_ok=True)  # left by an Envoy that was killed
    envoy_argv = [envoy, "-c", str(config), "--use-dynamic-base-id", "--log-level", "warn"]
    process = start_process("envoy", ["/bin/sh", "-c", '"$@"; exit $?', "envoy", *envoy_argv], log_dir=mesh.log_dir)
    mesh.processes["envoy"] = process
    wait_for_port(process, mesh.ports.gateway)
    # Ready when a call through it reaches a healthy upstream.
    wait_serving(
        process,
        mesh.gateway_address,
        "mivaa.extractor.v1.ExtractorService",
        timeout=60,
        credentials=mesh.gateway_credentials(),
    )
    return process
