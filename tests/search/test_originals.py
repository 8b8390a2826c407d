"""Stored originals shared across tenants: references in PostgreSQL, bytes in a real NATS object
store (the local mesh's nats-server, TLS and the roles' own users and permissions: search deletes
and lists, the extractor stores and reads). Fakes only wrap the real store to inject a delay or a
failure."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import pathlib
import random
import shutil
import socket
import tempfile
import uuid

import nats
import pytest

from mivaa_cli.localmesh.bus import LocalBus
from mivaa_cli.localmesh.certs import make_certs
from mivaa_cli.localmesh.processes import installed_binary, start_process, wait_for_port
from mivaa_platform import messaging
from mivaa_platform.errors import Unavailable
from mivaa_search.store import DocumentContent, NewDocument
from mivaa_search.usecases import DocumentCatalog
from mivaa_search.usecases.originals import ORPHAN_OBJECT, OriginalsSweep
from tests.search.support import fetch

NO_GRACE = dt.timedelta(0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def bus():
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-test-nats-"))
    make_certs(folder / "certs", ("nats",))
    local = LocalBus(folder / "auth", port=_free_port(), store_dir=folder / "store", certs_dir=folder / "certs")
    local.ensure_roles()
    server = start_process("nats", [installed_binary("nats-server"), "-c", str(local.config_path)], log_dir=folder)
    try:
        wait_for_port(server, local.port)
        yield local
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def stores(bus):
    """(search's originals: delete and list; the extractor's: put and get), each with its own user."""
    extractor = await nats.connect(**bus.settings("extractor").connect_options())
    search = await nats.connect(**bus.settings("search").connect_options())
    try:
        await messaging.ensure_topology(extractor.jetstream())
        yield messaging.OriginalsStore(search.jetstream()), messaging.OriginalsStore(extractor.jetstream())
    finally:
        await search.close()
        await extractor.close()


def pdf_bytes(label: str) -> bytes:
    return f"%PDF-1.7\n% {label} {uuid.uuid4()}\n".encode() * 50


async def upload(store, extractor, data: bytes, tenant: str):
    """What the upload does, in its order: the catalog's row (taking the reference), then the bytes."""
    digest = hashlib.sha256(data).hexdigest()
    new = NewDocument("f.pdf", "F", [], digest, len(data), 1, f"jobs/{uuid.uuid4().hex}")
    document, _ = await store.documents.create(new, tenant=tenant)
    await extractor.put(digest, data)
    return document


async def objects(search) -> set[str]:
    return {o.name for o in await search.list_objects()}


async def test_a_running_job_keeps_its_original_when_another_tenant_deletes_the_same_bytes(store, stores):
    search, extractor = stores
    catalog = DocumentCatalog(store, search)
    data = pdf_bytes("shared")
    digest = hashlib.sha256(data).hexdigest()
    a = await upload(store, extractor, data, "acme")
    b = await upload(store, extractor, data, "globex")  # finds the bytes stored: its reference came first
    assert await store.originals.references(digest) == 2

    # B's job is held after its upload, before it reads the original; A deletes meanwhile.
    await catalog.delete(a.id, tenant="acme")
    assert await extractor.get(digest) == data  # what B's worker reads when it goes on
    finished = await store.chunks.replace_content(
        b.id, DocumentContent(chunks=[], model="m", page_count=1, mark_ready=True), tenant="globex"
    )
    assert finished.state == "READY"
    assert await store.originals.state(digest) == "stored" and await store.originals.references(digest) == 1

    await catalog.delete(b.id, tenant="globex")
    assert not await extractor.exists(digest) and digest not in await objects(search)
    assert await store.originals.state(digest) is None


