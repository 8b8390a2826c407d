"""Document versions on a real PostgreSQL: chains, latest-only searches and listings, deletes."""

from __future__ import annotations

import asyncio
import hashlib

import numpy as np
import psycopg
import pytest

from mivaa_platform.errors import FailedPrecondition, NotFound
from mivaa_search.store import DocumentFilter, ImageRecord, NewDocument, SearchFilter, SearchStore
from tests.search.support import TENANT, catalog, fetch, make_chunks, replace, sha, unit_vector
from tests.search.test_migrations import SQL_MIGRATIONS, migrated_up_to

OTHER = "acme"


async def upload(store, name, *, parent="", by_filename=False, tenant=TENANT, digest=None, filename=None):
    new = NewDocument(
        filename or f"{name}.pdf",
        name.title(),
        [],
        digest or sha(name),
        1234,
        1,
        f"jobs/{name}",
        parent=parent,
        replace_by_filename=by_filename,
    )
    return await store.documents.create(new, tenant=tenant)


async def make_ready(store, doc, vector, *, tenant=TENANT, text="chunk"):
    return await replace(store, doc.id, make_chunks([vector], text), "m", 1, True, tenant=tenant)


async def hit_documents(store, vector, *, all_versions=False, document_ids=(), tenant=TENANT):
    where = SearchFilter(document_ids=list(document_ids), all_versions=all_versions)
    return {hit.document_id for hit in await store.chunks.search(vector, 10, where, tenant=tenant)}


async def keyword_documents(store, words, *, all_versions=False):
    where = SearchFilter(all_versions=all_versions)
    return {hit.document_id for hit in await store.chunks.keyword_search(words, 10, where, tenant=TENANT)}


async def test_a_new_version_is_searched_once_it_is_ready_and_the_old_one_until_then(store):
    vector = unit_vector()
    first, created = await upload(store, "report")
    assert created and first.version == 1 and first.chain == first.id
    await make_ready(store, first, vector, text="lighthouse keeper")

    second, created = await upload(store, "report-v2", parent=first.id)
    assert created and second.version == 2 and second.chain == first.id and second.state == "PENDING"
    # While the new version is processing, the previous one is the chain's latest READY one.
    assert await hit_documents(store, vector) == {first.id}
    assert await keyword_documents(store, "lighthouse") == {first.id}

    await make_ready(store, second, vector, text="harbour master")
    assert await hit_documents(store, vector) == {second.id}
    assert await keyword_documents(store, "lighthouse") == set()
    assert await keyword_documents(store, "lighthouse", all_versions=True) == {first.id}
    assert await hit_documents(store, vector, all_versions=True) == {first.id, second.id}
    # A version named explicitly is searched as named.
    assert await hit_documents(store, vector, document_ids=[first.id]) == {first.id}
    assert (await store.documents.get(first.id, tenant=TENANT)).version_count == 2


async def test_a_failed_new_version_leaves_the_old_one_searchable(store):
    vector = unit_vector()
    first, _ = await upload(store, "memo")
    await make_ready(store, first, vector)
    second, _ = await upload(store, "memo-2", parent=first.id)
    await store.documents.update(second.id, tenant=TENANT, state="FAILED")
    assert await hit_documents(store, vector) == {first.id}
    # After a failure the chain takes a next version again.
    third, created = await upload(store, "memo-3", parent=second.id)
    assert created and third.version == 3 and third.chain == first.id


async def test_parents_are_checked(store):
    first, _ = await upload(store, "contract")
    # Still processing: the next version waits for it.
    with pytest.raises(FailedPrecondition) as refused:
        await upload(store, "contract-2", parent=first.id)
    assert refused.value.reason == "DOCUMENT_PROCESSING"
    await make_ready(store, first, unit_vector())
    # Another tenant's document is NOT_FOUND like a missing one, and nothing is stored.
    with pytest.raises(NotFound):
        await upload(store, "intruder", parent=first.id, tenant=OTHER)
    assert (await store.documents.read(tenant=OTHER, limit=10)) == []
    # The same bytes as a stored version: that document, no new version.
    again, created = await upload(store, "contract-again", parent=first.id, digest=first.sha256)
    assert not created and again.id == first.id and again.version == 1


async def test_replace_by_filename_joins_the_newest_document_of_that_name(store):
    first, _ = await upload(store, "plan", by_filename=True, filename="plan.pdf")
    assert first.version == 1
    await make_ready(store, first, unit_vector())
    second, created = await upload(store, "plan-2", by_filename=True, filename="plan.pdf")
    assert created and second.chain == first.id and second.version == 2
    other, _ = await upload(store, "other", by_filename=True, filename="other.pdf")
    assert other.version == 1 and other.chain == other.id


