"""components/cloudnative-pg in the prod overlay: the base's single PostgreSQL replaced by a
three-instance CloudNativePG cluster with pgvector, the same two roles, and search and answer
pointed at its primary's Service over verified TLS."""

from __future__ import annotations

from tests.deploy.k8s_manifests import find, overlay, walk

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
