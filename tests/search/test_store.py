"""DocumentStore against a real PostgreSQL with pgvector."""

from __future__ import annotations

import pathlib

import asyncio
import base64
import contextlib
import hashlib
import uuid

import numpy as np
import psycopg
import psycopg.sql
import pytest

from mivaa_platform.errors import FailedPrecondition, InvalidArgument, NotFound
from mivaa_search.store import ChunkRecord, DocumentStore

MIGRATIONS = sorted(
    f.name.removesuffix(".sql")
    for f in (pathlib.Path(__file__).resolve().parents[2] / "services/search/mivaa_search/migrations").glob("*.sql")
)

DIMENSION = 384  # as in conftest.py

rng = np.random.default_rng(20240611)


def unit_vector() -> np.ndarray:
    v = rng.standard_normal(DIMENSION).astype(np.float32)
    return v / np.linalg.norm(v)


def sha(n: object) -> str:
    return hashlib.sha256(f"document-{n}-{uuid.uuid4()}".encode()).hexdigest()


async def new_document(store: DocumentStore, name: str = "doc", labels: list[str] | None = None):
    doc, created = await store.create_document(
        filename=f"{name}.pdf", title=name.title(), labels=labels or [], sha256=sha(name),
        size_bytes=1234, page_count=0, job="jobs/1",
    )
    assert created
    return doc


def make_chunks(vectors: list[np.ndarray], prefix: str = "chunk") -> list[ChunkRecord]:
    return [
        ChunkRecord(index=i, text=f"{prefix} {i}", page_start=i + 1, page_end=i + 2, token_count=10 + i, embedding=v)
        for i, v in enumerate(vectors)
    ]


async def ready_document(store, name, labels=None, n_chunks=3):
    doc = await new_document(store, name, labels)
    vectors = [unit_vector() for _ in range(n_chunks)]
    doc = await store.replace_chunks(doc.id, make_chunks(vectors, name), "test-model", page_count=n_chunks + 1,
                                     mark_ready=True)
    return doc, vectors


async def fetch(dsn: str, query: str, params=()):
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cur = await conn.execute(query, params)
        return await cur.fetchall()


async def walk(store, page_size, labels=()):
    pages, token = [], ""
    while True:
        page, token = await store.list_documents(page_size, token, list(labels))
        pages.append(page)
        if not token:
            return pages


# -- migrations ------------------------------------------------------------------


async def test_migrations_are_idempotent(database_dsn):
    first = await DocumentStore.open(database_dsn, DIMENSION)
    doc = await new_document(first, "kept")
    await first.close()

    second = await DocumentStore.open(database_dsn, DIMENSION)
    try:
        assert (await second.get_document(doc.id)).sha256 == doc.sha256
    finally:
        await second.close()
    assert await fetch(database_dsn, "SELECT version FROM schema_migrations ORDER BY version") == [
        (version,) for version in MIGRATIONS
    ]


async def test_replicas_starting_together_migrate_once(database_dsn):
    stores = await asyncio.gather(*(DocumentStore.open(database_dsn, DIMENSION, max_size=2) for _ in range(5)))
    for s in stores:
        await s.close()
    assert await fetch(database_dsn, "SELECT count(*) FROM schema_migrations") == [(len(MIGRATIONS),)]


async def test_dimension_is_fixed_by_first_start(database_dsn):
    store = await DocumentStore.open(database_dsn, DIMENSION)
    await store.close()
    with pytest.raises(FailedPrecondition) as err:
        await DocumentStore.open(database_dsn, 768)
    assert err.value.reason == "EMBEDDING_DIMENSION_MISMATCH"
    assert err.value.metadata == {"stored_dimension": "384", "configured_dimension": "768"}


# -- documents ---------------------------------------------------------------------