async def test_an_upload_waits_while_the_bytes_are_being_deleted_and_stores_them_again(store, stores):
    """The object delete holds the original's row: an upload of the same bytes by another tenant
    takes its reference after the object is gone, and stores the bytes again."""
    search, extractor = stores
    data = pdf_bytes("race")
    digest = hashlib.sha256(data).hexdigest()
    a = await upload(store, extractor, data, "acme")
    removing, release = asyncio.Event(), asyncio.Event()
    events: list[str] = []

    class SlowDelete:  # an injected delay around the real object store
        async def delete(self, sha256: str) -> None:
            events.append("removal started")
            removing.set()
            await release.wait()
            await search.delete(sha256)
            events.append("removal done")

        async def list_objects(self):
            return await search.list_objects()

    deleting = asyncio.create_task(DocumentCatalog(store, SlowDelete()).delete(a.id, tenant="acme"))
    await asyncio.wait_for(removing.wait(), 10)

    async def upload_b():
        document = await upload(store, extractor, data, "globex")
        events.append("upload's document created and bytes stored")
        return document

    uploading = asyncio.create_task(upload_b())
    await asyncio.sleep(0.5)
    assert not uploading.done(), "the upload did not wait for the removal of the bytes it needs"
    release.set()
    await asyncio.wait_for(deleting, 10)
    b = await asyncio.wait_for(uploading, 10)
    assert events == ["removal started", "removal done", "upload's document created and bytes stored"]
    assert await extractor.get(digest) == data
    assert (await store.originals.references(digest), await store.originals.state(digest)) == (1, "stored")
    assert (await store.documents.get(b.id, tenant="globex")).sha256 == digest


async def test_a_failed_object_delete_leaves_a_tombstone_an_upload_revives(store, stores):
    search, extractor = stores
    data = pdf_bytes("tombstone")
    digest = hashlib.sha256(data).hexdigest()
    a = await upload(store, extractor, data, "acme")

    class DownStore:  # an injected fault: the object store is unreachable
        async def delete(self, sha256: str) -> None:
            raise Unavailable("NATS_UNAVAILABLE", "the bus is down", domain="test")

        async def list_objects(self):
            return []

    await DocumentCatalog(store, DownStore()).delete(a.id, tenant="acme")  # the document goes anyway
    assert await store.originals.state(digest) == "deleting" and await extractor.exists(digest)

    b = await upload(store, extractor, data, "globex")  # revives the tombstone; the bytes are there
    assert await store.originals.state(digest) == "stored"
    report = await OriginalsSweep(store, search, NO_GRACE).run_once()
    assert (report.tombstones, report.pending_deletions) == (0, 0) and await extractor.get(digest) == data

    await store.documents.delete(b.id, tenant="globex")  # the delete's own removal never ran
    assert await store.originals.state(digest) == "deleting"
    failing = await OriginalsSweep(store, DownStore(), NO_GRACE).run_once()  # still down: the sweep keeps it
    assert (failing.tombstones, failing.pending_deletions) == (0, 1) and await extractor.exists(digest)
    assert (await OriginalsSweep(store, search, NO_GRACE).run_once()).tombstones == 1
    assert not await extractor.exists(digest) and await store.originals.state(digest) is None


async def test_the_sweep_removes_an_object_without_a_row_and_keeps_a_referenced_one(store, stores):
    search, extractor = stores
    held = pdf_bytes("held")
    document = await upload(store, extractor, held, "acme")
    orphan = pdf_bytes("orphan")  # stored with no document (a crash between catalog and store)
    orphan_digest = hashlib.sha256(orphan).hexdigest()
    await extractor.put(orphan_digest, orphan)
    swept: list[tuple[str, int]] = []

    def sweep(grace: dt.timedelta) -> OriginalsSweep:
        return OriginalsSweep(store, search, grace, on_swept=lambda kind, count: swept.append((kind, count)))

    await sweep(dt.timedelta(hours=1)).run_once()  # within the grace period: an upload may be landing
    assert await extractor.exists(orphan_digest) and swept == []

    report = await sweep(NO_GRACE).run_once()
    assert report.orphan_objects >= 1 and (ORPHAN_OBJECT, report.orphan_objects) in swept
    assert not await extractor.exists(orphan_digest) and await store.originals.state(orphan_digest) is None
    assert await extractor.get(document.sha256) == held  # referenced: kept
    assert await store.originals.state(document.sha256) == "stored"


