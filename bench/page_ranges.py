"""A long document's ingest with its page ranges spread over 1, 2 and 4 extraction workers (issue 15).

    .venv/bin/python bench/page_ranges.py [--document PATH] [--workers 1,2,4] [--range-pages 48]

For each worker count, starts a mesh as `mivaa up` does (without OCR or Prometheus) with that many
extraction workers, uploads the document through Envoy and waits for its job. Prints the wall time,
pages per second, the job's extraction and embedding seconds, and how many ranges each worker read.
The first row reads the document on one worker without ranges (EXTRACTOR_RANGE_PAGES=0), as before
ranges existed: the peer the others are compared with. Without ../shared/corpus a generated 400-page
PDF stands in for DA-619p.

Extraction is a small part of ingest (embedding takes most of it) and every worker of a local mesh
shares the same cores, so on a small machine the figures show what ranges cost and that they spread,
not the speed-up that workers on other machines give.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import re
import shutil
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from mivaa.jobs.v1 import job_pb2  # noqa: E402 - after the repository is importable
from tests.support.pdfs import make_pdf  # noqa: E402

DEFAULT_DOCUMENT = REPO_ROOT.parent / "shared" / "corpus" / "unstructured" / "DA-619p.pdf"
_RANGES = re.compile(r'^mivaa_page_ranges_total\{outcome="(\w+)"\} ([0-9.e+]+)$', re.MULTILINE)


def document(path: pathlib.Path | None) -> tuple[str, bytes]:
    if path is not None:
        return path.name, path.read_bytes()
    if DEFAULT_DOCUMENT.exists():
        return DEFAULT_DOCUMENT.name, DEFAULT_DOCUMENT.read_bytes()
    return "generated-400p.pdf", make_pdf("ranges", 400, filler_sentences=20)


def ranges_by_worker(mesh) -> dict[str, dict[str, int]]:
    from mivaa_cli.localmesh import monitoring

    counts = {}
    for index in range(mesh.workers):
        name = f"worker-{index}"
        text = mesh.scrape(monitoring.metrics_port(mesh.ports.metrics_base, name))
        counts[name] = {outcome: int(float(value)) for outcome, value in _RANGES.findall(text)}
    return counts


def stage_seconds(job: job_pb2.Job, stage: int) -> float:
    return sum(timing.seconds for timing in job.stage_timings if timing.stage == stage)


async def ingest(workers: int, range_pages: int, name: str, data: bytes) -> tuple[job_pb2.Job, float, dict]:
    from mivaa_cli.client import MeshClient
    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts

    state = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-bench-ranges-"))
    extra = {"EXTRACTOR_RANGE_PAGES": str(range_pages)}
    mesh = LocalMesh(state, MeshPorts.free(), workers=workers, extra_env=extra, ocr=False, prometheus=False)
    try:
        mesh.start()
        async with MeshClient(mesh.gateway_address, token=mesh.token(), ca=mesh.ca_path.read_bytes()) as client:
            started = time.monotonic()
            response = await client.upload_bytes(data, name)
            job = await client.wait_for_job(response.job.name, timeout=3600)
            elapsed = time.monotonic() - started
        return job, elapsed, ranges_by_worker(mesh)
    finally:
        mesh.stop()
        shutil.rmtree(state, ignore_errors=True)


async def main_async(args) -> None:
    name, data = document(args.document)
    runs = [(1, 0)] + [(int(w), args.range_pages) for w in args.workers.split(",")]
    print(f"{name}, ranges of {args.range_pages} pages")
    print(
        f"{'workers':>7s} {'ranges':>6s} {'state':>10s} {'seconds':>8s} {'pages/s':>8s} {'extract s':>9s} {'embed s':>8s}  ranges read per worker"
    )
    baseline = None
    for workers, range_pages in runs:
        job, elapsed, counts = await ingest(workers, range_pages, name, data)
        state = job_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_")
        rate = job.pages_done / elapsed if elapsed else 0.0
        baseline = baseline or rate
        read = ", ".join(f"{w}: {c.get('extracted', 0)}" for w, c in counts.items())
        print(
            f"{workers:7d} {'on' if range_pages else 'off':>6s} {state:>10s} {elapsed:8.1f} {rate:8.2f}"
            f" {stage_seconds(job, job_pb2.JOB_STAGE_EXTRACTING):9.1f} {stage_seconds(job, job_pb2.JOB_STAGE_EMBEDDING):8.1f}"
            f"  {read}  (x{rate / baseline:.2f} of one worker without ranges)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--document", type=pathlib.Path, default=None, help="a PDF (default: DA-619p from the corpus)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to run with ranges on")
    parser.add_argument("--range-pages", type=int, default=48)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
