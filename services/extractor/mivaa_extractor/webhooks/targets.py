"""Which webhook URLs may be sent to: syntax, scheme, and every address the host resolves to.

A subscription could otherwise make the mesh POST into its own network (cloud metadata at
169.254.169.254, databases on 10.x, services on localhost). The host is resolved and each
address checked, at creation and again before every delivery, and the POST connects to a
checked address (never a second lookup a rebinding DNS server could answer differently).
The address rules are mivaa_platform.outbound's, shared with imports from a URL.
"""

from __future__ import annotations

import dataclasses

from mivaa_extractor.jobs import DOMAIN
from mivaa_platform.errors import InvalidArgument
from mivaa_platform.outbound import (
    AddressRefused,
    HostUnresolved,
    UrlRejected,
    address_refusal,
    resolve_allowed,
    split_http_url,
)

# address_refusal lives in mivaa_platform.outbound (URL imports check addresses the same way).
__all__ = ["Target", "TargetPolicy", "address_refusal", "parse_target", "resolve_target"]

RESOLVE_TIMEOUT_SECONDS = 5.0


@dataclasses.dataclass(frozen=True)
class TargetPolicy:
    """What the server allows beyond public HTTPS targets (EXTRACTOR_WEBHOOK_ALLOW_*)."""

    max_uri_chars: int = 2048
    allow_http: bool = False
    allow_loopback: bool = False
    # Private, link-local, shared (CGNAT) and other non-global unicast ranges.
    allow_private: bool = False


@dataclasses.dataclass(frozen=True)
class Target:
    uri: str
    https: bool
    host: str
    port: int
    # Path and query, as sent in the request line.
    path: str


def _refused(reason: str, message: str) -> InvalidArgument:
    return InvalidArgument(reason, message, domain=DOMAIN)


def parse_target(uri: str, policy: TargetPolicy) -> Target:
    """The URL's parts, or INVALID_ARGUMENT with a reason saying what is wrong with it."""
    try:
        parts = split_http_url(uri, policy.max_uri_chars)
    except UrlRejected as rejected:
        reason = {"missing": "WEBHOOK_URI_MISSING", "too_long": "WEBHOOK_URI_TOO_LONG"}.get(
            rejected.problem, "WEBHOOK_URI_INVALID"
        )
        hint = "; sign with the secret" if rejected.problem == "credentials" else ""
        raise _refused(reason, f"A webhook uri {rejected.what}{hint}.") from None
    if not parts.https and not policy.allow_http:
        raise _refused("WEBHOOK_HTTPS_REQUIRED", "Webhooks must use https:// on this server.")
    if parts.fragment:
        raise _refused("WEBHOOK_URI_INVALID", "A webhook uri must not have a fragment.")
    return Target(uri=uri, https=parts.https, host=parts.host, port=parts.port, path=parts.target)


async def resolve_target(target: Target, policy: TargetPolicy) -> list[str]:
    """Every address the host resolves to, each allowed by `policy`; INVALID_ARGUMENT otherwise
    (WEBHOOK_HOST_UNRESOLVED, WEBHOOK_TARGET_REFUSED naming the address and why)."""
    try:
        return await resolve_allowed(target.host, target.port, policy, timeout=RESOLVE_TIMEOUT_SECONDS)
    except HostUnresolved:
        raise _refused("WEBHOOK_HOST_UNRESOLVED", f"The webhook host {target.host!r} does not resolve.") from None
    except AddressRefused as refused:
        raise _refused(
            "WEBHOOK_TARGET_REFUSED",
            f"The webhook host {target.host!r} resolves to {refused.why} ({refused.address});"
            " this server does not send there.",
        ) from None
