"""What the upload-door tests share: the operator's bus connection and a count of every store an upload writes."""

from __future__ import annotations

import uuid

import nats
import psycopg

from mivaa.jobs.v1 import job_pb2
from mivaa_platform.messaging import JOBS_BUCKET, ORIGINALS_BUCKET, WORK_STREAM

DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def ops_nats(mesh) -> nats.NATS:
    """The operator's connection to the mesh's NATS (the `ops` user, over TLS)."""
    return await nats.connect(**mesh.nats_settings().connect_options())


async def store_counts(mesh) -> dict:
    """Everything an upload can write: database rows, job records, stored originals, work items published."""
    async with await psycopg.AsyncConnection.connect(mesh.postgres.dsn) as conn:
        documents = (await (await conn.execute("SELECT count(*) FROM documents")).fetchone())[0]
        chunks = (await (await conn.execute("SELECT count(*) FROM chunks")).fetchone())[0]
    nc = await ops_nats(mesh)
    try:
        js = nc.jetstream()
        jobs = (await js.stream_info(f"KV_{JOBS_BUCKET}")).state
        originals = (await js.stream_info(f"OBJ_{ORIGINALS_BUCKET}")).state
        work = (await js.stream_info(WORK_STREAM)).state
    finally:
        await nc.close()
    return {
        "documents": documents,
        "chunks": chunks,
        "job_records": (jobs.messages, jobs.last_seq),
        "originals": (originals.messages, originals.last_seq),
        "work_items_published": work.last_seq,
    }
