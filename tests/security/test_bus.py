"""Doors of the NATS bus (issue 10): who may connect, what each credential may touch, and surviving it.

The mesh's NATS takes TLS only, with one password user per service role and per tenant event
consumer (cli/mivaa_cli/localmesh/bus.py, permissions in mivaa_platform.bus_access). Each test
names the door it tries. A refused JetStream request gets no answer (the server drops it and
sends the client a permissions violation), so a refusal is: the request times out AND the
connection was told "permissions violation".
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import stat
import subprocess
import sys
import time

import nats
import pytest
from nats.js import api

from mivaa.jobs.v1 import job_pb2
from mivaa_cli.client import MeshClient
from mivaa_cli.localmesh.health import describe_health, health_status
from mivaa_platform import messaging
from mivaa_platform.config import ServerSettings
from mivaa_platform.server import GrpcService
from tests.security.other_user import as_other_user
from tests.support.pdfs import make_pdf

SERVING = 1
NOT_SERVING = 2


class Session:
    """A NATS connection as one user that records the permission violations the server reports."""

    def __init__(self):
        self.violations: list[str] = []
        self.nc = None

    async def open(self, **options):
        async def on_error(error: Exception) -> None:
            if "permissions violation" in str(error).lower():
                self.violations.append(str(error))

        self.nc = await nats.connect(**options, error_cb=on_error, max_reconnect_attempts=0, connect_timeout=5)
        self.js = self.nc.jetstream(timeout=1.5)
        return self

    async def refused(self, action, what: str) -> None:
        before = len(self.violations)
        with pytest.raises((nats.errors.TimeoutError, asyncio.TimeoutError)):
            await asyncio.wait_for(action, timeout=3)
        await self.nc.flush()
        assert len(self.violations) > before, f"{what}: no permissions violation reported"

    async def close(self):
        await self.nc.close()


async def _as(mesh, user: str) -> Session:
    return await Session().open(**mesh.nats_settings(user).connect_options())


def _tenant_options(credentials: dict) -> dict:
    import ssl

    return {
        "servers": [credentials["url"]],
        "user": credentials["user"],
        "password": credentials["password"],
        "inbox_prefix": credentials["inbox_prefix"],
        "tls": ssl.create_default_context(cadata=credentials["ca_pem"]),
    }


def test_nobody_cannot_connect_to_nats_without_credentials(mesh):
    """Door: NATS's client port and monitoring port, as another local user with no credentials."""
    result = as_other_user(
        """
        import asyncio, json, os, socket, ssl
        import nats

        port, monitor = int(os.environ["NATS_PORT"]), int(os.environ["MONITOR_PORT"])
        unverified = ssl.create_default_context()
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE

        async def attempt(url, **options):
            try:
                nc = await nats.connect(servers=[url], allow_reconnect=False, connect_timeout=3, **options)
            except Exception as error:
                return type(error).__name__
            await nc.close()
            return "connected"

        async def main():
            return {
                "tls_anonymous": await attempt(f"tls://127.0.0.1:{port}", tls=unverified),
                "tls_guessed": await attempt(f"tls://127.0.0.1:{port}", tls=unverified, user="ops", password="ops"),
                "plaintext": await attempt(f"nats://127.0.0.1:{port}", user="ops", password="ops"),
            }

        result = asyncio.run(main())
        try:
            socket.create_connection(("127.0.0.1", monitor), timeout=2).close()
            result["monitor"] = "open"
        except OSError:
            result["monitor"] = "closed"
        try:
            open(os.environ["PASSWORD_FILE"]).read()
            result["password_file"] = "read"
        except OSError as error:
            result["password_file"] = type(error).__name__
        print(json.dumps(result))
        """,
        env={
            "NATS_PORT": str(mesh.ports.nats),
            "MONITOR_PORT": str(mesh.ports.nats_monitor),
            "PASSWORD_FILE": mesh.nats_settings("ops").password_file,
        },
    )
    assert result["tls_anonymous"] != "connected"
    assert result["tls_guessed"] != "connected"
    assert result["plaintext"] != "connected"
    assert result["monitor"] == "closed"
    assert result["password_file"] == "PermissionError"


def test_bus_secrets_are_owner_only(mesh):
    """Door: the files that hold NATS passwords, hashes and config, for any other local user."""
    folder = mesh.bus.directory
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


