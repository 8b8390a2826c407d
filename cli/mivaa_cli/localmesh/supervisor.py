"""Keeps the local mesh that `mivaa up` started alive: a dead process is started again, with backoff.

`mivaa up` starts this as one more detached process (`python -m mivaa_cli.localmesh.supervisor
STATE_DIR`). Every second it checks the mesh's processes; one that died is started again on its
own ports, waiting 1, 2, 4 ... up to 60 s between attempts for a process that keeps dying, the wait
reset once it has stayed up for five minutes. Restarts are counted in `supervisor.json` beside
`state.json`, which `mivaa status` shows. `mivaa down` stops the supervisor before anything else,
so a stopped mesh is never brought back. PostgreSQL is watched too (the postgres module starts it).
"""

from __future__ import annotations

import json
import logging
import pathlib
import signal
import sys
import time
from dataclasses import dataclass, field

from mivaa_cli.localmesh.processes import start_process, write_private

log = logging.getLogger("mivaa.supervisor")

SUPERVISOR = "supervisor"
CHECK_SECONDS = 1.0
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0
STABLE_SECONDS = 300.0


def record_path(state_dir: pathlib.Path) -> pathlib.Path:
    return state_dir / "supervisor.json"


def read_restarts(state_dir: pathlib.Path) -> dict[str, int]:
    """Restarts per process since `mivaa up` (empty without a supervisor)."""
    try:
        saved = json.loads(record_path(state_dir).read_text())
    except (OSError, ValueError):
        return {}
    return {name: int(entry.get("restarts", 0)) for name, entry in saved.items()}


@dataclass
class _Watch:
    restarts: int = 0
    backoff: float = FIRST_BACKOFF_SECONDS
    not_before: float = 0.0
    started: float = field(default_factory=time.monotonic)
    last_error: str = ""


class Supervisor:
    def __init__(self, state_dir: pathlib.Path):
        self.state_dir = state_dir
        self.watches: dict[str, _Watch] = {}
        self._stopping = False

    def stop(self, *_: object) -> None:
        self._stopping = True

    def run(self) -> None:
        from mivaa_cli.localmesh.mesh import LocalMesh

        while not self._stopping:
            mesh = LocalMesh.load(self.state_dir)
            if mesh is None:  # `mivaa down` removed the state: nothing left to keep alive
                return
            self.check(mesh)
            time.sleep(CHECK_SECONDS)

    def check(self, mesh) -> None:
        now = time.monotonic()
        for name, state in mesh.status().items():
            if name == SUPERVISOR:
                continue
            watch = self.watches.setdefault(name, _Watch())
            if state == "running":
                if now - watch.started > STABLE_SECONDS:
                    watch.backoff = FIRST_BACKOFF_SECONDS
                continue
            if self._stopping or now < watch.not_before:
                continue
            watch.restarts += 1
            watch.not_before = now + watch.backoff
            watch.backoff = min(watch.backoff * 2, MAX_BACKOFF_SECONDS)
            log.warning("restarting %s (restart %d)", name, watch.restarts)
            try:
                mesh.restart_process(name)
                watch.last_error = ""
            except Exception as failure:  # noqa: BLE001 - logged; tried again after the backoff
                watch.last_error = str(failure).splitlines()[0][:300] if str(failure) else type(failure).__name__
                log.warning("restarting %s failed: %s", name, watch.last_error)
            watch.started = time.monotonic()
            self._save()

    def _save(self) -> None:
        record = {
            name: {"restarts": watch.restarts, "last_error": watch.last_error}
            for name, watch in self.watches.items()
            if watch.restarts
        }
        write_private(record_path(self.state_dir), json.dumps(record, indent=2))


def start_supervisor(mesh) -> None:
    """Starts the supervisor of a started mesh, as one of its processes."""
    record_path(mesh.state_dir).unlink(missing_ok=True)  # counts of an earlier mesh
    argv = [sys.executable, "-m", "mivaa_cli.localmesh.supervisor", str(mesh.state_dir.resolve())]
    mesh.processes[SUPERVISOR] = start_process(SUPERVISOR, argv, log_dir=mesh.log_dir)
    mesh.save()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    supervisor = Supervisor(pathlib.Path(sys.argv[1]))
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    supervisor.run()


if __name__ == "__main__":
    main()
