"""The mesh's metrics: each process's /metrics port, a scraper's TLS, and the local Prometheus.

Every metrics endpoint of the mesh is mTLS (a certificate from the mesh CA), and so is the
Prometheus that scrapes them: its HTTP API and UI answer only a client with such a certificate
(`mivaa status` presents the ops one). Prometheus runs as the mesh's user, listens on loopback,
keeps its data under <state>/prometheus, and loads the alert rules of deploy/observability.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import ssl
import urllib.error
import urllib.parse
import urllib.request

from mivaa_cli.localmesh.processes import ManagedProcess, start_process, wait_until, write_private

# Each service's /metrics port: metrics_base + this (workers: metrics_base + WORKER_METRICS + index).
METRICS_OFFSETS = {"embedder": 0, "search": 1, "extractor": 2, "ocr": 3, "answer": 4}
WORKER_METRICS = len(METRICS_OFFSETS)
ENVOY_STATS_PATH = "/stats/prometheus"
# The alert rules Prometheus evaluates (a source checkout's; an installed wheel has none).
RULES_DIR = pathlib.Path(__file__).resolve().parents[3] / "deploy" / "observability" / "rules"
SCRAPE_INTERVAL_S = 5
RETENTION = "7d"
# Prometheus's job of each mesh process: services by name, every extraction worker in one job.
WORKER_JOB = "extractor-worker"
ENVOY_JOB = "envoy"


def metrics_port(base: int, name: str) -> int:
    """The /metrics port of a service or of worker-<n>."""
    if name.startswith("worker-"):
        return base + WORKER_METRICS + int(name.rsplit("-", 1)[1])
    return base + METRICS_OFFSETS[name]


def metrics_ports(base: int, *, ocr: bool, workers: int, envoy_stats: int) -> dict[str, int]:
    """Each Prometheus endpoint of a mesh: the services' /metrics and Envoy's stats listener."""
    ports = {name: base + offset for name, offset in METRICS_OFFSETS.items() if ocr or name != "ocr"}
    ports |= {f"worker-{index}": metrics_port(base, f"worker-{index}") for index in range(workers)}
    return ports | {"envoy": envoy_stats}


def client_tls(certs_dir: pathlib.Path, name: str = "ops") -> ssl.SSLContext:
    """A client of the mesh's mTLS endpoints: certificate `name` from the mesh CA."""
    context = ssl.create_default_context(cafile=str(certs_dir / "ca.pem"))
    context.load_cert_chain(certs_dir / f"{name}.pem", certs_dir / f"{name}-key.pem")
    return context


def scrape(url: str, context: ssl.SSLContext, timeout: float = 5.0) -> str:
    """One metrics endpoint's text."""
    with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
        return response.read().decode()


def job_of(name: str) -> str:
    return WORKER_JOB if name.startswith("worker-") else name


def prometheus_available() -> bool:
    return shutil.which("prometheus") is not None


