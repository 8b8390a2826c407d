"""Where job records live in the `mivaa-jobs` KV bucket: one subject subtree per tenant.

A job's key is `<tenant>.<job_id>`, the tenant written as in job event subjects (a '.' in it
is `%2E`, tenant_subject_token), so the bucket's stream holds a tenant's records under
`$KV.mivaa-jobs.<tenant>.>` and listing one tenant reads that subtree only. Keys are looked up
by name with the tenant the caller knows, one read each.

Records written before this layout sit under their bare job id (one subject token, which no
key of this layout is): `$KV.mivaa-jobs.*` lists exactly those. They stay readable under their
old key (every lookup falls back to it, and tenant listings include them) until retention
removes them once they are finished; nothing moves them, so no write ever races a move.

'%' is not in nats-py's KV key alphabet, so keys are passed with validate_keys=False; every key
is built here from a checked tenant id and a checked job id.
"""

from __future__ import annotations

from collections.abc import Callable

from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from mivaa_platform.errors import InvalidArgument
from mivaa_platform.messaging import JOBS_BUCKET, tenant_subject_token
from mivaa_platform.pagination import invalid_page_token
from mivaa_platform.tenancy import ALL_TENANTS, TenantScope

KEY_SUBJECT_PREFIX = f"$KV.{JOBS_BUCKET}."
KV_STREAM = f"KV_{JOBS_BUCKET}"


def job_key(tenant: str, job_id: str) -> str:
    return f"{tenant_subject_token(tenant)}.{job_id}"


def tenant_of_key(key: str) -> str | None:
    """The tenant in a key of this layout; None for an old bare-id key (its tenant is in the record only)."""
    token, dot, _ = key.partition(".")
    return token.replace("%2E", ".") if dot else None


def job_id_of_key(key: str) -> str:
    """The job id in a key of either layout (the last token)."""
    return key.rpartition(".")[2]


async def read_entry(kv: KeyValue, key: str) -> tuple[bytes, int] | None:
    """A key's value and revision; None when there is none (never written, deleted or purged)."""
    try:
        entry = await kv.get(key, validate_keys=False)
    except KeyNotFoundError:
        return None
    if entry.value is None:
        return None
    return entry.value, entry.revision or 0


def page_after_id(after: dict[str, object] | None, check_id: Callable[[str], object], *, domain: str) -> str:
    """The id a listing's page token continues after ("" for the first page): `check_id` refuses
    (InvalidArgument) an id of the wrong shape, and the token is then INVALID_PAGE_TOKEN."""
    if after is None:
        return ""
    key = after.get("k")
    try:
        if not isinstance(key, str):
            raise InvalidArgument("INVALID_PAGE_POSITION", "not an id", domain=domain)
        check_id(key)
    except InvalidArgument:
        raise invalid_page_token("The page token is not one this service issued.", domain) from None
    return key


def any_tenant_subject(job_id: str) -> str:
    """The subject of the job's record in whichever tenant holds it (a wildcard for a last-message get)."""
    return f"{KEY_SUBJECT_PREFIX}*.{job_id}"


def scope_filters(tenant: TenantScope) -> list[str]:
    """Subjects holding every record `tenant` may see: its own subtree and the old bare-id keys,
    whose tenant is only known once read; every key for ALL_TENANTS."""
    if tenant is ALL_TENANTS:
        return [f"{KEY_SUBJECT_PREFIX}>"]
    return [f"{KEY_SUBJECT_PREFIX}{tenant_subject_token(tenant)}.>", f"{KEY_SUBJECT_PREFIX}*"]
