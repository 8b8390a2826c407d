"""`mivaa up | down | status`: the local mesh, its state in ./.mivaa (or --state-dir)."""

from __future__ import annotations

import argparse
import os
import pathlib

from mivaa_cli.connection import DEFAULT_STATE_DIR, remember_mesh
from mivaa_gateway.oidc import add_oidc_options


def add_parsers(sub: argparse._SubParsersAction) -> None:
    up = sub.add_parser("up", help="start the local mesh")
    up.add_argument("--workers", type=int, default=1, help="extraction worker processes")
    up.add_argument("--free-ports", action="store_true", help="pick free ports (a second mesh beside another)")
    up.add_argument(
        "--llm",
        action="store_true",
        help="also run a local LLM (Gemma 3 270M on llama.cpp; needs mivaa-cli[llm]) as the answer service's generator",
    )
    add_oidc_options(up)
    for name in ("up", "down", "status"):
        target = up if name == "up" else sub.add_parser(name, help=f"{name} of the local mesh")
        target.add_argument("--state-dir", type=pathlib.Path, default=DEFAULT_STATE_DIR)


def cmd_up(args) -> int:
    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts
    from mivaa_cli.localmesh.oidc import save_oidc
    from mivaa_cli.localmesh.supervisor import start_supervisor
    from mivaa_gateway.oidc import oidc_from_args

    existing = LocalMesh.load(args.state_dir)
    if existing and all(state == "running" for state in existing.status().values()):
        print(f"mesh already running; gateway at {existing.gateway_address}")
        remember_mesh(args.state_dir)
        _print_console_url(existing)
        return 0
    if existing:
        existing.stop()
    save_oidc(args.state_dir, oidc_from_args(args))
    ports = (
        MeshPorts.free() if args.free_ports else MeshPorts(gateway=int(os.environ.get("MIVAA_GATEWAY_PORT", "8080")))
    )
    mesh = LocalMesh(args.state_dir, ports, workers=args.workers, llm=args.llm)
    llm = ", the local LLM" if args.llm else ""
    print(f"starting NATS, PostgreSQL+pgvector{llm}, embedder, OCR, search, answer, extractor, Envoy ...", flush=True)
    mesh.start()
    start_supervisor(mesh)
    remember_mesh(args.state_dir)
    print(f"mesh up: gateway (gRPC + grpc-web) at {mesh.gateway_address}; logs in {mesh.log_dir}")
    if mesh.monitored:
        print(f"prometheus at {mesh.prometheus.url} (mTLS, ops certificate); `mivaa status` prints its key figures")
    _print_console_url(mesh)
    return 0


def _print_console_url(mesh) -> None:
    """The console link carries the dev token in its #fragment, which the browser never sends."""
    if not mesh.serves_console:
        print("web console: not built (npm ci && npm run build in console/)")
        return
    token = (mesh.auth_dir / "dev-token").read_text().strip()
    print(f"web console (local CA {mesh.ca_path}): https://{mesh.gateway_address}/#dev-token={token}")


def saved_mesh(args):
    """The mesh `mivaa up` started from this state folder, or None."""
    from mivaa_cli.localmesh.mesh import LocalMesh

    return LocalMesh.load(args.state_dir)


def cmd_down(args) -> int:
    mesh = saved_mesh(args)
    if mesh is None:
        print("no mesh state found; nothing to stop")
        return 0
    mesh.stop()
    print("mesh stopped")
    return 0


def cmd_status(args) -> int:
    mesh = saved_mesh(args)
    if mesh is None:
        print("mesh is not running")
        return 1
    from mivaa_cli.localmesh.supervisor import read_restarts

    status = mesh.status()
    restarts = read_restarts(args.state_dir)
    healthy = True
    for name, state in status.items():
        restarted = f"  restarted {restarts[name]}x" if restarts.get(name) else ""
        health = _health(mesh, name, state)
        healthy = healthy and state == "running" and (not health or health.startswith("SERVING"))
        print(f"{name:12} {state}{restarted}{'  ' + health if health else ''}")
    print(f"gateway      {mesh.gateway_address}")
    _print_metrics(mesh)
    return 0 if healthy else 1


def _health(mesh, name: str, state: str) -> str:
    """A running gRPC service's health and its dependencies' (asked with the ops certificate);
    empty for processes that serve no health service."""
    from mivaa_cli.localmesh.health import describe_health, serves_health

    if state != "running" or not serves_health(name):
        return ""
    return describe_health(f"127.0.0.1:{mesh.service_port(name)}", mesh.ops_credentials())


def _print_metrics(mesh) -> None:
    """The Prometheus URL and the key figures read from it."""
    from mivaa_cli.localmesh.monitoring import key_figures

    if not mesh.monitored:
        print("prometheus   not installed (make prometheus): no metrics")
        return
    certs, url = mesh.certs_dir, mesh.prometheus.url
    print(f"prometheus   {url}")
    print(
        f"  mTLS: curl --cacert {certs}/ca.pem --cert {certs}/ops.pem --key {certs}/ops-key.pem '{url}/api/v1/query?query=up'"
    )
    try:
        for line in key_figures(mesh.prometheus):
            print(f"  {line}")
    except (OSError, ValueError) as error:
        print(f"  metrics unavailable: {error}")
