"""Vector recall of the chunk index after churn, and the cost of an exact scan: the figures behind
the search service's EXACT_SCAN_MAX_CHUNKS and HNSW_EF_SEARCH.

Builds a real PostgreSQL + pgvector database through SearchStore, fills it with documents whose
chunk vectors are the real model's embeddings of corpus text (windows of 80 words) and noisy
copies of them (clusters of near-duplicates, as similar chunks of similar documents are), then
deletes and replaces a share of the documents as users do. Then, for each ef_search, every
sampled chunk is searched by its own vector through HNSW: recall@1 and recall@10 are the share
found first and in the top 10. The exact scan's latency is measured on the same data.

    python bench/vector_recall.py --chunks 20000 --sample 300
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import shutil
import socket
import statistics
import sys
import tempfile
import time

import numpy as np
import psycopg
from pgvector.psycopg import register_vector_async

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mivaa_cli.localmesh.postgres import LocalPostgres  # noqa: E402
from mivaa_search.store import ChunkRecord, DocumentContent, NewDocument, SearchStore  # noqa: E402
from mivaa_search.store.retrieval import VectorTuning  # noqa: E402

CHUNKS_PER_DOCUMENT = 50


def corpus_windows(folder: pathlib.Path, width: int = 80, stride: int = 40) -> list[str]:
    import pymupdf

    windows = []
    for path in sorted(folder.glob("*.pdf")):
        try:
            with pymupdf.open(path) as document:
                words = " ".join(page.get_text() for page in document).split()
        except (ValueError, RuntimeError):  # encrypted or broken samples of the corpus
            continue
        windows += [" ".join(words[i : i + width]) for i in range(0, max(len(words) - width, 1), stride)]
    return [w for w in windows if len(w.split()) >= 10]


def vectors(count: int, noise: float, seed: int = 7) -> np.ndarray:
    from mivaa_embedder.text_model import OnnxTextEmbedder

    texts = corpus_windows(ROOT.parent / "shared" / "corpus")
    model = OnnxTextEmbedder(ROOT / "models" / "all-MiniLM-L6-v2")
    base = np.asarray(model.embed(texts).vectors, dtype=np.float32)
    rng = np.random.default_rng(seed)
    copies = base[rng.integers(0, len(base), count)]
    noisy = copies + rng.normal(0, noise, copies.shape).astype(np.float32)  # 0.02: cos ~0.93 to the original
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


async def fill(store: SearchStore, data: np.ndarray, churn: float, rng: np.random.Generator) -> list[str]:
    documents = []
    for start in range(0, len(data), CHUNKS_PER_DOCUMENT):
        documents.append(await write(store, data[start : start + CHUNKS_PER_DOCUMENT], len(documents)))
    # Delete some documents, replace others (the same content upserted again), as users do.
    order = rng.permutation(len(documents))
    removed = order[: int(churn * len(documents))]
    for index in removed:
        await store.documents.delete(documents[index][0], tenant="default")
    for index in order[len(removed) : 2 * len(removed)]:
        doc_id, block = documents[index]
        await store.chunks.replace_content(doc_id, content(block), tenant="default")
    return [documents[i][0] for i in order[len(removed) :]]


def content(block: np.ndarray) -> DocumentContent:
    chunks = [ChunkRecord(i, f"chunk {i}", i + 1, i + 1, 10, v) for i, v in enumerate(block)]
    return DocumentContent(chunks=chunks, model="bench", page_count=len(block), mark_ready=True)


async def write(store: SearchStore, block: np.ndarray, n: int) -> tuple[str, np.ndarray]:
    new = NewDocument(f"d{n}.pdf", f"d{n}", [], f"{n:064x}", 1, len(block), "")
    record, _ = await store.documents.create(new, tenant="default")
    await store.chunks.replace_content(record.id, content(block), tenant="default")
    return record.id, block


async def measure(args) -> None:
    rng = np.random.default_rng(11)
    data = vectors(args.chunks, args.noise)
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-bench-pg-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = LocalPostgres(folder / "data", port)
    server.start()
    try:
        server.create_app_database("bench")
        async with await SearchStore.open(server.app_dsn("bench"), data.shape[1]) as store:
            started = time.perf_counter()
            live = await fill(store, data, args.churn, rng)
            print(f"filled {len(data)} chunks, churn {args.churn:.0%}: {time.perf_counter() - started:.0f} s")
            dsn = server.app_dsn("bench")
            await report(store, dsn, live, args)
            if args.reindex:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await conn.execute("REINDEX INDEX CONCURRENTLY chunks_embedding_hnsw_idx")
                print("after REINDEX INDEX CONCURRENTLY:")
                await report(store, dsn, live, args, ef_values=(40, 100))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def report(store: SearchStore, dsn: str, live: list[str], args, ef_values=(40, 100, 200, 400)) -> None:
    from mivaa_search.store import SearchFilter

    rng = np.random.default_rng(5)
    samples = []
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await register_vector_async(conn)
        for doc_id in rng.choice(live, size=min(args.sample, len(live)), replace=True):
            cur = await conn.execute(
                "SELECT chunk_index, embedding FROM chunks WHERE document_id = %s ORDER BY random() LIMIT 1", [doc_id]
            )
            index, vector = await cur.fetchone()
            samples.append((str(doc_id), index, np.asarray(vector.to_numpy())))
    total = sum(1 for _ in live) * CHUNKS_PER_DOCUMENT
    for exact_limit, ef_list in ((0, ef_values), (10**9, (0,))):
        for ef in ef_list:
            store.chunks.tuning = VectorTuning(exact_scan_max_chunks=exact_limit, ef_search=max(ef, 1))
            first = top10 = 0
            times = []
            for doc_id, index, vector in samples:
                started = time.perf_counter()
                hits = await store.chunks.nearest(vector, 10, SearchFilter(), tenant="default")
                times.append(time.perf_counter() - started)
                keys = [(h.document_id, h.chunk_index) for h in hits]
                first += bool(keys) and keys[0] == (doc_id, index)
                top10 += (doc_id, index) in keys
            label = "exact scan" if exact_limit else f"HNSW ef_search={ef}"
            print(
                f"{label:>22}: recall@1 {first / len(samples):.3f}  recall@10 {top10 / len(samples):.3f}"
                f"  p50 {statistics.median(times) * 1000:.1f} ms  p95 {np.percentile(times, 95) * 1000:.1f} ms"
                f"  ({len(samples)} self-queries over {total} live chunks)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--churn", type=float, default=0.3, help="share of documents deleted (and as many replaced)")
    parser.add_argument("--noise", type=float, default=0.02, help="spread of the copies of each real vector")
    parser.add_argument("--reindex", action="store_true", help="measure again after REINDEX CONCURRENTLY")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