class LocalPrometheus:
    """Prometheus scraping a mesh's endpoints; its config rendered here, written 0600."""

    def __init__(self, state_dir: pathlib.Path, port: int, certs_dir: pathlib.Path):
        self.state_dir = state_dir
        self.port = port
        self.certs_dir = certs_dir
        self.data_dir = state_dir / "prometheus"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def config(self, targets: dict[str, int]) -> dict:
        """The scrape config: a job per service (workers together), each target mTLS with Prometheus's
        own certificate; Envoy's stats at its path. Rules from deploy/observability when present."""
        tls = {
            "ca_file": str(self.certs_dir / "ca.pem"),
            "cert_file": str(self.certs_dir / "prometheus.pem"),
            "key_file": str(self.certs_dir / "prometheus-key.pem"),
        }
        jobs: dict[str, list[dict]] = {}
        for name, port in targets.items():
            jobs.setdefault(job_of(name), []).append({"targets": [f"127.0.0.1:{port}"], "labels": {"process": name}})
        scrape_configs = [
            {
                "job_name": job,
                "scheme": "https",
                "metrics_path": ENVOY_STATS_PATH if job == ENVOY_JOB else "/metrics",
                "tls_config": tls,
                "static_configs": static,
            }
            for job, static in jobs.items()
        ]
        interval = f"{SCRAPE_INTERVAL_S}s"
        return {
            "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
            "rule_files": [str(RULES_DIR / "*.yml")] if RULES_DIR.is_dir() else [],
            "scrape_configs": scrape_configs,
        }

    def web_config(self) -> dict:
        """HTTPS, and only a client with a certificate from the mesh CA gets an answer."""
        return {
            "tls_server_config": {
                "cert_file": str(self.certs_dir / "prometheus.pem"),
                "key_file": str(self.certs_dir / "prometheus-key.pem"),
                "client_auth_type": "RequireAndVerifyClientCert",
                "client_ca_file": str(self.certs_dir / "ca.pem"),
            }
        }

    def start(self, targets: dict[str, int], log_dir: pathlib.Path) -> ManagedProcess:
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        config, web = self.state_dir / "prometheus.yml", self.state_dir / "prometheus-web.yml"
        # JSON is YAML: Prometheus reads it as its config.
        write_private(config, json.dumps(self.config(targets), indent=2))
        write_private(web, json.dumps(self.web_config(), indent=2))
        argv = [
            shutil.which("prometheus") or "prometheus",
            f"--config.file={config}",
            f"--web.config.file={web}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={RETENTION}",
            "--log.level=warn",
        ]
        process = start_process("prometheus", argv, log_dir=log_dir)
        wait_until(process, self.ready, 60, failure="was not ready")
        return process

    def wait_scraped(self, process: ManagedProcess, targets: dict[str, int], timeout: float = 60) -> None:
        """Until every target has been scraped successfully: a counter's later rise then shows in rate(),
        where work done before a target's first scrape would be hidden in that first value."""
        wait_until(process, lambda: self._scraped(len(targets)), timeout, failure="did not scrape every target")

    def _scraped(self, targets: int) -> bool:
        try:
            return len(self.query("up == 1")) >= targets
        except (OSError, ValueError):
            return False

    def ready(self) -> bool:
        try:
            with self._get("/-/ready", timeout=2):
                return True
        except OSError:
            return False

    def _get(self, path: str, timeout: float):
        return urllib.request.urlopen(f"{self.url}{path}", timeout=timeout, context=client_tls(self.certs_dir))

    def query(self, promql: str, timeout: float = 10.0) -> list[dict]:
        """An instant query's result vector; a bad query raises ValueError with Prometheus's error."""
        try:
            with self._get("/api/v1/query?" + urllib.parse.urlencode({"query": promql}), timeout) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            answer = json.load(error)
        if answer.get("status") != "success":
            raise ValueError(f"{promql}: {answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]["result"]

    def value(self, promql: str) -> float | None:
        """The first sample of a query, or None when it returns no series."""
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None


# Codes that mean the service failed (not the caller): what the error-rate figure and alert count.
SERVER_ERROR_CODES = "INTERNAL|UNKNOWN|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS|UNIMPLEMENTED"
JOBS_BY_STATE = "sum by (state) (mivaa_jobs_total)"
KEY_FIGURES = {
    "pages/s (5 min)": "sum(rate(mivaa_pages_processed_total[5m]))",
    "search p95 s (5 min)": 'histogram_quantile(0.95, sum by (le) (rate(mivaa_rpc_duration_seconds_bucket{service="search",'
    ' method=~"SearchChunks|SearchImages"}[5m])))',
    "server errors (5 min)": f'sum(increase(mivaa_rpc_errors_total{{code=~"{SERVER_ERROR_CODES}"}}[5m])) or vector(0)',
    "work queue pending": 'max(mivaa_queue_messages{kind="pending"})',
    "targets up": "sum(up) / count(up)",
}


def key_figures(prometheus: LocalPrometheus) -> list[str]:
    """`mivaa status`'s lines read from Prometheus: jobs by state since the mesh started, then KEY_FIGURES."""
    states = sorted(prometheus.query(JOBS_BY_STATE), key=lambda row: row["metric"].get("state", ""))
    jobs = ", ".join(f"{row['metric'].get('state')} {float(row['value'][1]):.0f}" for row in states) or "none yet"
    lines = [f"jobs by state  {jobs}  (entered since the processes started)"]
    for name, promql in KEY_FIGURES.items():
        value = prometheus.value(promql)
        lines.append(f"{name:22} {'-' if value is None or value != value else f'{value:.3g}'}")
    return lines
