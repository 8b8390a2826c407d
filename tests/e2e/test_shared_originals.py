"""A stored original shared by two tenants, through the real mesh: one tenant deleting its document
never removes bytes the other's job still needs (search's store.originals)."""

from __future__ import annotations

import asyncio
import uuid

import nats

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_platform.messaging import OriginalsStore
from tests.support.pdfs import make_pdf
from tests.support.tenants import as_tenant

DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_a_queued_job_keeps_its_original_when_another_tenant_deletes_the_same_bytes(mesh, client):
    data = make_pdf(unique("held").replace("-", ""), 2)
    async with as_tenant(mesh, client, unique("acme")) as a, as_tenant(mesh, client, unique("globex")) as b:
        first = await a.upload(data, "shared.pdf")
        assert (await a.watch(first.job.name))[-1].state in DONE
        # B's job is held before it reads the original: no worker is running (an injected fault).
        worker = next(name for name in mesh.processes if name.startswith("worker-"))
        mesh.processes.pop(worker).stop()
        try:
            held = await b.upload(data, "shared.pdf")
            assert held.created and held.document.sha256 == first.document.sha256
            await a.search.DeleteDocument(
                search_pb.DeleteDocumentRequest(name=first.document.name), metadata=a.metadata
            )
        finally:
            await asyncio.to_thread(mesh.restart_process, worker)
        events = await b.watch(held.job.name)
        assert events[-1].state == job_pb2.JOB_STATE_SUCCEEDED, events[-1]
        assert (await b.get_document(held.document.name)).state == search_pb.DOCUMENT_STATE_READY

        nc = await nats.connect(**mesh.nats_settings().connect_options())
        try:
            originals = OriginalsStore(nc.jetstream())
            assert await originals.get(held.document.sha256) == data
            await b.search.DeleteDocument(search_pb.DeleteDocumentRequest(name=held.document.name), metadata=b.metadata)
            assert not await originals.exists(held.document.sha256)  # both gone: the bytes too
        finally:
            await nc.close()
