"""Secrets in the Kubernetes manifests: cert-manager's certificate chain, database passwords and roles,
and NATS users, permissions and TLS."""

from __future__ import annotations

import pytest
import yaml

from tests.deploy.k8s_manifests import (
    K8S,
    MANIFESTS,
    REPO,
    SERVICE_WORKLOADS,
    file_volume,
    mounted_secrets,
    pod_spec,
    resource,
    walk,
)
from tests.support.certs import make_certs

# -- components/cert-manager -----------------------------------------------------------------------

CERT_MANAGER = K8S / "components" / "cert-manager"


def cert_manager(kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for p, r in MANIFESTS if p.parent == CERT_MANAGER and r["kind"] == kind}


@pytest.mark.parametrize("name", ["extractor", "extractor-worker"])
def test_extractor_api_and_workers_share_a_required_task_key(name):
    """Work items carry passwords sealed with this key: both sides mount the same Secret, which must exist."""
    spec = pod_spec(name)
    container = spec["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    volume, key = file_volume(spec, container, env["EXTRACTOR_TASK_KEY_FILE"])
    assert volume["secret"]["secretName"] == "mivaa-extractor-task-key" and key == "task.key"
    assert volume["secret"].get("optional", False) is False
    assert volume["secret"]["defaultMode"] & 0o007 == 0


def test_cert_manager_makes_every_mounted_secret_from_a_self_signed_ca_chain():
    issuers, certificates = cert_manager("Issuer"), cert_manager("Certificate")
    by_secret = {c["spec"]["secretName"]: c for c in certificates.values()}
    assert mounted_secrets() <= set(by_secret)
    # selfSigned -> the CA certificate -> a CA Issuer that signs every mounted certificate.
    ca = next(c for c in certificates.values() if c["spec"].get("isCA"))
    assert "selfSigned" in issuers[ca["spec"]["issuerRef"]["name"]]["spec"]
    ca_issuers = {
        name
        for name, issuer in issuers.items()
        if issuer["spec"].get("ca", {}).get("secretName") == ca["spec"]["secretName"]
    }
    for secret in mounted_secrets():
        spec = by_secret[secret]["spec"]
        assert spec["issuerRef"]["name"] in ca_issuers and spec["issuerRef"]["kind"] == "Issuer", secret
    for service in {certificate for _, certificate in SERVICE_WORKLOADS.values()}:
        spec = by_secret[f"mivaa-{service}-tls"]["spec"]
        # The names tools/make_certs.py gives it, so either source serves the same manifests.
        assert set(make_certs.service_spec(service).dns) <= set(spec["dnsNames"]), service
        assert {"server auth", "client auth"} <= set(spec["usages"]), service
    assert "client auth" in by_secret["mivaa-gateway-mtls"]["spec"]["usages"]
    assert "server auth" in by_secret["mivaa-gateway-tls"]["spec"]["usages"]


# -- database passwords ----------------------------------------------------------------------------


def test_no_manifest_holds_a_secret_value():
    """Secrets are created apart (deploy/README.md): no Secret object, no literal password or DSN."""
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name == "envoy.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if not document:
                continue
            assert document["kind"] != "Secret", f"{path}: a Secret belongs outside the manifests"
            for item in walk(document):
                if isinstance(item, dict) and "name" in item and "value" in item:
                    # A variable that names the file a mounted Secret lands in holds a path, not a secret.
                    names_a_file = item["name"].endswith("_FILE") and str(item["value"]).startswith("/etc/mivaa/")
                    if not names_a_file:
                        assert not any(
                            word in item["name"].upper() for word in ("PASSWORD", "DATABASE_URL", "SECRET")
                        ), (path, item)
                if isinstance(item, str):
                    assert "postgresql://" not in item and "change-me" not in item, (path, item)


def test_search_connects_as_an_app_role_that_is_not_the_superuser():
    """PostgreSQL's superuser is for its own first start; search gets the `mivaa` role, no superuser."""
    database = resource("StatefulSet", "postgres")["spec"]["template"]["spec"]
    env = {item["name"]: item for item in database["containers"][0]["env"]}
    assert env["POSTGRES_USER"]["value"] == "postgres"
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "mivaa-postgres-superuser"
    assert env["POSTGRES_HOST_AUTH_METHOD"]["value"] == "scram-sha-256"
    assert (
        "trust" not in env["POSTGRES_INITDB_ARGS"]["value"]
        and "--auth-local=scram-sha-256" in env["POSTGRES_INITDB_ARGS"]["value"]
    )
    init = resource("ConfigMap", "postgres-init")["data"]["10-mivaa-app-role.sh"]
    assert "CREATE ROLE mivaa LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" in init
    assert "CREATE DATABASE mivaa OWNER mivaa" in init and "CREATE EXTENSION IF NOT EXISTS vector" in init
    [mount] = [m for m in database["containers"][0]["volumeMounts"] if m["mountPath"] == "/docker-entrypoint-initdb.d"]
    assert {"name": mount["name"], "configMap": {"name": "postgres-init"}} in database["volumes"]
    # Search reads its DSN (the app role's) from mivaa-database and never sees the superuser's Secret.
    search = pod_spec("search")
    referenced = {
        item["secretKeyRef"]["name"] for item in walk(search) if isinstance(item, dict) and "secretKeyRef" in item
    }
    assert referenced == {"mivaa-database"}


# -- NATS -----------------------------------------------------------------------------------------

NATS_CLIENTS = {
    "extractor": ("EXTRACTOR", "extractor"),
    "extractor-worker": ("EXTRACTOR", "worker"),
    "search": ("SEARCH", "search"),
}


def nats_pod_spec() -> dict:
    return resource("StatefulSet", "nats", K8S / "base" / "nats.yaml")["spec"]["template"]["spec"]


def _render_nats_config():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "mivaa_tools_render_nats_config", REPO / "tools" / "render_nats_config.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nats_config_is_rendered_from_the_declared_permissions():
    """deploy/k8s/base/nats.conf is what mivaa_platform.bus_access declares (tools/render_nats_config.py)."""
    assert (K8S / "base" / "nats.conf").read_text() == _render_nats_config().render()


def test_nats_requires_tls_and_users_and_exposes_no_monitoring_port():
    config = (K8S / "base" / "nats.conf").read_text()
    assert "authorization {" in config and "tls:" in config
    assert "http" not in config and "no_auth_user" not in config
    for role in ("extractor", "worker", "search", "ops"):
        assert f'"user": "{role}", "password": $NATS_PASSWORD_{role.upper()},' in config
    assert [port["port"] for port in resource("Service", "nats")["spec"]["ports"]] == [4222]
    container = nats_pod_spec()["containers"][0]
    assert [port["containerPort"] for port in container["ports"]] == [4222]
    assert not any("http" in arg for arg in container["args"])
    assert all("httpGet" not in container[probe] for probe in ("readinessProbe", "livenessProbe"))


def test_nats_passwords_come_from_a_secret_the_manifests_do_not_define():
    """No default NATS password in the manifests: the server and each client read mivaa-nats-users."""
    container = nats_pod_spec()["containers"][0]
    variables = {item["name"]: item for item in container["env"] if item["name"].startswith("NATS_PASSWORD_")}
    assert set(variables) == {
        "NATS_PASSWORD_EXTRACTOR",
        "NATS_PASSWORD_WORKER",
        "NATS_PASSWORD_SEARCH",
        "NATS_PASSWORD_OPS",
    }
    for item in variables.values():
        assert "value" not in item and item["valueFrom"]["secretKeyRef"]["name"] == "mivaa-nats-users"
    assert not [r for _, r in MANIFESTS if r["kind"] == "Secret" and r["metadata"]["name"] == "mivaa-nats-users"]
    assert "mivaa-nats-tls" in mounted_secrets()


@pytest.mark.parametrize("name", sorted(NATS_CLIENTS))
def test_each_nats_client_has_its_own_user_password_file_and_verifies_tls(name):
    prefix, user = NATS_CLIENTS[name]
    spec = pod_spec(name)
    container = spec["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env[f"{prefix}_NATS_USER"] == user
    volume, file = file_volume(spec, container, env[f"{prefix}_NATS_PASSWORD_FILE"])
    # Only this role's key of the Secret is mounted: a worker cannot read the API's password.
    assert volume["secret"]["secretName"] == "mivaa-nats-users"
    assert volume["secret"]["items"] == [{"key": user, "path": file}]
    assert volume["secret"]["defaultMode"] & 0o007 == 0
    ca_volume, ca_file = file_volume(spec, container, env[f"{prefix}_NATS_CA_FILE"])
    assert ca_volume["secret"]["secretName"].endswith("-tls") and ca_file == "ca.crt"
    url = resource("ConfigMap", "mivaa-peers")["data"][f"{prefix}_NATS_URL"]
    scheme, _, address = url.partition("://")
    assert scheme == "tls" and address.rpartition(":")[0] in make_certs.service_spec("nats").dns


def test_nats_monitoring_is_opened_only_for_keda():
    """The base opens no monitoring port; components/keda-autoscaling does, for KEDA alone."""
    policies = [r for _, r in MANIFESTS if r["kind"] == "NetworkPolicy"]
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            if 8222 in {port["port"] for port in rule.get("ports", [])}:
                assert policy["spec"]["podSelector"] == {"matchLabels": {"app": "nats"}}
                assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}]
    trigger = resource("ScaledObject", "extractor-worker")["spec"]["triggers"][0]["metadata"]
    assert trigger["natsServerMonitoringEndpoint"].startswith("nats-monitoring.")


def test_tenant_users_render_for_an_overlay():
    """render_nats_config --tenant: a tenant's consumer user reads its events only, password from the environment."""
    from mivaa_platform import bus_access

    tool = _render_nats_config()
    config = tool.render(("acme.eu",))
    assert '"user": "tenant-acme%2Eeu", "password": $NATS_PASSWORD_TENANT_ACME_EU,' in config
    assert bus_access.tenant_permissions("acme.eu")["subscribe"]["allow"][1] == "mivaa.jobs.acme%2Eeu.>"
    with pytest.raises(ValueError):
        tool.render(("acme.eu", "acme_eu"))
