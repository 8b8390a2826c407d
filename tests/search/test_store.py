"""SearchStore's repositories (and the catalog's listings) against a real PostgreSQL with pgvector."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import uuid

import numpy as np
import psycopg
import psycopg.sql
import pytest

from mivaa_platform.errors import InvalidArgument, NotFound
from mivaa_search.store import ChunkRecord, NewDocument, SearchFilter, SearchStore
from tests.search.support import (
    DIMENSION,
    TENANT,
    create,
    fetch,
    iter_pages,
    list_documents,
    list_images,
    list_pages,
    make_chunks,
    new_document,
    ready_document,
    replace,
    search,
    search_images,
    sha,
    unit_vector,
    walk,
)

# -- documents ---------------------------------------------------------------------


async def test_create_is_idempotent_by_sha256(store, database_dsn):
    digest = sha("same")
    first, created = await create(store, "a.pdf", "A", ["x"], digest, 10, 2, "jobs/1")
    again, created_again = await create(store, "other.pdf", "B", [], digest, 99, 5, "jobs/2")
    assert (created, created_again) == (True, False)
    assert again == first
    assert (first.state, first.chunk_count, first.labels, first.job) == ("PENDING", 0, ["x"], "jobs/1")
    assert first.create_time.tzinfo is not None
    assert await fetch(database_dsn, "SELECT count(*) FROM documents") == [(1,)]


async def test_get_document_errors(store):
    with pytest.raises(InvalidArgument) as err:
        await store.documents.get("not-a-uuid", tenant=TENANT)
    assert (err.value.reason, err.value.domain) == ("INVALID_DOCUMENT_NAME", "search.mivaa")
    with pytest.raises(NotFound) as err:
        await store.documents.get(str(uuid.uuid4()), tenant=TENANT)
    assert (err.value.reason, err.value.domain) == ("DOCUMENT_NOT_FOUND", "search.mivaa")
    doc = await new_document(store, "upper")
    assert (await store.documents.get(doc.id.upper(), tenant=TENANT)).id == doc.id


async def test_update_document(store):
    doc = await new_document(store, "upd")
    updated = await store.documents.update(
        doc.id, state="PROCESSING", title="New", labels=["a", "b"], job="jobs/9", tenant=TENANT
    )
    assert (updated.state, updated.title, updated.labels, updated.job) == ("PROCESSING", "New", ["a", "b"], "jobs/9")
    assert updated.filename == doc.filename and updated.update_time >= doc.update_time
    assert await store.documents.get(doc.id, tenant=TENANT) == updated
    with pytest.raises(InvalidArgument) as err:
        await store.documents.update(doc.id, state="DONE", tenant=TENANT)
    assert err.value.reason == "INVALID_DOCUMENT_STATE"
    with pytest.raises(NotFound):
        await store.documents.update(str(uuid.uuid4()), state="READY", tenant=TENANT)


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
    assert await list_documents(store, 0, "", ["missing"]) == ([], "")


async def test_list_page_size_and_token_errors(store):
    for i in range(3):
        await new_document(store, f"p{i}")
    page, token = await list_documents(store, 0, "", [])  # 0 means the default (50)
    assert (len(page), token) == (3, "")

    with pytest.raises(InvalidArgument) as err:
        await list_documents(store, -1, "", [])
    assert err.value.reason == "INVALID_PAGE_SIZE"

    bad_tokens = ["garbage!!", "e30", base64.urlsafe_b64encode(b'{"t": 1, "i": "x", "f": ""}').decode(), "%%%"]
    for bad in bad_tokens:
        with pytest.raises(InvalidArgument) as err:
            await list_documents(store, 2, bad, [])
        assert err.value.reason == "INVALID_PAGE_TOKEN", bad

    _, token = await list_documents(store, 1, "", [])
    assert token
    with pytest.raises(InvalidArgument) as err:  # a token only works with the filter it was made for
        await list_documents(store, 1, token, ["a"])
    assert err.value.reason == "INVALID_PAGE_TOKEN"
    with pytest.raises(InvalidArgument) as err:  # and only for the tenant it was made for
        await list_documents(store, 1, token, [], tenant="acme")
    assert err.value.reason == "INVALID_PAGE_TOKEN"


async def test_delete_cascades_chunks(store, database_dsn):
    doc, _ = await ready_document(store, "gone")
    keep, _ = await ready_document(store, "kept")
    deleted = await store.documents.delete(doc.id, tenant=TENANT)
    assert deleted.id == doc.id and deleted.sha256 == doc.sha256 and deleted.state == "READY"
    rows = await fetch(database_dsn, "SELECT document_id, count(*) FROM chunks GROUP BY document_id")
    assert rows == [(uuid.UUID(keep.id), 3)]
    with pytest.raises(NotFound):
        await store.documents.get(doc.id, tenant=TENANT)
    with pytest.raises(NotFound) as err:
        await store.documents.delete(doc.id, tenant=TENANT)
    assert err.value.reason == "DOCUMENT_NOT_FOUND"


# -- chunks ------------------------------------------------------------------------------


async def test_replace_chunks_twice_leaves_the_same_rows(store, database_dsn):
    doc = await new_document(store, "chunks")
    vectors = [unit_vector() for _ in range(4)]
    query = "SELECT chunk_index, text, page_start, page_end, token_count, model, embedding::text FROM chunks ORDER BY 1"

    first = await replace(store, doc.id, make_chunks(vectors), "m1", page_count=9, mark_ready=True)
    rows_first = await fetch(database_dsn, query)
    second = await replace(store, doc.id, make_chunks(vectors), "m1", page_count=9, mark_ready=True)
    rows_second = await fetch(database_dsn, query)

    assert len(rows_first) == 4 and rows_second == rows_first
    assert (second.state, second.chunk_count, second.page_count) == ("READY", 4, 9)
    assert first.chunk_count == 4
    stored = np.array([float(x) for x in rows_first[2][6].strip("[]").split(",")], dtype=np.float32)
    np.testing.assert_allclose(stored, vectors[2], rtol=1e-6)

    fewer = await replace(store, doc.id, make_chunks(vectors[:1]), "m2", page_count=9, mark_ready=True)
    assert fewer.chunk_count == 1
    assert await fetch(database_dsn, "SELECT chunk_index, model FROM chunks") == [(0, "m2")]


async def test_replace_chunks_without_mark_ready_keeps_state(store):
    doc = await new_document(store, "processing")
    await store.documents.update(doc.id, state="PROCESSING", tenant=TENANT)
    updated = await replace(store, doc.id, make_chunks([unit_vector()]), "m", page_count=1, mark_ready=False)
    assert (updated.state, updated.chunk_count) == ("PROCESSING", 1)


async def test_replace_chunks_rejects_bad_input(store):
    doc = await new_document(store, "bad")
    with pytest.raises(InvalidArgument) as err:
        await replace(store, doc.id, make_chunks([np.ones(10)]), "m", 1, True)
    assert err.value.reason == "EMBEDDING_DIMENSION_MISMATCH"
    with pytest.raises(InvalidArgument) as err:
        await replace(store, doc.id, make_chunks([np.full(DIMENSION, np.inf)]), "m", 1, True)
    assert err.value.reason == "INVALID_EMBEDDING"
    with pytest.raises(InvalidArgument) as err:
        await replace(store, doc.id, make_chunks([unit_vector()]) * 2, "m", 1, True)
    assert err.value.reason == "DUPLICATE_CHUNK_INDEX"
    with pytest.raises(NotFound):
        await replace(store, str(uuid.uuid4()), make_chunks([unit_vector()]), "m", 1, True)
    assert (await store.documents.get(doc.id, tenant=TENANT)).chunk_count == 0


# -- search ------------------------------------------------------------------------------


async def test_search_returns_nearest_chunk_first(store):
    doc, vectors = await ready_document(store, "near", n_chunks=8)
    await ready_document(store, "other", n_chunks=8)
    hits = await search(store, vectors[5], top_k=5, document_ids=[], labels=[])
    assert len(hits) == 5
    best = hits[0]
    assert (best.document_id, best.chunk_index, best.text, best.page_start, best.page_end) == (
        doc.id,
        5,
        "near 5",
        6,
        7,
    )
    assert best.document_title == "Near"
    assert best.score == pytest.approx(1.0, abs=1e-5)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[1] < 0.5


async def test_rankings_carry_keys_and_a_page_reads_only_what_is_still_there(store):
    doc, vectors = await ready_document(store, "ranked", n_chunks=4)
    other, _ = await ready_document(store, "kept", n_chunks=2)
    ranks = await store.chunks.rank_nearest(vectors[2], 6, SearchFilter(), tenant=TENANT)
    assert (ranks[0].document_id, ranks[0].chunk_index) == (doc.id, 2) and ranks[0].embedding is None
    hits = await store.chunks.read(ranks, tenant=TENANT)
    assert [(h.document_id, h.chunk_index, h.score) for h in hits] == [
        (r.document_id, r.chunk_index, r.score) for r in ranks
    ]
    assert hits[0].text == "ranked 2" and hits[0].document_title == "Ranked"
    # Another tenant reads nothing by these keys; a document deleted after the ranking drops out.
    assert await store.chunks.read(ranks, tenant="someone-else") == []
    await store.documents.delete(doc.id, tenant=TENANT)
    assert {h.document_id for h in await store.chunks.read(ranks, tenant=TENANT)} == {other.id}


async def test_search_filters_by_document_and_labels_and_readiness(store):
    red, red_vectors = await ready_document(store, "red", labels=["color", "warm"])
    blue, blue_vectors = await ready_document(store, "blue", labels=["color", "cold"])
    pending = await new_document(store, "pending", labels=["color", "warm"])
    await replace(store, pending.id, make_chunks(red_vectors, "pending"), "m", 1, mark_ready=False)

    everything = await search(store, red_vectors[0], top_k=100, document_ids=[], labels=[])
    assert {h.document_id for h in everything} == {red.id, blue.id}  # the PENDING copy never shows
    assert len(everything) == 6

    only_blue = await search(store, red_vectors[0], top_k=10, document_ids=[blue.id], labels=[])
    assert {h.document_id for h in only_blue} == {blue.id} and len(only_blue) == 3

    warm = await search(store, blue_vectors[0], top_k=10, document_ids=[], labels=["warm"])
    assert {h.document_id for h in warm} == {red.id} and len(warm) == 3
    both_labels = await search(store, blue_vectors[0], top_k=10, document_ids=[], labels=["color", "cold"])
    assert {h.document_id for h in both_labels} == {blue.id}
    assert await search(store, blue_vectors[0], top_k=10, document_ids=[red.id], labels=["cold"]) == []

    await store.documents.update(red.id, state="FAILED", tenant=TENANT)
    assert {h.document_id for h in await search(store, red_vectors[0], 10, [], [])} == {blue.id}


async def test_filtered_search_still_fills_top_k(database_dsn):
    # Many chunks of another document lie nearer to the query, so the filters drop
    # everything an HNSW scan yields first. enable_sort = off makes the planner take
    # the HNSW path even at this small size (it would sort exactly otherwise); without
    # iterative scans this query returns no rows at all.
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        name = (await (await conn.execute("SELECT current_database()")).fetchone())[0]
        await conn.execute(
            psycopg.sql.SQL("ALTER DATABASE {} SET enable_sort = off").format(psycopg.sql.Identifier(name))
        )
    store = await SearchStore.open(database_dsn, DIMENSION)
    try:
        query = unit_vector()
        crowd = await new_document(store, "crowd")
        near = [query + 0.3 * unit_vector() for _ in range(1500)]
        await replace(store, crowd.id, make_chunks(near), "m", 1, mark_ready=True)
        target, _ = await ready_document(store, "target", labels=["wanted"], n_chunks=12)

        hits = await search(store, query, top_k=10, document_ids=[], labels=["wanted"])
        assert len(hits) == 10 and {h.document_id for h in hits} == {target.id}
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        hits = await search(store, query, top_k=10, document_ids=[target.id], labels=[])
        assert len(hits) == 10 and {h.document_id for h in hits} == {target.id}
    finally:
        await store.close()


async def test_search_top_k_and_vector_validation(store):
    _, vectors = await ready_document(store, "many", n_chunks=12)
    assert len(await search(store, vectors[0], 0, [], [])) == 10  # 0 means the default
    assert len(await search(store, vectors[0], 1000, [], [])) == 12  # capped at 100, fewer exist
    for bad_k in (-1,):
        with pytest.raises(InvalidArgument) as err:
            await search(store, vectors[0], bad_k, [], [])
        assert err.value.reason == "INVALID_TOP_K"
    for bad_vector in (np.ones(3), np.zeros(DIMENSION), np.full(DIMENSION, np.nan)):
        with pytest.raises(InvalidArgument) as err:
            await search(store, bad_vector, 5, [], [])
        assert err.value.reason == "INVALID_QUERY_VECTOR"
    with pytest.raises(InvalidArgument) as err:
        await search(store, vectors[0], 5, ["nope"], [])
    assert err.value.reason == "INVALID_DOCUMENT_NAME"


async def test_chunks_keep_their_text_source_and_ocr_confidence(store):
    document, _ = await create(
        store, filename="scan.pdf", title="Scan", labels=[], sha256="e" * 64, size_bytes=1, page_count=2, job="jobs/x"
    )
    vectors = [unit_vector() for _ in range(2)]
    await replace(
        store,
        document.id,
        [
            ChunkRecord(0, "typed page", 1, 1, 3, vectors[0]),
            ChunkRecord(1, "scanned page", 2, 2, 3, vectors[1], text_source="OCR", ocr_confidence=0.91),
        ],
        model="m",
        page_count=2,
        mark_ready=True,
    )
    hits = await search(store, vectors[1], 2, [document.id], [])
    assert (hits[0].text_source, round(hits[0].ocr_confidence, 2)) == ("OCR", 0.91)
    assert (hits[1].text_source, hits[1].ocr_confidence) == ("TEXT_LAYER", None)
    with pytest.raises(InvalidArgument) as failure:
        await replace(
            store,
            document.id,
            [ChunkRecord(0, "x", 1, 1, 1, vectors[0], text_source="GUESS")],
            model="m",
            page_count=2,
            mark_ready=True,
        )
    assert failure.value.reason == "INVALID_TEXT_SOURCE"


# -- structure: pages, images, placements ---------------------------------------------------


METADATA = {"title": "Structured", "authors": ["Ada"], "language": "en"}
OUTLINE = [{"level": 1, "title": "Intro", "page": 1}, {"level": 2, "title": "Détails", "page": 2}]


async def structured_document(store, name="structured", pages=45, images=3):
    from mivaa_search.store import ImageRecord, PlacementRecord

    doc = await new_document(store, name)
    image_records = [
        ImageRecord(
            sha256=hashlib.sha256(f"{name}-image-{i}".encode()).hexdigest(),
            mime_type="image/png",
            width=10 + i,
            height=20 + i,
            data=f"png-bytes-{i}".encode() * (i + 1),
        )
        for i in range(images)
    ]
    placements = [
        PlacementRecord(
            image_records[i % images].sha256, page=1 + i, bbox=(1.0, 2.0, 3.0, 4.0 + i), caption=f"Figure {i}"
        )
        for i in range(images + 2)  # the first two images are shown twice
    ]
    doc = await replace(
        store,
        doc.id,
        make_chunks([unit_vector()]),
        "m",
        page_count=pages,
        mark_ready=True,
        pages=[(n, f"layout of page {n}".encode()) for n in range(1, pages + 1)],
        images=image_records,
        placements=placements,
        metadata=METADATA,
        outline=OUTLINE,
    )
    return doc, image_records


async def test_pages_are_replaced_with_the_chunks_and_listed_in_order(store):
    doc, _ = await structured_document(store, "paged", pages=45)
    assert (doc.metadata, doc.outline, doc.image_count) == (METADATA, OUTLINE, 3)
    numbers, token = [], ""
    while True:
        page, token = await list_pages(store, doc.id, 20, token)
        numbers.extend(int(layout.decode().removeprefix("layout of page ")) for layout in page)
        if not token:
            break
    assert numbers == list(range(1, 46))
    assert [layout async for layout in iter_pages(store, doc.id)] == [
        f"layout of page {n}".encode() for n in range(1, 46)
    ]
    assert await store.pages.size(doc.id, tenant=TENANT) == sum(len(f"layout of page {n}") for n in range(1, 46))
    # A re-run replaces everything: no duplicate pages or images.
    again = await replace(
        store,
        doc.id,
        make_chunks([unit_vector()]),
        "m",
        page_count=2,
        mark_ready=True,
        pages=[(1, b"new")],
        images=[],
        placements=[],
    )
    assert again.image_count == 0 and again.metadata is None
    assert (await list_pages(store, doc.id, 0, ""))[0] == [b"new"]
    with pytest.raises(InvalidArgument):
        await list_pages(store, doc.id, 5, "not-a-token")
    other, _ = await structured_document(store, "other-paged", pages=3)
    _, token = await list_pages(store, other.id, 1, "")
    with pytest.raises(InvalidArgument):
        await list_pages(store, doc.id, 1, token)  # a token of another document's listing


async def test_images_with_placements_bytes_and_deletion(store, database_dsn):
    doc, records = await structured_document(store, "pictures", images=3)
    listed, token = await list_images(store, doc.id, 2, "")
    rest, end = await list_images(store, doc.id, 2, token)
    assert end == ""
    images = listed + rest
    assert [image.sha256 for image in images] == [record.sha256 for record in records]  # order of first appearance
    assert [len(image.placements) for image in images] == [2, 2, 1]
    assert images[0].placements[0].caption == "Figure 0" and images[0].placements[1].page == 4
    assert images[1].size_bytes == len(records[1].data)
    one = await store.images.get(doc.id, records[2].sha256, tenant=TENANT)
    assert (one.width, one.height, one.mime_type) == (12, 22, "image/png")
    assert await store.images.get_data(doc.id, records[2].sha256, tenant=TENANT) == ("image/png", records[2].data)
    with pytest.raises(NotFound) as missing:
        await store.images.get(doc.id, "0" * 64, tenant=TENANT)
    assert missing.value.reason == "IMAGE_NOT_FOUND"
    await store.documents.delete(doc.id, tenant=TENANT)
    for table in ("pages", "images", "image_placements"):
        assert await fetch(
            database_dsn, f"SELECT count(*) FROM {table} WHERE document_id = %s", [uuid.UUID(doc.id)]
        ) == [(0,)]


async def test_image_vectors_are_searched_by_model_and_dimension(store, database_dsn):
    from mivaa_search.store import ImageRecord

    rng_local = np.random.default_rng(7)

    def vec(dimension: int) -> np.ndarray:
        v = rng_local.standard_normal(dimension).astype(np.float32)
        return v / np.linalg.norm(v)

    doc = await new_document(store, "gallery")
    vectors = [vec(32) for _ in range(6)]
    records = [
        ImageRecord(
            sha256=hashlib.sha256(f"gallery-{i}".encode()).hexdigest(),
            mime_type="image/png",
            width=8,
            height=8,
            data=b"x" * (i + 1),
            embedding=vectors[i],
            embedding_model="tiny-clip",
        )
        for i in range(6)
    ]
    await replace(
        store, doc.id, make_chunks([unit_vector()]), "m", page_count=1, mark_ready=True, images=records, placements=[]
    )
    other = await new_document(store, "other-gallery")
    await replace(
        store,
        other.id,
        make_chunks([unit_vector()]),
        "m",
        page_count=1,
        mark_ready=True,
        images=[
            ImageRecord(
                sha256="a" * 64,
                mime_type="image/png",
                width=1,
                height=1,
                data=b"y",
                embedding=vec(48),
                embedding_model="wide-clip",
            )
        ],
        placements=[],
    )
    hits = await search_images(store, vectors[3], "tiny-clip", 3, [], [])
    assert hits[0].image.sha256 == records[3].sha256 and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].document_id == doc.id and hits[0].document_title == "Gallery"
    assert len(hits) == 3 and hits[0].score >= hits[1].score >= hits[2].score
    assert await search_images(store, vectors[3], "other-model", 3, [], []) == []
    assert await search_images(store, vectors[3], "tiny-clip", 3, [other.id], []) == []
    # Each dimension gets its own partial index.
    indexes = {
        name
        for (name,) in await fetch(
            database_dsn, "SELECT indexname FROM pg_indexes WHERE tablename = 'image_embeddings'"
        )
    }
    assert {"image_embeddings_hnsw_32", "image_embeddings_hnsw_48"} <= indexes
    await store.documents.delete(doc.id, tenant=TENANT)
    assert await search_images(store, vectors[3], "tiny-clip", 3, [], []) == []


# -- tenants ---------------------------------------------------------------------------------


@contextlib.contextmanager
def not_found(reason: str = "DOCUMENT_NOT_FOUND"):
    """Another tenant's data must look exactly like missing data: NOT_FOUND with the usual reason."""
    with pytest.raises(NotFound) as err:
        yield
    assert err.value.reason == reason


