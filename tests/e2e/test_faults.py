"""Faults while uploads stream in (issue 15): every process of the mesh is SIGKILLed in turn (an
extraction worker, the embedder, search, OCR, NATS, PostgreSQL, Envoy) and started again, as the
supervisor of `mivaa up` would. Afterwards every accepted upload has ended SUCCEEDED, no job is
left running, no chunk is duplicated, and nothing is orphaned: no row without its document, no
stored original without a document, no document without its original (checked by queries).

The mesh is the test's own, so its kills and its job counts touch no other test.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import pathlib
import shutil
import signal
import tempfile
import time

import grpc
import nats
import psycopg
import pytest

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa_cli.client import MeshClient
from mivaa_platform.messaging import ORIGINALS_BUCKET
from tests.support.hits import find_hit
from tests.support.pdfs import make_pdf, make_scanned_pdf, page_phrase

# The order the issue names them in; each is killed while a job is running.
VICTIMS = ("worker-0", "embedder", "search", "ocr", "nats", "postgres", "envoy")
# A refused or cut upload is sent again, as a client would: uploads are idempotent by content.
RETRIED = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.CANCELLED,
}
TERMINAL = {job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_CANCELLED}
TEXT_PAGES = 12
IN_FLIGHT = 3


@dataclasses.dataclass
class Accepted:
    tag: str
    scanned: bool
    job: str
    document: str


@pytest.fixture(scope="module")
def fault_mesh(mesh_models_dir):
    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts

    state_dir = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-fault-mesh-"))
    mesh = LocalMesh(
        state_dir,
        MeshPorts.free(),
        models_dir=mesh_models_dir,
        workers=1,
        prometheus=False,
        # A killed worker's task comes back within seconds.
        extra_env={"EXTRACTOR_ACK_WAIT_SECONDS": "4", "MIVAA_LOG_LEVEL": "WARNING"},
    )
    try:
        mesh.start()
        yield mesh
    finally:
        mesh.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


def _kill(mesh, name: str) -> None:
    if name == "postgres":
        pid = mesh.postgres.pid
        assert pid is not None, "PostgreSQL is not running"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while mesh.postgres.pid is not None and time.monotonic() < deadline:
            time.sleep(0.05)
    else:
        mesh.processes[name].kill()


def _start_again(mesh, name: str, timeout: float = 120.0) -> None:
    """What the supervisor does: start it on its own ports, again while it cannot start yet
    (PostgreSQL refuses while the killed postmaster's backends still hold its shared memory)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            mesh.restart_process(name)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


async def _upload_until(client: MeshClient, stop: asyncio.Event, accepted: list[Accepted]) -> None:
    """Uploads one document after another, keeping a few jobs in flight (not a queue of hundreds,
    so the kills land while jobs are being worked on)."""
    index = 0
    while not stop.is_set():
        if len(await _unfinished(client, accepted)) >= IN_FLIGHT:
            await asyncio.sleep(0.3)
            continue
        scanned = index % 4 == 3  # every fourth upload goes through OCR
        tag = f"fault{index:03d}"
        data = make_scanned_pdf(tag, 1) if scanned else make_pdf(tag, TEXT_PAGES, filler_sentences=12)
        while True:
            try:
                response = await client.upload_bytes(data, f"{tag}.pdf", timeout=60)
                break
            except grpc.aio.AioRpcError as error:
                assert error.code() in RETRIED, f"{tag}: {error.code().name} {error.details()}"
                await asyncio.sleep(0.5)
        accepted.append(Accepted(tag, scanned, response.job.name, response.document.name))
        index += 1


async def _job(client: MeshClient, name: str) -> job_pb2.Job | None:
    """The job, or None while the extractor (or what it reads jobs from) cannot answer."""
    with contextlib.suppress(grpc.aio.AioRpcError):
        return (await client.extractor.GetJob(extractor_pb.GetJobRequest(name=name), timeout=10)).job
    return None


async def _unfinished(client: MeshClient, accepted: list[Accepted]) -> list[job_pb2.Job | None]:
    jobs = [await _job(client, entry.job) for entry in accepted[-IN_FLIGHT * 2 :]]
    return [job for job in jobs if job is None or job.state not in TERMINAL]


async def _until_running(client: MeshClient, accepted: list[Accepted], timeout: float = 120.0) -> None:
    """Until a job is in the middle of its work (so the kill lands mid-job), or the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(
            job is not None and job.state == job_pb2.JOB_STATE_RUNNING for job in await _unfinished(client, accepted)
        ):
            return
        await asyncio.sleep(0.2)


async def _stored_originals(mesh) -> set[str]:
    connection = await nats.connect(**mesh.nats_settings("ops").connect_options())
    try:
        store = await connection.jetstream().object_store(ORIGINALS_BUCKET)
        return {info.name for info in await store.list() if not info.deleted}
    finally:
        await connection.close()


async def test_every_accepted_upload_survives_each_process_killed_in_turn(fault_mesh):
    mesh = fault_mesh
    accepted: list[Accepted] = []
    stop = asyncio.Event()
    async with MeshClient(mesh.gateway_address, token=mesh.token(), ca=mesh.ca_path.read_bytes()) as client:
        uploader = asyncio.create_task(_upload_until(client, stop, accepted))
        try:
            for victim in VICTIMS:
                await _until_running(client, accepted)
                print(f"{time.strftime('%X')} killing {victim} ({len(accepted)} uploads accepted)", flush=True)
                await asyncio.to_thread(_kill, mesh, victim)
                await asyncio.sleep(1.0)
                await asyncio.to_thread(_start_again, mesh, victim)
                print(f"{time.strftime('%X')} {victim} serving again", flush=True)
                assert not uploader.done(), uploader.exception()
            await asyncio.sleep(2.0)
        finally:
            stop.set()
            await uploader
        assert len(accepted) >= len(VICTIMS), [entry.tag for entry in accepted]

        # Every accepted upload ends, and ends well, within a deadline: nothing is stuck.
        finals: dict[str, job_pb2.Job] = {}
        deadline = time.monotonic() + 600
        while len(finals) < len(accepted):
            for entry in accepted:
                if entry.job not in finals:
                    job = await _job(client, entry.job)
                    if job is not None and job.state in TERMINAL:
                        finals[entry.job] = job
            pending = [entry.tag for entry in accepted if entry.job not in finals]
            assert time.monotonic() < deadline, f"jobs still not finished: {pending}"
            await asyncio.sleep(1.0)
        failed = {
            name: (job.state, job.error.message)
            for name, job in finals.items()
            if job.state != job_pb2.JOB_STATE_SUCCEEDED
        }
        assert not failed, failed
        # No other job was started behind the client's back, and none is left running.
        listed = await client.extractor.ListJobs(extractor_pb.ListJobsRequest(page_size=200), timeout=10)
        assert {job.name for job in listed.jobs} == {entry.job for entry in accepted}
        assert all(job.state == job_pb2.JOB_STATE_SUCCEEDED for job in listed.jobs)

        # Every document answers a search for its own text (a scanned one through its OCR text).
        for entry in accepted:
            phrase = page_phrase(entry.tag, 1)
            hits = (await client.search_chunks(phrase, top_k=3, documents=[entry.document])).hits
            needle = "archive tells of a" if entry.scanned else phrase
            assert find_hit(hits, needle, 1) is not None, (entry.tag, [hit.text[:80] for hit in hits])

    documents = {entry.document.removeprefix("documents/") for entry in accepted}
    with psycopg.connect(mesh.postgres.dsn) as connection:
        rows = connection.execute("SELECT id::text, state, chunk_count, sha256, page_count FROM documents").fetchall()
        assert {row[0] for row in rows} == documents, "a document too many or missing"
        assert all(row[1] == "READY" for row in rows), [row for row in rows if row[1] != "READY"]
        # Chunks: exactly as many as the document says, numbered 0..n-1, none repeated by a retry.
        counts = connection.execute(
            "SELECT d.id::text, d.chunk_count, count(c.*), count(DISTINCT (c.text, c.page_start)), "
            "coalesce(max(c.chunk_index), -1) FROM documents d LEFT JOIN chunks c ON c.document_id = d.id GROUP BY d.id"
        ).fetchall()
        for document_id, chunk_count, chunks, distinct, top in counts:
            assert chunk_count == chunks == distinct == top + 1 and chunks > 0, (
                document_id,
                chunk_count,
                chunks,
                distinct,
                top,
            )
        pages = dict(
            connection.execute("SELECT document_id::text, count(*) FROM pages GROUP BY document_id").fetchall()
        )
        assert pages == {row[0]: row[4] for row in rows}, "pages rows do not match the documents' page counts"
        # Each document holds its original once; every original is stored (no tombstone left behind).
        references = connection.execute("SELECT document::text, sha256 FROM original_references").fetchall()
        assert sorted(references) == sorted((row[0], row[3]) for row in rows)
        originals = connection.execute("SELECT sha256, state FROM originals").fetchall()
        assert sorted(originals) == sorted((row[3], "stored") for row in rows)
    # The object store holds each document's original and nothing else.
    assert await _stored_originals(mesh) == {row[3] for row in rows}
