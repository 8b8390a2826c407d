"""One POST to a checked address, over asyncio streams: the status code, or PostFailed in words.

The connection goes to an address targets.resolve_target allowed (never a fresh lookup), with the
URL's host in the Host header and, for HTTPS, in SNI and the certificate check. Only the status
line is read: a receiver's body is never needed, and reading none bounds what it can send us.
"""

from __future__ import annotations

import asyncio
import ssl

from mivaa_extractor.webhooks.targets import Target

_MAX_STATUS_LINE = 1024


class PostFailed(Exception):
    """No HTTP status came back (refused, reset, timed out, TLS failed); the message says which."""


async def post(
    target: Target, addresses: list[str], body: bytes, headers: dict[str, str], *, timeout_seconds: float
) -> int:
    try:
        return await asyncio.wait_for(_post(target, addresses, body, headers), timeout_seconds)
    except TimeoutError:
        raise PostFailed(f"no answer within {timeout_seconds:g} s") from None


async def _post(target: Target, addresses: list[str], body: bytes, headers: dict[str, str]) -> int:
    context = ssl.create_default_context() if target.https else None
    last_error = "no address"
    for address in addresses:
        try:
            reader, writer = await asyncio.open_connection(
                address, target.port, ssl=context, server_hostname=target.host if context else None
            )
        except ssl.SSLError as error:
            last_error = f"TLS failed: {error.reason or 'handshake'}"
            continue
        except OSError as error:
            last_error = f"connection failed: {error.strerror or type(error).__name__}"
            continue
        try:
            writer.write(_request(target, body, headers))
            await writer.drain()
            return _status(await reader.readline())
        except (OSError, ssl.SSLError) as error:
            raise PostFailed(f"connection lost: {getattr(error, 'strerror', None) or type(error).__name__}") from None
        finally:
            writer.close()
    raise PostFailed(last_error)


def _request(target: Target, body: bytes, headers: dict[str, str]) -> bytes:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default_port = 443 if target.https else 80
    lines = [
        f"POST {target.path} HTTP/1.1",
        f"Host: {host}" + ("" if target.port == default_port else f":{target.port}"),
        "User-Agent: mivaa-webhooks/1",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _status(line: bytes) -> int:
    parts = line[:_MAX_STATUS_LINE].split()
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise PostFailed("the answer was not HTTP")
    return int(parts[1])