async def test_create_is_idempotent_by_sha256(store, database_dsn):
    digest = sha("same")
    first, created = await store.create_document("a.pdf", "A", ["x"], digest, 10, 2, "jobs/1")
    again, created_again = await store.create_document("other.pdf", "B", [], digest, 99, 5, "jobs/2")
    assert (created, created_again) == (True, False)
    assert again == first
    assert (first.state, first.chunk_count, first.labels, first.job) == ("PENDING", 0, ["x"], "jobs/1")
    assert first.create_time.tzinfo is not None
    assert await fetch(database_dsn, "SELECT count(*) FROM documents") == [(1,)]


async def test_get_document_errors(store):
    with pytest.raises(InvalidArgument) as err:
        await store.get_document("not-a-uuid")
    assert (err.value.reason, err.value.domain) == ("INVALID_DOCUMENT_NAME", "search.mivaa")
    with pytest.raises(NotFound) as err:
        await store.get_document(str(uuid.uuid4()))
    assert (err.value.reason, err.value.domain) == ("DOCUMENT_NOT_FOUND", "search.mivaa")
    doc = await new_document(store, "upper")
    assert (await store.get_document(doc.id.upper())).id == doc.id


async def test_update_document(store):
    doc = await new_document(store, "upd")
    updated = await store.update_document(doc.id, state="PROCESSING", title="New", labels=["a", "b"], job="jobs/9")
    assert (updated.state, updated.title, updated.labels, updated.job) == ("PROCESSING", "New", ["a", "b"], "jobs/9")
    assert updated.filename == doc.filename and updated.update_time >= doc.update_time
    assert await store.get_document(doc.id) == updated
    with pytest.raises(InvalidArgument) as err:
        await store.update_document(doc.id, state="DONE")
    assert err.value.reason == "INVALID_DOCUMENT_STATE"
    with pytest.raises(NotFound):
        await store.update_document(str(uuid.uuid4()), state="READY")


async def test_list_walks_every_document_once_newest_first(store):
    created = [await new_document(store, f"d{i}") for i in range(7)]
    pages = await walk(store, 2)
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    listed = [d for p in pages for d in p]
    assert sorted(d.id for d in listed) == sorted(d.id for d in created)
    assert [d.id for d in listed] == [d.id for d in reversed(created)]


async def test_list_pagination_with_equal_create_times(store, database_dsn):
    created = [await new_document(store, f"tie{i}") for i in range(5)]
    async with await psycopg.AsyncConnection.connect(database_dsn) as conn:
        await conn.execute("UPDATE documents SET create_time = '2024-01-01T00:00:00Z'")
    listed = [d for p in await walk(store, 2) for d in p]
    assert len(listed) == 5
    assert {d.id for d in listed} == {d.id for d in created}


async def test_list_label_filter(store):
    ab = [await new_document(store, f"ab{i}", ["a", "b"]) for i in range(3)]
    a = [await new_document(store, f"a{i}", ["a"]) for i in range(2)]
    await new_document(store, "b", ["b"])
    await new_document(store, "none")

    only_a = [d for p in await walk(store, 2, ["a"]) for d in p]
    assert {d.id for d in only_a} == {d.id for d in ab + a}
    assert len(only_a) == 5
    both = [d for p in await walk(store, 2, ["b", "a"]) for d in p]
    assert {d.id for d in both} == {d.id for d in ab}
    assert await store.list_documents(0, "", ["missing"]) == ([], "")


async def test_list_page_size_and_token_errors(store):
    for i in range(3):
        await new_document(store, f"p{i}")
    page, token = await store.list_documents(0, "", [])  # 0 means the default (50)
    assert (len(page), token) == (3, "")

    with pytest.raises(InvalidArgument) as err:
        await store.list_documents(-1, "", [])
    assert err.value.reason == "INVALID_PAGE_SIZE"

    bad_tokens = ["garbage!!", "e30", base64.urlsafe_b64encode(b'{"t": 1, "i": "x", "f": ""}').decode(), "%%%"]
    for bad in bad_tokens:
        with pytest.raises(InvalidArgument) as err:
            await store.list_documents(2, bad, [])
        assert err.value.reason == "INVALID_PAGE_TOKEN", bad

    _, token = await store.list_documents(1, "", [])
    assert token
    with pytest.raises(InvalidArgument) as err:  # a token only works with the filter it was made for
        await store.list_documents(1, token, ["a"])
    assert err.value.reason == "INVALID_PAGE_TOKEN"