async def test_same_bytes_in_two_tenants_are_two_documents(store):
    digest = sha("shared")
    a, created_a = await create(store, "a.pdf", "A", [], digest, 10, 1, "jobs/a", tenant="acme")
    b, created_b = await create(store, "b.pdf", "B", [], digest, 10, 1, "jobs/b", tenant="globex")
    again, created_again = await create(store, "a2.pdf", "A2", [], digest, 10, 1, "jobs/a2", tenant="acme")
    assert (created_a, created_b, created_again) == (True, True, False)
    assert a.id != b.id and again.id == a.id
    assert (a.tenant, b.tenant) == ("acme", "globex")
    # The default tenant is a tenant like any other: a third document.
    default, created_default = await create(store, "d.pdf", "D", [], digest, 10, 1, "jobs/d", tenant="default")
    assert created_default and default.tenant == "default" and default.id not in (a.id, b.id)
    with pytest.raises(TypeError):  # forgetting the tenant is an error, never a quiet default
        await store.documents.create(NewDocument("d.pdf", "D", [], digest, 10, 1, "jobs/d"))


async def test_another_tenants_document_is_not_found_everywhere(store, database_dsn):
    from mivaa_search.store import ImageRecord

    created, _ = await create(store, "p.pdf", "Private", ["secret"], sha("private"), 10, 0, "jobs/p", tenant="acme")
    vector = unit_vector()
    image = ImageRecord(
        sha256="b" * 64,
        mime_type="image/png",
        width=1,
        height=1,
        data=b"png",
        embedding=vector[:16] / np.linalg.norm(vector[:16]),
        embedding_model="clip",
    )
    doc = await replace(
        store,
        created.id,
        make_chunks([vector]),
        "m",
        page_count=1,
        mark_ready=True,
        pages=[(1, b"page")],
        images=[image],
        placements=[],
        tenant="acme",
    )
    assert doc.state == "READY" and doc.tenant == "acme"

    for other in ("globex", "default"):
        with not_found():
            await store.documents.get(doc.id, tenant=other)
        with not_found():
            await store.documents.update(doc.id, title="stolen", tenant=other)
        with not_found():
            await store.documents.update(doc.id, tenant=other)  # nothing to set: still a read
        with not_found():
            await store.documents.delete(doc.id, tenant=other)
        with not_found():
            await replace(store, doc.id, [], "m", page_count=0, mark_ready=True, tenant=other)
        with not_found():
            await list_pages(store, doc.id, 0, "", tenant=other)
        with not_found():
            await store.pages.size(doc.id, tenant=other)
        with not_found():
            [page async for page in iter_pages(store, doc.id, tenant=other)]
        with not_found():
            await list_images(store, doc.id, 0, "", tenant=other)
        with not_found("IMAGE_NOT_FOUND"):
            await store.images.get(doc.id, image.sha256, tenant=other)
        with not_found("IMAGE_NOT_FOUND"):
            await store.images.get_data(doc.id, image.sha256, tenant=other)
        assert (await list_documents(store, 0, "", [], tenant=other))[0] == []
        assert (await list_documents(store, 0, "", ["secret"], tenant=other))[0] == []
        assert await search(store, vector, 10, [], [], tenant=other) == []
        assert await search(store, vector, 10, [doc.id], [], tenant=other) == []
        assert await search_images(store, image.embedding, "clip", 10, [], [], tenant=other) == []

    # Nothing above changed the owner's document, and the owner sees all of it.
    assert (await store.documents.get(doc.id, tenant="acme")) == doc
    assert [d.id for d in (await list_documents(store, 0, "", [], tenant="acme"))[0]] == [doc.id]
    assert (await search(store, vector, 1, [], [], tenant="acme"))[0].document_id == doc.id
    assert (await search_images(store, image.embedding, "clip", 1, [], [], tenant="acme"))[0].document_id == doc.id
    assert await store.images.get_data(doc.id, image.sha256, tenant="acme") == ("image/png", b"png")
    assert (await list_pages(store, doc.id, 0, "", tenant="acme"))[0] == [b"page"]
    assert await fetch(database_dsn, "SELECT count(*) FROM chunks") == [(1,)]
    await store.documents.delete(doc.id, tenant="acme")
    with not_found():
        await store.documents.get(doc.id, tenant="acme")


