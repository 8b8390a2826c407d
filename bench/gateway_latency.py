"""What the gateway costs: SearchChunks through Envoy (TLS, JWT, RBAC, rate limit, mTLS upstream) versus straight to the search service.

    .venv/bin/python bench/gateway_latency.py [--calls 300] [--concurrency 1]

Starts its own mesh on free ports. Both paths run the same query against the
same index, alternating in rounds so a busy moment on the machine lands on
both; the direct path uses the ops client certificate (services accept only
mTLS), so the difference is Envoy's work: TLS termination, jwt_authn, RBAC,
the local rate limit, header rewriting and the second mTLS hop.
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

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.stats import percentile  # noqa: E402 - after the repository is importable


async def timed_calls(stub, request, calls: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    remaining = calls

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await stub.SearchChunks(request, timeout=30)
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def run(calls: int, concurrency: int, rounds: int) -> None:
    from mivaa.search.v1 import search_service_pb2 as search_pb
    from mivaa.search.v1 import search_service_pb2_grpc
    from mivaa_cli.client import MeshClient
    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts
    from mivaa_platform.channels import create_channel
    from mivaa_platform.tls import ClientTls
    from tests.support.pdfs import make_pdf, page_phrase

    state = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-bench-gateway-"))
    mesh = LocalMesh(state, MeshPorts.free(), workers=1, ocr=False)
    try:
        mesh.start()
        async with MeshClient(
            mesh.gateway_address, token=mesh.token(subject="bench"), ca=mesh.ca_path.read_bytes()
        ) as client:
            upload = await client.upload_bytes(make_pdf("latency", 8), "latency.pdf")
            await client.wait_for_job(upload.job.name, timeout=300)
            request = search_pb.SearchChunksRequest(query=page_phrase("latency", 3), top_k=5)
            gateway = client.search
            direct_channel = create_channel(mesh.address("search"), tls=ClientTls.from_cert_dir(mesh.certs_dir, "ops"))
            direct = search_service_pb2_grpc.SearchServiceStub(direct_channel)
            for stub in (gateway, direct):  # warm up both paths: connections, caches, the query's plan
                await timed_calls(stub, request, 20, concurrency)
            results: dict[str, list[float]] = {"gateway": [], "direct": []}
            per_round = max(1, calls // rounds)
            for _ in range(rounds):
                results["direct"] += await timed_calls(direct, request, per_round, concurrency)
                results["gateway"] += await timed_calls(gateway, request, per_round, concurrency)
            await direct_channel.close()
    finally:
        mesh.stop()
        shutil.rmtree(state, ignore_errors=True)

    print(f"SearchChunks latency, {len(results['gateway'])} calls per path, concurrency {concurrency} (2-core machine)")
    print(f"  {'path':50s} {'p50 ms':>8s} {'p95 ms':>8s} {'mean ms':>8s}")
    rows = {
        "direct to search (mTLS, ops certificate)": results["direct"],
        "through Envoy (TLS, JWT, RBAC, rate limit, mTLS)": results["gateway"],
    }
    for label, values in rows.items():
        print(
            f"  {label:50s} {percentile(values, 0.5):8.2f} {percentile(values, 0.95):8.2f} {statistics.mean(values):8.2f}"
        )
    for q, name in ((0.5, "p50"), (0.95, "p95")):
        added = percentile(results["gateway"], q) - percentile(results["direct"], q)
        ratio = percentile(results["gateway"], q) / percentile(results["direct"], q)
        print(f"  gateway / direct at {name}: {ratio:.2f}x  (+{added:.2f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
