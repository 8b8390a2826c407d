"""The Kubernetes NATS server config, rendered from the bus's declared permissions.

    python tools/render_nats_config.py [--check]
    python tools/render_nats_config.py --tenant acme [--tenant ...] [--clustered] --out overlay/nats.conf

Writes deploy/k8s/base/nats.conf (kustomize makes the `nats-config` ConfigMap from it) and
deploy/k8s/components/nats-cluster/nats.conf (the same users, for three clustered servers): TLS on
the client port with the mounted `mivaa-nats-tls` Secret, JetStream on /data, no HTTP monitoring
port, and one user per service role with the permissions of mivaa_platform.bus_access. No secret
is in the file: each password is `$NATS_PASSWORD_<ROLE>`, which nats-server reads from its
environment, filled from the `mivaa-nats-users` Secret (deploy/README.md). --check exits 1 when
a committed file differs from what the code declares.

The clustered config names each server after its pod ($POD_NAME), routes to the three pods of the
StatefulSet through the `nats-headless` Service on 6222, over mutual TLS with the same certificate:
a route is accepted only with a certificate that names one of the route URLs (no service's
certificate does), and clients are told no server addresses but the one they dialled.

--tenant adds a read-only event consumer user per tenant (`tenant-<tenant>`, the permissions of
bus_access.tenant_permissions, password `$NATS_PASSWORD_TENANT_<TENANT>`), for an overlay that
replaces the nats-config ConfigMap with the file written to --out.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

from mivaa_platform import bus_access
from mivaa_platform.errors import MivaaError
from mivaa_platform.tenancy import check_tenant

K8S = pathlib.Path(__file__).resolve().parents[1] / "deploy" / "k8s"
OUT = K8S / "base" / "nats.conf"
CLUSTER_OUT = K8S / "components" / "nats-cluster" / "nats.conf"
CLUSTER_NAME = "mivaa-nats"
CLUSTER_SIZE = 3  # the StatefulSet's replicas in components/nats-cluster
ROUTES_SERVICE = "nats-headless"  # the StatefulSet's headless Service: nats-0.nats-headless ...
CLIENT_PORT = 4222
CLUSTER_PORT = 6222
HEADER = "# Rendered by tools/render_nats_config.py from mivaa_platform.bus_access: do not edit by hand.\n"
ROLES = (*bus_access.SERVICE_ROLES, bus_access.OPS_ROLE)


def password_variable(role: str) -> str:
    return f"NATS_PASSWORD_{role.upper()}"


def tenant_password_variable(tenant: str) -> str:
    return "NATS_PASSWORD_TENANT_" + re.sub(r"[^A-Za-z0-9]", "_", tenant).upper()


def cluster_routes(size: int = CLUSTER_SIZE, port: int = CLUSTER_PORT) -> list[str]:
    return [f"nats-route://nats-{index}.{ROUTES_SERVICE}:{port}" for index in range(size)]


def server_settings(
    *,
    clustered: bool = False,
    store_dir: str = "/data",
    tls_dir: str = "/etc/nats/tls",
    port: int = CLIENT_PORT,
    cluster_port: int = CLUSTER_PORT,
    routes: list[str] | None = None,
) -> dict:
    """The server's settings (all but the users); the tests start real servers with other paths and ports."""
    tls = {"cert_file": f"{tls_dir}/tls.crt", "key_file": f"{tls_dir}/tls.key", "timeout": 5}
    settings: dict = {
        "server_name": "$POD_NAME" if clustered else "mivaa-nats-0",
        "port": port,
        "jetstream": {"store_dir": store_dir},
        "tls": tls,
    }
    if clustered:
        settings["cluster"] = {
            "name": CLUSTER_NAME,
            "port": cluster_port,
            "routes": cluster_routes(port=cluster_port) if routes is None else routes,
            # Clients keep to the address they dialled (the `nats` Service, the name in the
            # certificate) instead of being handed the other servers' pod addresses.
            "no_advertise": True,
            # Mutual TLS on routes; the peer's certificate must name one of the route URLs.
            "tls": tls | {"ca_file": f"{tls_dir}/ca.crt", "verify_cert_and_check_known_urls": True},
        }
        # Stopping (the pod's preStop): stop taking clients, hand stream leadership over, then
        # close the clients over 30s (they reconnect to the others), well inside the pod's grace.
        settings["lame_duck_grace_period"] = "10s"
        settings["lame_duck_duration"] = "30s"
    return settings


def render(tenants: tuple[str, ...] = (), *, clustered: bool = False) -> str:
    return config(server_settings(clustered=clustered), tenants)


def config(settings: dict, tenants: tuple[str, ...] = ()) -> str:
    """The config file: these settings, a user per service role, and one per tenant."""
    users = {
        role: {"password": f"${password_variable(role)}", "permissions": bus_access.role_permissions(role)}
        for role in ROLES
    }
    variables: dict[str, str] = {}
    for tenant in tenants:
        check_tenant(tenant)
        variable = tenant_password_variable(tenant)
        if variables.setdefault(variable, tenant) != tenant:
            raise ValueError(f"tenants {variables[variable]!r} and {tenant!r} would share {variable}")
        users[bus_access.tenant_user(tenant)] = {
            "password": f"${variable}",
            "permissions": bus_access.tenant_permissions(tenant),
        }
    return HEADER + bus_access.server_config(settings, users)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed file is out of date")
    parser.add_argument("--tenant", action="append", default=[], help="add a tenant's event consumer user (repeatable)")
    parser.add_argument("--clustered", action="store_true", help="with --tenant: the clustered servers' config")
    parser.add_argument("--out", type=pathlib.Path, help="with --tenant: the file to write")
    args = parser.parse_args(argv)
    if args.tenant and (args.out is None or args.out in (OUT, CLUSTER_OUT)):
        parser.error("--tenant writes an overlay's config: give --out (the base has no tenant users)")
    if args.out is not None and not args.tenant:
        parser.error("--out goes with --tenant (without it both committed files are written)")
    try:
        if args.tenant:
            outputs = {args.out: render(tuple(args.tenant), clustered=args.clustered)}
        else:
            outputs = {OUT: render(), CLUSTER_OUT: render(clustered=True)}
    except (ValueError, MivaaError) as error:
        parser.error(str(error))
    if args.check:
        stale = [path for path, text in outputs.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"{path} is out of date: run python tools/render_nats_config.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text)
        print(f"wrote {path}")
    for tenant in args.tenant:
        print(
            f"  tenant {tenant}: user {bus_access.tenant_user(tenant)}, password from ${tenant_password_variable(tenant)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