async def test_delete_cascades_chunks(store, database_dsn):
    doc, _ = await ready_document(store, "gone")
    keep, _ = await ready_document(store, "kept")
    deleted = await store.delete_document(doc.id)
    assert deleted.id == doc.id and deleted.sha256 == doc.sha256 and deleted.state == "READY"
    rows = await fetch(database_dsn, "SELECT document_id, count(*) FROM chunks GROUP BY document_id")
    assert rows == [(uuid.UUID(keep.id), 3)]
    with pytest.raises(NotFound):
        await store.get_document(doc.id)
    with pytest.raises(NotFound) as err:
        await store.delete_document(doc.id)
    assert err.value.reason == "DOCUMENT_NOT_FOUND"


# -- chunks ------------------------------------------------------------------------------


async def test_replace_chunks_twice_leaves_the_same_rows(store, database_dsn):
    doc = await new_document(store, "chunks")
    vectors = [unit_vector() for _ in range(4)]
    query = "SELECT chunk_index, text, page_start, page_end, token_count, model, embedding::text FROM chunks ORDER BY 1"

    first = await store.replace_chunks(doc.id, make_chunks(vectors), "m1", page_count=9, mark_ready=True)
    rows_first = await fetch(database_dsn, query)
    second = await store.replace_chunks(doc.id, make_chunks(vectors), "m1", page_count=9, mark_ready=True)
    rows_second = await fetch(database_dsn, query)

    assert len(rows_first) == 4 and rows_second == rows_first
    assert (second.state, second.chunk_count, second.page_count) == ("READY", 4, 9)
    assert first.chunk_count == 4
    stored = np.array([float(x) for x in rows_first[2][6].strip("[]").split(",")], dtype=np.float32)
    np.testing.assert_allclose(stored, vectors[2], rtol=1e-6)

    fewer = await store.replace_chunks(doc.id, make_chunks(vectors[:1]), "m2", page_count=9, mark_ready=True)
    assert fewer.chunk_count == 1
    assert await fetch(database_dsn, "SELECT chunk_index, model FROM chunks") == [(0, "m2")]


async def test_replace_chunks_without_mark_ready_keeps_state(store):
    doc = await new_document(store, "processing")
    await store.update_document(doc.id, state="PROCESSING")
    updated = await store.replace_chunks(doc.id, make_chunks([unit_vector()]), "m", page_count=1, mark_ready=False)
    assert (updated.state, updated.chunk_count) == ("PROCESSING", 1)


async def test_replace_chunks_rejects_bad_input(store):
    doc = await new_document(store, "bad")
    with pytest.raises(InvalidArgument) as err:
        await store.replace_chunks(doc.id, make_chunks([np.ones(10)]), "m", 1, True)
    assert err.value.reason == "EMBEDDING_DIMENSION_MISMATCH"
    with pytest.raises(InvalidArgument) as err:
        await store.replace_chunks(doc.id, make_chunks([np.full(DIMENSION, np.inf)]), "m", 1, True)
    assert err.value.reason == "INVALID_EMBEDDING"
    with pytest.raises(InvalidArgument) as err:
        await store.replace_chunks(doc.id, make_chunks([unit_vector()]) * 2, "m", 1, True)
    assert err.value.reason == "DUPLICATE_CHUNK_INDEX"
    with pytest.raises(NotFound):
        await store.replace_chunks(str(uuid.uuid4()), make_chunks([unit_vector()]), "m", 1, True)
    assert (await store.get_document(doc.id)).chunk_count == 0


# -- search ------------------------------------------------------------------------------


