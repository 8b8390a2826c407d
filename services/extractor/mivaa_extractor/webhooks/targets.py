"""Which webhook URLs may be sent to: syntax, scheme, and every address the host resolves to.

A subscription could otherwise make the mesh POST into its own network (cloud metadata at
169.254.169.254, databases on 10.x, services on localhost). The host is resolved and each
address checked, at creation and again before every delivery, and the POST connects to a
checked address (never a second lookup a rebinding DNS server could answer differently).
The address rules are mivaa_platform.outbound's, shared with imports from a URL.
"""

from __future__ import annotations

import dataclasses
import urllib.parse

from mivaa_extractor.jobs import DOMAIN
from mivaa_platform.errors import InvalidArgument
from mivaa_platform.outbound import AddressRefused, HostUnresolved, address_refusal, resolve_allowed

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
    if not uri:
        raise _refused("WEBHOOK_URI_MISSING", "A webhook needs a uri.")
    if len(uri) > policy.max_uri_chars:
        raise _refused("WEBHOOK_URI_TOO_LONG", f"A webhook uri may have at most {policy.max_uri_chars} characters.")
    if any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in uri):
        raise _refused("WEBHOOK_URI_INVALID", "A webhook uri must be ASCII without spaces or control characters.")
    try:
        parts = urllib.parse.urlsplit(uri)
        port = parts.port
    except ValueError:
        raise _refused("WEBHOOK_URI_INVALID", "The webhook uri is not a valid URL.") from None
    if parts.scheme not in ("https", "http"):
        raise _refused("WEBHOOK_URI_INVALID", "A webhook uri must start with https://.")
    if parts.scheme == "http" and not policy.allow_http:
        raise _refused("WEBHOOK_HTTPS_REQUIRED", "Webhooks must use https:// on this server.")
    if not parts.hostname:
        raise _refused("WEBHOOK_URI_INVALID", "The webhook uri names no host.")
    if parts.username is not None or parts.password is not None:
        raise _refused("WEBHOOK_URI_INVALID", "A webhook uri must not carry credentials; sign with the secret.")
    if parts.fragment:
        raise _refused("WEBHOOK_URI_INVALID", "A webhook uri must not have a fragment.")
    https = parts.scheme == "https"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(uri=uri, https=https, host=parts.hostname, port=port or (443 if https else 80), path=path)


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
