"""`mivaa admin export DIR` through Envoy: every document of the token's tenant, and only those, as
Markdown and JSON with a manifest whose checksums match the files; never into an existing folder."""

from __future__ import annotations

import hashlib
import json
import uuid

from mivaa_cli.client import MeshClient
from tests.e2e.test_operations import mivaa
from tests.support.pdfs import make_pdf, page_phrase


async def _ingest(mesh, tenant: str, tags: list[str]) -> list[str]:
    names = []
    async with MeshClient(
        mesh.gateway_address, token=mesh.token(tenant=tenant), ca=mesh.ca_path.read_bytes()
    ) as client:
        for tag in tags:
            response = await client.upload_bytes(make_pdf(tag, 2), f"{tag}.pdf", labels=["export"])
            await client.wait_for_job(response.job.name, timeout=300)
            names.append(response.document.name)
    return names


async def test_a_tenant_export_holds_its_documents_and_no_one_elses(mesh, tmp_path):
    tenant, other = f"export-{uuid.uuid4().hex[:8]}", f"export-other-{uuid.uuid4().hex[:8]}"
    mine = await _ingest(mesh, tenant, ["export-alpha", "export-beta"])
    await _ingest(mesh, other, ["export-gamma"])

    target = tmp_path / "export"
    done = mivaa(mesh, "admin", "export", str(target), token=mesh.token(tenant=tenant))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "exported 2 documents" in done.stdout, done.stdout
    manifest = json.loads((target / "manifest.json").read_text())
    assert [entry["name"] for entry in manifest["documents"]] == mine  # oldest first
    for entry, tag in zip(manifest["documents"], ("export-alpha", "export-beta"), strict=True):
        assert entry["filename"] == f"{tag}.pdf" and entry["page_count"] == 2 and entry["labels"] == ["export"]
        for file in entry["files"]:
            data = (target / "documents" / file["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == file["sha256"] and len(data) == file["size_bytes"]
        document_id = entry["name"].removeprefix("documents/")
        markdown = (target / "documents" / f"{document_id}.md").read_text()
        assert page_phrase(tag, 2) in " ".join(markdown.split())
        exported = json.loads((target / "documents" / f"{document_id}.json").read_text())
        assert exported["name"] == entry["name"]
    assert "export-gamma" not in "".join(path.read_text() for path in (target / "documents").iterdir())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export"]  # no partial folder left

    # Never into an existing folder: refused, and what is there stays as it was.
    again = mivaa(mesh, "admin", "export", str(target), token=mesh.token(tenant=tenant))
    assert again.returncode == 2 and "exists" in again.stdout, again.stdout
    assert json.loads((target / "manifest.json").read_text()) == manifest