async def test_search_returns_nearest_chunk_first(store):
    doc, vectors = await ready_document(store, "near", n_chunks=8)
    await ready_document(store, "other", n_chunks=8)
    hits = await store.search(vectors[5], top_k=5, document_ids=[], labels=[])
    assert len(hits) == 5
    best = hits[0]
    assert (best.document_id, best.chunk_index, best.text, best.page_start, best.page_end) == (doc.id, 5, "near 5", 6, 7)
    assert best.document_title == "Near"
    assert best.score == pytest.approx(1.0, abs=1e-5)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[1] < 0.5


async def test_search_filters_by_document_and_labels_and_readiness(store):
    red, red_vectors = await ready_document(store, "red", labels=["color", "warm"])
    blue, blue_vectors = await ready_document(store, "blue", labels=["color", "cold"])
    pending = await new_document(store, "pending", labels=["color", "warm"])
    await store.replace_chunks(pending.id, make_chunks(red_vectors, "pending"), "m", 1, mark_ready=False)

    everything = await store.search(red_vectors[0], top_k=100, document_ids=[], labels=[])
    assert {h.document_id for h in everything} == {red.id, blue.id}  # the PENDING copy never shows
    assert len(everything) == 6

    only_blue = await store.search(red_vectors[0], top_k=10, document_ids=[blue.id], labels=[])
    assert {h.document_id for h in only_blue} == {blue.id} and len(only_blue) == 3

    warm = await store.search(blue_vectors[0], top_k=10, document_ids=[], labels=["warm"])
    assert {h.document_id for h in warm} == {red.id} and len(warm) == 3
    both_labels = await store.search(blue_vectors[0], top_k=10, document_ids=[], labels=["color", "cold"])
    assert {h.document_id for h in both_labels} == {blue.id}
    assert await store.search(blue_vectors[0], top_k=10, document_ids=[red.id], labels=["cold"]) == []

    await store.update_document(red.id, state="FAILED")
    assert {h.document_id for h in await store.search(red_vectors[0], 10, [], [])} == {blue.id}


async def test_filtered_search_still_fills_top_k(database_dsn):
    # Many chunks of another document lie nearer to the query, so the filters drop
    # everything an HNSW scan yields first. enable_sort = off makes the planner take
    # the HNSW path even at this small size (it would sort exactly otherwise); without
    # iterative scans this query returns no rows at all.
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        name = (await (await conn.execute("SELECT current_database()")).fetchone())[0]
        await conn.execute(psycopg.sql.SQL("ALTER DATABASE {} SET enable_sort = off").format(psycopg.sql.Identifier(name)))
    store = await DocumentStore.open(database_dsn, DIMENSION)
    try:
        query = unit_vector()
        crowd = await new_document(store, "crowd")
        near = [query + 0.3 * unit_vector() for _ in range(1500)]
        await store.replace_chunks(crowd.id, make_chunks(near), "m", 1, mark_ready=True)
        target, _ = await ready_document(store, "target", labels=["wanted"], n_chunks=12)

        hits = await store.search(query, top_k=10, document_ids=[], labels=["wanted"])
        assert len(hits) == 10 and {h.document_id for h in hits} == {target.id}
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        hits = await store.search(query, top_k=10, document_ids=[target.id], labels=[])
        assert len(hits) == 10 and {h.document_id for h in hits} == {target.id}
    finally:
        await store.close()


async def test_search_top_k_and_vector_validation(store):
    _, vectors = await ready_document(store, "many", n_chunks=12)
    assert len(await store.search(vectors[0], 0, [], [])) == 10  # 0 means the default
    assert len(await store.search(vectors[0], 1000, [], [])) == 12  # capped at 100, fewer exist
    for bad_k in (-1,):
        with pytest.raises(InvalidArgument) as err:
            await store.search(vectors[0], bad_k, [], [])
        assert err.value.reason == "INVALID_TOP_K"
    for bad_vector in (np.ones(3), np.zeros(DIMENSION), np.full(DIMENSION, np.nan)):
        with pytest.raises(InvalidArgument) as err:
            await store.search(bad_vector, 5, [], [])
        assert err.value.reason == "INVALID_QUERY_VECTOR"
    with pytest.raises(InvalidArgument) as err:
        await store.search(vectors[0], 5, ["nope"], [])
    assert err.value.reason == "INVALID_DOCUMENT_NAME"


