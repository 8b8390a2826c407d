"""Many users at once through Envoy: a mix of searches, reads, questions and uploads, by many tenants.

    .venv/bin/python bench/load.py [--users 100] [--seconds 600] [--tenants 10] [--rate 0.5]

Starts its own mesh on free ports (loopback only) and seeds one generated document per
tenant. Then each simulated user (its own token: tenant t<i % tenants>, subject u<i>) sends
requests at random intervals averaging --rate a second, chosen from the mix: 80% SearchChunks,
10% GetDocument or ListDocuments, 5% Ask, 5% UploadDocument (a corpus file from
../shared/corpus when it is there, else a generated PDF). Prints throughput, p50/p95/p99 per
RPC, results by status code (RESOURCE_EXHAUSTED is the gateway's rate limit doing its job and
counted apart), how much of the uploads' work was done by the end (ingest yields the cores to
queries while they arrive), each mesh process's RSS over time with its slope over the second half,
and a timeline: SearchChunks latencies and every process's CPU (the client's too) per --window.
Targets (issue 15): under 0.1% errors other than RESOURCE_EXHAUSTED, SearchChunks p95 under
100 ms, no process's memory growing. tests/bench/test_load_smoke.py runs a short version.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import os
import pathlib
import random
import shutil
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import grpc  # noqa: E402 - after the repository is importable
from google.protobuf import timestamp_pb2  # noqa: E402

from bench.load_timeline import timeline  # noqa: E402
from bench.mesh_rss import MeshRssSampler  # noqa: E402
from bench.stats import percentile  # noqa: E402
from mivaa.answer.v1 import answer_service_pb2 as answer_pb  # noqa: E402
from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb  # noqa: E402
from mivaa.jobs.v1 import job_pb2  # noqa: E402
from mivaa.search.v1 import search_service_pb2 as search_pb  # noqa: E402
from tests.support.pdfs import make_pdf, page_phrase  # noqa: E402

CORPUS = REPO_ROOT.parent / "shared" / "corpus"
MIX = (("search", 80), ("read", 10), ("ask", 5), ("upload", 5))
SEED_PAGES = 6
MAX_CORPUS_UPLOAD_BYTES = 8 << 20  # keep each upload's work to seconds, not the 619-page manual
INTENDED = {"RESOURCE_EXHAUSTED"}


@dataclasses.dataclass
class Results:
    latencies_ms: dict[str, list[float]] = dataclasses.field(default_factory=lambda: collections.defaultdict(list))
    codes: dict[str, collections.Counter] = dataclasses.field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    finished: dict[str, list[float]] = dataclasses.field(  # time.monotonic() at each latency's end
        default_factory=lambda: collections.defaultdict(list)
    )

    def record(self, rpc: str, started: float, code: str) -> None:
        self.codes[rpc][code] += 1
        if code == "OK":
            self.latencies_ms[rpc].append((time.perf_counter() - started) * 1000)
            self.finished[rpc].append(time.monotonic())

    @property
    def calls(self) -> int:
        return sum(sum(c.values()) for c in self.codes.values())

    @property
    def unintended_errors(self) -> int:
        return sum(n for c in self.codes.values() for code, n in c.items() if code != "OK" and code not in INTENDED)


@dataclasses.dataclass
class Ingest:
    """The run's upload jobs at its end: how many, in which state, and the pages they got through."""

    jobs: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # state name -> jobs
    pages_done: int = 0
    pages_total: int = 0

    def add(self, job: job_pb2.Job) -> None:
        self.jobs[job_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_")] += 1
        self.pages_done += job.pages_done
        self.pages_total += job.pages_total


async def ingest_since(clients, since: timestamp_pb2.Timestamp) -> Ingest:
    """Every job the clients' tenants created since `since` (one client per tenant)."""
    ingest = Ingest()
    for client in clients:
        token = ""
        while True:
            request = extractor_pb.ListJobsRequest(page_size=100, page_token=token, create_time_after=since)
            response = await client.extractor.ListJobs(request, timeout=30)
            for job in response.jobs:
                ingest.add(job)
            token = response.next_page_token
            if not token:
                break
    return ingest


@dataclasses.dataclass
class Tenant:
    name: str
    document: str  # "documents/<id>", seeded
    phrases: list[str]


class User:
    def __init__(self, index: int, tenant: Tenant, client, uploads: list[tuple[str, bytes]], results: Results):
        self.index, self.tenant, self.client = index, tenant, client
        self.uploads, self.results = uploads, results
        self.random = random.Random(index)
        self.uploaded = 0

    async def run(self, deadline: float, rate: float, mix: tuple[tuple[str, int], ...] = MIX) -> None:
        ops = [name for name, _ in mix]
        weights = [weight for _, weight in mix]
        while True:
            await asyncio.sleep(self.random.expovariate(rate))
            if time.monotonic() >= deadline:
                return
            op = self.random.choices(ops, weights)[0]
            await getattr(self, op)()

    async def _call(self, rpc: str, call) -> None:
        started = time.perf_counter()
        try:
            await call()
            code = "OK"
        except grpc.aio.AioRpcError as failure:
            code = failure.code().name
        self.results.record(rpc, started, code)

    async def search(self) -> None:
        query = self.random.choice(self.tenant.phrases)
        await self._call("SearchChunks", lambda: self.client.search_chunks(query, top_k=5))

    async def read(self) -> None:
        if self.random.random() < 0.5:
            request = search_pb.GetDocumentRequest(name=self.tenant.document)
            await self._call("GetDocument", lambda: self.client.search.GetDocument(request, timeout=10))
        else:
            request = search_pb.ListDocumentsRequest(page_size=20)
            await self._call("ListDocuments", lambda: self.client.search.ListDocuments(request, timeout=10))

    async def ask(self) -> None:
        question = f"What does the archive say about {self.random.choice(self.tenant.phrases)}?"

        async def ask() -> None:
            async for _ in self.client.answer.Ask(answer_pb.AskRequest(question=question), timeout=60):
                pass

        await self._call("Ask", ask)

    async def upload(self) -> None:
        self.uploaded += 1
        if self.uploads:
            name, data = self.uploads[(self.index + self.uploaded) % len(self.uploads)]
        else:  # new bytes each time, so every upload is real work (the same bytes again are a lookup)
            tag = f"loadu{self.index}x{self.uploaded}"
            name, data = f"{tag}.pdf", make_pdf(tag, 2)
        await self._call("UploadDocument", lambda: self.client.upload_bytes(data, name, timeout=120))


def corpus_uploads() -> list[tuple[str, bytes]]:
    """Readable corpus PDFs small enough to be seconds of work each; none without ../shared."""
    if not CORPUS.is_dir():
        return []
    files = sorted(p for p in CORPUS.rglob("*.pdf") if p.stat().st_size <= MAX_CORPUS_UPLOAD_BYTES)
    readable = [p for p in files if not any(word in p.name.lower() for word in ("encrypt", "broken", "corrupt"))]
    return [(p.name, p.read_bytes()) for p in readable[:12]]


async def seed(mesh, tenants: int, prefix: str) -> list[Tenant]:
    from mivaa_cli.client import MeshClient

    seeded = []
    for t in range(tenants):
        name, tag = f"{prefix}{t}", f"loadseed{t}"
        async with MeshClient(
            mesh.gateway_address, token=mesh.token(tenant=name, subject="seed"), ca=mesh.ca_path.read_bytes()
        ) as client:
            upload = await client.upload_bytes(make_pdf(tag, SEED_PAGES), f"{tag}.pdf")
            job = await client.wait_for_job(upload.job.name, timeout=600)
            if job.state != job_pb2.JOB_STATE_SUCCEEDED:
                raise RuntimeError(f"seeding {name} failed: {job.error.reason} {job.error.message}")
            phrases = [page_phrase(tag, page) for page in range(1, SEED_PAGES + 1)]
            seeded.append(Tenant(name, upload.document.name, phrases))
    return seeded


async def run_load(
    mesh,
    *,
    users: int,
    seconds: float,
    tenants: int,
    rate: float,
    sample_every: float,
    prefix: str = "t",
    mix: tuple[tuple[str, int], ...] = MIX,
):
    """Seeds the tenants, runs the users for `seconds`, and returns (results, sampler, elapsed, ingest)."""
    from mivaa_cli.client import MeshClient

    seeded = await seed(mesh, tenants, prefix)
    uploads = await asyncio.to_thread(corpus_uploads)
    results = Results()
    ca = mesh.ca_path.read_bytes()
    clients = [
        MeshClient(mesh.gateway_address, token=mesh.token(tenant=seeded[i % tenants].name, subject=f"u{i}"), ca=ca)
        for i in range(users)
    ]
    sampler, stop = MeshRssSampler(mesh, sample_every), asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    since = timestamp_pb2.Timestamp()
    since.GetCurrentTime()
    started = time.monotonic()
    try:
        crowd = [User(i, seeded[i % tenants], clients[i], uploads, results) for i in range(users)]
        await asyncio.gather(*(user.run(started + seconds, rate, mix) for user in crowd))
        elapsed = time.monotonic() - started
        ingest = await ingest_since(clients[: min(users, tenants)], since)
    finally:
        stop.set()
        await sampling
        for client in clients:
            await client.close()
    return results, sampler, elapsed, ingest


def report(
    results: Results,
    sampler: MeshRssSampler,
    elapsed: float,
    users: int,
    uploads_from: str,
    ingest: Ingest,
    window: float = 60,
) -> None:
    print(
        f"{users} users for {elapsed:.0f} s, uploads from {uploads_from}: {results.calls} calls, "
        f"{results.calls / elapsed:.1f} calls/s"
    )
    print(f"  {'rpc':16s} {'calls':>7s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}  results")
    for rpc in sorted(results.codes):
        ok = results.latencies_ms[rpc]
        codes = ", ".join(f"{code} {n}" for code, n in results.codes[rpc].most_common())
        print(
            f"  {rpc:16s} {sum(results.codes[rpc].values()):7d} {percentile(ok, 0.5):8.1f} "
            f"{percentile(ok, 0.95):8.1f} {percentile(ok, 0.99):8.1f}  {codes}"
        )
    share = results.unintended_errors / max(1, results.calls)
    print(f"  errors other than RESOURCE_EXHAUSTED: {results.unintended_errors} ({share:.3%})")
    states = ", ".join(f"{state} {n}" for state, n in ingest.jobs.most_common()) or "none"
    print(
        f"  ingest: jobs created during the run by state at its end: {states}; pages done "
        f"{ingest.pages_done} of {ingest.pages_total} ({ingest.pages_done / elapsed:.1f} pages/s)"
    )
    print(f"  {'process (PSS)':18s} {'first MiB':>10s} {'last MiB':>9s} {'peak MiB':>9s} {'slope MiB/min':>14s}")
    slopes = sampler.slopes()
    for name, samples in sorted(sampler.samples.items()):
        sizes = [rss / (1 << 20) for _, rss in samples]
        print(f"  {name:18s} {sizes[0]:10.0f} {sizes[-1]:9.0f} {max(sizes):9.0f} {slopes[name]:14.2f}")
    first = sampler.totals[0][1] if sampler.totals else 0
    print(f"  mesh total (PSS): first {first / (1 << 20):.0f} MiB, peak {sampler.peak_total() / (1 << 20):.0f} MiB")
    cores = os.cpu_count() or 1
    print(
        f"  SearchChunks per {window:.0f} s (ms), and each process's CPU in % of one core (all {cores}: {100 * cores}):"
    )
    for line in timeline(
        results.finished["SearchChunks"],
        results.latencies_ms["SearchChunks"],
        sampler.cpu,
        start=sampler.start,
        elapsed=elapsed,
        window=window,
    ):
        print(line)


async def main_async(args) -> None:
    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts

    state = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-bench-load-"))
    mesh = LocalMesh(state, MeshPorts.free(), workers=args.workers)
    try:
        mesh.start()
        results, sampler, elapsed, ingest = await run_load(
            mesh,
            users=args.users,
            seconds=args.seconds,
            tenants=args.tenants,
            rate=args.rate,
            sample_every=args.sample_every,
            mix=parse_mix(args.mix),
        )
        uploads_from = "the corpus" if corpus_uploads() else "generated PDFs"
        report(results, sampler, elapsed, args.users, uploads_from, ingest, args.window)
    finally:
        mesh.stop()
        shutil.rmtree(state, ignore_errors=True)


def parse_mix(text: str) -> tuple[tuple[str, int], ...]:
    """ "search=80,read=10,ask=5,upload=5" -> the weights (the operations User has)."""
    mix = []
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name not in dict(MIX) or not weight.isdigit():
            raise SystemExit(f"--mix: {part!r} is not one of {', '.join(dict(MIX))} with a whole weight")
        mix.append((name, int(weight)))
    return tuple(mix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--rate", type=float, default=0.5, help="requests a second per user, on average")
    parser.add_argument("--workers", type=int, default=1, help="extraction worker processes")
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--window", type=float, default=60, help="seconds per line of the timeline")
    parser.add_argument("--mix", default=",".join(f"{n}={w}" for n, w in MIX), help="operation weights")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
