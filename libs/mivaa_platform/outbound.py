"""Where the mesh may open outbound connections: every address a host resolves to, checked once.

Anything that connects to a caller's URL (webhook deliveries, documents imported from a URL)
could otherwise be pointed into the mesh's own network: cloud metadata at 169.254.169.254,
databases on 10.x, services on localhost. The host is resolved here and each address checked;
the caller then connects to one of the returned addresses (never a second lookup, which a
rebinding DNS server could answer differently). Callers map the two exceptions to their own
error reasons.

Domain code: no grpc.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
import urllib.parse
from typing import Protocol


class AddressPermissions(Protocol):
    """What a server allows beyond public addresses (tests and labs only)."""

    @property
    def allow_loopback(self) -> bool: ...

    @property
    def allow_private(self) -> bool: ...


@dataclasses.dataclass(frozen=True)
class AddressPolicy:
    allow_loopback: bool = False
    # Private, link-local, shared (CGNAT) and other non-global unicast ranges.
    allow_private: bool = False


@dataclasses.dataclass(frozen=True)
class HttpUrl:
    """An http(s) URL's parts as a client needs them."""

    https: bool
    host: str
    port: int
    # Path and query, as sent in the request line.
    target: str
    fragment: str


class UrlRejected(Exception):
    """What is wrong with a URL: `problem` is one of missing, too_long, invalid, scheme, no_host,
    credentials (callers map it to their own reasons); `what` says it in words."""

    def __init__(self, problem: str, what: str):
        super().__init__(what)
        self.problem = problem
        self.what = what


def split_http_url(uri: str, max_chars: int) -> HttpUrl:
    """The parts of an http:// or https:// URL without credentials, or UrlRejected."""
    if not uri:
        raise UrlRejected("missing", "is required")
    if len(uri) > max_chars:
        raise UrlRejected("too_long", f"may have at most {max_chars} characters")
    if any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in uri):
        raise UrlRejected("invalid", "must be ASCII without spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(uri)
        port = parts.port
    except ValueError:
        raise UrlRejected("invalid", "is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRejected("scheme", "must start with http:// or https://")
    if not parts.hostname:
        raise UrlRejected("no_host", "names no host")
    if parts.username is not None or parts.password is not None:
        raise UrlRejected("credentials", "must not carry credentials")
    https = scheme == "https"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return HttpUrl(https, parts.hostname, port or (443 if https else 80), target, parts.fragment)


class HostUnresolved(Exception):
    """The host has no address (or the lookup failed or took too long)."""


class AddressRefused(Exception):
    """The host resolves to an address the policy forbids; `why` is in words for the caller."""

    def __init__(self, address: str, why: str):
        super().__init__(f"{why} ({address})")
        self.address = address
        self.why = why


def address_refusal(address: str, policy: AddressPermissions) -> str | None:
    """Why the server will not connect to `address` (words for the caller), or None when it may."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if policy.allow_loopback else "a loopback address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "a multicast, unspecified or reserved address"
    if ip.is_link_local:
        return None if policy.allow_private else "a link-local address"
    if ip.is_private or not ip.is_global:
        return None if policy.allow_private else "a private address"
    return None


async def resolve_allowed(host: str, port: int, policy: AddressPermissions, *, timeout: float) -> list[str]:
    """Every address `host` resolves to, in the resolver's order, each allowed by `policy`.

    HostUnresolved when there is none; AddressRefused for the first forbidden one (a host with
    one forbidden address among public ones is refused whole: which one a client would pick
    is not ours to guess).
    """
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
    except (OSError, TimeoutError, UnicodeError):
        raise HostUnresolved(host) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise HostUnresolved(host)
    for address in addresses:
        why = address_refusal(address, policy)
        if why is not None:
            raise AddressRefused(address, why)
    return addresses