async def test_chunks_keep_their_text_source_and_ocr_confidence(store):
    document, _ = await store.create_document(
        filename="scan.pdf", title="Scan", labels=[], sha256="e" * 64, size_bytes=1, page_count=2, job="jobs/x"
    )
    vectors = [unit_vector() for _ in range(2)]
    await store.replace_chunks(
        document.id,
        [
            ChunkRecord(0, "typed page", 1, 1, 3, vectors[0]),
            ChunkRecord(1, "scanned page", 2, 2, 3, vectors[1], text_source="OCR", ocr_confidence=0.91),
        ],
        model="m",
        page_count=2,
        mark_ready=True,
    )
    hits = await store.search(vectors[1], 2, [document.id], [])
    assert (hits[0].text_source, round(hits[0].ocr_confidence, 2)) == ("OCR", 0.91)
    assert (hits[1].text_source, hits[1].ocr_confidence) == ("TEXT_LAYER", None)
    with pytest.raises(InvalidArgument) as failure:
        await store.replace_chunks(
            document.id, [ChunkRecord(0, "x", 1, 1, 1, vectors[0], text_source="GUESS")], model="m", page_count=2, mark_ready=True
        )
    assert failure.value.reason == "INVALID_TEXT_SOURCE"


# -- structure: pages, images, placements ---------------------------------------------------


async def structured_document(store, name="structured", pages=45, images=3):
    from mivaa_search.store import ImageRecord, PlacementRecord

    doc = await new_document(store, name)
    image_records = [
        ImageRecord(sha256=hashlib.sha256(f"{name}-image-{i}".encode()).hexdigest(), mime_type="image/png",
                    width=10 + i, height=20 + i, data=f"png-bytes-{i}".encode() * (i + 1))
        for i in range(images)
    ]
    placements = [
        PlacementRecord(image_records[i % images].sha256, page=1 + i, bbox=(1.0, 2.0, 3.0, 4.0 + i), caption=f"Figure {i}")
        for i in range(images + 2)  # the first two images are shown twice
    ]
    doc = await store.replace_chunks(
        doc.id, make_chunks([unit_vector()]), "m", page_count=pages, mark_ready=True,
        pages=[(n, f"layout of page {n}".encode()) for n in range(1, pages + 1)],
        images=image_records, placements=placements,
        metadata=b"serialized-metadata", outline=b"serialized-outline",
    )
    return doc, image_records


async def test_pages_are_replaced_with_the_chunks_and_listed_in_order(store):
    doc, _ = await structured_document(store, "paged", pages=45)
    assert (doc.metadata, doc.outline, doc.image_count) == (b"serialized-metadata", b"serialized-outline", 3)
    numbers, token = [], ""
    while True:
        page, token = await store.list_pages(doc.id, 20, token)
        numbers.extend(n for n, _ in page)
        assert all(layout == f"layout of page {n}".encode() for n, layout in page)
        if not token:
            break
    assert numbers == list(range(1, 46))
    assert [n async for n, _ in store.iter_pages(doc.id, batch=7)] == list(range(1, 46))
    assert await store.pages_size(doc.id) == sum(len(f"layout of page {n}") for n in range(1, 46))
    # A re-run replaces everything: no duplicate pages or images.
    again = await store.replace_chunks(doc.id, make_chunks([unit_vector()]), "m", page_count=2, mark_ready=True,
                                       pages=[(1, b"new")], images=[], placements=[])
    assert again.image_count == 0 and again.metadata is None
    assert (await store.list_pages(doc.id, 0, ""))[0] == [(1, b"new")]
    with pytest.raises(InvalidArgument):
        await store.list_pages(doc.id, 5, "not-a-token")
    other, _ = await structured_document(store, "other-paged", pages=3)
    _, token = await store.list_pages(other.id, 1, "")
    with pytest.raises(InvalidArgument):
        await store.list_pages(doc.id, 1, token)  # a token of another document's listing


