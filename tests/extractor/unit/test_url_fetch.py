"""url_fetch against a real loopback HTTP server: what is fetched, and every refusal's reason."""

from __future__ import annotations

import asyncio
import dataclasses
import socket

import pytest

from mivaa_extractor.api.url_fetch import FetchPolicy, fetch_chunks, parse_url
from mivaa_extractor.api.url_import import ImportLimits, ImportSlots, new_import_request
from mivaa_platform.errors import InvalidArgument, ResourceExhausted
from mivaa_platform.outbound import AddressPolicy
from tests.support.certs import make_certs as certs
from tests.support.document_server import Answer, document_server
from tests.support.pdfs import make_pdf

CAP = 1024 * 1024
ENDLESS_BYTES = 128 * CAP
LOOPBACK = FetchPolicy(max_bytes=CAP, addresses=AddressPolicy(allow_loopback=True), max_redirects=3)


async def fetch(uri: str, policy: FetchPolicy = LOOPBACK) -> bytes:
    return b"".join([chunk async for chunk in fetch_chunks(uri, policy)])


async def refusal(uri: str, policy: FetchPolicy = LOOPBACK) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as refused:
        await fetch(uri, policy)
    return refused.value


async def test_a_pdf_arrives_whole_after_redirects_within_the_limit():
    pdf = make_pdf("fetchunit", 1)
    with document_server() as server:
        assert await fetch(server.serve("/a.pdf", Answer(body=pdf))) == pdf
        assert await fetch(server.redirect_chain("/hops", 3, Answer(body=pdf, content_length=False))) == pdf
        octets = Answer(body=pdf, content_type="application/octet-stream; charset=binary")
        assert await fetch(server.serve("/octets", octets)) == pdf


async def test_each_refusal_has_its_reason():
    pdf = make_pdf("fetchunit", 1)
    with document_server() as server:
        cases = {
            server.redirect_chain("/long", 4, Answer(body=pdf)): "URL_TOO_MANY_REDIRECTS",
            server.serve("/html", Answer(body=b"<html></html>", content_type="text/html")): "URL_CONTENT_TYPE",
            server.serve("/untyped", Answer(body=pdf, content_type="")): "URL_CONTENT_TYPE",
            server.serve("/declared", Answer(body=pdf, content_length=CAP + 1)): "URL_TOO_LARGE",
            server.serve("/missing", Answer(status=404)): "URL_FETCH_FAILED",
            server.serve("/private", Answer(status=302, location="http://10.1.2.3/x.pdf")): "URL_ADDRESS_FORBIDDEN",
            server.serve(
                "/meta", Answer(status=301, location="http://169.254.169.254/latest")
            ): "URL_ADDRESS_FORBIDDEN",
            server.serve("/ftp", Answer(status=302, location="ftp://example.com/a.pdf")): "URL_SCHEME_UNSUPPORTED",
            server.serve("/nowhere", Answer(status=302, content_type="")): "URL_FETCH_FAILED",
            f"http://127.0.0.1:{server.port}@": "URL_INVALID",
        }
        for uri, reason in cases.items():
            assert (await refusal(uri)).reason == reason, uri
        assert server.requests.count("/long/4") == 0  # the fourth redirect was never followed

        # No Content-Length (the body ends at close), 128 MiB streamed: refused once past the cap,
        # and the connection dropped long before the server got it all out. (Loopback socket
        # buffers alone can take tens of MiB the client never reads: tcp_rmem's maximum here is 32.)
        streamed = server.serve("/endless", Answer(body=pdf, content_length=False, stream_bytes=ENDLESS_BYTES))
        assert (await refusal(streamed)).reason == "URL_TOO_LARGE"
        # A length that lies low: only the declared bytes are read, which is not the PDF.
        assert (await fetch(server.serve("/short", Answer(body=pdf, content_length=10)))) == pdf[:10]

        strict = FetchPolicy(max_bytes=CAP)
        refused = await refusal(server.url("/a.pdf"), strict)
        assert refused.reason == "URL_ADDRESS_FORBIDDEN" and refused.metadata["address"] == "127.0.0.1"
        assert "/a.pdf" not in server.requests  # refused before connecting
    assert server.sent["/endless"] < ENDLESS_BYTES


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("", "URL_INVALID"),
        ("file:///etc/passwd", "URL_SCHEME_UNSUPPORTED"),
        ("ftp://example.com/a.pdf", "URL_SCHEME_UNSUPPORTED"),
        ("gopher://example.com/", "URL_SCHEME_UNSUPPORTED"),
        ("https://user:pw@example.com/a.pdf", "URL_INVALID"),
        ("https://exa mple.com/a.pdf", "URL_INVALID"),
        ("https://example.com:99999/a.pdf", "URL_INVALID"),
        ("https:///a.pdf", "URL_INVALID"),
        ("https://example.com/" + "a" * 2100, "URL_INVALID"),
    ],
)
def test_urls_are_checked_before_any_connection(uri, reason):
    with pytest.raises(InvalidArgument) as refused:
        parse_url(uri)
    assert refused.value.reason == reason


