"""ListDocuments' order_by on a real PostgreSQL: every allowed order, paged, ties, tokens bound to their order."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from mivaa_platform.errors import InvalidArgument
from mivaa_search.store.records import TITLE_SORT_CHARS
from tests.search.support import TENANT, catalog, create, fetch, sha

# (title, page_count): two share a page count and two share a title, so ties are exercised.
DOCUMENTS = [("delta", 7), ("Alpha", 3), ("charlie", 7), ("bravo", 1), ("delta", 12)]


async def listing(store, order_by: str, page_size: int, *, tenant: str = TENANT) -> list:
    """Every document in `order_by`, fetched `page_size` at a time."""
    found, token = [], ""
    while True:
        page, token = await catalog(store).list_documents(
            tenant=tenant, page_size=page_size, page_token=token, labels=[], order_by=order_by
        )
        found.extend(page)
        if not token:
            return found


@pytest.fixture
async def documents(store, database_dsn):
    made = []
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for number, (title, pages) in enumerate(DOCUMENTS):
        document, _ = await create(store, f"{number}.pdf", title, [], sha(number), 100, pages, "jobs/1")
        made.append(document)
    async with await psycopg.AsyncConnection.connect(database_dsn, autocommit=True) as conn:
        for number, document in enumerate(made):  # created a day apart, updated in reverse
            await conn.execute(
                "UPDATE documents SET create_time = %s, update_time = %s WHERE id = %s",
                [start + dt.timedelta(days=number), start + dt.timedelta(days=10 - number), document.id],
            )
    await create(store, "other.pdf", "aardvark", [], sha("other"), 100, 99, "jobs/2", tenant="acme")
    return [document.id for document in made]


def expected(ids: list[str], order: list[int], ties: tuple[int, ...] = (), *, descending: bool = False) -> list[str]:
    """ids in `order` (indexes into DOCUMENTS), where the indexes in `ties` are ordered by id."""
    tied = sorted((ids[i] for i in ties), reverse=descending)
    result, used = [], False
    for index in order:
        if index in ties:
            if not used:
                result.extend(tied)
                used = True
        else:
            result.append(ids[index])
    return result


async def test_each_order_pages_through_every_document_once(store, documents):
    ids = documents
    orders = {
        "": [ids[i] for i in (4, 3, 2, 1, 0)],
        "create_time desc": [ids[i] for i in (4, 3, 2, 1, 0)],
        "create_time": ids,
        "update_time": [ids[i] for i in (4, 3, 2, 1, 0)],
        "update_time desc": ids,
        "page_count": expected(ids, [3, 1, 0, 2, 4], ties=(0, 2)),
        "page_count desc": expected(ids, [4, 0, 2, 1, 3], ties=(0, 2), descending=True),
        "title": expected(ids, [1, 3, 2, 0, 4], ties=(0, 4)),
        "  title   DESC ": expected(ids, [0, 4, 2, 3, 1], ties=(0, 4), descending=True),
        "title asc": expected(ids, [1, 3, 2, 0, 4], ties=(0, 4)),
    }
    for order_by, want in orders.items():
        for page_size in (1, 2, 50):
            got = [document.id for document in await listing(store, order_by, page_size)]
            assert got == want, (order_by, page_size)
    assert [d.title for d in await listing(store, "title", 10, tenant="acme")] == ["aardvark"]


async def test_a_page_token_continues_only_the_order_it_was_made_for(store, documents):
    _, token = await catalog(store).list_documents(
        tenant=TENANT, page_size=2, page_token="", labels=[], order_by="title"
    )
    assert token
    for other in ("", "title desc", "page_count", "create_time"):
        with pytest.raises(InvalidArgument) as refused:
            await catalog(store).list_documents(tenant=TENANT, page_size=2, page_token=token, labels=[], order_by=other)
        assert refused.value.reason == "INVALID_PAGE_TOKEN", other
    # The default order's tokens are what they were before order_by existed.
    _, default_token = await catalog(store).list_documents(tenant=TENANT, page_size=2, page_token="", labels=[])
    page, _ = await catalog(store).list_documents(
        tenant=TENANT, page_size=2, page_token=default_token, labels=[], order_by="create_time desc"
    )
    assert [d.id for d in page] == [documents[2], documents[1]]


@pytest.mark.parametrize(
    "order_by",
    ["size_bytes", "title desc, page_count", "title,page_count", "title up", "state", "name", "title; drop", "x" * 65],
)
async def test_an_order_outside_the_allow_list_is_refused(store, order_by):
    with pytest.raises(InvalidArgument) as refused:
        await catalog(store).list_documents(tenant=TENANT, page_size=2, page_token="", labels=[], order_by=order_by)
    assert refused.value.reason == "ORDER_BY_INVALID"


async def test_long_titles_are_stored_and_sort_by_their_beginning(store, database_dsn):
    long_title = "😀" * 1000  # 4000 bytes of UTF-8: more than a B-tree entry may hold
    same_start = "😀" * TITLE_SORT_CHARS + "a"
    for number, title in enumerate([long_title, same_start, "b"]):
        await create(store, f"{number}.pdf", title, [], sha(f"long{number}"), 100, 1, "jobs/1")
    # Paged one at a time: each token holds a whole sort key (the longest a token gets).
    titles = [d.title for d in await listing(store, "title", 1)]
    assert titles[0] == "b" and set(titles[1:]) == {long_title, same_start}
    plans = await fetch(database_dsn, "SELECT indexname FROM pg_indexes WHERE tablename = 'documents'")
    assert {"documents_tenant_title_id_idx", "documents_tenant_page_count_id_idx"} <= {row[0] for row in plans}