async def test_images_with_placements_bytes_and_deletion(store, database_dsn):
    doc, records = await structured_document(store, "pictures", images=3)
    listed, token = await store.list_images(doc.id, 2, "")
    rest, end = await store.list_images(doc.id, 2, token)
    assert end == ""
    images = listed + rest
    assert [image.sha256 for image in images] == [record.sha256 for record in records]  # order of first appearance
    assert [len(image.placements) for image in images] == [2, 2, 1]
    assert images[0].placements[0].caption == "Figure 0" and images[0].placements[1].page == 4
    assert images[1].size_bytes == len(records[1].data)
    one = await store.get_image(doc.id, records[2].sha256)
    assert (one.width, one.height, one.mime_type) == (12, 22, "image/png")
    assert await store.get_image_data(doc.id, records[2].sha256) == ("image/png", records[2].data)
    with pytest.raises(NotFound) as missing:
        await store.get_image(doc.id, "0" * 64)
    assert missing.value.reason == "IMAGE_NOT_FOUND"
    await store.delete_document(doc.id)
    for table in ("pages", "images", "image_placements"):
        assert await fetch(database_dsn, f"SELECT count(*) FROM {table} WHERE document_id = %s", [uuid.UUID(doc.id)]) == [(0,)]


async def test_image_vectors_are_searched_by_model_and_dimension(store, database_dsn):
    from mivaa_search.store import ImageRecord

    rng_local = np.random.default_rng(7)

    def vec(dimension: int) -> np.ndarray:
        v = rng_local.standard_normal(dimension).astype(np.float32)
        return v / np.linalg.norm(v)

    doc = await new_document(store, "gallery")
    vectors = [vec(32) for _ in range(6)]
    records = [
        ImageRecord(sha256=hashlib.sha256(f"gallery-{i}".encode()).hexdigest(), mime_type="image/png", width=8,
                    height=8, data=b"x" * (i + 1), embedding=vectors[i], embedding_model="tiny-clip")
        for i in range(6)
    ]
    await store.replace_chunks(doc.id, make_chunks([unit_vector()]), "m", page_count=1, mark_ready=True,
                               images=records, placements=[])
    other = await new_document(store, "other-gallery")
    await store.replace_chunks(other.id, make_chunks([unit_vector()]), "m", page_count=1, mark_ready=True,
                               images=[ImageRecord(sha256="a" * 64, mime_type="image/png", width=1, height=1, data=b"y",
                                                   embedding=vec(48), embedding_model="wide-clip")], placements=[])
    hits = await store.search_images(vectors[3], "tiny-clip", 3, [], [])
    assert hits[0].image.sha256 == records[3].sha256 and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].document_id == doc.id and hits[0].document_title == "Gallery"
    assert len(hits) == 3 and hits[0].score >= hits[1].score >= hits[2].score
    assert await store.search_images(vectors[3], "other-model", 3, [], []) == []
    assert await store.search_images(vectors[3], "tiny-clip", 3, [other.id], []) == []
    # Each dimension gets its own partial index.
    indexes = {name for (name,) in await fetch(database_dsn, "SELECT indexname FROM pg_indexes WHERE tablename = 'image_embeddings'")}
    assert {"image_embeddings_hnsw_32", "image_embeddings_hnsw_48"} <= indexes
    await store.delete_document(doc.id)
    assert await store.search_images(vectors[3], "tiny-clip", 3, [], []) == []


# -- tenants ---------------------------------------------------------------------------------


@contextlib.contextmanager
def not_found(reason: str = "DOCUMENT_NOT_FOUND"):
    """Another tenant's data must look exactly like missing data: NOT_FOUND with the usual reason."""
    with pytest.raises(NotFound) as err:
        yield
    assert err.value.reason == reason


