"""`mivaa admin backup` and `restore` round trip: a second, fresh mesh serves the same documents,
originals and search hits; corrupt, newer-schema and merge-into-live restores are refused."""

from __future__ import annotations

import asyncio
import io
import json
import os
import pathlib
import shutil
import sys
import tarfile
import tempfile

import nats

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_platform.messaging import OriginalsStore
from tests.support.pdfs import make_pdf, page_phrase

TAGS = {"backupharbor": 3, "backupmeadow": 2}
SCORE_TOLERANCE = 1e-4


async def mivaa(*args: str) -> tuple[int, str]:
    """The real CLI in a subprocess (so the event loop of the session client keeps running)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mivaa_cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=os.environ.copy(),
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def ingest(client, tag: str, pages: int) -> tuple[str, str, bytes]:
    data = make_pdf(tag, pages)
    response = await client.upload_bytes(data, f"{tag}.pdf")
    events = [update.event.job async for update in client.watch(response.job.name, timeout=600)]
    assert events[-1].state == job_pb2.JOB_STATE_SUCCEEDED, events[-1]
    return response.document.name, response.job.name, data


async def hits(client, documents: list[str]) -> dict[str, list[tuple]]:
    found = {}
    for tag, pages in TAGS.items():
        for page in range(1, pages + 1):
            result = await client.search_chunks(page_phrase(tag, page), top_k=4, documents=documents)
            found[f"{tag}-{page}"] = [
                (h.document, h.chunk_index, h.page_start, h.page_end, h.score, h.vector_score) for h in result.hits
            ]
    return found


def assert_same_hits(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> None:
    assert before.keys() == after.keys()
    for query, expected in before.items():
        got = after[query]
        assert [h[:4] for h in got] == [h[:4] for h in expected], query
        for old, new in zip(expected, got, strict=True):
            assert abs(old[4] - new[4]) <= SCORE_TOLERANCE and abs(old[5] - new[5]) <= SCORE_TOLERANCE, (
                query,
                old,
                new,
            )


async def originals(target, sha256s: list[str]) -> dict[str, bytes]:
    connection = await nats.connect(**target.nats_settings().connect_options())
    try:
        store = OriginalsStore(connection.jetstream(timeout=30))
        return {sha256: await store.get(sha256) for sha256 in sha256s}
    finally:
        await connection.close()


def rewrite_manifest(source: pathlib.Path, target: pathlib.Path, change) -> None:
    """A copy of the backup whose manifest `change` edited (its members stay intact)."""
    with tarfile.open(source) as reader, tarfile.open(target, "w") as writer:
        for member in reader:
            data = reader.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            writer.addfile(member, io.BytesIO(data))


def damaged(archive: pathlib.Path, target: pathlib.Path, *, truncate: bool) -> pathlib.Path:
    data = bytearray(archive.read_bytes())
    if truncate:
        del data[len(data) // 2 :]
    else:  # one bit of a stored original
        data[data.index(b"%PDF") + 200] ^= 0x01
    target.write_bytes(bytes(data))
    return target


async def refusals(mesh, archive: pathlib.Path, scratch: pathlib.Path) -> None:
    state = ["--state-dir", str(mesh.state_dir)]
    # Into the live, non-empty mesh: never merged.
    code, output = await mivaa("admin", "restore", str(archive), *state)
    assert code == 1 and "TARGET_NOT_EMPTY" in output, output
    # Truncated (a copy cut short) and altered (one byte of an original flipped).
    truncated = damaged(archive, scratch / "truncated.tar", truncate=True)
    code, output = await mivaa("admin", "restore", str(truncated), *state)
    assert code == 1 and "ARCHIVE_CORRUPT" in output, output
    altered = damaged(archive, scratch / "altered.tar", truncate=False)
    code, output = await mivaa("admin", "restore", str(altered), *state)
    assert code == 1 and "ARCHIVE_CORRUPT" in output and "checksum" in output, output
    # A backup from a newer schema than this mesh's.
    newer = scratch / "newer.tar"
    rewrite_manifest(archive, newer, lambda m: m["schema"]["search"].append("9999_from_the_future"))
    code, output = await mivaa("admin", "restore", str(newer), *state)
    assert code == 1 and "BACKUP_SCHEMA_NEWER" in output and "9999_from_the_future" in output, output
    # Not a backup at all.
    foreign = scratch / "foreign.tar"
    foreign.write_bytes(b"no tar here" * 100)
    code, output = await mivaa("admin", "restore", str(foreign), *state)
    assert code == 1 and "ARCHIVE_CORRUPT" in output, output


async def test_backup_restores_into_a_fresh_mesh_with_the_same_hits(mesh, client, mesh_models_dir):
    from mivaa_cli.client import MeshClient
    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts

    ingested = [await ingest(client, tag, pages) for tag, pages in TAGS.items()]
    names = [name for name, _, _ in ingested]
    before = await hits(client, names)
    assert all(before.values()), before
    documents = [(await client.search.GetDocument(search_pb.GetDocumentRequest(name=n))).document for n in names]

    scratch = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-backup-test-"))
    fresh_state = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-restored-mesh-"))
    fresh = LocalMesh(fresh_state, MeshPorts.free(), models_dir=mesh_models_dir, workers=1, ocr=False, prometheus=False)
    try:
        archive = scratch / "mesh.mivaa-backup"
        code, output = await mivaa("admin", "backup", str(archive), "--state-dir", str(mesh.state_dir))
        assert code == 0, output
        print(output, f"{archive.stat().st_size} bytes")
        assert oct(archive.stat().st_mode & 0o777) == "0o600"
        code, output = await mivaa("admin", "backup", str(archive), "--state-dir", str(mesh.state_dir))
        assert code == 1 and "FILE_EXISTS" in output, output
        await refusals(mesh, archive, scratch)

        await asyncio.to_thread(fresh.start)
        code, output = await mivaa("admin", "restore", str(archive), "--state-dir", str(fresh_state))
        assert code == 0, output
        print(output)
        async with MeshClient(fresh.gateway_address, token=fresh.token(), ca=fresh.ca_path.read_bytes()) as restored:
            assert_same_hits(before, await hits(restored, names))
            for document in documents:
                again = await restored.search.GetDocument(search_pb.GetDocumentRequest(name=document.name))
                assert again.document == document
            for _, job, _ in ingested:
                record = await restored.extractor.GetJob(extractor_pb.GetJobRequest(name=job))
                assert record.job.state == job_pb2.JOB_STATE_SUCCEEDED
        stored = await originals(fresh, [d.sha256 for d in documents])
        assert [stored[d.sha256] for d in documents] == [data for _, _, data in ingested]
        # Restoring twice would merge: the now non-empty mesh refuses.
        code, output = await mivaa("admin", "restore", str(archive), "--state-dir", str(fresh_state))
        assert code == 1 and "TARGET_NOT_EMPTY" in output, output
    finally:
        await asyncio.to_thread(fresh.stop)
        if not os.environ.get("MIVAA_KEEP_TEST_STATE"):
            shutil.rmtree(fresh_state, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