async def test_search_and_listing_stay_within_the_tenant(store):
    a, vectors_a = await ready_document(store, "alpha")
    b_created, _ = await create(store, "beta.pdf", "Beta", [], sha("beta"), 1, 0, "jobs/b", tenant="globex")
    vectors_b = [unit_vector() for _ in range(3)]
    b = await replace(store, b_created.id, make_chunks(vectors_b), "m", page_count=3, mark_ready=True, tenant="globex")
    hits = await search(store, vectors_b[0], 10, [], [])  # the default tenant searching b's exact vector
    assert hits and {hit.document_id for hit in hits} == {a.id}
    hits = await search(store, vectors_a[0], 10, [], [], tenant="globex")
    assert hits and {hit.document_id for hit in hits} == {b.id}
    assert [d.id for d in (await list_documents(store, 0, "", []))[0]] == [a.id]
    assert [d.id for d in (await list_documents(store, 0, "", [], tenant="globex"))[0]] == [b.id]


async def test_a_pooled_connection_is_checked_only_after_sitting_idle(database_dsn):
    from psycopg_pool import AsyncConnectionPool

    from mivaa_search.store._common import CheckAfterIdle

    now = [100.0]
    idle_check = CheckAfterIdle(idle_s=2.0, clock=lambda: now[0])
    async with AsyncConnectionPool(database_dsn, min_size=1, max_size=1, check=idle_check.check, open=False) as pool:
        await pool.open(wait=True)
        async with pool.connection() as conn:  # never handed out yet: checked
            await conn.execute("SELECT 1")
        assert idle_check.checks == 1
        for _ in range(3):  # handed out moments ago: handed out again as it is
            now[0] += 1.0
            async with pool.connection() as conn:
                await conn.execute("SELECT 1")
        assert idle_check.checks == 1
        now[0] += 2.5  # idle longer than idle_s: checked again
        async with pool.connection() as conn:
            await conn.execute("SELECT 1")
        assert idle_check.checks == 2
        # A connection whose server went away is caught by the check and replaced, not handed out.
        async with pool.connection() as conn:
            pid = conn.info.backend_pid
        async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as admin:
            await admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        now[0] += 10
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT 1")
            assert await cur.fetchone() == (1,)
            assert conn.info.backend_pid != pid