async def test_same_bytes_in_two_tenants_are_two_documents(store):
    digest = sha("shared")
    a, created_a = await store.create_document("a.pdf", "A", [], digest, 10, 1, "jobs/a", tenant="acme")
    b, created_b = await store.create_document("b.pdf", "B", [], digest, 10, 1, "jobs/b", tenant="globex")
    again, created_again = await store.create_document("a2.pdf", "A2", [], digest, 10, 1, "jobs/a2", tenant="acme")
    assert (created_a, created_b, created_again) == (True, True, False)
    assert a.id != b.id and again.id == a.id
    assert (a.tenant, b.tenant) == ("acme", "globex")
    # Without a tenant it is the default tenant's: a third document.
    default, created_default = await store.create_document("d.pdf", "D", [], digest, 10, 1, "jobs/d")
    assert created_default and default.tenant == "default" and default.id not in (a.id, b.id)


async def test_another_tenants_document_is_not_found_everywhere(store, database_dsn):
    from mivaa_search.store import ImageRecord

    created, _ = await store.create_document("p.pdf", "Private", ["secret"], sha("private"), 10, 0, "jobs/p", tenant="acme")
    vector = unit_vector()
    image = ImageRecord(sha256="b" * 64, mime_type="image/png", width=1, height=1, data=b"png",
                        embedding=vector[:16] / np.linalg.norm(vector[:16]), embedding_model="clip")
    doc = await store.replace_chunks(
        created.id, make_chunks([vector]), "m", page_count=1, mark_ready=True, pages=[(1, b"page")], images=[image],
        placements=[], tenant="acme",
    )
    assert doc.state == "READY" and doc.tenant == "acme"

    for other in ("globex", "default"):
        with not_found():
            await store.get_document(doc.id, tenant=other)
        with not_found():
            await store.update_document(doc.id, title="stolen", tenant=other)
        with not_found():
            await store.update_document(doc.id, tenant=other)  # nothing to set: still a read
        with not_found():
            await store.delete_document(doc.id, tenant=other)
        with not_found():
            await store.replace_chunks(doc.id, [], "m", page_count=0, mark_ready=True, tenant=other)
        with not_found():
            await store.list_pages(doc.id, 0, "", tenant=other)
        with not_found():
            await store.pages_size(doc.id, tenant=other)
        with not_found():
            [page async for page in store.iter_pages(doc.id, tenant=other)]
        with not_found():
            await store.list_images(doc.id, 0, "", tenant=other)
        with not_found("IMAGE_NOT_FOUND"):
            await store.get_image(doc.id, image.sha256, tenant=other)
        with not_found("IMAGE_NOT_FOUND"):
            await store.get_image_data(doc.id, image.sha256, tenant=other)
        assert (await store.list_documents(0, "", [], tenant=other))[0] == []
        assert (await store.list_documents(0, "", ["secret"], tenant=other))[0] == []
        assert await store.search(vector, 10, [], [], tenant=other) == []
        assert await store.search(vector, 10, [doc.id], [], tenant=other) == []
        assert await store.search_images(image.embedding, "clip", 10, [], [], tenant=other) == []

    # Nothing above changed the owner's document, and the owner sees all of it.
    assert (await store.get_document(doc.id, tenant="acme")) == doc
    assert [d.id for d in (await store.list_documents(0, "", [], tenant="acme"))[0]] == [doc.id]
    assert (await store.search(vector, 1, [], [], tenant="acme"))[0].document_id == doc.id
    assert (await store.search_images(image.embedding, "clip", 1, [], [], tenant="acme"))[0].document_id == doc.id
    assert await store.get_image_data(doc.id, image.sha256, tenant="acme") == ("image/png", b"png")
    assert (await store.list_pages(doc.id, 0, "", tenant="acme"))[0] == [(1, b"page")]
    assert await fetch(database_dsn, "SELECT count(*) FROM chunks") == [(1,)]
    await store.delete_document(doc.id, tenant="acme")
    with not_found():
        await store.get_document(doc.id, tenant="acme")


