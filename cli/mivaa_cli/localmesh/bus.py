"""The local mesh's NATS: TLS on the client port, one user per service role and per tenant consumer.

Everything lives in one 0700 folder under the state dir:

    users.json            every user's bcrypt hash and permissions (the server's view), 0600
    <user>.password       each role's password, read by its service (NATS_PASSWORD_FILE), 0600
    nats.conf             the server config rendered from the two above, 0600

Passwords are made once and kept, so a restarted NATS or service finds the same ones. A tenant's
user is added by `mivaa auth nats-creds` (`add_tenant`): users.json and nats.conf are rewritten and
a running server reloads them (SIGHUP), no restart. No HTTP monitoring port is opened: JetStream
figures are read through the JetStream API with the ops user.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import secrets
import signal
import socket
import ssl
import time

import bcrypt

from mivaa_cli.localmesh.files import write_atomic
from mivaa_platform import bus_access
from mivaa_platform.config import settings_env
from mivaa_platform.messaging import EVENTS_STREAM, NatsSettings, inbox_prefix

ROLE_USERS = (*bus_access.SERVICE_ROLES, bus_access.OPS_ROLE)
# bcrypt cost: NATS checks it at every connect; 10 keeps a connect well under 100 ms.
BCRYPT_ROUNDS = 10


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


class LocalBus:
    def __init__(self, directory: pathlib.Path, *, port: int, store_dir: pathlib.Path, certs_dir: pathlib.Path):
        self.directory = directory
        self.port = port
        self.store_dir = store_dir
        self.certs_dir = certs_dir

    @property
    def url(self) -> str:
        return f"tls://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> pathlib.Path:
        return self.certs_dir / "ca.pem"

    @property
    def config_path(self) -> pathlib.Path:
        return self.directory / "nats.conf"

    def password_file(self, user: str) -> pathlib.Path:
        return self.directory / f"{user}.password"

    # -- users -----------------------------------------------------------------------
    def _users(self) -> dict[str, dict]:
        path = self.directory / "users.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _save_users(self, users: dict[str, dict]) -> None:
        write_atomic(self.directory / "users.json", json.dumps(users, indent=2))

    def ensure_roles(self) -> None:
        """Every service role's user and password (made once), permissions as declared now."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        users = self._users()
        for role in ROLE_USERS:
            password_file = self.password_file(role)
            if not password_file.exists() or role not in users:
                password = secrets.token_urlsafe(32)
                write_atomic(password_file, password + "\n")
                users[role] = {"password": _hash(password)}
            users[role]["permissions"] = bus_access.role_permissions(role)
        for spec in users.values():  # tenants too: permissions follow the code's declaration
            if spec.get("tenant") is not None:
                spec["permissions"] = bus_access.tenant_permissions(spec["tenant"])
        self._save_users(users)
        self.write_config()

    def add_tenant(self, tenant: str) -> dict:
        """A new password for the tenant's event consumer user; returns its credentials document."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        users = self._users()
        user = bus_access.tenant_user(tenant)
        password = secrets.token_urlsafe(32)
        users[user] = {
            "password": _hash(password),
            "tenant": tenant,
            "permissions": bus_access.tenant_permissions(tenant),
        }
        self._save_users(users)
        self.write_config()
        return {
            "url": self.url,
            "user": user,
            "password": password,
            "ca_pem": self.ca_file.read_text(),
            "inbox_prefix": inbox_prefix(user),
            "tenant": tenant,
            "subject": bus_access.tenant_events_subject(tenant),
            "stream": EVENTS_STREAM,
        }

    # -- the server ------------------------------------------------------------------
    def write_config(self) -> None:
        users = {
            name: {"password": spec["password"], "permissions": spec["permissions"]}
            for name, spec in self._users().items()
        }
        settings = {
            "server_name": "mivaa-local",
            "host": "127.0.0.1",
            "port": self.port,
            "jetstream": {"store_dir": str(self.store_dir)},
            # Clients verify the server with the mesh's CA; they authenticate with a password.
            "tls": {
                "cert_file": str(self.certs_dir / "nats.pem"),
                "key_file": str(self.certs_dir / "nats-key.pem"),
                "timeout": 5,
            },
        }
        text = bus_access.server_config(settings, users)
        write_atomic(self.config_path, text)

    def reload(self, pid: int, *, until_user: str, password: str, timeout: float = 10.0) -> None:
        """A running nats-server re-reads its config (users and permissions) on SIGHUP; returns
        once it accepts `until_user`, so the credentials just made work at once."""
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while not self.accepts(until_user, password):
            if time.monotonic() > deadline:
                raise RuntimeError(f"NATS did not accept {until_user} within {timeout:.0f}s of reloading its users")
            time.sleep(0.1)

    def accepts(self, user: str, password: str) -> bool:
        """Whether the server lets this user in: INFO, TLS, CONNECT + PING, then PONG or -ERR."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        connect = {"user": user, "pass": password, "verbose": False, "pedantic": False, "tls_required": True}
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=3) as raw:
                raw.recv(4096)  # INFO, in plaintext before the TLS upgrade
                with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    tls.sendall(f"CONNECT {json.dumps(connect)}\r\nPING\r\n".encode())
                    return tls.recv(4096).startswith(b"PONG")
        except (OSError, ssl.SSLError):
            return False

    # -- what clients get --------------------------------------------------------------
    def settings(self, user: str) -> NatsSettings:
        return NatsSettings(
            url=self.url, user=user, password_file=str(self.password_file(user)), ca_file=str(self.ca_file)
        )

    def env(self, prefix: str, user: str) -> dict[str, str]:
        """<PREFIX>_NATS_* for one service process."""
        return settings_env(NatsSettings, f"{prefix}_NATS", **dataclasses.asdict(self.settings(user)))
