"""Platform administrators: callers whose verified token holds the `platform-admin` scope.

The gateway copies the verified token's `scope` claim into `x-mivaa-scopes` (and strips any
a client sent, like `x-mivaa-tenant`), so services trust the value as they trust the tenant.
A platform admin may ask the AdminService about every tenant; everyone else sees only their
own tenant, and a request for more is PERMISSION_DENIED PLATFORM_ADMIN_REQUIRED. Services
calling a peer for a platform admin pass the header on with `scopes_metadata`.
This module does not import grpc: metadata is any iterable of (key, value) pairs.
"""

from __future__ import annotations

from collections.abc import Iterable

from mivaa_platform.errors import PermissionDenied

SCOPES_HEADER = "x-mivaa-scopes"
PLATFORM_ADMIN_SCOPE = "platform-admin"


def scopes_from_metadata(invocation_metadata: Iterable[tuple[str, object]] | None) -> frozenset[str]:
    """The scopes of the caller's verified token (space separated, as in the claim); none when absent."""
    scopes: set[str] = set()
    for key, value in invocation_metadata or ():
        if key.lower() != SCOPES_HEADER:
            continue
        if isinstance(value, bytes):
            value = value.decode("ascii", errors="replace")
        scopes.update(str(value).replace(",", " ").split())
    return frozenset(scopes)


def is_platform_admin(invocation_metadata: Iterable[tuple[str, object]] | None) -> bool:
    return PLATFORM_ADMIN_SCOPE in scopes_from_metadata(invocation_metadata)


def require_platform_admin(invocation_metadata: Iterable[tuple[str, object]] | None, *, domain: str) -> None:
    """Nothing for a platform admin; PERMISSION_DENIED PLATFORM_ADMIN_REQUIRED for anyone else."""
    if not is_platform_admin(invocation_metadata):
        raise PermissionDenied(
            "PLATFORM_ADMIN_REQUIRED",
            f"Only a token with the {PLATFORM_ADMIN_SCOPE} scope may see other tenants' data.",
            domain=domain,
            metadata={"scope": PLATFORM_ADMIN_SCOPE},
        )