def test_the_file_name_comes_from_the_path_unless_given():
    def name(uri: str, filename: str = "") -> str:
        return new_import_request(
            uri=uri, filename=filename, title="", labels=(), password="", tenant="default"
        ).filename

    assert name("https://example.com/papers/Annual%20Report.pdf?x=1") == "Annual Report.pdf"
    assert name("https://example.com/") == "download.pdf"
    assert name("https://example.com/a%2Fb") == "download.pdf"  # a decoded slash is no file name
    assert name("https://example.com/a.pdf", "mine.pdf") == "mine.pdf"


def test_imports_beyond_the_limits_are_refused_not_queued():
    slots = ImportSlots(ImportLimits(per_tenant=1, total=2))
    with slots.hold("acme"), slots.hold("globex"):
        for tenant in ("acme", "initech"):
            with pytest.raises(ResourceExhausted) as refused, slots.hold(tenant):
                pass
            assert refused.value.reason == "IMPORT_LIMIT_REACHED"
    with slots.hold("acme"), slots.hold("initech"):
        pass  # released slots are free again


def _resolver(answers: list[str], asked: list[str]):
    """A DNS that answers each lookup with the next of `answers` (a rebinding one: an injected fault)."""

    async def getaddrinfo(host, port, **_):
        asked.append(host)
        address = answers[min(len(asked), len(answers)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return getaddrinfo


async def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    """A host looked up once per hop; the second answer (private) never reaches a connection."""
    pdf = make_pdf("fetchunit", 1)
    asked: list[str] = []
    monkeypatch.setattr(
        asyncio.get_running_loop(), "getaddrinfo", _resolver(["127.0.0.1", "127.0.0.1", "10.9.8.7"], asked)
    )
    with document_server() as server:
        server.serve("/a.pdf", Answer(body=pdf))
        assert await fetch(f"http://rebind.test:{server.port}/a.pdf") == pdf
        assert asked == ["rebind.test"] and server.hosts == [f"rebind.test:{server.port}"]
        # A redirect is a new lookup, checked again: this time the DNS answers a private address.
        server.serve("/hop", Answer(status=302, location="/a.pdf", content_type=""))
        refused = await refusal(f"http://rebind.test:{server.port}/hop")
        assert refused.reason == "URL_ADDRESS_FORBIDDEN" and refused.metadata["address"] == "10.9.8.7"
        assert server.requests == ["/a.pdf", "/hop"] and len(asked) == 3


async def test_https_checks_the_certificate_against_the_urls_host(tmp_path):
    certs.make_certs(tmp_path, ("files",))  # SANs: files, localhost, 127.0.0.1
    pdf = make_pdf("fetchunit", 1)
    with document_server(tls=(tmp_path / "files.pem", tmp_path / "files-key.pem")) as server:
        uri = server.serve("/a.pdf", Answer(body=pdf)).replace("127.0.0.1", "localhost")
        trusting = dataclasses.replace(LOOPBACK, ca_file=str(tmp_path / "ca.pem"))
        assert await fetch(uri, trusting) == pdf
        refused = await refusal(uri)  # the system's CAs do not know this one
        assert refused.reason == "URL_FETCH_FAILED" and "TLS" in refused.message


def test_the_callers_fields_are_checked_as_an_uploads_and_named_as_sent():
    with pytest.raises(InvalidArgument) as refused:
        new_import_request(
            uri="https://example.com/a.pdf", filename="", title="t" * 1001, labels=(), password="", tenant="default"
        )
    assert refused.value.reason == "TITLE_TOO_LONG" and refused.value.metadata["field"] == "title"
