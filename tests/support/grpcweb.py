"""A minimal grpc-web client (what a browser sends), to test Envoy's grpc-web path for real.

Frames are a flag byte, a 4-byte big-endian length and the payload; a frame
with flag 0x80 carries the trailers as HTTP/1-style header lines.
"""

from __future__ import annotations

import http.client
import ssl
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

TRAILER_FLAG = 0x80


@dataclass
class GrpcWebResult:
    status: int
    message: str
    messages: list[bytes] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    trailers: dict[str, str] = field(default_factory=dict)


def frame(payload: bytes) -> bytes:
    return struct.pack(">BI", 0, len(payload)) + payload


def _parse_frames(body: bytes) -> Iterator[tuple[int, bytes]]:
    offset = 0
    while offset + 5 <= len(body):
        flag, length = struct.unpack(">BI", body[offset : offset + 5])
        yield flag, body[offset + 5 : offset + 5 + length]
        offset += 5 + length


def _connection(host: str, port: int, timeout: float, ca: str | None) -> http.client.HTTPConnection:
    """HTTPS verified against the CA file `ca` (the gateway's TLS listener), plain HTTP without one."""
    if ca is None:
        return http.client.HTTPConnection(host, port, timeout=timeout)
    return http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context(cafile=ca))


def call(
    host: str,
    port: int,
    method: str,
    request: bytes,
    *,
    timeout: float = 30.0,
    origin: str | None = None,
    extra_headers: dict[str, str] | None = None,
    token: str | None = None,
    ca: str | None = None,
    raw_body: bytes | None = None,
) -> GrpcWebResult:
    """POSTs one request message to /package.Service/Method and reads the whole response.

    raw_body: this body instead of the framed `request` (b"": no message at all)."""
    connection = _connection(host, port, timeout, ca)
    headers = {
        "content-type": "application/grpc-web+proto",
        "x-grpc-web": "1",
        "x-user-agent": "grpc-web-python-test/1.0",
        "grpc-timeout": f"{int(timeout * 1000)}m",
    }
    if origin:
        headers["origin"] = origin
    if token:
        headers["authorization"] = f"Bearer {token}"
    headers.update(extra_headers or {})
    try:
        connection.request("POST", method, body=frame(request) if raw_body is None else raw_body, headers=headers)
        response = connection.getresponse()
        body = response.read()
        response_headers = {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()
    result = GrpcWebResult(status=-1, message="", headers=response_headers)
    for flag, payload in _parse_frames(body):
        if flag & TRAILER_FLAG:
            for line in payload.decode().split("\r\n"):
                if ":" in line:
                    key, value = line.split(":", 1)
                    result.trailers[key.strip().lower()] = value.strip()
        else:
            result.messages.append(payload)
    # A trailers-only response (an error before any message) puts the status in the headers.
    status = result.trailers.get("grpc-status", response_headers.get("grpc-status"))
    result.status = int(status) if status is not None else -1
    result.message = result.trailers.get("grpc-message", response_headers.get("grpc-message", ""))
    return result


def preflight(host: str, port: int, method: str, origin: str, *, ca: str | None = None) -> dict[str, str]:
    """A browser's CORS preflight for a grpc-web call; returns the response headers."""
    connection = _connection(host, port, 10, ca)
    try:
        connection.request(
            "OPTIONS",
            method,
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,x-grpc-web,x-user-agent",
            },
        )
        response = connection.getresponse()
        response.read()
        return {k.lower(): v for k, v in response.getheaders()} | {":status": str(response.status)}
    finally:
        connection.close()
