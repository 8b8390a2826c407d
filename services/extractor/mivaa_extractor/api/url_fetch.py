"""Fetching a document from a caller's URL: one GET at a time to a checked address, as a byte stream.

The URL must be http(s) without credentials. Its host is resolved once and every address checked
(mivaa_platform.outbound: loopback and private ranges only when configured); the connection goes
to a checked address with the URL's host in the Host header and, for HTTPS, in SNI and the
certificate check, so a rebinding DNS server cannot swap the address after the check. A redirect
is a new URL, checked the same way, at most `max_redirects` of them. The answer must be 200 with
a PDF (or octet-stream) Content-Type; a declared length over the cap is refused before a body byte
is read, and the body is counted while it streams (a missing or lying Content-Length changes
nothing). Connect, each read and the whole fetch have their own deadlines.

HTTP/1.1 is parsed by h11 (sans-IO) over asyncio streams, like the webhook POST.
Domain code: no grpc.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar

import h11

from mivaa_extractor.jobs import DOMAIN
from mivaa_platform.errors import InvalidArgument
from mivaa_platform.outbound import (
    AddressPolicy,
    AddressRefused,
    HostUnresolved,
    UrlRejected,
    resolve_allowed,
    split_http_url,
)

MAX_URI_CHARS = 2048
# Content types a PDF is served with: its own, and the generic binary ones of plain file servers;
# and pictures taken as documents (the upload path then checks the bytes' own signature).
ACCEPTED_TYPES = frozenset(
    {
        "application/pdf",
        "application/x-pdf",
        "application/octet-stream",
        "binary/octet-stream",
        "image/png",
        "image/jpeg",
        "image/tiff",
    }
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_READ_BYTES = 64 * 1024
# Response headers larger than this are not a file server's.
_MAX_HEAD_BYTES = 32 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class FetchPolicy:
    """EXTRACTOR_IMPORT_*: what may be fetched, and how long it may take."""

    max_bytes: int
    addresses: AddressPolicy = AddressPolicy()
    max_redirects: int = 5
    connect_seconds: float = 10.0
    # The longest wait for any one read (head or body); a slow trickle is bounded by total_seconds.
    read_seconds: float = 30.0
    total_seconds: float = 90.0
    resolve_seconds: float = 5.0
    # PEM file of CAs trusted for https:// besides the system's (a lab's own PKI); "" for none.
    ca_file: str = ""

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(cafile=self.ca_file)
        return context


@dataclass(frozen=True)
class Url:
    uri: str
    https: bool
    host: str
    port: int
    # Path and query, as sent in the request line.
    target: str


def refused(reason: str, message: str, **metadata: str) -> InvalidArgument:
    return InvalidArgument(reason, message, domain=DOMAIN, metadata=metadata)


def parse_url(uri: str) -> Url:
    """The URL's parts, or URL_INVALID / URL_SCHEME_UNSUPPORTED saying what is wrong with it."""
    try:
        parts = split_http_url(uri, MAX_URI_CHARS)
    except UrlRejected as rejected:
        if rejected.problem == "scheme":
            raise refused("URL_SCHEME_UNSUPPORTED", "Only http:// and https:// URLs can be imported.") from None
        raise refused("URL_INVALID", f"uri {rejected.what}.") from None
    return Url(uri=uri, https=parts.https, host=parts.host, port=parts.port, target=parts.target)


def filename_from(url: Url) -> str:
    """The path's last segment, decoded ("" when the path ends in a slash)."""
    return urllib.parse.unquote(url.target.partition("?")[0].rsplit("/", 1)[-1]).strip()


async def fetch_chunks(uri: str, policy: FetchPolicy) -> AsyncGenerator[bytes, None]:
    """The body of the document at `uri`, a chunk at a time, after every check above passed.

    Raises InvalidArgument with a URL_* reason; the connection is closed when the iteration
    ends, fails or is abandoned (an upload check that refuses the first KiB stops the download).
    """
    url = parse_url(uri)
    deadline = _Deadline(policy.total_seconds)
    for _ in range(policy.max_redirects + 1):
        async with _Exchange.open(url, policy, deadline) as exchange:
            response = await exchange.head()
            if response.status_code in _REDIRECTS:
                url = _redirected(url, response)
                continue
            _check_answer(response, policy.max_bytes)
            received = 0
            async for chunk in exchange.body():
                received += len(chunk)
                if received > policy.max_bytes:
                    raise _too_large(policy.max_bytes)
                yield chunk
            return
    raise refused(
        "URL_TOO_MANY_REDIRECTS",
        f"The URL redirects more than {policy.max_redirects} times.",
        max_redirects=str(policy.max_redirects),
    )


