"""components/cloudnative-pg in the prod overlay: the base's single PostgreSQL replaced by a
three-instance CloudNativePG cluster with pgvector, the same two roles, and search and answer
pointed at its primary's Service over verified TLS. The DSNs as built are tried against a real
PostgreSQL serving TLS with a certificate for `mivaa-pg-rw`, as the operator's does (the
system's PostgreSQL: the embedded one, with pgvector, is built without TLS)."""

from __future__ import annotations

import os
import pathlib
import shutil
import socket
import tempfile
import time

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.deploy.k8s_manifests import find, overlay, walk
from tests.support.certs import make_certs

CLUSTER = "mivaa-pg"
CA_FILE = "/etc/mivaa/postgres-ca/ca.crt"
# Each service, the role it connects as, and the Secret holding that role's password.
DATABASE_CLIENTS = {
    "search": ("SEARCH", "mivaa", "mivaa-pg-app"),
    "answer": ("ANSWER", "mivaa_answer", "mivaa-database-answer"),
}


def cluster() -> dict:
    return find(overlay("prod"), "Cluster", CLUSTER)


def dsn(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split())


def test_the_base_postgres_is_gone():
    built = overlay("prod")
    assert not [r for r in built if r["metadata"]["name"] in ("postgres", "postgres-init")]
    assert not [
        item for item in walk(built) if isinstance(item, str) and ("postgres:5432" in item or item == "postgres")
    ]


def test_three_instances_on_different_nodes_with_pgvector():
    spec = cluster()["spec"]
    assert spec["instances"] == 3 and spec["storage"]["size"]
    assert spec["affinity"] == {
        "enablePodAntiAffinity": True,
        "podAntiAffinityType": "required",
        "topologyKey": "kubernetes.io/hostname",
    }
    # CloudNativePG's `standard` images carry pgvector; the tag starts with the major version.
    image, _, tag = spec["imageName"].partition(":")
    assert image == "ghcr.io/cloudnative-pg/postgresql" and "-standard-" in tag and int(tag.split(".")[0]) >= 16
    assert spec["enableSuperuserAccess"] is False
    assert {"hostnossl all all 0.0.0.0/0 reject", "hostnossl all all ::/0 reject"} <= set(spec["postgresql"]["pg_hba"])


def test_bootstrap_makes_the_database_roles_and_extension_the_services_expect():
    initdb = cluster()["spec"]["bootstrap"]["initdb"]
    assert (initdb["database"], initdb["owner"]) == ("mivaa", "mivaa")
    sql = initdb["postInitApplicationSQL"]
    assert "CREATE EXTENSION IF NOT EXISTS vector" in sql
    assert any(s.startswith("CREATE ROLE mivaa_answer LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE") for s in sql)
    assert "CREATE SCHEMA answer AUTHORIZATION mivaa_answer" in sql
    [role] = cluster()["spec"]["managed"]["roles"]
    assert role["name"] == "mivaa_answer" and role["login"] is True
    assert not any(role[flag] for flag in ("superuser", "createdb", "createrole", "replication", "bypassrls"))
    assert role["passwordSecret"] == {"name": "mivaa-database-answer"}


