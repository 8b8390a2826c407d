"""Who may do what on the NATS bus: one user per service role, one per tenant event consumer.

NATS checks every PUB and SUB against the connected user's permissions, and every JetStream
operation is a request on a `$JS.API.<OP>.<STREAM>[...]` subject, so subject permissions are
stream permissions too. Each role gets only the subjects its code uses (see the callers of
mivaa_platform.messaging); a private inbox prefix per user (`_INBOX_<user>`, nats-py's
`inbox_prefix`) keeps replies, and the JetStream deliveries that go to inboxes, from every other
user. This module is data only; the local mesh (cli/mivaa_cli/localmesh/bus.py) and the
Kubernetes config render it into the server's `authorization` block.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from mivaa_platform.messaging import (
    BATCHES_BUCKET,
    EVENTS_STREAM,
    EVENTS_SUBJECT_PREFIX,
    JOBS_BUCKET,
    ORIGINALS_BUCKET,
    ORIGINALS_STREAM,
    PAGE_SPOOL_BUCKET,
    PAGE_SPOOL_STREAM,
    PAGES_CONSUMER,
    WEBHOOK_CONSUMER,
    WEBHOOK_DELIVERIES_BUCKET,
    WEBHOOKS_BUCKET,
    WORK_CONSUMER,
    WORK_STREAM,
    WORK_SUBJECT_EXTRACT,
    WORK_SUBJECT_PAGES,
    inbox_prefix,
    tenant_subject_token,
)

API = "$JS.API"
KV_STREAM = f"KV_{JOBS_BUCKET}"
BATCHES_STREAM = f"KV_{BATCHES_BUCKET}"
WEBHOOKS_STREAM = f"KV_{WEBHOOKS_BUCKET}"
DELIVERIES_STREAM = f"KV_{WEBHOOK_DELIVERIES_BUCKET}"
OBJ_STREAM = ORIGINALS_STREAM
SERVICE_ROLES = ("extractor", "worker", "search")
OPS_ROLE = "ops"
TENANT_USER_PREFIX = "tenant-"


def _topology() -> list[str]:
    """ensure_topology: create, update and inspect the mesh's own eight streams, none other."""
    streams = (
        WORK_STREAM,
        EVENTS_STREAM,
        KV_STREAM,
        BATCHES_STREAM,
        WEBHOOKS_STREAM,
        DELIVERIES_STREAM,
        OBJ_STREAM,
        PAGE_SPOOL_STREAM,
    )
    return [f"{API}.INFO", *(f"{API}.STREAM.{op}.{s}" for op in ("CREATE", "UPDATE", "INFO") for s in streams)]


def _ordered_reads(stream: str) -> list[str]:
    """Direct/last-message gets and the ordered push consumers nats-py uses for KV watch/keys and
    object gets (delivered to the caller's own inbox), plus their flow-control replies. An object
    get first looks its stream up by subject (STREAM.NAMES: names only, no content)."""
    return [
        f"{API}.STREAM.NAMES",
        f"{API}.DIRECT.GET.{stream}",
        f"{API}.DIRECT.GET.{stream}.>",
        f"{API}.STREAM.MSG.GET.{stream}",
        f"{API}.CONSUMER.CREATE.{stream}",
        f"{API}.CONSUMER.CREATE.{stream}.>",
        f"{API}.CONSUMER.DELETE.{stream}.*",
        f"{API}.CONSUMER.INFO.{stream}.*",
        f"$JS.FC.{stream}.>",
    ]


def _jobs_write() -> list[str]:
    return [f"$KV.{JOBS_BUCKET}.>", f"{EVENTS_SUBJECT_PREFIX}.>"]


def _originals_write() -> list[str]:
    # Chunks and metadata; a put replacing an object, and a delete, purge the old chunks.
    return [f"$O.{ORIGINALS_BUCKET}.>", f"{API}.STREAM.PURGE.{OBJ_STREAM}"]


def _durable_consume(stream: str, name: str) -> list[str]:
    """Create (or find) the durable pull consumer `name` on `stream`, fetch from it and ack."""
    consumer = f"{stream}.{name}"
    return [
        f"{API}.CONSUMER.CREATE.{consumer}",
        f"{API}.CONSUMER.CREATE.{consumer}.>",
        f"{API}.CONSUMER.DURABLE.CREATE.{consumer}",
        f"{API}.CONSUMER.INFO.{consumer}",
        f"{API}.CONSUMER.MSG.NEXT.{consumer}",
        f"$JS.ACK.{consumer}.>",
    ]


def _webhooks() -> list[str]:
    """Subscriptions and delivery logs (adapters.webhook_store: read, listed and purged like batches),
    and the dispatcher's durable consumer of job events (adapters.webhook_events)."""
    buckets = ((WEBHOOKS_BUCKET, WEBHOOKS_STREAM), (WEBHOOK_DELIVERIES_BUCKET, DELIVERIES_STREAM))
    return [
        *(
            subject
            for bucket, stream in buckets
            for subject in (
                f"$KV.{bucket}.>",
                *_ordered_reads(stream),
                f"{API}.CONSUMER.MSG.NEXT.{stream}.*",
                f"{API}.STREAM.PURGE.{stream}",
            )
        ),
        *_durable_consume(EVENTS_STREAM, WEBHOOK_CONSUMER),
    ]


def role_publish(role: str) -> list[str]:
    """Subjects a service role may publish to (requests to JetStream included)."""
    return list(dict.fromkeys(_role_publish(role)))


