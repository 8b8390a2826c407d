"""The whole local mesh's memory, idle and while it ingests a long document (issue 15: under 1.5 GiB
while it ingests DA-619p).

    .venv/bin/python bench/mesh_memory.py [--document PATH] [--workers 1] [--interval 0.5]

Starts a mesh as `mivaa up` does (every service, an extraction worker, OCR, Envoy, NATS, PostgreSQL,
the trace receiver and Prometheus when installed) on free ports, measures every process idle, then
uploads the document through Envoy and samples every process (with its children: worker pools,
PostgreSQL's backends) by PSS until the job ends. Prints idle and peak per process, the mesh's
total at its peak, and the target. Without ../shared/corpus, a generated 300-page PDF stands in.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import shutil
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.mesh_rss import MIB, MeshRssSampler  # noqa: E402 - after the repository is importable
from mivaa.jobs.v1 import job_pb2  # noqa: E402
from tests.support.pdfs import make_pdf  # noqa: E402

DEFAULT_DOCUMENT = REPO_ROOT.parent / "shared" / "corpus" / "unstructured" / "DA-619p.pdf"
TARGET_BYTES = int(1.5 * 1024 * MIB)
SETTLE_SECONDS = 5.0


def document(path: pathlib.Path | None) -> tuple[str, bytes]:
    if path is not None:
        return path.name, path.read_bytes()
    if DEFAULT_DOCUMENT.exists():
        return DEFAULT_DOCUMENT.name, DEFAULT_DOCUMENT.read_bytes()
    return "generated-300p.pdf", make_pdf("memory", 300, filler_sentences=20)


async def ingest_sampled(mesh, name: str, data: bytes, interval: float) -> tuple[MeshRssSampler, job_pb2.Job, float]:
    from mivaa_cli.client import MeshClient

    sampler, stop = MeshRssSampler(mesh, interval), asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    started = time.monotonic()
    try:
        async with MeshClient(mesh.gateway_address, token=mesh.token(), ca=mesh.ca_path.read_bytes()) as client:
            response = await client.upload_bytes(data, name)
            job = await client.wait_for_job(response.job.name, timeout=3600)
    finally:
        stop.set()
        await sampling
    return sampler, job, time.monotonic() - started


def report(idle: dict[str, int], sampler: MeshRssSampler, job: job_pb2.Job, elapsed: float, name: str) -> None:
    state = job_pb2.JobState.Name(job.state)
    print(f"{name}: {job.pages_total} pages, {job.chunks_indexed} chunks, {state} in {elapsed:.1f} s")
    print(f"  {'process (PSS, MiB)':22s} {'idle':>7s} {'peak':>7s}")
    peaks = sampler.peaks()
    for process in sorted(set(idle) | set(peaks)):
        print(f"  {process:22s} {idle.get(process, 0) / MIB:7.0f} {peaks.get(process, 0) / MIB:7.0f}")
    idle_total, peak_total = sum(idle.values()), sampler.peak_total()
    print(f"  {'mesh total':22s} {idle_total / MIB:7.0f} {peak_total / MIB:7.0f}")
    met = "met" if peak_total <= TARGET_BYTES else "not met"
    print(f"target: mesh under {TARGET_BYTES / MIB:.0f} MiB while it ingests: peak {peak_total / MIB:.0f} MiB ({met})")


async def main_async(args) -> None:
    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts

    name, data = document(args.document)
    state = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-bench-memory-"))
    mesh = LocalMesh(state, MeshPorts.free(), workers=args.workers)
    try:
        mesh.start()
        await asyncio.sleep(SETTLE_SECONDS)
        idle = MeshRssSampler(mesh, args.interval).sample()
        sampler, job, elapsed = await ingest_sampled(mesh, name, data, args.interval)
        report(idle, sampler, job, elapsed, name)
    finally:
        mesh.stop()
        shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--document", type=pathlib.Path, default=None, help="a PDF (default: DA-619p from the corpus)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between samples")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
