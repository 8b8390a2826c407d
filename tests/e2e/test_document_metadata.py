"""Document management through Envoy: the write scope changes a document's title, labels and custom
metadata; search and listings filter on them; the read scope and other tenants cannot touch them."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from mivaa_platform.grpc_errors import error_reason
from tests.e2e.test_operations import mivaa
from tests.e2e.test_tenants import DONE
from tests.support.pdfs import make_pdf
from tests.support.tenants import as_tenant

MODES = (search_pb.SEARCH_MODE_VECTOR, search_pb.SEARCH_MODE_KEYWORD, search_pb.SEARCH_MODE_HYBRID)
QUERY = "archive tells of"


def update(name: str, paths: list[str], **fields) -> search_pb.UpdateDocumentRequest:
    document = search_pb.Document(name=name, **fields)
    return search_pb.UpdateDocumentRequest(document=document, update_mask=field_mask_pb2.FieldMask(paths=paths))


async def refused(call) -> tuple[grpc.StatusCode, str | None]:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    return failure.value.code(), error_reason(failure.value)


async def list_names(caller, **filters) -> list[str]:
    names, token = [], ""
    while True:
        request = search_pb.ListDocumentsRequest(page_size=1, page_token=token, **filters)
        response = await caller.search.ListDocuments(request, timeout=30)
        names += [d.name for d in response.documents]
        if not (token := response.next_page_token):
            return names


async def test_documents_metadata_is_updated_filtered_and_guarded(mesh, client):
    tenant = f"meta-{uuid.uuid4().hex[:8]}"
    tags = [f"apollo{uuid.uuid4().hex[:6]}", f"gemini{uuid.uuid4().hex[:6]}"]
    async with as_tenant(mesh, client, tenant) as owner:
        names = []
        for tag in tags:
            response = await owner.upload(make_pdf(tag, 2), f"{tag}.pdf")
            assert (await owner.watch(response.job.name))[-1].state in DONE
            names.append(response.document.name)
        first, second = names

        # The write scope sets title, labels and metadata in one call; the pipeline's fields stay.
        changed = (
            await owner.search.UpdateDocument(
                update(
                    first,
                    ["title", "labels", "custom_metadata"],
                    title="Apollo Mission Notes",
                    labels=["space"],
                    custom_metadata={"project": "apollo", "team.lead": "ada"},
                ),
                timeout=30,
            )
        ).document
        assert changed.title == "Apollo Mission Notes" and list(changed.labels) == ["space"]
        assert dict(changed.custom_metadata) == {"project": "apollo", "team.lead": "ada"}
        assert changed.state == search_pb.DOCUMENT_STATE_READY and changed.page_count == 2
        await owner.search.UpdateDocument(
            update(second, ["custom_metadata"], custom_metadata={"project": "gemini"}), timeout=30
        )
        assert dict((await owner.get_document(second)).custom_metadata) == {"project": "gemini"}

        # Past the limits: refused with a reason, nothing stored.
        too_many = {f"k{i}": "v" for i in range(33)}
        for metadata, reason in (
            (too_many, "TOO_MANY_METADATA_KEYS"),
            ({"Bad Key": "v"}, "INVALID_METADATA_KEY"),
            ({"ok": "x" * 257}, "INVALID_METADATA_VALUE"),
            ({"ok": "line\nbreak"}, "INVALID_METADATA_VALUE"),
        ):
            call = owner.search.UpdateDocument(update(first, ["custom_metadata"], custom_metadata=metadata))
            assert await refused(call) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
        assert dict((await owner.get_document(first)).custom_metadata) == {"project": "apollo", "team.lead": "ada"}

        # Search in every mode sees only the documents whose metadata holds every pair asked for.
        for mode in MODES:
            request = search_pb.SearchChunksRequest(
                query=QUERY, top_k=10, mode=mode, custom_metadata={"project": "apollo"}
            )
            hits = (await owner.search.SearchChunks(request, timeout=60)).hits
            assert hits and {hit.document for hit in hits} == {first}, (mode, hits)
            both = search_pb.SearchChunksRequest(
                query=QUERY, mode=mode, custom_metadata={"project": "gemini", "team.lead": "ada"}
            )
            assert not (await owner.search.SearchChunks(both, timeout=60)).hits
            unfiltered = search_pb.SearchChunksRequest(query=QUERY, top_k=10, mode=mode)
            assert {hit.document for hit in (await owner.search.SearchChunks(unfiltered, timeout=60)).hits} == {
                first,
                second,
            }
        bad_filter = search_pb.SearchChunksRequest(query=QUERY, custom_metadata={"NO": "x"})
        assert await refused(owner.search.SearchChunks(bad_filter)) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_METADATA_KEY",
        )

        # Listings filter on state, title text (any case) and metadata, one page at a time.
        assert set(await list_names(owner, state=search_pb.DOCUMENT_STATE_READY)) == {first, second}
        assert await list_names(owner, state=search_pb.DOCUMENT_STATE_FAILED) == []
        assert await list_names(owner, title_contains="mission NOTES") == [first]
        assert await list_names(owner, title_contains=tags[1].upper()) == [second]
        assert await list_names(owner, title_contains="%") == []
        assert await list_names(owner, custom_metadata={"project": "gemini"}) == [second]
        # Created in [after, before): the second upload's time splits the two.
        split = (await owner.get_document(second)).create_time
        assert await list_names(owner, create_time_after=split) == [second]
        assert await list_names(owner, create_time_before=split) == [first]
        backwards = owner.search.ListDocuments(
            search_pb.ListDocumentsRequest(create_time_after=split, create_time_before=split)
        )
        assert await refused(backwards) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_TIME_RANGE")
        listing = owner.search.ListDocuments(search_pb.ListDocumentsRequest(title_contains="x" * 257))
        assert await refused(listing) == (grpc.StatusCode.INVALID_ARGUMENT, "TITLE_FILTER_TOO_LONG")
        listing = owner.search.ListDocuments(search_pb.ListDocumentsRequest(state=99))  # type: ignore[arg-type]
        assert await refused(listing) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_STATE")

    # The read scope cannot change anything; another tenant cannot even find the document.
    reader = mesh.token(tenant=tenant, subject="reader", scopes=("read",))
    async with MeshClient(mesh.gateway_address, token=reader, ca=mesh.ca_path.read_bytes()) as read_only:
        call = read_only.search.UpdateDocument(update(first, ["title"], title="Nope"), timeout=30)
        assert (await refused(call))[0] == grpc.StatusCode.PERMISSION_DENIED
    async with as_tenant(mesh, client, f"other-{uuid.uuid4().hex[:8]}") as other:
        call = other.search.UpdateDocument(update(first, ["custom_metadata"], custom_metadata={"project": "x"}))
        assert await refused(call) == (grpc.StatusCode.NOT_FOUND, "DOCUMENT_NOT_FOUND")
        filtered = search_pb.SearchChunksRequest(query=QUERY, custom_metadata={"project": "apollo"})
        assert not (await other.search.SearchChunks(filtered, timeout=60)).hits
    async with as_tenant(mesh, client, tenant) as owner:
        assert (await owner.get_document(first)).title == "Apollo Mission Notes"


async def test_the_docs_cli_updates_metadata_and_search_and_list_filter_on_it(mesh, client):
    tenant = f"metacli-{uuid.uuid4().hex[:8]}"
    tag = f"cli{uuid.uuid4().hex[:6]}"
    token = mesh.token(tenant=tenant, subject="cli-user")
    async with as_tenant(mesh, client, tenant) as owner:
        response = await owner.upload(make_pdf(tag, 1), f"{tag}.pdf")
        assert (await owner.watch(response.job.name))[-1].state in DONE
    name = response.document.name

    def cli(*args: str):
        return asyncio.to_thread(mivaa, mesh, *args, token=token)

    updated = await cli("docs", "update", name, "--title", "CLI Notes", "--label", "cli", "--meta", "stage=draft")
    assert updated.returncode == 0, updated.stderr
    assert '"stage": "draft"' in updated.stdout and '"title": "CLI Notes"' in updated.stdout, updated.stdout
    found = await cli("search", QUERY, "--meta", "stage=draft", "--mode", "keyword")
    assert found.returncode == 0 and name in found.stdout, found
    missed = await cli("search", QUERY, "--meta", "stage=final")
    assert missed.returncode == 0 and "no results" in missed.stdout, missed
    listed = await cli(
        "docs", "list", "--state", "ready", "--title", "cli notes", "--meta", "stage=draft", "--since", "1h"
    )
    assert listed.returncode == 0 and name in listed.stdout, listed
    bad = await cli("docs", "update", name, "--meta", "Bad Key=x")
    assert bad.returncode == 1 and "INVALID_METADATA_KEY" in bad.stderr, bad
    cleared = await cli("docs", "update", name, "--clear-meta")
    assert cleared.returncode == 0 and "customMetadata" not in cleared.stdout, cleared