async def test_search_credential_cannot_read_work_jobs_or_originals(client, mesh):
    """Door: the search service's NATS user, reaching past deleting originals."""
    response = await client.upload_bytes(make_pdf("bus-search", 1), "bus-search.pdf")
    await client.wait_for_job(response.job.name, timeout=120)
    search = await _as(mesh, "search")
    try:
        await search.refused(
            search.js.pull_subscribe(
                messaging.WORK_SUBJECT_EXTRACT, durable="extractors", stream=messaging.WORK_STREAM
            ),
            "consume the work queue",
        )
        # Search may read the store's stream info (the originals sweep lists objects by its subjects),
        # so a handle opens; reading an original's bytes through it is refused.
        originals = await search.js.object_store(messaging.ORIGINALS_BUCKET)
        await search.refused(originals.get(response.document.sha256), "read an original through the object store")
        await search.refused(
            search.js.get_last_msg(messaging.ORIGINALS_STREAM, f"$O.{messaging.ORIGINALS_BUCKET}.C.>"),
            "read an original's chunk",
        )
        await search.refused(search.js.key_value(messaging.JOBS_BUCKET), "read job records")
        await search.refused(search.js.publish(messaging.WORK_SUBJECT_EXTRACT, b"forged"), "queue a task")
        await search.refused(search.js.delete_stream(messaging.WORK_STREAM), "delete a stream")
    finally:
        await search.close()


async def test_only_the_extractor_api_may_queue_tasks(mesh):
    """Door: forging an ExtractTask, with the worker's credential (it consumes tasks, never makes them)."""
    worker = await _as(mesh, "worker")
    try:
        await worker.refused(worker.js.publish(messaging.WORK_SUBJECT_EXTRACT, b"forged"), "queue a task")
        await worker.refused(worker.js.purge_stream(messaging.WORK_STREAM), "purge the work queue")
    finally:
        await worker.close()
    api_user = await _as(mesh, "extractor")
    try:
        # The API may look at the work consumer (AdminService.GetQueueStatus reads its counters),
        # so binding to it succeeds; taking a task from it is what stays refused.
        pull = await api_user.js.pull_subscribe(
            messaging.WORK_SUBJECT_EXTRACT, durable="extractors", stream=messaging.WORK_STREAM
        )
        await api_user.refused(pull.fetch(1, timeout=2), "consume the work queue")
        # Page ranges come from the worker assembling a document, never from the API.
        await api_user.refused(api_user.js.publish(messaging.WORK_SUBJECT_PAGES, b"forged"), "queue a page range")
    finally:
        await api_user.close()


