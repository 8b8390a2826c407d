"""What ops and other consumers rely on: the CLI, metrics, events on NATS, durability across restarts."""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import nats
import pytest

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from tests.support.pdfs import make_pdf, page_phrase


def mivaa(mesh, *args: str, timeout: float = 300, token: str = "") -> subprocess.CompletedProcess:
    """The CLI as a user of the gateway; `token` replaces the default read/write one."""
    return subprocess.run(
        [sys.executable, "-m", "mivaa_cli.main", "--address", mesh.gateway_address, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            # What a user of the gateway holds: a token (mivaa auth token) and the CA of its certificate.
            "MIVAA_TOKEN": token or mesh.token(subject="cli-user"),
            "MIVAA_CA": str(mesh.ca_path),
        },
    )


def test_cli_ingest_search_docs_jobs(mesh, tmp_path):
    for tag in ("cli-alpha", "cli-beta"):
        (tmp_path / f"{tag}.pdf").write_bytes(make_pdf(tag, 3))
    (tmp_path / "notes.pdf").write_bytes(b"not a pdf at all")
    ingested = mivaa(mesh, "ingest", str(tmp_path), "--label", "cli")
    assert ingested.returncode == 1, "one file was rejected, so the command reports failure"
    # A folder is one batch: each file's upload, the batch's progress, and the failures in words.
    out = ingested.stdout
    assert "notes.pdf: FAILED  refused: The file is not a PDF" in out and "(NOT_A_PDF)" in out, out
    assert "cli-alpha.pdf: uploaded, jobs/" in out and "cli-beta.pdf: uploaded, jobs/" in out, out
    assert re.search(r"batches/\S+: \[#+\] 3/3 documents  1 failed  6/6 pages  done", out), out
    assert re.search(r"[0-5]/6 pages", out), "progress was shown"

    found = mivaa(mesh, "search", page_phrase("cli-beta", 2), "-k", "1", "--label", "cli")
    assert found.returncode == 0, found.stderr
    assert "Generated cli-beta document" in found.stdout, found.stdout
    pages = re.search(r"\((?:p\.(\d+)|pp\.(\d+)-(\d+)),", found.stdout)
    assert pages, found.stdout
    first, last = (int(pages[1]),) * 2 if pages[1] else (int(pages[2]), int(pages[3]))
    assert first <= 2 <= last, found.stdout

    listed = mivaa(mesh, "docs", "list", "--label", "cli")
    assert listed.returncode == 0 and listed.stdout.count("documents/") == 2, listed.stdout
    name = listed.stdout.split()[0]
    got = mivaa(mesh, "docs", "get", name)
    assert '"state": "DOCUMENT_STATE_READY"' in got.stdout
    jobs = mivaa(mesh, "jobs", "list", "--page-size", "5")
    assert jobs.returncode == 0 and "SUCCEEDED" in jobs.stdout
    filtered = mivaa(mesh, "jobs", "list", "--state", "succeeded", "--label", "cli", "--since", "1h", "--all")
    assert filtered.returncode == 0 and filtered.stdout.count("jobs/") == 2, filtered.stdout
    assert "cli-alpha.pdf" in filtered.stdout and "cli-beta.pdf" in filtered.stdout, filtered.stdout
    assert mivaa(mesh, "jobs", "list", "--state", "failed", "--label", "cli").stdout.count("jobs/") == 0
    deleted = mivaa(mesh, "docs", "delete", name)
    assert deleted.returncode == 0 and f"deleted {name}" in deleted.stdout
    missing = mivaa(mesh, "docs", "get", name)
    assert missing.returncode == 1 and "NOT_FOUND DOCUMENT_NOT_FOUND" in missing.stderr


