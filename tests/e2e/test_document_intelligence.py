"""Document intelligence through the real mesh: entities (spaCy in the extractor's pipeline),
the entity search filter, related documents and comparisons, per tenant, with bad inputs."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
import pytest_asyncio

from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as pb
from mivaa_platform.grpc_errors import error_reason
from tests.support.report_pdfs import BREAD, ENTITY_SECTIONS, POLICY_V1, POLICY_V2, VOLCANO_A, VOLCANO_B, make_report
from tests.support.tenants import TenantCaller, as_tenant

DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)
E = pb.EntityType


async def ingest(caller: TenantCaller, title: str, sections) -> tuple[str, job_pb2.Job]:
    tag = uuid.uuid4().hex[:8]  # unique bytes: uploads are deduplicated by content
    response = await caller.upload(make_report(f"{title} {tag}", sections), f"{title}.pdf")
    events = await caller.watch(response.job.name)
    assert events[-1].state in DONE, events[-1]
    return response.document.name, events[-1]


@pytest_asyncio.fixture(scope="module")
async def library(mesh, client):
    """Tenant A's documents (entities, two policy versions, three on two topics) and an empty tenant B."""
    async with (
        as_tenant(mesh, client, f"intel-a-{uuid.uuid4().hex[:6]}") as a,
        as_tenant(mesh, client, f"intel-b-{uuid.uuid4().hex[:6]}") as b,
    ):
        names = {}
        for key, title, sections in (
            ("entities", "Annual report", ENTITY_SECTIONS),
            ("v1", "Travel policy", POLICY_V1),
            ("v2", "Travel policy revised", POLICY_V2),
            ("volcano_a", "Volcano watch", VOLCANO_A),
            ("volcano_b", "Eruption aftermath", VOLCANO_B),
            ("bread", "Sourdough", BREAD),
        ):
            names[key], job = await ingest(a, title, sections)
            if key == "entities":
                names["entities_job"] = job
        yield a, b, names


async def all_entities(caller: TenantCaller, parent: str, types=(), page_size=2) -> list[pb.DocumentEntity]:
    found, token = [], ""
    while True:
        request = pb.ListDocumentEntitiesRequest(parent=parent, page_size=page_size, page_token=token, types=types)
        response = await caller.search.ListDocumentEntities(request, timeout=30, metadata=caller.metadata)
        found.extend(response.entities)
        if not (token := response.next_page_token):
            return found


async def test_entities_are_found_with_their_types_and_pages(library):
    a, _, names = library
    job = names["entities_job"]
    assert job.entities_found >= 6
    assert any(t.stage == job_pb2.JOB_STAGE_ENTITIES and t.seconds > 0 for t in job.stage_timings)
    entities = {(e.type, e.normalized_text): e for e in await all_entities(a, names["entities"])}
    expected = {
        (E.ENTITY_TYPE_PERSON, "alice johnson"): [1],
        (E.ENTITY_TYPE_ORGANIZATION, "acme corporation"): [1],
        (E.ENTITY_TYPE_PLACE, "paris"): [2],
        (E.ENTITY_TYPE_DATE, "12 march 2024"): [2],
        (E.ENTITY_TYPE_AMOUNT, "30 kilograms"): [3],
        (E.ENTITY_TYPE_AMOUNT, "15%"): [3],
    }
    for key, pages in expected.items():
        assert key in entities, (key, sorted(entities))
        assert list(entities[key].pages) == pages, entities[key]
    assert entities[(E.ENTITY_TYPE_PERSON, "alice johnson")].mention_count == 2
    assert entities[(E.ENTITY_TYPE_PLACE, "paris")].mention_count == 2
    places = await all_entities(a, names["entities"], types=[E.ENTITY_TYPE_PLACE], page_size=50)
    assert places and {e.type for e in places} == {E.ENTITY_TYPE_PLACE}
    # Most mentioned first, across pages of the listing.
    counts = [e.mention_count for e in await all_entities(a, names["entities"], page_size=1)]
    assert counts == sorted(counts, reverse=True)