def _mint(mesh, tenant: str, tmp_path) -> dict:
    from mivaa_cli.main import main

    out = tmp_path / f"{tenant}.creds.json"
    assert main(["auth", "nats-creds", "--tenant", tenant, "--out", str(out), "--state-dir", str(mesh.state_dir)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    return json.loads(out.read_text())


async def test_tenant_credential_gets_its_own_events_only(mesh, tmp_path):
    """Door: a tenant's event consumer credential (`mivaa auth nats-creds`), live and replayed."""
    credentials = await asyncio.to_thread(_mint, mesh, "acme.eu", tmp_path)
    assert credentials["subject"] == "mivaa.jobs.acme%2Eeu.>"
    ca = mesh.ca_path.read_bytes()
    consumer = await Session().open(**_tenant_options(credentials))
    live: list[str] = []

    async def collect(message):
        live.append(message.subject)

    try:
        await consumer.nc.subscribe(credentials["subject"], cb=collect)
        await consumer.nc.subscribe("mivaa.jobs.>", cb=collect)  # refused: every tenant's events
        await consumer.nc.subscribe("mivaa.jobs.default.>", cb=collect)  # refused: another tenant's
        await consumer.nc.flush()
        await asyncio.sleep(0.3)
        assert len(consumer.violations) == 2, consumer.violations
        jobs = {}
        for tenant in ("acme.eu", "default"):
            async with MeshClient(mesh.gateway_address, token=mesh.token(tenant=tenant), ca=ca) as tenant_client:
                response = await tenant_client.upload_bytes(make_pdf(f"bus-{tenant}", 1), f"bus-{tenant}.pdf")
                final = await tenant_client.wait_for_job(response.job.name, timeout=120)
                assert final.state == job_pb2.JOB_STATE_SUCCEEDED
                jobs[tenant] = response.job.name.removeprefix("jobs/")
        await asyncio.sleep(0.5)
    finally:
        await consumer.close()
    assert f"mivaa.jobs.acme%2Eeu.{jobs['acme.eu']}.done" in live
    assert all(subject.startswith("mivaa.jobs.acme%2Eeu.") for subject in live), live

    # Replayed by another local user who holds only the credentials document.
    replay = as_other_user(
        """
        import asyncio, json, os, ssl
        import nats
        from nats.js import api

        creds = json.loads(os.environ["CREDS"])
        job = os.environ["JOB"]
        other_job = os.environ["OTHER_JOB"]

        async def main():
            violations = []

            async def on_error(error):
                violations.append(str(error))

            nc = await nats.connect(
                servers=[creds["url"]], user=creds["user"], password=creds["password"],
                inbox_prefix=creds["inbox_prefix"], tls=ssl.create_default_context(cadata=creds["ca_pem"]),
                error_cb=on_error, allow_reconnect=False,
            )
            js = nc.jetstream(timeout=2)
            inbox = nc.new_inbox()
            subscription = await nc.subscribe(inbox)
            own = api.ConsumerConfig(
                name="replay-own", filter_subject=f"mivaa.jobs.{creds['subject'].split('.')[2]}.{job}.>",
                deliver_subject=inbox, deliver_policy=api.DeliverPolicy.ALL, ack_policy=api.AckPolicy.NONE,
            )
            result = {}
            try:
                await js.add_consumer(creds["stream"], own)
                result["own"] = "created"
            except Exception as error:
                result["own"] = type(error).__name__
            subjects = []
            try:
                while True:
                    subjects.append((await subscription.next_msg(timeout=2)).subject)
            except Exception:
                pass
            result["replayed"] = subjects
            attempts = {
                "other_tenant": api.ConsumerConfig(name="replay-other", filter_subject=f"mivaa.jobs.default.{other_job}.>",
                                                   deliver_subject=inbox, ack_policy=api.AckPolicy.NONE),
                "unfiltered": api.ConsumerConfig(name="replay-all", deliver_subject=inbox, ack_policy=api.AckPolicy.NONE),
            }
            for label, config in attempts.items():
                try:
                    await js.add_consumer(creds["stream"], config)
                    result[label] = "created"
                except Exception as error:
                    result[label] = type(error).__name__
            for label, call in {
                "kv": lambda: js.key_value("mivaa-jobs"),
                "originals": lambda: js.object_store("mivaa-originals"),
                "task": lambda: js.publish("mivaa.work.extract", b"forged"),
            }.items():
                try:
                    await call()
                    result[label] = "allowed"
                except Exception as error:
                    result[label] = type(error).__name__
            await nc.flush()
            result["violations"] = len(violations)
            await nc.close()
            return result

        print(json.dumps(asyncio.run(main())))
        """,
        env={"CREDS": json.dumps(credentials), "JOB": jobs["acme.eu"], "OTHER_JOB": jobs["default"]},
        timeout=60,
    )
    assert replay["own"] == "created"
    assert replay["replayed"] and all(
        s.startswith(f"mivaa.jobs.acme%2Eeu.{jobs['acme.eu']}.") for s in replay["replayed"]
    )
    assert replay["replayed"][-1].endswith(".done")
    for door in ("other_tenant", "unfiltered", "kv", "originals", "task"):
        assert replay[door] not in ("created", "allowed"), (door, replay)
    assert replay["violations"] >= 5


async def test_tenant_credential_is_refused_everything_else(mesh, tmp_path):
    """Door: a tenant consumer credential used against job records, originals, tasks and streams."""
    credentials = await asyncio.to_thread(_mint, mesh, "acme", tmp_path)
    consumer = await Session().open(**_tenant_options(credentials))
    try:
        await consumer.refused(consumer.js.key_value(messaging.JOBS_BUCKET), "read job records")
        await consumer.refused(
            consumer.js.get_last_msg(f"KV_{messaging.JOBS_BUCKET}", f"$KV.{messaging.JOBS_BUCKET}.>"),
            "get a job record",
        )
        await consumer.refused(consumer.js.object_store(messaging.ORIGINALS_BUCKET), "open the object store")
        await consumer.refused(consumer.js.publish(messaging.WORK_SUBJECT_EXTRACT, b"forged"), "queue a task")
        await consumer.refused(consumer.js.publish("mivaa.jobs.acme.0abc.done", b"forged"), "forge an event")
        await consumer.refused(
            consumer.js.add_consumer(
                messaging.WORK_STREAM, api.ConsumerConfig(name="steal", deliver_subject=consumer.nc.new_inbox())
            ),
            "read the work stream",
        )
        await consumer.refused(consumer.js.stream_info(messaging.EVENTS_STREAM), "inspect streams")
    finally:
        await consumer.close()


def _wait_health(mesh, service: str, wanted: int, timeout: float) -> float:
    port = mesh.ports.worker_base if service == "worker-0" else getattr(mesh.ports, service)
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while time.monotonic() < deadline:
        if health_status(f"127.0.0.1:{port}", credentials=mesh.ops_credentials()) == wanted:
            return time.monotonic() - started
        time.sleep(0.3)
    raise AssertionError(f"{service} did not report {wanted} within {timeout:.0f}s")


async def test_services_report_not_serving_while_nats_is_down_and_recover(client, mesh):
    """Surviving the bus: NATS stops; the extractor API and worker say NOT_SERVING, then SERVING
    by themselves once it is back, and an upload goes through end to end."""
    await asyncio.to_thread(mesh.stop_nats)
    try:
        for service in ("extractor", "worker-0"):
            await asyncio.to_thread(_wait_health, mesh, service, NOT_SERVING, 20)
        address = f"127.0.0.1:{mesh.ports.extractor}"
        assert describe_health(address, mesh.ops_credentials()) == "NOT_SERVING (nats NOT_SERVING)"
    finally:
        await asyncio.to_thread(mesh.start_nats)
    for service in ("extractor", "worker-0"):
        await asyncio.to_thread(_wait_health, mesh, service, SERVING, 30)
    assert mesh.processes["extractor"].alive() and mesh.processes["worker-0"].alive()
    response = await client.upload_bytes(make_pdf("bus-after-restart", 1), "bus-after-restart.pdf")
    final = await client.wait_for_job(response.job.name, timeout=120)
    assert final.state == job_pb2.JOB_STATE_SUCCEEDED


async def test_search_reports_not_serving_while_postgres_is_down(client, mesh):
    """Surviving the database: PostgreSQL stops; search says NOT_SERVING, then SERVING once it is back."""
    await asyncio.to_thread(mesh.postgres.stop)
    try:
        await asyncio.to_thread(_wait_health, mesh, "search", NOT_SERVING, 20)
        # `mivaa status` says which dependency is missing, and exits non-zero.
        status = await asyncio.to_thread(_mivaa_status, mesh)
        assert status.returncode == 1
        assert _status_line(status.stdout, "search").endswith("running  NOT_SERVING (postgres NOT_SERVING)")
        assert _status_line(status.stdout, "embedder").endswith("running  SERVING (models SERVING)")
    finally:
        await asyncio.to_thread(mesh.postgres.start)
    await asyncio.to_thread(_wait_health, mesh, "search", SERVING, 30)
    assert mesh.processes["search"].alive()
    address = f"127.0.0.1:{mesh.ports.search}"
    assert describe_health(address, mesh.ops_credentials()) == "SERVING (postgres SERVING)"


def _mivaa_status(mesh) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mivaa_cli.main", "status", "--state-dir", str(mesh.state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _status_line(stdout: str, process: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(f"{process} "))


async def test_a_nats_connection_closed_for_good_ends_the_service_with_failure(mesh):
    """Surviving the bus: the server drops a client for a protocol violation (a message over its
    max payload, as an oversized job record did), and nats-py never reconnects. The service must
    end with a failure status (so its supervisor restarts it) instead of answering INTERNAL."""
    service = GrpcService("bus-test", ServerSettings(port=0, grace_seconds=0.1))
    await service.start()
    nc = await messaging.connect(mesh.nats_settings("ops"), name="bus-test", on_closed=lambda: service.fail("closed"))
    # nats-py checks the payload against the server's limit but not the headers that travel with
    # it, so this message is over the limit only on the wire: the server's -ERR closes the connection.
    await nc.publish("mivaa.test.oversized", b"x" * (nc.max_payload - 8), headers={"padding": "p" * 64})
    status = await asyncio.wait_for(service.run_until_signalled(), timeout=15)
    assert status == 1
    assert nc.is_closed


def test_services_read_nats_settings_in_one_place(mesh):
    """The launcher hands each service its own NATS user, password file and CA (no shared secret)."""
    api_env, worker_env, search_env = (mesh._service_env(name) for name in ("extractor", "worker-0", "search"))
    assert api_env["EXTRACTOR_NATS_USER"] == "extractor"
    assert worker_env["EXTRACTOR_NATS_USER"] == "worker"
    assert search_env["SEARCH_NATS_USER"] == "search"
    for env, prefix in ((api_env, "EXTRACTOR"), (worker_env, "EXTRACTOR"), (search_env, "SEARCH")):
        settings = messaging.NatsSettings.from_env(prefix, env)
        assert settings.url.startswith("tls://") and os.path.exists(settings.ca_file)
        # The password travels as a 0600 file, never in the environment (`ps e`, crash reports).
        password = pathlib.Path(settings.password_file).read_text().strip()
        assert password and not any(password in value for value in env.values())