async def test_listings_show_newest_versions_and_list_a_chain_newest_first(store):
    docs = catalog(store)
    first, _ = await upload(store, "manual")
    await make_ready(store, first, unit_vector())
    chain = [first]
    for n in range(2, 5):
        doc, _ = await upload(store, f"manual-{n}", parent=chain[-1].id)
        await make_ready(store, doc, unit_vector())
        chain.append(doc)
    single, _ = await upload(store, "single")

    listed, _ = await docs.list_documents(tenant=TENANT, page_size=10, page_token="", labels=[])
    assert {d.id: d.version_count for d in listed} == {chain[-1].id: 4, single.id: 1}
    everything = await store.documents.read(tenant=TENANT, limit=10, where=_all_versions())
    assert len(everything) == 5

    seen, token = [], ""
    while True:
        page, token = await docs.list_versions(first.id, tenant=TENANT, page_size=3, page_token=token)
        seen += page
        if not token:
            break
    assert [d.version for d in seen] == [4, 3, 2, 1]
    assert {d.id for d in seen} == {d.id for d in chain}
    with pytest.raises(NotFound):
        await docs.list_versions(first.id, tenant=OTHER, page_size=3, page_token="")


async def test_deleting_a_version_or_a_chain_keeps_originals_right(store, database_dsn):
    docs = catalog(store)
    vector = unit_vector()
    first, _ = await upload(store, "policy")
    await make_ready(store, first, vector)
    second, _ = await upload(store, "policy-2", parent=first.id)
    await make_ready(store, second, vector)
    # Another tenant holds the same bytes as the second version.
    theirs, _ = await upload(store, "theirs", tenant=OTHER, digest=second.sha256)

    # Deleting the newest version: the previous one is searched again, and the chain goes on.
    await docs.delete(second.id, tenant=TENANT)
    assert await hit_documents(store, vector) == {first.id}
    third, _ = await upload(store, "policy-3", parent=first.id)
    assert third.version == 2  # numbers follow the newest version left
    await make_ready(store, third, vector)

    # Deleting the chain deletes every version and releases each one's original.
    deleted = await docs.delete(first.id, tenant=TENANT, all_versions=True)
    assert {d.id for d in deleted} == {first.id, third.id}
    assert await hit_documents(store, vector) == set()
    held = await fetch(database_dsn, "SELECT sha256, tenant FROM original_references ORDER BY tenant")
    assert held == [(theirs.sha256, OTHER)]
    states = dict(await fetch(database_dsn, "SELECT sha256, state FROM originals"))
    assert states[first.sha256] == "deleting" and states[third.sha256] == "deleting"
    assert states[second.sha256] == "stored"  # still the other tenant's
    with pytest.raises(NotFound):
        await docs.delete(first.id, tenant=TENANT, all_versions=True)


async def test_images_and_related_documents_see_the_newest_ready_version(store):
    """Related documents leave out superseded versions (a chain's old version is not 'related')."""
    picture = unit_vector()[:32]
    picture = picture / np.linalg.norm(picture)

    async def with_image(doc):
        image = ImageRecord(
            sha256=hashlib.sha256(doc.id.encode()).hexdigest(),
            mime_type="image/png",
            width=1,
            height=1,
            data=b"x",
            embedding=picture,
            embedding_model="tiny-clip",
        )
        await replace(store, doc.id, make_chunks([unit_vector()]), "m", 1, True, images=[image], placements=[])

    first, _ = await upload(store, "atlas")
    await with_image(first)
    second, _ = await upload(store, "atlas-2", parent=first.id)
    await with_image(second)
    probe, _ = await upload(store, "probe")
    await make_ready(store, probe, unit_vector())
    related = await store.related.nearest(probe.id, tenant=TENANT, limit=10)
    assert {r.document_id for r in related} == {second.id}

    def images(all_versions: bool):
        return store.images.search(picture, "tiny-clip", 10, SearchFilter(all_versions=all_versions), tenant=TENANT)

    assert {hit.document_id for hit in await images(False)} == {second.id}
    assert {hit.document_id for hit in await images(True)} == {first.id, second.id}


def _all_versions() -> DocumentFilter:
    return DocumentFilter(all_versions=True)


async def test_documents_stored_before_versions_are_first_versions(database_dsn):
    """The migration: an existing row becomes version 1 of its own chain and takes new versions."""
    migration = next(name for name, _ in SQL_MIGRATIONS if name.endswith("_document_versions.sql"))
    await migrated_up_to(database_dsn, migration)
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        cur = await conn.execute(
            "INSERT INTO documents (tenant, filename, sha256, size_bytes, state) VALUES (%s, 'old.pdf', %s, 1, 'READY')"
            " RETURNING id",
            [TENANT, sha("old")],
        )
        (old_id,) = await cur.fetchone()
    store = await SearchStore.open(database_dsn, 384)
    try:
        old = await store.documents.get(str(old_id), tenant=TENANT)
        assert (old.version, old.chain, old.version_count) == (1, old.id, 1)
        newer, created = await upload(store, "old-2", parent=old.id)
        assert created and (newer.version, newer.chain) == (2, old.id)
    finally:
        await store.close()


async def test_concurrent_uploads_to_one_chain_add_one_version(store):
    first, _ = await upload(store, "race")
    await make_ready(store, first, unit_vector())
    outcomes = await asyncio.gather(
        *(upload(store, f"race-{n}", parent=first.id) for n in range(4)), return_exceptions=True
    )
    created = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert [(doc.version, made) for doc, made in created] == [(2, True)]
    assert all(isinstance(o, FailedPrecondition) and o.reason == "DOCUMENT_PROCESSING" for o in refused)
