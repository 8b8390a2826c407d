"""A loopback HTTP receiver for webhook tests: records every POST and answers from a script."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import threading
import time
from collections.abc import Iterator


@dataclasses.dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.time() when it arrived


class Receiver:
    """POSTs to /<path> are answered with the statuses scripted for the path, in turn (200 once
    the script is used up, or always for an unscripted path)."""

    def __init__(self, scripts: dict[str, list[int]] | None = None):
        self.received: list[Received] = []
        self._scripts = {path: list(statuses) for path, statuses in (scripts or {}).items()}
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                    script = receiver._scripts.get(self.path, [])
                    status = script.pop(0) if script else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # quiet test output
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def posts(self, path: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 60.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.posts(path)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{path}: {len(self.posts(path))} POSTs, expected {count}")


@contextlib.contextmanager
def receiving(scripts: dict[str, list[int]] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(scripts)
    thread = threading.Thread(target=receiver._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver._server.shutdown()
        receiver._server.server_close()
        thread.join(timeout=5)
