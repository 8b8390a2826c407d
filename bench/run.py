"""Walking-skeleton benchmark: extraction ceiling, end-to-end ingest, search latency.

    make bench            (or: .venv/bin/python bench/run.py [--pdf PATH] [--queries 200])

Starts its own mesh on free ports (real NATS, PostgreSQL, services, Envoy),
so figures include every hop a user's request takes. Targets on a 2-core
machine: ingest >= 10 pages/s end to end (issue 15: >= 25), SearchChunks p95 <= 50 ms,
>= 1000 mixed documents an hour (--mixed-rounds: the corpus's documents, or generated ones).
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

import pymupdf

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.documents import mixed_documents, pdf_or_generated  # noqa: E402 - needs the repository root on sys.path
from bench.stats import percentile  # noqa: E402

CORPUS = REPO_ROOT.parent / "shared" / "corpus"
DEFAULT_PDF = CORPUS / "GeoTopo-komprimiert.pdf"

# Below the gateway's default search budget per subject (gateway/render.py RateLimits: 50/s).
SEARCH_RATE_PER_SECOND = 40

QUERIES = [
    "Satz von Heine-Borel kompakte Teilmenge",
    "Fundamentalgruppe eines topologischen Raumes",
    "Homotopie zwischen zwei Wegen",
    "metric space definition",
    "erste und zweite Fundamentalform",
    "Gaußkrümmung einer Fläche",
    "Überlagerung und Decktransformation",
    "differenzierbare Mannigfaltigkeit Karte",
]


def raw_ceiling(path: pathlib.Path, rounds: int = 3) -> tuple[float, int]:
    best = 0.0
    with pymupdf.open(path) as document:
        pages = document.page_count
        for _ in range(rounds):
            started = time.perf_counter()
            for page in document:
                page.get_text()
            best = max(best, pages / (time.perf_counter() - started))
    return best, pages


async def measure_scanned(mesh, pages: int) -> dict:
    """End-to-end ingest of a generated image-only PDF (every page needs OCR)."""
    from mivaa.jobs.v1 import job_pb2
    from mivaa_cli.client import MeshClient
    from tests.support.pdfs import make_scanned_pdf

    data = make_scanned_pdf("bench-scan", pages)
    async with MeshClient(
        mesh.gateway_address, token=mesh.token(subject="bench"), ca=mesh.ca_path.read_bytes()
    ) as client:
        started = time.perf_counter()
        upload = await client.upload_bytes(data, "scanned.pdf")
        final = await client.wait_for_job(upload.job.name, timeout=1800)
        total = time.perf_counter() - started
    if final.state != job_pb2.JOB_STATE_SUCCEEDED:
        raise SystemExit(f"scanned ingest did not succeed: {final}")
    stages = {job_pb2.JobStage.Name(t.stage).removeprefix("JOB_STAGE_").lower(): t.seconds for t in final.stage_timings}
    return {
        "pages": final.pages_total,
        "ocr_pages": final.ocr_pages_done,
        "chunks": final.chunks_indexed,
        "total_s": total,
        "stages": stages,
    }


async def upload_within_rate_limit(client, data: bytes, name: str):
    """An upload that waits and tries again while the gateway's per-subject budget (10/s) is spent."""
    import grpc

    while True:
        try:
            return await client.upload_bytes(data, name)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
            await asyncio.sleep(0.2)


async def measure_mixed(mesh, documents: list[tuple[str, bytes]], rounds: int) -> dict:
    """Every document uploaded once per round, each round as a tenant of its own (the same bytes
    again in one tenant would be a lookup, not work), all at once; timed until the last job ends."""
    import collections

    from mivaa.jobs.v1 import job_pb2
    from mivaa_cli.client import MeshClient

    ca = mesh.ca_path.read_bytes()
    clients = [
        MeshClient(mesh.gateway_address, token=mesh.token(tenant=f"mixed{r}", subject="bench"), ca=ca)
        for r in range(rounds)
    ]
    try:
        started = time.perf_counter()
        uploads = [
            (client, await upload_within_rate_limit(client, data, name.replace("/", "-")))
            for client in clients
            for name, data in documents
        ]
        finals = await asyncio.gather(
            *(client.wait_for_job(upload.job.name, timeout=3600) for client, upload in uploads)
        )
        total = time.perf_counter() - started
    finally:
        for client in clients:
            await client.close()
    outcomes = collections.Counter(
        "SUCCEEDED" if job.state == job_pb2.JOB_STATE_SUCCEEDED else f"FAILED {job.error.reason}" for job in finals
    )
    return {
        "documents": len(finals),
        "pages": sum(job.pages_total for job in finals),
        "total_s": total,
        "outcomes": outcomes,
    }


