"""The local doors behind the gateway (other than NATS), tried by another local user (`nobody`).

On the mesh `mivaa up` starts, a local account must get nothing from: PostgreSQL (SCRAM passwords,
never trust; the services' role is no superuser), Envoy's admin interface (a 0600 unix socket, no
port), the Prometheus endpoints (mTLS), the state folder (keys, tokens, passwords, logs) and the logs
(which never hold a bearer token).
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import socket
import stat

import grpc
import pytest

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from tests.gateway.harness import admin_get
from tests.security.other_user import as_other_user, connect_unix_socket_as_other_user

# Admin endpoints the audit reached on the old TCP admin port.
ADMIN_ACTIONS = (
    "/quitquitquit",
    "/drain_listeners",
    "/healthcheck/fail",
    "/logging?level=debug",
    "/config_dump",
    "/clusters",
)


def test_postgres_refuses_every_connection_without_the_password(mesh):
    """Door: PostgreSQL on 127.0.0.1 and its unix socket. Without the password, no role gets in."""
    outcome = as_other_user(
        f"""
        import json, psycopg
        attempts = {{
            "superuser": "postgresql://postgres@127.0.0.1:{mesh.ports.postgres}/postgres",
            "app_role": "postgresql://mivaa@127.0.0.1:{mesh.ports.postgres}/mivaa",
            "wrong_password": "postgresql://postgres:guess@127.0.0.1:{mesh.ports.postgres}/postgres",
            "unix_socket": "postgresql://postgres@/postgres?host={mesh.postgres.data_dir}&port={mesh.ports.postgres}",
        }}
        result = {{}}
        for name, dsn in attempts.items():
            try:
                with psycopg.connect(dsn, connect_timeout=5) as conn:
                    result[name] = "CONNECTED as " + conn.execute("SELECT current_user").fetchone()[0]
            except psycopg.OperationalError as error:
                result[name] = str(error)
        print(json.dumps(result))
        """
    )
    assert outcome["superuser"].endswith("fe_sendauth: no password supplied"), outcome
    assert outcome["app_role"].endswith("fe_sendauth: no password supplied"), outcome
    assert "password authentication failed" in outcome["wrong_password"], outcome
    assert "Permission denied" in outcome["unix_socket"], outcome  # the socket lies in the 0700 data dir
    hba = (mesh.postgres.data_dir / "pg_hba.conf").read_text()
    assert "trust" not in "".join(line for line in hba.splitlines(keepends=True) if not line.startswith("#")), hba


def test_the_services_role_has_no_superuser_power(mesh):
    """Door: PostgreSQL, with the services' own password (a leaked DSN): no command execution,
    no server files, no server configuration, no untrusted extension, no new roles."""
    outcome = as_other_user(
        f"""
        import json, os, psycopg
        dsn = "postgresql://mivaa@127.0.0.1:{mesh.ports.postgres}/mivaa"
        attempts = {{
            "copy_program": "COPY (SELECT 1) TO PROGRAM 'id'",
            "read_server_file": "SELECT pg_read_file('/etc/passwd')",
            "alter_system": "ALTER SYSTEM SET log_statement = 'all'",
            "untrusted_extension": "CREATE EXTENSION file_fdw",
            "new_superuser": "CREATE ROLE intruder SUPERUSER LOGIN",
            "other_database": "CREATE DATABASE intruder",
        }}
        result = {{}}
        with psycopg.connect(dsn, password=os.environ["APP_PASSWORD"], autocommit=True, connect_timeout=5) as conn:
            result["superuser"] = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
            for name, statement in attempts.items():
                try:
                    conn.execute(statement)
                    result[name] = "ALLOWED"
                except psycopg.Error as error:
                    result[name] = type(error).__name__
        print(json.dumps(result))
        """,
        env={"APP_PASSWORD": mesh.postgres.app_password()},
    )
    assert outcome.pop("superuser") is False
    assert outcome == dict.fromkeys(outcome, "InsufficientPrivilege"), outcome


def _listening_tcp_ports(process_group: int) -> set[int]:
    """TCP ports the processes of a group listen on (/proc: their sockets in LISTEN state)."""
    inodes = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getpgid(int(pid)) != process_group:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except (OSError, ProcessLookupError):
            continue
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in pathlib.Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_envoy_admin_has_no_port_and_its_socket_is_out_of_reach(mesh):
    """Door: Envoy's admin interface (stop Envoy, drain, fail health checks, debug logs with headers)."""
    socket_path = mesh.envoy_admin_socket
    assert stat.S_ISSOCK(socket_path.stat().st_mode) and stat.S_IMODE(socket_path.stat().st_mode) == 0o600
    assert _listening_tcp_ports(mesh.processes["envoy"].pid) == {mesh.ports.gateway, mesh.ports.gateway_stats}
    assert connect_unix_socket_as_other_user(socket_path) == "PermissionError"


