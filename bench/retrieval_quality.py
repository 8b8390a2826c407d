"""Retrieval quality: SearchChunks (VECTOR, KEYWORD, HYBRID) against the naive LlamaIndex pipeline, and Ask.

    .venv/bin/python bench/retrieval_quality.py [--quick] [--no-ask]

Builds its query sets in code (bench/retrieval_sets.py): known items (verbatim
8-15-word fragments of real PDFs from ../shared/corpus and of generated
documents, each with its page), questions with their answer pages (facts of the
generated documents, bench/retrieval_docs.py, and a hand-checked set over corpus
documents) and exact identifiers (part numbers, archive references).

The naive pipeline is what a new user writes in 30 lines (bench/naive_rag.py):
pypdf pages, llama-index SentenceSplitter 256/32, all-MiniLM-L6-v2 (the
project's ONNX export, in-process), in-memory VectorStoreIndex. The mesh is
started on free ports (real NATS, PostgreSQL, services, Envoy); the PDFs are
uploaded through the extractor's upload API and searched with SearchChunks
through the gateway. Prints recall@1, recall@5 and MRR (top 10) per set and
system, HYBRID/naive ratios, Ask latency (first answer text and whole answer,
p50/p95, extractive generator) and citation precision, next to the targets.
--quick: the generated documents (smaller) and one corpus paper only.
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

from bench import retrieval_sets as sets  # noqa: E402 - after the path insert, like the other benchmarks
from bench.retrieval_docs import generated_documents  # noqa: E402
from bench.retrieval_eval import (  # noqa: E402
    TOP_K,
    AskFigures,
    Ranked,
    Scores,
    measure_ask,
    mode_is_honoured,
    percentile,
    rank_of,
    score,
    search_ranks,
    search_stub_modes,
)

MODEL_DIR = REPO_ROOT / "models" / "all-MiniLM-L6-v2"
SYSTEMS = ("VECTOR", "KEYWORD", "HYBRID", "naive")


def naive_scores(
    sources: list[sets.Source], query_sets: dict[str, list[sets.Query]]
) -> tuple[dict[str, Scores], list[str]]:
    from bench.naive_rag import MiniLMEmbedding, NaivePipeline

    started = time.perf_counter()
    pages = [(s.key, n, text) for s in sources for n, text in enumerate(s.pypdf_pages, 1)]
    pipeline = NaivePipeline(pages, MiniLMEmbedding(MODEL_DIR))
    built = time.perf_counter() - started
    results = {}
    latencies = []
    for name, queries in query_sets.items():
        ranks = []
        for query in queries:
            t0 = time.perf_counter()
            hits = pipeline.search(query.text, TOP_K)
            latencies.append((time.perf_counter() - t0) * 1000)
            ranks.append(rank_of(query, [Ranked(h.doc, h.page_start, h.page_end) for h in hits]))
        results[name] = score(ranks)
    notes = [
        f"naive pipeline: {len(pages)} pypdf pages -> {len(pipeline.nodes)} chunks, index built in {built:.1f} s; "
        f"query p50 {percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms (in-process)"
    ]
    return results, notes


async def mesh_scores(
    mesh, sources: list[sets.Source], query_sets: dict[str, list[sets.Query]], *, ask: bool
) -> tuple[dict[str, dict[str, Scores]], AskFigures, list[str]]:
    from mivaa.jobs.v1 import job_pb2
    from mivaa_cli.client import MeshClient

    notes = []
    async with MeshClient(
        mesh.gateway_address, token=mesh.token(subject="retrieval-bench"), ca=mesh.ca_path.read_bytes()
    ) as client:
        started = time.perf_counter()
        uploads = [await client.upload_bytes(s.data, s.filename, title=s.key) for s in sources]
        finals = await asyncio.gather(*(client.wait_for_job(u.job.name, timeout=3600) for u in uploads))
        ingest = time.perf_counter() - started
        for source, final in zip(sources, finals, strict=True):
            if final.state != job_pb2.JOB_STATE_SUCCEEDED:
                state = job_pb2.JobState.Name(final.state)
                notes.append(
                    f"WARNING: ingest of {source.filename} ended {state} ({final.error.reason or 'no reason'}): "
                    f"its queries count as misses for SearchChunks"
                )
        key_of = {u.document.name: s.key for u, s in zip(uploads, sources, strict=True)}
        pages = sum(f.pages_total for f in finals)
        chunks = sum(f.chunks_indexed for f in finals)
        notes.append(
            f"mesh ingest through the gateway (upload API, 1 worker, no OCR): {len(sources)} PDFs, {pages} pages, "
            f"{chunks} chunks in {ingest:.1f} s ({pages / ingest:.1f} pages/s)"
        )

        def doc_of(name: str) -> str:
            return key_of.get(name, name)

        if not await mode_is_honoured(client.search, "benchmark"):
            notes.append(
                "NOTE: the search service ignores SearchChunksRequest.mode (KEYWORD still embeds the query): "
                "VECTOR, KEYWORD and HYBRID below are all vector search until hybrid retrieval is merged"
            )
        results: dict[str, dict[str, Scores]] = {}
        for mode_name, mode in search_stub_modes().items():
            results[mode_name] = {}
            latencies: list[float] = []
            for set_name, queries in query_sets.items():
                ranks, took = await search_ranks(client.search, queries, mode, doc_of)
                results[mode_name][set_name] = score(ranks)
                latencies += took
            notes.append(
                f"SearchChunks {mode_name:7s} through the gateway, top_k={TOP_K}: "
                f"p50 {percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms"
            )
        page_texts = {(s.key, n): text for s in sources for n, text in enumerate(s.pymupdf_pages, 1)}
        if not ask:
            figures = AskFigures(skipped="--no-ask")
        elif "answer" not in mesh.processes:
            figures = AskFigures(skipped="the local mesh starts no answer service (mivaa.answer.v1) yet")
        else:
            figures = await measure_ask(
                client.channel, query_sets["questions"], doc_of, lambda doc, page: page_texts.get((doc, page), "")
            )
    return results, figures, notes


def report(
    counts: dict[str, dict[str, int]], results: dict[str, dict[str, Scores]], ask: AskFigures, notes: list[str]
) -> None:
    print()
    for note in notes:
        print(note)
    print(f"\nRetrieval quality, top {TOP_K} (a hit is right when its page range holds the answer page)")
    print(f"  {'set':12s} {'queries':>24s}  {'system':8s} {'R@1':>6s} {'R@5':>6s} {'MRR':>6s}")
    for set_name, by_origin in counts.items():
        origins = ", ".join(f"{n} {origin}" for origin, n in by_origin.items())
        for i, system in enumerate(SYSTEMS):
            label = (set_name, origins) if i == 0 else ("", "")
            print(f"  {label[0]:12s} {label[1]:>24s}  {system:8s} {results[system][set_name].row()}")
    print("\nHYBRID / naive")
    for set_name in counts:
        hybrid, naive = results["HYBRID"][set_name], results["naive"][set_name]
        ratios = [h / n if n else float("nan") for h, n in zip(_metrics(hybrid), _metrics(naive), strict=True)]
        print(f"  {set_name:12s} R@1 {ratios[0]:5.2f}x  R@5 {ratios[1]:5.2f}x  MRR {ratios[2]:5.2f}x")
    print()
    for line in ask.lines():
        print(line)
    hybrid_known, naive_known = (
        results["HYBRID"]["known items"].recall_at_5,
        results["naive"]["known items"].recall_at_5,
    )
    hybrid_questions = results["HYBRID"]["questions"].recall_at_5
    print("\nTargets")
    print(f"  HYBRID known-item recall@5 >= 0.95: {hybrid_known:.3f} ({_verdict(hybrid_known >= 0.95)})")
    print(
        f"  HYBRID known-item recall@5 >= naive + 0.10: {hybrid_known:.3f} vs {naive_known:.3f} + 0.10 "
        f"({_verdict(hybrid_known >= naive_known + 0.10)})"
    )
    print(
        f"  HYBRID question answer-page recall@5 >= 0.90: {hybrid_questions:.3f} ({_verdict(hybrid_questions >= 0.9)})"
    )
    if ask.skipped:
        print(f"  extractive Ask first answer text p95 < 500 ms: not measured ({ask.skipped})")
    else:
        p95 = percentile(ask.first_token_ms, 0.95)
        print(f"  extractive Ask first answer text p95 < 500 ms: {p95:.1f} ms ({_verdict(p95 < 500)})")


def _metrics(scores: Scores) -> tuple[float, float, float]:
    return scores.recall_at_1, scores.recall_at_5, scores.mrr


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small generated documents and one corpus paper")
    parser.add_argument("--no-ask", action="store_true", help="leave out the Ask measurements")
    parser.add_argument("--write-queries", type=pathlib.Path, help="also write the query sets here (TSV)")
    args = parser.parse_args()

    generated = generated_documents(quick=args.quick)
    sources, notes = sets.load_sources(generated, quick=args.quick)
    query_sets = {
        "known items": sets.known_items(sources, generated_per_doc=6 if args.quick else 12),
        "questions": sets.questions(sources, generated),
        "identifiers": sets.identifiers(generated),
    }
    counts = {name: _by_origin(queries) for name, queries in query_sets.items()}
    if args.write_queries:
        rows = [
            f"{name}\t{q.doc}\t{','.join(map(str, q.pages))}\t{q.text}" for name, qs in query_sets.items() for q in qs
        ]
        args.write_queries.write_text("set\tdocument\tpages\tquery\n" + "\n".join(rows) + "\n")
    notes.append("documents: " + ", ".join(f"{s.key} ({len(s.pymupdf_pages)} p, {s.origin})" for s in sources))

    naive, naive_notes = naive_scores(sources, query_sets)
    notes += naive_notes

    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts

    state = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-bench-retrieval-"))
    mesh = LocalMesh(state, MeshPorts.free(), workers=1, ocr=False)
    try:
        t0 = time.perf_counter()
        mesh.start()
        notes.append(f"mesh start-up: {time.perf_counter() - t0:.1f} s")
        results, ask, mesh_notes = asyncio.run(mesh_scores(mesh, sources, query_sets, ask=not args.no_ask))
    finally:
        mesh.stop()
        shutil.rmtree(state, ignore_errors=True)
    results["naive"] = naive
    report(counts, results, ask, notes + mesh_notes)
    return 0


def _by_origin(queries: list[sets.Query]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for query in queries:
        counts[query.origin] = counts.get(query.origin, 0) + 1
    return counts


if __name__ == "__main__":
    sys.exit(main())
