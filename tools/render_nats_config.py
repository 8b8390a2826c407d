"""The Kubernetes NATS server config, rendered from the bus's declared permissions.

    python tools/render_nats_config.py [--check]

Writes deploy/k8s/base/nats.conf (kustomize makes the `nats-config` ConfigMap from it): TLS on
the client port with the mounted `mivaa-nats-tls` Secret, JetStream on /data, no HTTP monitoring
port, and one user per service role with the permissions of mivaa_platform.bus_access. No secret
is in the file: each password is `$NATS_PASSWORD_<ROLE>`, which nats-server reads from its
environment, filled from the `mivaa-nats-users` Secret (deploy/README.md). --check exits 1 when
the committed file differs from what the code declares.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from mivaa_platform import bus_access

OUT = pathlib.Path(__file__).resolve().parents[1] / "deploy" / "k8s" / "base" / "nats.conf"
HEADER = "# Rendered by tools/render_nats_config.py from mivaa_platform.bus_access: do not edit by hand.\n"
ROLES = (*bus_access.SERVICE_ROLES, bus_access.OPS_ROLE)


def password_variable(role: str) -> str:
    return f"NATS_PASSWORD_{role.upper()}"


def render() -> str:
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
    return HEADER + bus_access.server_config(settings, users)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is out of date: run python tools/render_nats_config.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