def test_the_stats_listener_serves_prometheus_stats_and_nothing_of_the_admin(mesh):
    """Door: Envoy's stats listener, with a valid client certificate: only GET /stats/prometheus passes."""
    import urllib.error
    import urllib.request

    assert "envoy_server_live" in mesh.scrape(mesh.ports.gateway_stats)
    base = f"https://127.0.0.1:{mesh.ports.gateway_stats}"
    for path in (*ADMIN_ACTIONS, "/stats/prometheus/../../quitquitquit", "/stats", "/"):
        for method in ("GET", "POST"):
            request = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5, context=mesh.metrics_tls())
            assert refused.value.code == 404, (method, path)
    posted = urllib.request.Request(base + "/stats/prometheus", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(posted, timeout=5, context=mesh.metrics_tls())
    assert mesh.processes["envoy"].alive()
    assert '"state": "LIVE"' in admin_get(mesh.envoy_admin_socket, "/server_info")


def test_metrics_endpoints_refuse_a_client_without_a_certificate(mesh):
    """Door: every Prometheus endpoint (each service's /metrics, Envoy's stats listener)."""
    ports = mesh.metrics_ports()
    outcome = as_other_user(
        f"""
        import json, ssl, urllib.request
        ports = {json.dumps(ports)}
        result = {{}}
        for name, port in ports.items():
            path = "/stats/prometheus" if name == "envoy" else "/metrics"
            tried = {{}}
            for scheme, context in (("https", ssl._create_unverified_context()), ("http", None)):
                try:
                    body = urllib.request.urlopen(f"{{scheme}}://127.0.0.1:{{port}}{{path}}", timeout=10, context=context).read()
                    tried[scheme] = "ANSWERED " + body[:60].decode(errors="replace")
                except Exception as error:
                    tried[scheme] = type(error).__name__
            result[name] = tried
        print(json.dumps(result))
        """,
        timeout=120,
    )
    assert set(outcome) == set(ports)
    for name, tried in outcome.items():
        assert not any(value.startswith("ANSWERED") for value in tried.values()), (name, tried)
    # The mesh's own scraper, with the ops certificate from the mesh CA, is answered.
    for name, port in ports.items():
        assert mesh.scrape(port), name


# Everything under the state folder that a local account would want.
SECRETS = (
    "certs/ca-key.pem",
    "certs/gateway-key.pem",
    "certs/ops-key.pem",
    "auth/dev-token",
    "auth/signing-key.pem",
    "postgres-app.pgpass",
    "postgres-superuser.pgpass",
    "envoy.yaml",
    "state.json",
    "postgres.log",
    "logs/envoy.log",
    "logs/search.log",
)


def test_the_state_folder_cannot_be_listed_or_read(mesh):
    """Door: the state folder (.mivaa, or the test mesh's temporary one): keys, tokens, passwords, logs."""
    state = mesh.state_dir
    present = [name for name in SECRETS if (state / name).exists()]
    assert len(present) == len(SECRETS), set(SECRETS) - set(present)
    outcome = as_other_user(
        f"""
        import json, os
        state = {str(state)!r}
        result = {{}}
        for name in [".", "certs", "auth", "logs", "postgres"]:
            try:
                os.listdir(os.path.join(state, name))
                result["list " + name] = "LISTED"
            except OSError as error:
                result["list " + name] = type(error).__name__
        for name in {list(SECRETS)!r}:
            try:
                with open(os.path.join(state, name), "rb") as handle:
                    handle.read(1)
                result["read " + name] = "READ"
            except OSError as error:
                result["read " + name] = type(error).__name__
        print(json.dumps(result))
        """
    )
    assert outcome == dict.fromkeys(outcome, "PermissionError"), outcome
    # And by mode, whoever the other user: the folder 0700 (0710 for PostgreSQL's system user when
    # run as root), everything in it its owner's only.
    assert stat.S_IMODE(state.stat().st_mode) in (0o700, 0o710)
    for path in state.rglob("*"):
        if mesh.postgres.data_dir in (path, *path.parents) or path.is_symlink():
            continue
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_envoy_logs_no_credential_header(mesh):
    """Door: the access log. Its format names no header that carries a credential, and Envoy runs
    at level warn (debug logs, which print headers, need the admin socket)."""
    import yaml

    config = yaml.safe_load((mesh.state_dir / "envoy.yaml").read_text())
    formats = [json.dumps(item) for item in _walk(config) if isinstance(item, dict) and "log_format" in item]
    assert formats
    for text in formats:
        assert not any(
            word in text.lower() for word in ("authorization", "cookie", "%req_headers", "%dynamic_metadata")
        ), text
    logging = admin_get(mesh.envoy_admin_socket, "/logging")
    assert ": debug" not in logging and ": trace" not in logging, logging


def _walk(value):
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in children:
        yield from _walk(item)


CREDENTIAL_HEADER = re.compile(r"authorization[\"']?\s*[:=]|bearer\s", re.IGNORECASE)


async def test_no_log_holds_a_token_after_traffic_with_tokens(mesh):
    """Door: the logs. Calls with tokens (accepted, refused for scope, forged) leave no credential."""
    tokens = {
        "accepted": mesh.token(subject="log-audit"),
        "no_scope": mesh.token(subject="log-audit", scopes=("write",)),
        "forged": mesh.token(subject="log-audit") + "x",
    }
    for token in tokens.values():
        async with MeshClient(mesh.gateway_address, token=token, ca=mesh.ca_path.read_bytes()) as client:
            with contextlib.suppress(grpc.aio.AioRpcError):
                await client.search.ListDocuments(search_pb.ListDocumentsRequest(page_size=1), timeout=30)
    logs = [*mesh.log_dir.glob("*.log"), mesh.postgres.log_path]
    assert any(path.name == "envoy.log" for path in logs)
    for path in logs:
        text = path.read_text(errors="replace")
        for name, token in tokens.items():
            assert token.split(".")[2][:20] not in text, (path, name)
        # No credential header in any form (NATS's own "Authorization Violation" lines are fine).
        assert not CREDENTIAL_HEADER.search(text), path


def test_nothing_but_the_gateway_and_the_mesh_ports_listens_beyond_loopback(mesh):
    """Every door of the local mesh is on 127.0.0.1: none is reachable from another machine."""
    for port in (mesh.ports.gateway, mesh.ports.gateway_stats, mesh.ports.postgres, *mesh.metrics_ports().values()):
        with socket.socket() as sock:
            sock.settimeout(1)
            assert sock.connect_ex(("127.0.0.1", port)) == 0, port
    assert all(
        _bound_to_loopback(port)
        for port in (mesh.ports.gateway_stats, mesh.ports.postgres, *mesh.metrics_ports().values())
    )


def _bound_to_loopback(port: int) -> bool:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in pathlib.Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].rpartition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:
                return address in ("0100007F", "00000000000000000000000001000000")
    return False