async def measure(mesh, pdf: pathlib.Path, queries: int) -> dict:
    from mivaa.jobs.v1 import job_pb2
    from mivaa_cli.client import MeshClient

    async with MeshClient(
        mesh.gateway_address, token=mesh.token(subject="bench"), ca=mesh.ca_path.read_bytes()
    ) as client:
        started = time.perf_counter()
        upload = await client.upload_file(pdf)
        uploaded = time.perf_counter() - started
        final = await client.wait_for_job(upload.job.name, timeout=1800)
        total = time.perf_counter() - started
        if final.state != job_pb2.JOB_STATE_SUCCEEDED:
            raise SystemExit(f"ingest did not succeed: {final}")
        stages = {
            job_pb2.JobStage.Name(t.stage).removeprefix("JOB_STAGE_").lower(): t.seconds for t in final.stage_timings
        }

        for query in QUERIES:  # warm-up: connections, caches
            await client.search_chunks(query, top_k=10)
        latencies = []
        # Paced under the gateway's per-subject search budget (50/s): this measures latency, not the limiter.
        interval = 1 / SEARCH_RATE_PER_SECOND
        for i in range(queries):
            t0 = time.perf_counter()
            result = await client.search_chunks(QUERIES[i % len(QUERIES)], top_k=10)
            elapsed = time.perf_counter() - t0
            latencies.append(elapsed * 1000)
            assert result.hits
            if elapsed < interval:
                await asyncio.sleep(interval - elapsed)
        return {
            "pages": final.pages_total,
            "chunks": final.chunks_indexed,
            "upload_s": uploaded,
            "total_s": total,
            "stages": stages,
            "latencies": latencies,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdf", type=pathlib.Path, default=DEFAULT_PDF)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--scanned-pages", type=int, default=50, help="pages of the OCR ingest (0: none)")
    parser.add_argument("--mixed-rounds", type=int, default=2, help="uploads of the mixed documents (0: none)")
    args = parser.parse_args()
    pdf = pdf_or_generated(args.pdf)

    ceiling, pages = raw_ceiling(pdf)
    print(f"file: {pdf.name} ({pages} pages)")
    print(f"PyMuPDF raw get_text (ceiling, 1 process): {ceiling:8.1f} pages/s")

    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts

    state = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-bench-"))
    mesh = LocalMesh(state, MeshPorts.free())
    try:
        t0 = time.perf_counter()
        mesh.start()
        print(f"mesh start-up: {time.perf_counter() - t0:.1f} s")
        figures = asyncio.run(measure(mesh, pdf, args.queries))
        scanned = (
            asyncio.run(measure_scanned(mesh, args.scanned_pages)) if mesh.ocr and args.scanned_pages > 0 else None
        )
        documents = mixed_documents(CORPUS)
        mixed = asyncio.run(measure_mixed(mesh, documents, args.mixed_rounds)) if args.mixed_rounds > 0 else None
    finally:
        mesh.stop()
        shutil.rmtree(state, ignore_errors=True)

    rate = figures["pages"] / figures["total_s"]
    print(
        f"end-to-end ingest through Envoy: {rate:8.1f} pages/s  ({figures['pages']} pages, "
        f"{figures['chunks']} chunks, {figures['total_s']:.2f} s; target >= 10)  = {rate / ceiling:.3f} x ceiling"
    )
    print(f"  upload+validate+store: {figures['upload_s']:.2f} s")
    for stage, seconds in figures["stages"].items():
        print(f"  {stage:10} {seconds:7.2f} s (busy time; stages overlap)")
    lat = figures["latencies"]
    print(
        f"SearchChunks through Envoy, top_k=10, {len(lat)} queries: p50 {percentile(lat, 0.5):.1f} ms, "
        f"p95 {percentile(lat, 0.95):.1f} ms, mean {statistics.mean(lat):.1f} ms (target p95 <= 50 ms)"
    )
    if scanned is None:
        why = "--scanned-pages 0" if args.scanned_pages <= 0 else "OCR is not installed: make ocr"
        print(f"scanned ingest: not measured ({why})")
    else:
        rate = scanned["pages"] / scanned["total_s"]
        print(
            f"scanned (image-only) ingest through Envoy, Tesseract: {rate:6.2f} pages/s  ({scanned['pages']} pages, "
            f"{scanned['ocr_pages']} recognized, {scanned['chunks']} chunks, {scanned['total_s']:.2f} s; target >= 2)"
        )
        for stage, seconds in scanned["stages"].items():
            label = "render+text" if stage == "extracting" else stage
            print(f"  {label:11} {seconds:7.2f} s (busy time; stages overlap)")
    if mixed is not None:
        per_hour = mixed["documents"] / mixed["total_s"] * 3600
        source = "corpus files" if CORPUS.is_dir() else "generated PDFs"
        outcomes = ", ".join(f"{outcome} {n}" for outcome, n in mixed["outcomes"].most_common())
        print(
            f"mixed documents through Envoy: {per_hour:8.0f} documents/hour  ({mixed['documents']} uploads: "
            f"{args.mixed_rounds} x {len(documents)} {source}, {mixed['pages']} pages, {mixed['total_s']:.1f} s, "
            f"{mixed['pages'] / mixed['total_s']:.1f} pages/s; target >= 1000)"
        )
        print(f"  {outcomes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