def test_services_connect_to_the_primary_as_their_role_over_verified_tls():
    built = overlay("prod")
    dsns = find(built, "ConfigMap", "mivaa-database-dsn")["data"]
    for name, (prefix, role, secret) in DATABASE_CLIENTS.items():
        deployment = find(built, "Deployment", name)["spec"]["template"]["spec"]
        [container] = deployment["containers"]
        env = {item["name"]: item for item in container["env"]}
        source = env[f"{prefix}_DATABASE_URL"]["valueFrom"]
        assert source == {"configMapKeyRef": {"name": "mivaa-database-dsn", "key": f"{prefix}_DATABASE_URL"}}
        fields = dsn(dsns[f"{prefix}_DATABASE_URL"])
        assert fields == {
            "host": f"{CLUSTER}-rw",
            "port": "5432",
            "dbname": "mivaa",
            "user": role,
            "sslmode": "verify-full",
            "sslrootcert": CA_FILE,
        }
        assert env["PGPASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": secret, "key": "password"}}
        mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/etc/mivaa/postgres-ca")
        volume = next(v for v in deployment["volumes"] if v["name"] == mount["name"])
        assert mount["readOnly"] is True
        # The CA certificate only: the Secret also holds the key that signs the server's certificates.
        assert volume["secret"]["secretName"] == f"{CLUSTER}-ca"
        assert volume["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
        # Nothing still reads the base's hand-made DSN Secret.
        assert "mivaa-database" not in {
            item["secretKeyRef"]["name"]
            for item in walk(deployment)
            if isinstance(item, dict) and "secretKeyRef" in item
        }


def test_network_policy_opens_the_cluster_to_its_clients_peers_and_operator():
    policy = find(overlay("prod"), "NetworkPolicy", "allow-postgres")["spec"]
    assert policy["podSelector"] == {"matchLabels": {"cnpg.io/cluster": CLUSTER}}
    sources = {
        (str(peer), port["port"]) for rule in policy["ingress"] for peer in rule["from"] for port in rule["ports"]
    }
    for app in ("search", "answer"):
        assert (str({"podSelector": {"matchLabels": {"app": app}}}), 5432) in sources
    assert (str({"podSelector": {"matchLabels": {"cnpg.io/cluster": CLUSTER}}}), 5432) in sources
    operator = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cnpg-system"}}}
    assert (str(operator), 8000) in sources


# -- the DSNs against a real server ----------------------------------------------------------------


SYSTEM_POSTGRES = pathlib.Path("/usr/lib/postgresql")


def system_postgres_bin() -> pathlib.Path | None:
    """A PostgreSQL built with TLS (the embedded one that carries pgvector has none)."""
    found = sorted(SYSTEM_POSTGRES.glob("*/bin/postgres"))
    return found[-1].parent if found else None


@pytest.fixture(scope="module")
def tls_postgres():
    """A local PostgreSQL with the `mivaa` and `mivaa_answer` roles, serving TLS with a certificate
    for mivaa-pg-rw from a test CA; yields (server, the CA's file, another CA's file)."""
    from mivaa_cli.localmesh.postgres import LocalPostgres

    bin_dir = system_postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL built with TLS under /usr/lib/postgresql")

    class TlsPostgres(LocalPostgres):
        """The local mesh's server on binaries with TLS; no pgvector there, and none needed to log in."""

        def create_app_database(self, name: str) -> None:
            with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                    conn.execute(f'CREATE DATABASE "{name}" OWNER mivaa')

    # Not under pytest's basetemp (tests/search/conftest.py says why).
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-test-cnpg-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = TlsPostgres(folder / "data", port)
    server.bin_dir = bin_dir
    try:
        server.start()
        certs, other = folder / "certs", folder / "other-ca"
        make_certs.make_certs(certs, (f"{CLUSTER}-rw",))
        make_certs.make_certs(other, ())
        owner = server.data_dir.stat()
        for source, target in ((f"{CLUSTER}-rw.pem", "server.crt"), (f"{CLUSTER}-rw-key.pem", "server.key")):
            path = server.data_dir / target
            shutil.copy(certs / source, path)
            os.chown(path, owner.st_uid, owner.st_gid)
            path.chmod(0o600)
        with psycopg.connect(server.superuser_dsn(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET ssl = on")
            conn.execute("SELECT pg_reload_conf()")
            deadline = time.monotonic() + 10
            while conn.execute("SHOW ssl").fetchone() != ("on",):
                assert time.monotonic() < deadline, server.log_tail()
                time.sleep(0.1)
        yield server, certs / "ca.pem", other / "ca.pem"
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def local_dsn(name: str, server, ca_file: pathlib.Path) -> str:
    """The service's DSN as built, dialling this server: host stays mivaa-pg-rw (the name TLS
    checks), hostaddr and port say where it listens, sslrootcert is the local CA's file."""
    prefix = DATABASE_CLIENTS[name][0]
    built = find(overlay("prod"), "ConfigMap", "mivaa-database-dsn")["data"][f"{prefix}_DATABASE_URL"]
    return make_conninfo(built, hostaddr="127.0.0.1", port=str(server.port), sslrootcert=str(ca_file))


def role_password(name: str, server) -> str:
    path = server.app_passfile if name == "search" else server.answer_passfile
    return path.read_text().strip().rsplit(":", 1)[1]


@pytest.mark.parametrize("name", sorted(DATABASE_CLIENTS))
def test_each_dsn_logs_in_as_its_role_over_verified_tls(tls_postgres, monkeypatch, name):
    server, ca_file, _ = tls_postgres
    monkeypatch.setenv("PGPASSWORD", role_password(name, server))  # as the Deployment sets it
    with psycopg.connect(local_dsn(name, server, ca_file)) as conn:
        user, ssl = conn.execute("SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert (user, ssl) == (DATABASE_CLIENTS[name][1], True)


def test_a_server_the_ca_did_not_sign_is_refused(tls_postgres, monkeypatch):
    server, _, other_ca = tls_postgres
    monkeypatch.setenv("PGPASSWORD", role_password("search", server))
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(local_dsn("search", server, other_ca))