def test_a_trust_data_dir_from_an_older_version_is_upgraded_once():
    """Door: PostgreSQL made by an older `mivaa up` (initdb --auth=trust, every table the superuser's,
    no passwords). Its next start closes it without losing data: passwords set, trust gone, the
    tables handed to the app role."""
    import shutil
    import tempfile

    import psycopg

    from mivaa_cli.localmesh.postgres import LocalPostgres
    from mivaa_cli.localmesh.processes import free_port

    folder = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-test-upgrade-"))
    server = LocalPostgres(folder / "postgres", free_port())
    try:
        # What the older version left: trust in pg_hba.conf, no passfiles, no app role, data as postgres.
        server.start()
        server.stop()
        (server.data_dir / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        server.superuser_passfile.unlink()
        server.app_passfile.unlink()
        server._launch()
        server._wait_ready()
        trusted = f"postgresql://postgres@127.0.0.1:{server.port}"
        with psycopg.connect(f"{trusted}/mivaa", autocommit=True) as conn:
            conn.execute("ALTER SCHEMA public OWNER TO pg_database_owner")
        with psycopg.connect(f"{trusted}/postgres", autocommit=True) as conn:
            conn.execute("ALTER DATABASE mivaa OWNER TO postgres")
            conn.execute("DROP ROLE mivaa")
            conn.execute("ALTER ROLE postgres PASSWORD NULL")
        with psycopg.connect(f"{trusted}/mivaa", autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (id int)")
            conn.execute("INSERT INTO kept VALUES (42)")
        server.stop()

        server.start()
        with pytest.raises(psycopg.OperationalError, match="no password supplied"):
            psycopg.connect(f"{trusted}/postgres", connect_timeout=5).close()
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            assert conn.execute("SELECT id FROM kept").fetchone() == (42,)
            assert conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'kept'").fetchone() == ("mivaa",)
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)
        assert "trust" not in (server.data_dir / "pg_hba.conf").read_text()
        server.stop()
        server.start()  # once: the next start finds nothing to upgrade
        with psycopg.connect(server.dsn) as conn:
            assert conn.execute("SELECT count(*) FROM kept").fetchone() == (1,)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