def test_cli_export_and_images(mesh, tmp_path):
    from PIL import Image

    from tests.support import structured_pdfs as sp

    pdf = sp.make_structured_pdf()
    (tmp_path / "survey.pdf").write_bytes(pdf.data)
    ingested = mivaa(mesh, "ingest", str(tmp_path / "survey.pdf"), "--label", "cli-structured")
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    name = mivaa(mesh, "docs", "list", "--label", "cli-structured").stdout.split()[0]

    exported = mivaa(mesh, "docs", "export", name, "-o", str(tmp_path / "survey.md"))
    assert exported.returncode == 0, exported.stderr
    markdown = (tmp_path / "survey.md").read_text()
    assert markdown.startswith(f"# {sp.TITLE}") and "| Gull Rock | 28 | 35 |" in markdown
    as_json = mivaa(mesh, "docs", "export", name, "--format", "json")
    assert as_json.returncode == 0 and '"BLOCK_TYPE_TABLE"' in as_json.stdout

    listed = mivaa(mesh, "images", "list", name)
    assert listed.returncode == 0 and sp.FIGURE_CAPTION in listed.stdout, listed.stdout
    image_name = listed.stdout.split()[0]
    fetched = mivaa(mesh, "images", "get", image_name, "-o", str(tmp_path / "figure"))
    assert fetched.returncode == 0, fetched.stderr
    written = next(tmp_path.glob("figure.*"))
    assert Image.open(written).size == (240, 140)


def test_ingest_processes_get_a_lower_share_of_a_busy_machine_than_the_query_path(mesh):
    """Linux shares the cores between sessions (autogroups) before nice values, and each mesh
    process leads its own: the ingest-only ones (extraction workers and their page processes,
    OCR) have their session's weight lowered; everything a query goes through keeps its own."""

    def session_nice(name: str) -> int:
        pid = mesh.postgres.pid if name == "postgres" else mesh.processes[name].pid
        line = pathlib.Path(f"/proc/{pid}/autogroup").read_text()
        return int(line.split("nice")[1])

    if not pathlib.Path(f"/proc/{os.getpid()}/autogroup").exists():
        pytest.skip("this kernel has no autogroups (nothing to lower)")
    ingest = [name for name in mesh.processes if name.startswith("worker-") or name == "ocr"]
    assert ingest and {name: session_nice(name) for name in ingest} == dict.fromkeys(ingest, 10)
    query_path = ("envoy", "search", "embedder", "extractor", "postgres")
    assert {name: session_nice(name) for name in query_path} == dict.fromkeys(query_path, 0)


def test_every_service_exports_metrics(mesh):
    for index in range(3):
        port = mesh.ports.metrics_base + index
        body = mesh.scrape(port)  # mTLS: the endpoints answer only certificates from the mesh CA
        assert "mivaa_rpc_duration_seconds_bucket" in body, port


async def test_job_events_on_nats_carry_the_job_and_trace_context(client, mesh):
    nc = await nats.connect(**mesh.nats_settings().connect_options())
    events: list = []
    try:

        async def collect(message):
            events.append(message)

        subscription = await nc.subscribe("mivaa.jobs.>", cb=collect)
        response = await client.upload_bytes(make_pdf("events", 2), "events.pdf")
        final = await client.wait_for_job(response.job.name, timeout=120)
        await asyncio.sleep(0.5)
        await subscription.unsubscribe()
    finally:
        await nc.close()
    job_id = response.job.name.removeprefix("jobs/")
    # mivaa.jobs.<tenant>.<job>.<stage>: the client's token is for tenant "default".
    mine = [m for m in events if m.subject.startswith(f"mivaa.jobs.default.{job_id}.")]
    decoded = [job_pb2.JobEvent.FromString(m.data) for m in mine]
    assert decoded[0].job.state == job_pb2.JOB_STATE_QUEUED and mine[0].subject.endswith(".queued")
    assert decoded[-1].job.state == final.state == job_pb2.JOB_STATE_SUCCEEDED and mine[-1].subject.endswith(".done")
    sequences = [e.sequence for e in decoded]
    assert sequences == sorted(sequences)
    assert all("traceparent" in (m.headers or {}) for m in mine), "traces cross NATS"
    # A consumer that comes later can replay the whole history from the stream.
    nc = await nats.connect(**mesh.nats_settings().connect_options())
    try:
        js = nc.jetstream()
        replay = await js.subscribe(
            f"mivaa.jobs.*.{job_id}.>", ordered_consumer=True, deliver_policy=nats.js.api.DeliverPolicy.ALL
        )
        replayed = []
        while len(replayed) < len(mine):
            replayed.append(await replay.next_msg(timeout=5))
        assert [m.subject for m in replayed] == [m.subject for m in mine]
    finally:
        await nc.close()