async def test_a_row_without_references_is_swept_with_its_object(store, stores, database_dsn):
    search, extractor = stores
    data = pdf_bytes("unheld")
    digest = hashlib.sha256(data).hexdigest()
    await extractor.put(digest, data)
    await fetch(database_dsn, "INSERT INTO originals (sha256, size_bytes) VALUES (%s, 1) RETURNING sha256", [digest])
    report = await OriginalsSweep(store, search, dt.timedelta(hours=1)).run_once()
    assert report.unreferenced_rows == 1
    assert not await extractor.exists(digest) and await store.originals.state(digest) is None


async def test_concurrent_uploads_deletes_and_sweeps_of_the_same_bytes_lose_nothing(store, stores, database_dsn):
    """Six tenants upload and delete the same two files over and over while sweeps (no grace) run:
    each upload's job reads its bytes intact, and afterwards every live document's bytes are stored,
    every row is held, and no object lacks a row."""
    search, extractor = stores
    rng = random.Random(15)

    class SlowDeletes:  # an injected delay before each real object delete widens every window
        async def delete(self, sha256: str) -> None:
            await asyncio.sleep(rng.random() * 0.03)
            await search.delete(sha256)

        async def list_objects(self):
            return await search.list_objects()

    catalog = DocumentCatalog(store, SlowDeletes())
    files = [pdf_bytes("hammer-1"), pdf_bytes("hammer-2")]
    sweeper = OriginalsSweep(store, SlowDeletes(), NO_GRACE)

    async def tenant(name: str) -> None:
        for _ in range(12):
            data = rng.choice(files)
            document = await upload(store, extractor, data, name)
            await asyncio.sleep(rng.random() * 0.02)
            # The document's job reads its original now: whatever the other tenants did meanwhile.
            read = await extractor.get(document.sha256)
            assert read == data, "a running job lost its original"
            if rng.random() < 0.9:
                await catalog.delete(document.id, tenant=name)

    async def sweeping(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await sweeper.run_once()
            await asyncio.sleep(0.01)

    stop = asyncio.Event()
    sweeps = asyncio.create_task(sweeping(stop))
    await asyncio.gather(*(tenant(f"tenant-{i}") for i in range(6)))
    stop.set()
    await sweeps

    live = await fetch(database_dsn, "SELECT DISTINCT sha256 FROM documents")
    by_digest = {hashlib.sha256(data).hexdigest(): data for data in files}
    for (digest,) in live:
        assert await extractor.get(digest) == by_digest[digest], "a live document lost its bytes"
    rows = await fetch(database_dsn, "SELECT sha256, state FROM originals")
    assert sorted(rows) == sorted((digest, "stored") for (digest,) in live)
    assert await store.originals.audit() == {"documents_without_reference": 0, "references_to_tombstones": 0}
    stored = await objects(search) & set(by_digest)
    assert stored == {digest for (digest,) in live}, "an object without a row (an orphan) or a row without bytes"
    assert (await sweeper.run_once()).orphan_objects == 0


async def test_concurrent_puts_of_the_same_bytes_keep_one_object_and_no_stray_chunks(stores):
    """Two uploads storing the same bytes at once: one object, never replaced under a reader (a
    replacement purges the chunks a running job may be fetching), and the loser's chunks purged."""
    search, extractor = stores
    js = extractor._js

    async def chunk_subjects() -> int:
        info = await js.stream_info(messaging.ORIGINALS_STREAM, subjects_filter="$O.mivaa-originals.C.>")
        return len(info.state.subjects or {})

    data = pdf_bytes("puts") * 200  # several chunks
    digest = hashlib.sha256(data).hexdigest()
    before = await chunk_subjects()
    await asyncio.gather(*(extractor.put(digest, data) for _ in range(5)))
    first = await js.get_last_msg(messaging.ORIGINALS_STREAM, messaging.original_meta_subject(digest), direct=True)
    await extractor.put(digest, data)  # stored already: nothing is written
    again = await js.get_last_msg(messaging.ORIGINALS_STREAM, messaging.original_meta_subject(digest), direct=True)
    assert again.seq == first.seq
    assert await extractor.get(digest) == data
    assert await chunk_subjects() == before + 1
