"""Minimal structural schemas of the custom resources kubernetes-validate cannot check.

No PyPI package ships these CRDs' OpenAPI schemas, so each schema here is written by hand from the
upstream CRD reference it cites: the API version and kind, the fields its `spec` defines (with their
types, enums and required members), and only those (an unknown field is a typo that the operator
would prune without a word). They cover what the manifests use, not every field of the CRD.
"""

from __future__ import annotations

STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
STRINGS = {"type": "array", "items": STRING}
STRING_MAP = {"type": "object", "additionalProperties": STRING}
OBJECT = {"type": "object"}
SECRET_NAME = {"type": "object", "required": ["name"], "properties": {"name": STRING}, "additionalProperties": False}
SECRET_KEY = {"type": "object", "required": ["key"], "properties": {"name": STRING, "key": STRING}}
LABEL_SELECTOR = {
    "type": "object",
    "properties": {"matchLabels": STRING_MAP, "matchExpressions": {"type": "array", "items": OBJECT}},
    "additionalProperties": False,
}


def closed(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def resource(api_version: str, kind: str, spec: dict) -> dict:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": {"type": "object", "required": ["name"], "properties": {"name": STRING}},
            "spec": spec,
        },
    }


# CloudNativePG 1.27, postgresql.cnpg.io/v1 Cluster:
# https://cloudnative-pg.io/documentation/1.27/cloudnative-pg.v1/#postgresql-cnpg-io-v1-ClusterSpec
ROLE = closed(
    {
        "name": STRING,
        "comment": STRING,
        "ensure": {"enum": ["present", "absent"]},
        "login": BOOLEAN,
        "superuser": BOOLEAN,
        "createdb": BOOLEAN,
        "createrole": BOOLEAN,
        "replication": BOOLEAN,
        "bypassrls": BOOLEAN,
        "inherit": BOOLEAN,
        "connectionLimit": {"type": "integer"},
        "disablePassword": BOOLEAN,
        "inRoles": STRINGS,
        "passwordSecret": SECRET_NAME,
        "validUntil": STRING,
    },
    required=("name",),
)
INITDB = closed(
    {
        "database": STRING,
        "owner": STRING,
        "secret": SECRET_NAME,
        "dataChecksums": BOOLEAN,
        "encoding": STRING,
        "localeCollate": STRING,
        "localeCType": STRING,
        "postInitSQL": STRINGS,
        "postInitApplicationSQL": STRINGS,
        "postInitTemplateSQL": STRINGS,
    }
)
CNPG_CLUSTER = resource(
    "postgresql.cnpg.io/v1",
    "Cluster",
    closed(
        {
            "description": STRING,
            "instances": {"type": "integer", "minimum": 1},
            "imageName": STRING,
            "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
            "primaryUpdateMethod": {"enum": ["switchover", "restart"]},
            "enableSuperuserAccess": BOOLEAN,
            "affinity": closed(
                {
                    "enablePodAntiAffinity": BOOLEAN,
                    "podAntiAffinityType": {"enum": ["preferred", "required"]},
                    "topologyKey": STRING,
                    "nodeSelector": STRING_MAP,
                    "tolerations": {"type": "array", "items": OBJECT},
                }
            ),
            "storage": closed({"size": STRING, "storageClass": STRING, "resizeInUseVolumes": BOOLEAN}),
            "walStorage": closed({"size": STRING, "storageClass": STRING}),
            "resources": closed({"requests": STRING_MAP, "limits": STRING_MAP}),
            "postgresql": closed(
                {"parameters": STRING_MAP, "pg_hba": STRINGS, "pg_ident": STRINGS, "shared_preload_libraries": STRINGS}
            ),
            "bootstrap": closed({"initdb": INITDB, "recovery": OBJECT, "pg_basebackup": OBJECT}),
            "managed": closed({"roles": {"type": "array", "items": ROLE}}),
            "plugins": {
                "type": "array",
                "items": closed(
                    {"name": STRING, "enabled": BOOLEAN, "isWALArchiver": BOOLEAN, "parameters": STRING_MAP},
                    required=("name",),
                ),
            },
            "backup": OBJECT,
            "monitoring": OBJECT,
            "certificates": OBJECT,
            "inheritedMetadata": OBJECT,
        },
        required=("instances",),
    ),
)

# prometheus-operator v0.85, monitoring.coreos.com/v1 PodMonitor and PrometheusRule:
# https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.PodMonitorSpec
TLS_SOURCE = closed({"secret": SECRET_KEY, "configMap": SECRET_KEY})
POD_METRICS_ENDPOINT = closed(
    {
        "port": STRING,
        "portNumber": {"type": "integer"},
        "path": STRING,
        "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
        "interval": STRING,
        "scrapeTimeout": STRING,
        "honorLabels": BOOLEAN,
        "tlsConfig": closed(
            {
                "ca": TLS_SOURCE,
                "cert": TLS_SOURCE,
                "keySecret": SECRET_KEY,
                "serverName": STRING,
                "insecureSkipVerify": BOOLEAN,
            }
        ),
        "relabelings": {"type": "array", "items": OBJECT},
        "metricRelabelings": {"type": "array", "items": OBJECT},
    }
)
POD_MONITOR = resource(
    "monitoring.coreos.com/v1",
    "PodMonitor",
    closed(
        {
            "jobLabel": STRING,
            "podTargetLabels": STRINGS,
            "selector": LABEL_SELECTOR,
            "namespaceSelector": OBJECT,
            "podMetricsEndpoints": {"type": "array", "items": POD_METRICS_ENDPOINT},
            "sampleLimit": {"type": "integer"},
        },
        required=("selector",),
    ),
)
# https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.PrometheusRuleSpec
RULE = closed(
    {
        "record": STRING,
        "alert": STRING,
        "expr": {"type": ["string", "integer"]},
        "for": STRING,
        "keep_firing_for": STRING,
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    },
    required=("expr",),
)
PROMETHEUS_RULE = resource(
    "monitoring.coreos.com/v1",
    "PrometheusRule",
    closed(
        {
            "groups": {
                "type": "array",
                "items": closed(
                    {
                        "name": STRING,
                        "interval": STRING,
                        "limit": {"type": "integer"},
                        "rules": {"type": "array", "items": RULE},
                    },
                    required=("name",),
                ),
            }
        }
    ),
)

SCHEMAS = {"Cluster": CNPG_CLUSTER, "PodMonitor": POD_MONITOR, "PrometheusRule": PROMETHEUS_RULE}