async def test_the_entity_filter_narrows_search(library):
    a, _, names = library
    query = "new office of the company"
    unfiltered = await a.search.SearchChunks(pb.SearchChunksRequest(query=query, top_k=20), metadata=a.metadata)
    assert len({hit.document for hit in unfiltered.hits}) > 1
    request = pb.SearchChunksRequest(
        query=query, top_k=20, entities=[pb.EntityFilter(text="  PARIS ", type=E.ENTITY_TYPE_PLACE)]
    )
    hits = (await a.search.SearchChunks(request, metadata=a.metadata)).hits
    assert hits and all(hit.document == names["entities"] and "Paris" in hit.text for hit in hits)
    nobody = pb.SearchChunksRequest(query=query, entities=[pb.EntityFilter(text="Paris", type=E.ENTITY_TYPE_PERSON)])
    assert not (await a.search.SearchChunks(nobody, metadata=a.metadata)).hits


async def test_related_documents_rank_the_same_topic_first(library):
    a, _, names = library
    request = pb.ListRelatedDocumentsRequest(name=names["volcano_a"], page_size=1)
    first = await a.search.ListRelatedDocuments(request, metadata=a.metadata)
    assert [d.document for d in first.documents] == [names["volcano_b"]] and first.next_page_token
    seen, token = [], ""
    while True:
        page = await a.search.ListRelatedDocuments(
            pb.ListRelatedDocumentsRequest(name=names["volcano_a"], page_size=2, page_token=token), metadata=a.metadata
        )
        seen.extend(page.documents)
        if not (token := page.next_page_token):
            break
    documents = [d.document for d in seen]
    assert len(documents) == 5 and names["volcano_a"] not in documents and len(set(documents)) == 5
    scores = [d.score for d in seen]
    assert scores == sorted(scores, reverse=True)
    assert seen[0].score > [d.score for d in seen if d.document == names["bread"]][0]


async def test_compare_finds_the_changed_number_and_the_missing_section(library):
    a, _, names = library
    request = pb.CompareDocumentsRequest(first=names["v1"], second=names["v2"])
    response = await a.search.CompareDocuments(request, timeout=60, metadata=a.metadata)
    by_heading = {tuple(s.first_heading or s.second_heading): s for s in response.sections}
    budget = by_heading[("2 Travel budget",)]
    assert budget.change == pb.SECTION_CHANGE_DIFFERENT
    assert (budget.first_page_start, budget.second_page_start) == (2, 2)
    assert [(n.old_value, n.new_value, n.unit) for n in budget.number_changes] == [("4500", "5200", "euros")]
    assert "budget of each team is" in budget.number_changes[0].context
    removed = by_heading[("3 Rail before air",)]
    assert removed.change == pb.SECTION_CHANGE_ONLY_IN_FIRST and removed.first_page_start == 3
    assert not removed.second_heading and removed.second_page_start == 0
    review = by_heading[("4 Review of the policy",)]
    assert review.change == pb.SECTION_CHANGE_MATCHING and (review.first_page_start, review.second_page_start) == (4, 3)
    assert (response.only_in_first_count, response.only_in_second_count) == (1, 0)
    assert response.different_count == 1
    backwards = await a.search.CompareDocuments(
        pb.CompareDocumentsRequest(first=names["v2"], second=names["v1"]), metadata=a.metadata
    )
    assert (backwards.only_in_first_count, backwards.only_in_second_count) == (0, 1)