async def test_jobs_and_originals_survive_a_nats_restart(client, mesh):
    data = make_pdf("durable", 2)
    response = await client.upload_bytes(data, "durable.pdf")
    final = await client.wait_for_job(response.job.name, timeout=120)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED
    await asyncio.to_thread(mesh.restart_nats)

    async def after_restart():
        return (await client.extractor.GetJob(extractor_pb.GetJobRequest(name=response.job.name))).job

    for _ in range(50):  # services reconnect on their own
        try:
            job = await after_restart()
            break
        except Exception:  # noqa: BLE001
            await asyncio.sleep(0.2)
    else:
        pytest.fail("extractor did not reconnect to NATS")
    assert job.state == job_pb2.JOB_STATE_SUCCEEDED and job.chunks_indexed == final.chunks_indexed
    again = await client.upload_bytes(data, "durable.pdf")
    assert not again.created, "the stored original and its document were found after the restart"
    fresh = await client.upload_bytes(make_pdf("after-restart", 1), "after-restart.pdf")
    assert (await client.wait_for_job(fresh.job.name, timeout=120)).state == job_pb2.JOB_STATE_SUCCEEDED


def test_mivaa_up_leaves_a_working_mesh_after_it_exits(tmp_path, model_dir):
    """`mivaa up` returns while the mesh keeps running; status and down find it again."""
    import json

    state = tmp_path / "mesh"
    env = {**os.environ, "MIVAA_STATE_DIR": str(state), "XDG_STATE_HOME": str(tmp_path / "xdg")}

    def cli(*args: str, **run_options) -> subprocess.CompletedProcess:
        options = {"env": env, **run_options}
        return subprocess.run(
            [sys.executable, "-m", "mivaa_cli.main", *args], capture_output=True, text=True, timeout=300, **options
        )

    try:
        up = cli("up", "--free-ports")
        assert up.returncode == 0, up.stdout + up.stderr
        status = cli("status")
        assert status.returncode == 0, status.stdout
        assert "stopped" not in status.stdout
        # Each service's health with the dependencies it reports.
        assert "running  SERVING (postgres SERVING)" in status.stdout
        assert "running  SERVING (nats SERVING)" in status.stdout
        gateway = json.loads((state / "state.json").read_text())["ports"]["gateway"]
        models = cli("--address", f"127.0.0.1:{gateway}", "docs", "list")
        assert models.returncode == 0, models.stderr
        # From another folder, without MIVAA_STATE_DIR, the client finds the mesh `mivaa up` recorded.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        away = {key: value for key, value in env.items() if key != "MIVAA_STATE_DIR"}
        listed = cli("--address", f"127.0.0.1:{gateway}", "docs", "list", env=away, cwd=elsewhere)
        assert listed.returncode == 0 and "no gateway CA" not in listed.stderr, listed.stderr
        # A process that dies is started again by the supervisor `mivaa up` left running.
        search_pid = json.loads((state / "state.json").read_text())["processes"]["search"]["pid"]
        os.killpg(search_pid, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = cli("status")
            if status.returncode == 0 and "restarted 1x" in status.stdout:
                break
            time.sleep(1)
        assert "restarted 1x" in status.stdout and status.returncode == 0, status.stdout
        again = cli("--address", f"127.0.0.1:{gateway}", "docs", "list")
        assert again.returncode == 0, again.stderr
    finally:
        down = cli("down")
    assert down.returncode == 0 and "mesh stopped" in down.stdout
    assert cli("status").returncode == 1
