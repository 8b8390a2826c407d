"""Every panel of the Grafana dashboards in deploy/observability runs against the mesh's own
Prometheus after a little real work (an upload, a search) and returns data, without error."""

from __future__ import annotations

import asyncio
import http.client
import json
import pathlib
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from mivaa_cli.localmesh.monitoring import SCRAPE_INTERVAL_S
from tests.support.pdfs import make_pdf, page_phrase

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((REPO_ROOT / "deploy" / "observability" / "dashboards").glob("*.json"))
# Grafana's own variable: a window that holds a few scrapes of the mesh's Prometheus.
RATE_INTERVAL = "2m"


def panel_queries(path: pathlib.Path) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target, with the dashboard's variables at their default values."""
    board = json.loads(path.read_text())
    values = {"$__rate_interval": RATE_INTERVAL}
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            values[f"${variable['name']}"] = variable["current"]["value"]
    found = []
    for panel in board["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for name, value in sorted(values.items(), key=lambda item: -len(item[0])):
                expr = expr.replace(name, value)
            found.append((panel["title"], expr))
    return found


def test_the_dashboard_files_are_what_the_generator_writes():
    assert {path.stem for path in DASHBOARDS} == {"mivaa-overview", "mivaa-pipeline", "mivaa-gateway", "mivaa-services"}
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "make_dashboards.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


async def test_every_panel_returns_data_from_the_mesh_prometheus(mesh, client):
    if not mesh.monitored:
        pytest.skip("Prometheus not installed: run `make prometheus`")
    prometheus = mesh.prometheus
    response = await client.upload_bytes(make_pdf("observatory", 2), "observatory.pdf")
    async for _ in client.watch(response.job.name, timeout=300):
        pass
    assert (await client.search_chunks(page_phrase("observatory", 1), top_k=3)).hits
    # Two scrapes after the work, so every rate has two samples that include it.
    await asyncio.sleep(2 * SCRAPE_INTERVAL_S + 1)

    empty, broken = [], []
    for path in DASHBOARDS:
        for title, expr in panel_queries(path):
            try:
                values = [float(row["value"][1]) for row in prometheus.query(expr)]
                if not any(value == value for value in values):  # none, or only NaN (0/0, no observation)
                    empty.append(f"{path.name}: {title}: {expr}")
            except ValueError as error:
                broken.append(f"{path.name}: {title}: {error}")
    assert not broken, "\n".join(broken)
    assert not empty, "\n".join(empty)
    # `mivaa status` prints the Prometheus URL and the key figures read from it.
    status = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "mivaa_cli.main", "status", "--state-dir", str(mesh.state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"prometheus   {prometheus.url}" in status.stdout
    jobs = next(line for line in status.stdout.splitlines() if "jobs by state" in line)
    assert re.search(r"(?<!_)succeeded [1-9]", jobs), status.stdout
    assert "search p95 s (5 min)" in status.stdout and "metrics unavailable" not in status.stdout


def test_prometheus_scrapes_every_process_and_answers_only_mesh_certificates(mesh):
    if not mesh.monitored:
        pytest.skip("Prometheus not installed: run `make prometheus`")
    up = {row["metric"]["process"]: row["value"][1] for row in mesh.prometheus.query("up")}
    assert up == dict.fromkeys(mesh.metrics_ports(), "1")
    # Its door: HTTPS on loopback, and a client without a certificate from the mesh CA gets nothing.
    url = f"{mesh.prometheus.url}/api/v1/query?query=up"
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(url, timeout=5, context=ssl._create_unverified_context())
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        urllib.request.urlopen(url.replace("https:", "http:"), timeout=5)
    listening = {
        line.split()[1]
        for table in ("/proc/net/tcp", "/proc/net/tcp6")
        for line in pathlib.Path(table).read_text().splitlines()[1:]
        if line.split()[3] == "0A" and int(line.split()[1].rsplit(":", 1)[1], 16) == mesh.ports.prometheus
    }
    assert listening == {f"0100007F:{mesh.ports.prometheus:04X}"}


def test_a_killed_prometheus_comes_back_with_its_history(mesh):
    """What the supervisor does for `mivaa up`: the same port and data folder, samples kept."""
    if not mesh.monitored:
        pytest.skip("Prometheus not installed: run `make prometheus`")
    samples = 'count_over_time(up{job="envoy"}[1h])'
    before = mesh.prometheus.value(samples)
    assert before is not None and before >= 1
    mesh.processes["prometheus"].kill()
    mesh.restart_process("prometheus")
    assert mesh.processes["prometheus"].alive()
    after = mesh.prometheus.value(samples)
    assert after is not None and after >= before
    assert {row["value"][1] for row in mesh.prometheus.query("up")} == {"1"}