async def expect(call, code: grpc.StatusCode, reason: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    assert failure.value.code() == code, failure.value
    assert error_reason(failure.value) == reason, failure.value


async def test_another_tenant_sees_none_of_it(library):
    a, b, names = library
    md = b.metadata
    not_found = grpc.StatusCode.NOT_FOUND
    missing = f"documents/{uuid.uuid4()}"
    for name in (names["entities"], missing):  # another tenant's document reads as a missing one
        await expect(
            b.search.ListDocumentEntities(pb.ListDocumentEntitiesRequest(parent=name), metadata=md),
            not_found,
            "DOCUMENT_NOT_FOUND",
        )
        await expect(
            b.search.ListRelatedDocuments(pb.ListRelatedDocumentsRequest(name=name), metadata=md),
            not_found,
            "DOCUMENT_NOT_FOUND",
        )
    await expect(
        b.search.CompareDocuments(pb.CompareDocumentsRequest(first=names["v1"], second=names["v2"]), metadata=md),
        not_found,
        "DOCUMENT_NOT_FOUND",
    )
    # Tenant A with one of its documents and one of tenant B's (none: B's would be found only by B).
    await expect(
        a.search.CompareDocuments(pb.CompareDocumentsRequest(first=names["v1"], second=missing), metadata=a.metadata),
        not_found,
        "DOCUMENT_NOT_FOUND",
    )
    filtered = pb.SearchChunksRequest(query="new office", entities=[pb.EntityFilter(text="Paris")])
    assert not (await b.search.SearchChunks(filtered, metadata=md)).hits


async def test_bad_inputs_get_clear_reasons(library):
    a, _, names = library
    md = a.metadata
    bad = grpc.StatusCode.INVALID_ARGUMENT
    search = a.search
    doc = names["entities"]
    cases = [
        (
            search.ListDocumentEntities(pb.ListDocumentEntitiesRequest(parent=doc, page_size=-1), metadata=md),
            "INVALID_PAGE_SIZE",
        ),
        (
            search.ListDocumentEntities(pb.ListDocumentEntitiesRequest(parent=doc, page_token="forged"), metadata=md),
            "INVALID_PAGE_TOKEN",
        ),
        (
            search.ListDocumentEntities(pb.ListDocumentEntitiesRequest(parent=doc, types=[99]), metadata=md),
            "INVALID_ENTITY_TYPE",
        ),
        (
            search.ListDocumentEntities(pb.ListDocumentEntitiesRequest(parent="nonsense"), metadata=md),
            "INVALID_DOCUMENT_NAME",
        ),
        (
            search.ListRelatedDocuments(pb.ListRelatedDocumentsRequest(name=doc, page_size=-5), metadata=md),
            "INVALID_PAGE_SIZE",
        ),
        (search.CompareDocuments(pb.CompareDocumentsRequest(first=doc, second=doc), metadata=md), "SAME_DOCUMENT"),
        (
            search.CompareDocuments(pb.CompareDocumentsRequest(first=doc, second=""), metadata=md),
            "INVALID_DOCUMENT_NAME",
        ),
        (
            search.SearchChunks(
                pb.SearchChunksRequest(query="x", entities=[pb.EntityFilter(text="a" * 201)]), metadata=md
            ),
            "ENTITY_TEXT_TOO_LONG",
        ),
        (
            search.SearchChunks(
                pb.SearchChunksRequest(query="x", entities=[pb.EntityFilter(text="x")] * 11), metadata=md
            ),
            "TOO_MANY_ENTITIES",
        ),
        (
            search.SearchChunks(pb.SearchChunksRequest(query="x", entities=[pb.EntityFilter(text=" ")]), metadata=md),
            "ENTITY_TEXT_EMPTY",
        ),
    ]
    for call, reason in cases:
        await expect(call, bad, reason)
    # A token of one listing is refused by another (another document, another type filter).
    first = await search.ListDocumentEntities(pb.ListDocumentEntitiesRequest(parent=doc, page_size=1), metadata=md)
    other = pb.ListDocumentEntitiesRequest(
        parent=doc, page_size=1, page_token=first.next_page_token, types=[E.ENTITY_TYPE_DATE]
    )
    await expect(search.ListDocumentEntities(other, metadata=md), bad, "INVALID_PAGE_TOKEN")


async def test_the_cli_lists_entities_and_related_documents_and_compares(library, mesh, monkeypatch, capsys):
    from mivaa_cli.main import main as cli_main

    a, _, names = library
    monkeypatch.setenv("MIVAA_TOKEN", mesh.token(subject="cli-intel", tenant=a.tenant))
    monkeypatch.setenv("MIVAA_CA", str(mesh.ca_path))

    async def mivaa(*args: str) -> str:
        capsys.readouterr()
        assert await asyncio.to_thread(cli_main, ["--address", mesh.gateway_address, "docs", *args]) == 0
        return capsys.readouterr().out

    people = await mivaa("entities", names["entities"], "--type", "person", "--page-size", "1", "--all")
    assert "PERSON" in people and "Alice Johnson" in people and "p.1" in people and "ORGANIZATION" not in people
    related = await mivaa("related", names["volcano_a"], "--page-size", "1")
    assert names["volcano_b"] in related and "--page-token" in related
    compared = await mivaa("compare", names["v1"], "--with", names["v2"])
    assert "ONLY_IN_FIRST   3 Rail before air" in compared and "4500 euros -> 5200 euros" in compared
