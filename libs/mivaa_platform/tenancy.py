"""Tenants: who owns a request's data, carried as gRPC metadata.

The gateway sets `x-mivaa-tenant` (and `x-mivaa-subject`) from a verified
token and strips any a client sent; services are reachable only through the
gateway or from each other, so they trust the value. A request without it
belongs to the tenant `default` (local development without auth).

Servicers read the tenant with `tenant_from_metadata(context.invocation_metadata())`
and pass it explicitly into domain calls; clients calling a peer on behalf of a
tenant attach `tenant_metadata(tenant)` to every call. Domain calls take the tenant
as a required keyword; the few reads that deliberately span tenants (the extraction worker
reading any job) say so with `tenant=ALL_TENANTS`, so forgetting the tenant is a type error
rather than a quiet read of someone else's data. This module does not import grpc: metadata
is any iterable of (key, value) pairs.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Final, Literal

from mivaa_platform.errors import InvalidArgument

TENANT_HEADER = "x-mivaa-tenant"
DEFAULT_TENANT = "default"

_TENANT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class _AllTenants(enum.Enum):
    """The one value that means "every tenant": only code acting for the system itself passes it."""

    ALL_TENANTS = "*"


ALL_TENANTS: Final = _AllTenants.ALL_TENANTS
# What a call that may span tenants takes: one tenant's id, or ALL_TENANTS said out loud.
TenantScope = str | Literal[_AllTenants.ALL_TENANTS]


def in_scope(owner: str, scope: TenantScope) -> bool:
    """Whether data owned by `owner` may be seen by a call scoped to `scope`."""
    return scope is ALL_TENANTS or owner == scope


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


def tenant_metadata(tenant: str) -> tuple[tuple[str, str], ...]:
    """Metadata for an outgoing call made on behalf of `tenant`."""
    return ((TENANT_HEADER, check_tenant(tenant)),)
