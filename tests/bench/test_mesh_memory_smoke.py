"""bench/mesh_memory.py in short: every mesh process, PostgreSQL included, is measured while a
document is ingested, and the report prints each one and the mesh's total against the target."""

from __future__ import annotations

from bench.mesh_memory import ingest_sampled, report
from bench.mesh_rss import MeshRssSampler
from mivaa.jobs.v1 import job_pb2
from tests.support.pdfs import make_pdf


async def test_every_process_is_measured_while_a_document_is_ingested(mesh, capsys):
    idle = MeshRssSampler(mesh, 0.2).sample()
    assert {"postgres", "nats", "envoy", "search", "embedder", "extractor", "worker-0"} <= set(idle)
    assert all(size > 0 for size in idle.values()), idle
    sampler, job, elapsed = await ingest_sampled(mesh, "memory-smoke.pdf", make_pdf("memory-smoke", 20), 0.2)
    assert job.state == job_pb2.JOB_STATE_SUCCEEDED
    assert len(sampler.totals) >= 2 and sampler.peak_total() >= max(sampler.peaks().values())
    report(idle, sampler, job, elapsed, "memory-smoke.pdf")
    printed = capsys.readouterr().out
    assert "postgres" in printed and "mesh total" in printed and "target: mesh under 1536 MiB" in printed
