"""A real OpenID provider (node-oidc-provider, console/e2e/oidc-provider.mjs) for the console's
sign-in test, named to the mesh's gateway for as long as the fixture lives."""

from __future__ import annotations

import contextlib
import json
import pathlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator

from mivaa_cli.localmesh.oidc import save_oidc
from mivaa_gateway import Oidc

CONSOLE = pathlib.Path(__file__).resolve().parents[2] / "console"
TENANT = "acme-sso"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_discovery(issuer: str, process: subprocess.Popen, log: pathlib.Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited:\n{log.read_text()}")
        discovery = f"{issuer}/.well-known/openid-configuration"
        with contextlib.suppress(OSError), urllib.request.urlopen(discovery, timeout=2) as answer:
            if json.load(answer)["issuer"] == issuer:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the OpenID provider did not start:\n{log.read_text()}")


@contextlib.contextmanager
def oidc_signin(mesh, log_dir: pathlib.Path) -> Iterator[Oidc]:
    """Starts the provider, renders the mesh's gateway with it (beside the dev keys), and undoes both."""
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    log = log_dir / "oidc-provider.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["node", "e2e/oidc-provider.mjs", str(port), f"https://{mesh.gateway_address}", TENANT],
            cwd=CONSOLE,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_discovery(issuer, process, log)
        oidc = Oidc(issuer=issuer, jwks_uri=f"{issuer}/jwks", client_id="mivaa-console")
        save_oidc(mesh.state_dir, oidc)
        mesh.restart_gateway()
        yield oidc
    finally:
        save_oidc(mesh.state_dir, None)
        mesh.restart_gateway()
        process.terminate()
        process.wait(timeout=10)
