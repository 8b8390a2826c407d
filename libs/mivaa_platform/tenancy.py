"""Tenants: who owns a request's data, carried as gRPC metadata.

The gateway sets `x-mivaa-tenant` (and `x-mivaa-subject`) from a verified
token and strips any a client sent; services are reachable only through the
gateway or from each other, so they trust the value. A request without it
belongs to the tenant `default` (local development without auth).

Servicers read the tenant with `tenant_from_metadata(context.invocation_metadata())`
and pass it explicitly into domain calls; clients calling a peer on behalf of a
tenant attach `tenant_metadata(tenant)` to every call. This module does not
import grpc: metadata is any iterable of (key, value) pairs.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Iterable, Iterator

from mivaa_platform.errors import InvalidArgument

TENANT_HEADER = "x-mivaa-tenant"
SUBJECT_HEADER = "x-mivaa-subject"
DEFAULT_TENANT = "default"

_TENANT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# The tenant a task runs for, for code that cannot take it as an argument; explicit arguments win.
current_tenant: contextvars.ContextVar[str] = contextvars.ContextVar("mivaa_tenant", default=DEFAULT_TENANT)


def check_tenant(value: object) -> str:
    """The tenant id, or INVALID_ARGUMENT INVALID_TENANT."""
    if not isinstance(value, str) or _TENANT_PATTERN.fullmatch(value) is None:
        raise InvalidArgument(
            "INVALID_TENANT",
            "The tenant must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
            metadata={"tenant": str(value)[:80]},
        )
    return value


def tenant_from_metadata(invocation_metadata: Iterable[tuple[str, object]] | None) -> str:
    """The tenant named by `x-mivaa-tenant`; DEFAULT_TENANT when absent.

    More than one distinct value, or one that is not a valid tenant id, is INVALID_TENANT.
    """
    values = {value for key, value in (invocation_metadata or ()) if key.lower() == TENANT_HEADER}
    if not values:
        return DEFAULT_TENANT
    if len(values) > 1:
        raise InvalidArgument("INVALID_TENANT", f"The request names more than one tenant in {TENANT_HEADER}.")
    (value,) = values
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    return check_tenant(value)


def subject_from_metadata(invocation_metadata: Iterable[tuple[str, object]] | None) -> str:
    """The authenticated subject (`x-mivaa-subject`), "" when absent. For logs and audit only."""
    for key, value in invocation_metadata or ():
        if key.lower() == SUBJECT_HEADER:
            return value.decode("ascii", errors="replace") if isinstance(value, bytes) else str(value)
    return ""


def tenant_metadata(tenant: str | None = None) -> tuple[tuple[str, str], ...]:
    """Metadata for an outgoing call made on behalf of `tenant` (the current tenant when None)."""
    return ((TENANT_HEADER, check_tenant(current_tenant.get() if tenant is None else tenant)),)


@contextlib.contextmanager
def acting_as(tenant: str) -> Iterator[str]:
    """Sets current_tenant for the block (and the tasks it starts)."""
    token = current_tenant.set(check_tenant(tenant))
    try:
        yield tenant
    finally:
        current_tenant.reset(token)