class _Deadline:
    """The whole fetch's time limit: every wait is the smaller of its own limit and what is left."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._end = asyncio.get_running_loop().time() + seconds

    async def wait(self, step: Awaitable[T], limit: float, what: str) -> T:
        left = self._end - asyncio.get_running_loop().time()
        try:
            return await asyncio.wait_for(step, max(0.0, min(limit, left)))
        except TimeoutError:
            if left <= limit:
                raise refused("URL_FETCH_FAILED", f"The document did not arrive within {self.seconds:g} s.") from None
            raise refused("URL_FETCH_FAILED", f"{what} {limit:g} s.") from None


def _redirected(url: Url, response: h11.Response) -> Url:
    location = _header(response, b"location")
    if not location:
        raise refused("URL_FETCH_FAILED", f"The server answered {response.status_code} without a Location.")
    return parse_url(urllib.parse.urljoin(url.uri, location))


def _check_answer(response: h11.Response, max_bytes: int) -> None:
    if response.status_code != 200:
        raise refused(
            "URL_FETCH_FAILED",
            f"The server answered HTTP {response.status_code}, not 200.",
            status=str(response.status_code),
        )
    media_type = _header(response, b"content-type").partition(";")[0].strip().lower()
    if media_type not in ACCEPTED_TYPES:
        raise refused(
            "URL_CONTENT_TYPE",
            f"The server sent {media_type or 'no content type'!r}; a PDF or a PNG, JPEG or TIFF picture is needed.",
            content_type=media_type[:100],
        )
    declared = _header(response, b"content-length")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)


def _too_large(max_bytes: int) -> InvalidArgument:
    return refused(
        "URL_TOO_LARGE", f"The document is larger than the limit of {max_bytes} bytes.", max_bytes=str(max_bytes)
    )


def _header(response: h11.Response, name: bytes) -> str:
    for key, value in response.headers:
        if key == name:
            return value.decode("latin-1")
    return ""


class _Exchange:
    """One GET over one connection to a checked address of the URL's host."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, policy: FetchPolicy, deadline: _Deadline
    ):
        self._reader, self._writer, self._policy, self._deadline = reader, writer, policy, deadline
        self._http = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD_BYTES)

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, url: Url, policy: FetchPolicy, deadline: _Deadline) -> AsyncIterator[_Exchange]:
        try:
            addresses = await deadline.wait(
                resolve_allowed(url.host, url.port, policy.addresses, timeout=policy.resolve_seconds),
                policy.resolve_seconds + 1,
                "The host's name did not resolve within",
            )
        except HostUnresolved:
            raise refused("URL_FETCH_FAILED", f"The host {url.host!r} does not resolve.") from None
        except AddressRefused as refusal:
            raise refused(
                "URL_ADDRESS_FORBIDDEN",
                f"The host {url.host!r} resolves to {refusal.why} ({refusal.address}); this server does not fetch there.",
                address=refusal.address,
            ) from None
        context = policy.tls_context() if url.https else None
        reader, writer = await _connect(url, addresses, context, policy.connect_seconds, deadline)
        exchange = cls(reader, writer, policy, deadline)
        try:
            exchange._send(url)
            yield exchange
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    def _send(self, url: Url) -> None:
        default_port = 443 if url.https else 80
        host = f"[{url.host}]" if ":" in url.host else url.host
        headers = [
            ("Host", host + ("" if url.port == default_port else f":{url.port}")),
            ("User-Agent", "mivaa-import/1"),
            ("Accept", "application/pdf, image/png, image/jpeg, image/tiff, application/octet-stream;q=0.5"),
            ("Accept-Encoding", "identity"),
            ("Connection", "close"),
        ]
        request = h11.Request(method="GET", target=url.target, headers=headers)
        self._writer.write(self._http.send(request) + self._http.send(h11.EndOfMessage()))

    async def head(self) -> h11.Response:
        while True:
            event = await self._next_event()
            if isinstance(event, h11.Response):
                return event
            if not isinstance(event, h11.InformationalResponse):
                raise refused("URL_FETCH_FAILED", "The server's answer was not HTTP.")

    async def body(self) -> AsyncIterator[bytes]:
        while True:
            event = await self._next_event()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise refused("URL_FETCH_FAILED", "The server's answer was not HTTP.")

    async def _next_event(self) -> object:
        while True:
            try:
                event = self._http.next_event()
            except h11.RemoteProtocolError:
                raise refused("URL_FETCH_FAILED", "The server's answer was not valid HTTP or ended early.") from None
            if event is not h11.NEED_DATA:
                return event
            try:
                data = await self._deadline.wait(
                    self._reader.read(_READ_BYTES), self._policy.read_seconds, "The server sent nothing for"
                )
            except (OSError, ssl.SSLError) as error:
                raise refused("URL_FETCH_FAILED", f"The connection failed: {_words(error)}.") from None
            self._http.receive_data(data)


async def _connect(
    url: Url, addresses: list[str], context: ssl.SSLContext | None, timeout: float, deadline: _Deadline
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the first of `addresses` that answers; for HTTPS, the certificate is checked
    against the URL's host (SNI too), never against the address connected to."""
    last_error = "no address"
    for address in addresses:
        try:
            return await deadline.wait(
                asyncio.open_connection(
                    address, url.port, ssl=context, server_hostname=url.host if context else None, limit=_READ_BYTES
                ),
                timeout,
                f"No connection to {address} within",
            )
        except ssl.SSLError as error:
            last_error = f"TLS failed ({error.reason or 'handshake'})"
        except OSError as error:
            last_error = _words(error)
    raise refused("URL_FETCH_FAILED", f"Could not connect to {url.host!r}: {last_error}.")


def _words(error: BaseException) -> str:
    """A library error in a few safe words (never its raw text)."""
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error.reason or 'handshake'})"
    return (getattr(error, "strerror", None) or type(error).__name__).lower()
