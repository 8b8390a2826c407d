"""Document versions through the real gateway (Envoy: scopes, tenants, routes) and mesh.

Uploading v2 with v1 as parent keeps both; searches find v2's text and not v1's unless asked for
every version; ListDocuments shows the newest version with its count and ListDocumentVersions lists
the chain newest first; another tenant naming the parent is NOT_FOUND and stores nothing.
"""

from __future__ import annotations

import re

import grpc

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from tests.e2e.test_operations import mivaa
from tests.e2e.test_reprocess import DONE, refused, tenant_client, unique
from tests.support.pdfs import make_pdf, page_phrase


def found(hits: search_pb.SearchChunksResponse, phrase: str) -> set[str]:
    """The documents whose hits hold the phrase."""
    return {hit.document for hit in hits.hits if phrase in " ".join(hit.text.split())}


async def ingest(client: MeshClient, data: bytes, filename: str, **fields):
    uploaded = await client.upload_bytes(data, filename, **fields)
    final = await client.wait_for_job(uploaded.job.name, timeout=600)
    assert final.state in DONE
    return uploaded


async def test_a_new_version_replaces_the_old_one_in_search_and_keeps_the_history(mesh):
    first_tag, second_tag = unique("alpha").replace("-", ""), unique("beta").replace("-", "")
    async with tenant_client(mesh, unique("versions")) as owner:
        v1 = await ingest(owner, make_pdf(first_tag, 1), "handbook.pdf")
        assert v1.created and v1.document.version == 1
        second_bytes = make_pdf(second_tag, 1)
        v2 = await ingest(owner, second_bytes, "handbook.pdf", parent=v1.document.name)
        assert v2.created and v2.document.version == 2
        assert v2.document.first_version == v1.document.name

        new_text, old_text = page_phrase(second_tag, 1), page_phrase(first_tag, 1)
        assert found(await owner.search_chunks(new_text, top_k=10), new_text) == {v2.document.name}
        assert (
            found(await owner.search_chunks(old_text, top_k=10, mode=search_pb.SEARCH_MODE_KEYWORD), old_text) == set()
        )
        every = await owner.search_chunks(old_text, top_k=10, include_all_versions=True)
        assert found(every, old_text) == {v1.document.name}

        listed = await owner.search.ListDocuments(search_pb.ListDocumentsRequest(), timeout=30)
        assert [(d.name, d.version_count) for d in listed.documents] == [(v2.document.name, 2)]
        versions = await owner.search.ListDocumentVersions(
            search_pb.ListDocumentVersionsRequest(parent=v1.document.name, page_size=1), timeout=30
        )
        assert [d.name for d in versions.documents] == [v2.document.name] and versions.next_page_token
        rest = await owner.search.ListDocumentVersions(
            search_pb.ListDocumentVersionsRequest(parent=v1.document.name, page_token=versions.next_page_token),
            timeout=30,
        )
        assert [d.version for d in rest.documents] == [1] and not rest.next_page_token

        # The same bytes again: the existing version, nothing new.
        again = await owner.upload_bytes(second_bytes, "handbook.pdf", parent=v1.document.name)
        assert not again.created and again.document.name == v2.document.name

        # Another tenant naming this parent: NOT_FOUND, and it stores nothing.
        async with tenant_client(mesh, unique("intruder")) as intruder:
            code, reason = await refused(
                intruder.upload_bytes(make_pdf(unique("x").replace("-", ""), 1), "x.pdf", parent=v1.document.name)
            )
            assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "DOCUMENT_NOT_FOUND")
            code, _ = await refused(
                intruder.search.ListDocumentVersions(
                    search_pb.ListDocumentVersionsRequest(parent=v1.document.name), timeout=30
                )
            )
            assert code == grpc.StatusCode.NOT_FOUND
            mine = await intruder.search.ListDocuments(search_pb.ListDocumentsRequest(include_all_versions=True))
            assert list(mine.documents) == []

        # A malformed parent is refused before the bytes are read.
        code, reason = await refused(owner.upload_bytes(b"%PDF-", "y.pdf", parent="documents/not-an-id"))
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PARENT")


async def test_listing_versions_needs_the_read_scope(mesh):
    async with tenant_client(mesh, unique("noscope"), scopes=("write",)) as writer:
        code, _ = await refused(
            writer.search.ListDocumentVersions(
                search_pb.ListDocumentVersionsRequest(parent="documents/00000000-0000-0000-0000-000000000000"),
                timeout=30,
            )
        )
        assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_replace_by_filename_makes_the_next_version_of_the_newest_document_of_that_name(mesh):
    tag = unique("gamma").replace("-", "")
    async with tenant_client(mesh, unique("byname")) as owner:
        v1 = await ingest(owner, make_pdf(tag, 1), "minutes.pdf")
        v2 = await ingest(owner, make_pdf(tag + "b", 1), "minutes.pdf", replace_by_filename=True)
        assert v2.created and v2.document.version == 2 and v2.document.first_version == v1.document.name
        old, new = page_phrase(tag, 1), page_phrase(tag + "b", 1)
        assert found(await owner.search_chunks(new, top_k=10), new) == {v2.document.name}
        assert found(await owner.search_chunks(old, top_k=10), old) == set()
        # Deleting the newest version makes the previous one the searched one again.
        await owner.search.DeleteDocument(search_pb.DeleteDocumentRequest(name=v2.document.name), timeout=30)
        assert found(await owner.search_chunks(old, top_k=10), old) == {v1.document.name}


def test_the_cli_uploads_versions_and_lists_them(mesh, tmp_path):
    tenant = unique("cliversions")
    token = mesh.token(tenant=tenant, scopes=("read", "write"), subject="cli-versions")
    path = tmp_path / "guide.pdf"
    path.write_bytes(make_pdf(unique("guideone").replace("-", ""), 1))
    first = mivaa(mesh, "ingest", str(path), token=token)
    assert first.returncode == 0, first.stdout + first.stderr
    [name] = set(re.findall(r"documents/[0-9a-f-]{36}", first.stdout + first.stderr))

    path.write_bytes(make_pdf(unique("guidetwo").replace("-", ""), 1))
    second = mivaa(mesh, "ingest", str(path), "--parent", name, token=token)
    assert second.returncode == 0, second.stdout + second.stderr
    path.write_bytes(make_pdf(unique("guidethree").replace("-", ""), 1))
    third = mivaa(mesh, "ingest", str(path), "--replace", token=token)
    assert third.returncode == 0, third.stdout + third.stderr

    listed = mivaa(mesh, "docs", "versions", name, token=token)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["v3", "v2", "v1"] and name in lines[2]
    both = mivaa(mesh, "ingest", str(path), str(path), "--parent", name, token=token)
    assert both.returncode == 2 and "--parent takes exactly one" in both.stderr