def _role_publish(role: str) -> list[str]:
    if role == "extractor":  # the upload/jobs API: stores originals, records jobs, queues tasks
        # ListJobs reads a tenant's job keys with a pull consumer of its own (job_keys.live_keys);
        # job retention purges a finished job's key subject (JobStore.expire), leaving no marker.
        # Batches (adapters.batch_store) are read, listed and purged the same way in their own bucket.
        return [
            *_topology(),
            WORK_SUBJECT_EXTRACT,
            *_jobs_write(),
            *_ordered_reads(KV_STREAM),
            f"{API}.CONSUMER.MSG.NEXT.{KV_STREAM}.*",
            f"{API}.STREAM.PURGE.{KV_STREAM}",
            f"$KV.{BATCHES_BUCKET}.>",
            *_ordered_reads(BATCHES_STREAM),
            f"{API}.CONSUMER.MSG.NEXT.{BATCHES_STREAM}.*",
            f"{API}.STREAM.PURGE.{BATCHES_STREAM}",
            *_originals_write(),
            *_ordered_reads(OBJ_STREAM),
            # AdminService.GetQueueStatus: the workers' consumers' counters and the oldest waiting
            # item's time (tasks the API wrote, page ranges a worker wrote; neither carries a secret
            # in the clear).
            f"{API}.CONSUMER.INFO.{WORK_STREAM}.{WORK_CONSUMER}",
            f"{API}.CONSUMER.INFO.{WORK_STREAM}.{PAGES_CONSUMER}",
            f"{API}.STREAM.MSG.GET.{WORK_STREAM}",
            *_webhooks(),
        ]
    if role == "worker":  # pulls tasks, reads originals, updates jobs; never queues a document's task
        # A long document's page ranges: queued by the worker assembling it, taken by any worker,
        # their pages left in (and read back from, then deleted from) the page spool.
        return [
            *_topology(),
            *_durable_consume(WORK_STREAM, WORK_CONSUMER),
            WORK_SUBJECT_PAGES,
            *_durable_consume(WORK_STREAM, PAGES_CONSUMER),
            f"$O.{PAGE_SPOOL_BUCKET}.>",
            f"{API}.STREAM.PURGE.{PAGE_SPOOL_STREAM}",
            *_ordered_reads(PAGE_SPOOL_STREAM),
            *_jobs_write(),
            *_ordered_reads(KV_STREAM),
            *_ordered_reads(OBJ_STREAM),
        ]
    if role == "search":
        # Deleting a document deletes its stored original (OriginalsStore.delete): it reads the
        # object's metadata by a direct get on meta subjects only, never a chunk. Purge cannot be
        # scoped by subject, so search could purge originals; it can read none. The orphan sweep
        # lists the objects by the stream's subjects (stream info), metadata again.
        meta = f"$O.{ORIGINALS_BUCKET}.M.>"
        return [
            f"{API}.DIRECT.GET.{OBJ_STREAM}.{meta}",
            meta,
            f"{API}.STREAM.PURGE.{OBJ_STREAM}",
            f"{API}.STREAM.INFO.{OBJ_STREAM}",
        ]
    raise ValueError(f"unknown bus role {role!r}")


def permissions(user: str, publish: list[str], subscribe: Sequence[str] = ()) -> dict:
    return {
        "publish": {"allow": publish},
        "subscribe": {"allow": [f"{inbox_prefix(user)}.>", *subscribe]},
    }


def role_permissions(role: str) -> dict:
    if role == OPS_ROLE:  # tools, tests and the launcher: the whole bus
        return {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    return permissions(role, role_publish(role))


def tenant_user(tenant: str) -> str:
    return TENANT_USER_PREFIX + tenant_subject_token(tenant)


def tenant_events_subject(tenant: str) -> str:
    return f"{EVENTS_SUBJECT_PREFIX}.{tenant_subject_token(tenant)}.>"


def tenant_permissions(tenant: str) -> dict:
    """Live events of one tenant, and a replay of them from the event stream through a consumer whose
    filter is that tenant's subject: the server checks the filter named in the create subject
    (`$JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>`) against the request's own filter. No KV,
    no object store, no publishing anywhere but JetStream's consumer API and flow control."""
    events = tenant_events_subject(tenant)
    return permissions(
        tenant_user(tenant),
        [f"{API}.CONSUMER.CREATE.{EVENTS_STREAM}.*.{events}", f"$JS.FC.{EVENTS_STREAM}.>"],
        [events],
    )


def server_config(settings: dict, users: dict[str, dict]) -> str:
    """A nats-server config: top-level `settings` (port, jetstream, tls ...) and the users.

    users maps name -> {"password": ..., "permissions": {...}}. A password is a bcrypt hash (the
    local mesh) or `$SOME_VARIABLE` (Kubernetes: the server reads it from its environment, filled
    from a Secret). NATS config accepts JSON values; quoting keeps the `$` of a hash or a subject
    literal, so only a variable reference is left unquoted (a password, or a top-level setting
    such as a clustered server's `server_name: $POD_NAME`).
    """
    entries = []
    for name, spec in sorted(users.items()):
        password = spec["password"]
        quoted = password if _ENV_REFERENCE.fullmatch(password) else json.dumps(password)
        entries.append(
            f'    {{"user": {json.dumps(name)}, "password": {quoted}, "permissions": {json.dumps(spec["permissions"])}}}'
        )
    lines = [f"{key}: {_config_value(value)}" for key, value in settings.items()]
    return "\n".join([*lines, "authorization {", "  users: [", ",\n".join(entries), "  ]", "}"]) + "\n"


_ENV_REFERENCE = re.compile(r"\$[A-Z][A-Z0-9_]*")


def _config_value(value: object) -> str:
    """JSON, but a string that is only `$VARIABLE` stays bare: nats-server reads it from its environment."""
    if isinstance(value, str) and _ENV_REFERENCE.fullmatch(value):
        return value
    return json.dumps(value)
