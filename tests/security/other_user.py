"""Run code as another, unprivileged local user: how the audit tries the doors behind the gateway.

The tests run as root in CI (and usually in containers); `as_other_user` runs a Python snippet as
`nobody`, so what it can reach is what any local account could. The venv's interpreter may live
under root's home (pyenv), out of that user's reach, so the snippet runs on the system Python of the
same version with the venv's site-packages on its path (the attacker gets the same client
libraries: psycopg, nats-py, grpcio). Where the tests do not run as root they cannot switch users,
and the tests that need it skip with a reason.
"""

from __future__ import annotations

import json
import os
import pwd
import site
import subprocess
import sys
import textwrap

import pytest

from mivaa_cli.localmesh.as_user import as_user

OTHER_USER = "nobody"


def require_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("switching to another local user needs root (CI and containers run the tests as root)")


def _interpreter() -> str:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        if os.access(candidate, os.X_OK) and os.stat(candidate).st_mode & 0o001:
            return candidate
    pytest.skip(f"no world-executable {version} outside root's home to run as {OTHER_USER}")


def as_other_user(code: str, *, timeout: float = 30.0, env: dict[str, str] | None = None) -> dict:
    """Runs `code` as OTHER_USER; the snippet prints one JSON object as its last line, returned here.

    The snippet gets the venv's interpreter and import path (read-only use), nothing of root's identity.
    """
    require_root()
    user = pwd.getpwnam(OTHER_USER)
    path = [*site.getsitepackages(), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    result = subprocess.run(
        # The exec wrapper drops to the user: subprocess's user= would fork this gRPC-holding process.
        as_user([_interpreter(), "-c", textwrap.dedent(code)], user.pw_uid, user.pw_gid),
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": os.pathsep.join(path), **(env or {})},
        cwd="/tmp",
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        raise AssertionError(f"snippet failed as {OTHER_USER} ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return json.loads(lines[-1])


def connect_unix_socket_as_other_user(path) -> str:
    """What OTHER_USER gets connecting to the unix socket at `path`: CONNECTED or the error's type."""
    outcome = as_other_user(
        f"""
        import json, socket
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.connect({str(path)!r})
                result = "CONNECTED"
        except OSError as error:
            result = type(error).__name__
        print(json.dumps({{"socket": result}}))
        """
    )
    return outcome["socket"]
