"""The Kubernetes NATS server config, rendered from the bus's declared permissions.

    python tools/render_nats_config.py [--check]
    python tools/render_nats_config.py --tenant acme [--tenant ...] --out overlay/nats.conf

Writes deploy/k8s/base/nats.conf (kustomize makes the `nats-config` ConfigMap from it): TLS on
the client port with the mounted `mivaa-nats-tls` Secret, JetStream on /data, no HTTP monitoring
port, and one user per service role with the permissions of mivaa_platform.bus_access. No secret
is in the file: each password is `$NATS_PASSWORD_<ROLE>`, which nats-server reads from its
environment, filled from the `mivaa-nats-users` Secret (deploy/README.md). --check exits 1 when
the committed file differs from what the code declares.

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

OUT = pathlib.Path(__file__).resolve().parents[1] / "deploy" / "k8s" / "base" / "nats.conf"
HEADER = "# Rendered by tools/render_nats_config.py from mivaa_platform.bus_access: do not edit by hand.\n"
ROLES = (*bus_access.SERVICE_ROLES, bus_access.OPS_ROLE)


def password_variable(role: str) -> str:
    return f"NATS_PASSWORD_{role.upper()}"


def tenant_password_variable(tenant: str) -> str:
    return "NATS_PASSWORD_TENANT_" + re.sub(r"[^A-Za-z0-9]", "_", tenant).upper()


def render(tenants: tuple[str, ...] = ()) -> str:
    settings = {
        "server_name": "mivaa-nats-0",
        "port": 4222,
        "jetstream": {"store_dir": "/data"},
        "tls": {"cert_file": "/etc/nats/tls/tls.crt", "key_file": "/etc/nats/tls/tls.key", "timeout": 5},
    }
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
    parser.add_argument("--out", type=pathlib.Path, default=OUT, help="file to write (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.tenant and args.out == OUT:
        parser.error("--tenant writes an overlay's config: give --out (the base has no tenant users)")
    try:
        text = render(tuple(args.tenant))
    except (ValueError, MivaaError) as error:
        parser.error(str(error))
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is out of date: run python tools/render_nats_config.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out}")
    for tenant in args.tenant:
        print(
            f"  tenant {tenant}: user {bus_access.tenant_user(tenant)}, password from ${tenant_password_variable(tenant)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
