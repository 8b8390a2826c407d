"""bench/million_chunks.py in small: 5k synthetic chunks through the whole bench (real PostgreSQL,
migrations, COPY, index builds, the store's query path, the real search and embedder processes
over mTLS), and figures of the right shape. The exact top 10 it computes while loading is
checked against PostgreSQL's own exact scan, so recall is judged against the truth."""

from __future__ import annotations

import numpy as np

from bench.million_chunks import parse, report, run
from bench.synthetic_chunks import ExactTop, Shape, Space


def test_exact_top_merges_blocks_and_keeps_tenants_apart():
    rng = np.random.default_rng(3)
    data = rng.standard_normal((60, 8)).astype(np.float32)
    tenants = np.asarray(["a", "b"] * 30)
    queries = data[[0, 1]]
    exact = ExactTop(queries, ["a", "b"], k=5)
    keys = [("d", i) for i in range(60)]
    for start in range(0, 60, 7):  # blocks of uneven size, some smaller than k
        exact.add(data[start : start + 7], keys[start : start + 7], tenants[start : start + 7])
    for q, tenant in enumerate(["a", "b"]):
        mine = np.flatnonzero(tenants == tenant)
        best = mine[np.argsort(-(data[mine] @ queries[q]))[:5]]
        assert exact.top(q) == {("d", int(i)) for i in best}


def test_space_queries_follow_the_data():
    space = Space(Shape(chunks=1000, documents=10, tenants=3, centroids=64, topics=8))
    vectors, tenants = space.queries(50)
    assert vectors.shape == (50, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert set(tenants) <= {"t0", "t1", "t2"}
    # Each query sits near one cluster centre (cos ~0.8), far from most.
    nearest = (vectors @ space.centres.T).max(axis=1)
    assert nearest.min() > 0.6


async def test_five_thousand_chunks_end_to_end(capsys):
    # Threshold 0: every search takes the HNSW path even though each tenant is small.
    args = parse(
        ["--chunks", "5000", "--tenants", "2", "--queries", "20", "--rpc-queries", "5"]
        + ["--exact-queries", "20", "--warmup", "2", "--ef", "400,40", "--exact-scan-max-chunks", "0"]
    )
    figures = await run(args)
    with capsys.disabled():
        report(figures, args)
    assert figures["chunks"] == 5000
    assert figures["hnsw_build_s"] > 0 and figures["hnsw_mib"] > 0 and figures["database_mib"] > 0
    rows = {row["label"]: row for row in figures["store"]}
    assert set(rows) == {"HNSW ef_search=400 (configured)", "HNSW ef_search=40", "exact scan (PostgreSQL)"}
    for row in rows.values():
        assert 0 <= row["recall@10"] <= 1
        assert 0 < row["similarity"] <= 1.0001  # the exact top 10 is the best there is
        assert 0 < row["p50"] <= row["p95"] <= row["p99"]
    # PostgreSQL's exact scan finds exactly what numpy computed while loading.
    assert rows["exact scan (PostgreSQL)"]["recall@10"] >= 0.98  # a near-tie may swap the 10th
    assert rows["HNSW ef_search=400 (configured)"]["recall@10"] >= 0.9
    assert figures["rpc"]["hits"] == 10 and figures["rpc"]["p95"] > 0 and figures["embed"]["p95"] > 0
    assert figures["search_process_mib"] > 0 and figures["postgres_mib"] > 0
