"""A loopback HTTP server for URL-import tests: each path answers as scripted, and what it sent is counted.

Answers are written raw, so a test can lie: a Content-Length larger than the cap, no length at
all (the body ends when the connection closes), a wrong Content-Type, redirect chains.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import pathlib
import ssl
import threading
from collections.abc import Iterator


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/pdf"
    # None: the true length; an int: that value, true or not; False: no Content-Length header.
    content_length: int | bool | None = None
    location: str = ""
    # Streamed after `body`: this many more filler bytes (a body bigger than any cap, made lazily).
    stream_bytes: int = 0
    # Answer only once DocumentServer.release is set (a slow server holding its callers).
    stall: bool = False


class DocumentServer:
    def __init__(self, tls: tuple[pathlib.Path, pathlib.Path] | None = None) -> None:
        """tls: (certificate, key) PEM files to serve https:// with."""
        self.answers: dict[str, Answer] = {}
        self.requests: list[str] = []
        self.hosts: list[str] = []  # each request's Host header
        self.release = threading.Event()
        self.sent: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request a connection, the body may end at close

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(self.path)
                    server.hosts.append(self.headers.get("Host", ""))
                    answer = server.answers.get(self.path, Answer(status=404, body=b"no such file"))
                if answer.stall:
                    server.release.wait(60)
                head = [f"HTTP/1.0 {answer.status} X"]
                if answer.content_type:
                    head.append(f"Content-Type: {answer.content_type}")
                if answer.location:
                    head.append(f"Location: {answer.location}")
                if answer.content_length is None:
                    head.append(f"Content-Length: {len(answer.body) + answer.stream_bytes}")
                elif answer.content_length is not False:
                    head.append(f"Content-Length: {int(answer.content_length)}")
                sent = 0
                try:
                    self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + answer.body)
                    sent = len(answer.body)
                    filler = b"0" * (256 * 1024)
                    while sent - len(answer.body) < answer.stream_bytes:
                        self.wfile.write(filler)
                        sent += len(filler)
                except OSError:
                    pass  # the client stopped reading (over the cap, refused): what it took is counted
                finally:
                    with server._lock:
                        server.sent[self.path] = server.sent.get(self.path, 0) + sent

            def log_message(self, *args) -> None:  # quiet test output
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls else "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def serve(self, path: str, answer: Answer) -> str:
        self.answers[path] = answer
        return self.url(path)

    def redirect_chain(self, prefix: str, hops: int, final: Answer) -> str:
        """prefix/0 redirects to prefix/1 ... to prefix/<hops>, which gives `final`."""
        for hop in range(hops):
            self.serve(f"{prefix}/{hop}", Answer(status=302, location=f"{prefix}/{hop + 1}", content_type=""))
        self.serve(f"{prefix}/{hops}", final)
        return self.url(f"{prefix}/0")


@contextlib.contextmanager
def document_server(tls: tuple[pathlib.Path, pathlib.Path] | None = None) -> Iterator[DocumentServer]:
    server = DocumentServer(tls)
    thread = threading.Thread(target=server._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server._server.shutdown()
        server._server.server_close()