async def test_search_and_listing_stay_within_the_tenant(store):
    a, vectors_a = await ready_document(store, "alpha")
    b_created, _ = await store.create_document("beta.pdf", "Beta", [], sha("beta"), 1, 0, "jobs/b", tenant="globex")
    vectors_b = [unit_vector() for _ in range(3)]
    b = await store.replace_chunks(b_created.id, make_chunks(vectors_b), "m", page_count=3, mark_ready=True, tenant="globex")
    hits = await store.search(vectors_b[0], 10, [], [])  # the default tenant searching b's exact vector
    assert hits and {hit.document_id for hit in hits} == {a.id}
    hits = await store.search(vectors_a[0], 10, [], [], tenant="globex")
    assert hits and {hit.document_id for hit in hits} == {b.id}
    assert [d.id for d in (await store.list_documents(0, "", []))[0]] == [a.id]
    assert [d.id for d in (await store.list_documents(0, "", [], tenant="globex"))[0]] == [b.id]


async def test_sha256_in_use_counts_every_tenant(store):
    digest = sha("in-use")
    a, _ = await store.create_document("a.pdf", "A", [], digest, 1, 0, "jobs/a", tenant="acme")
    b, _ = await store.create_document("b.pdf", "B", [], digest, 1, 0, "jobs/b", tenant="globex")
    await store.delete_document(b.id, tenant="globex")
    assert await store.sha256_in_use(digest)  # acme still has it
    await store.delete_document(a.id, tenant="acme")
    assert not await store.sha256_in_use(digest)


async def test_tenant_migration_keeps_existing_documents_in_the_default_tenant(database_dsn):
    """A database migrated before tenancy: its rows become the default tenant's, sha256 unique per tenant."""
    folder = pathlib.Path(__file__).resolve().parents[2] / "services/search/mivaa_search/migrations"
    before = [f for f in sorted(folder.glob("*.sql")) if f.name < "0005"]
    digest = sha("old")
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        await conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        for f in before:
            await conn.execute(f.read_text().replace("{dimension}", str(DIMENSION)))
            await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", [f.name.removesuffix(".sql")])
        cur = await conn.execute(
            "INSERT INTO documents (filename, sha256, size_bytes) VALUES ('old.pdf', %s, 1) RETURNING id", [digest]
        )
        (old_id,) = await cur.fetchone()

    store = await DocumentStore.open(database_dsn, DIMENSION)
    try:
        old = await store.get_document(str(old_id))
        assert old.tenant == "default" and old.sha256 == digest
        with pytest.raises(NotFound):
            await store.get_document(str(old_id), tenant="acme")
        again, created = await store.create_document("old.pdf", "", [], digest, 1, 0, "jobs/x")
        assert not created and again.id == old.id
        _, created = await store.create_document("old.pdf", "", [], digest, 1, 0, "jobs/y", tenant="acme")
        assert created
    finally:
        await store.close()
    indexes = {name for (name,) in await fetch(database_dsn, "SELECT indexname FROM pg_indexes WHERE tablename = 'documents'")}
    assert {"documents_tenant_sha256_key", "documents_tenant_create_time_id_idx", "documents_sha256_idx"} <= indexes
    assert "documents_sha256_key" not in indexes and "documents_create_time_id_idx" not in indexes


async def test_a_database_without_pgvector_is_a_clear_precondition(local_postgres):
    """The services' role is no superuser: it cannot create pgvector, and says so."""
    import psycopg
    from psycopg import sql

    name = f"test_novector_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(local_postgres.superuser_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER mivaa").format(sql.Identifier(name)))
    try:
        with pytest.raises(FailedPrecondition) as err:
            await DocumentStore.open(local_postgres.app_dsn(name), DIMENSION)
        assert err.value.reason == "VECTOR_EXTENSION_MISSING"
    finally:
        local_postgres.drop_database(name)
