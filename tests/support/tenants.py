"""Calling the mesh as a given tenant.

Services take the tenant from `x-mivaa-tenant` metadata, which the gateway sets
from a verified token's `tenant` claim (stripping any a client sent). So a test
acts as a tenant the way a real caller would:

- through a gateway that authenticates (the mesh can mint tokens: `mesh.token`),
  on a connection of its own with a token carrying that tenant;
- through an open gateway (no auth configured), on the shared client with the
  `x-mivaa-tenant` metadata Envoy would otherwise set.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_platform.tenancy import tenant_metadata

UPLOAD_CHUNK_BYTES = 1024 * 1024


@contextlib.asynccontextmanager
async def as_tenant(mesh, client, tenant: str, *, raw_tenant: bool = False) -> AsyncIterator[TenantCaller]:
    """A caller whose every call is `tenant`'s. raw_tenant skips checking the id (to send a malformed one)."""
    if hasattr(mesh, "token"):
        from mivaa_cli.client import MeshClient

        token = mesh.token(tenant=tenant)
        async with MeshClient(mesh.gateway_address, token=token, ca=mesh.ca_path.read_bytes()) as own:
            yield TenantCaller(own, tenant, metadata=())
    else:
        metadata = (("x-mivaa-tenant", tenant),) if raw_tenant else tenant_metadata(tenant)
        yield TenantCaller(client, tenant, metadata=metadata)


class TenantCaller:
    """A mesh client's stubs, every call carrying one tenant's credentials (`metadata`)."""

    def __init__(self, client, tenant: str, *, metadata: tuple[tuple[str, str], ...]):
        self.tenant = tenant
        self.metadata = metadata
        self.extractor = client.extractor
        self.search = client.search
        self.answer = client.answer

    async def upload(self, data: bytes, filename: str, *, labels=()) -> extractor_pb.UploadDocumentResponse:
        async def requests() -> AsyncIterator[extractor_pb.UploadDocumentRequest]:
            yield extractor_pb.UploadDocumentRequest(
                metadata=extractor_pb.UploadMetadata(filename=filename, labels=list(labels))
            )
            for offset in range(0, len(data), UPLOAD_CHUNK_BYTES):
                yield extractor_pb.UploadDocumentRequest(chunk=data[offset : offset + UPLOAD_CHUNK_BYTES])

        return await self.extractor.UploadDocument(requests(), timeout=300, metadata=self.metadata)

    async def watch(self, job: str, timeout: float = 600) -> list[job_pb2.Job]:
        call = self.extractor.WatchJob(extractor_pb.WatchJobRequest(name=job), timeout=timeout, metadata=self.metadata)
        return [response.event.job async for response in call]

    async def get_document(self, name: str) -> search_pb.Document:
        request = search_pb.GetDocumentRequest(name=name)
        return (await self.search.GetDocument(request, timeout=30, metadata=self.metadata)).document

    async def list_documents(self) -> list[search_pb.Document]:
        documents, token = [], ""
        while True:
            request = search_pb.ListDocumentsRequest(page_size=500, page_token=token)
            response = await self.search.ListDocuments(request, timeout=30, metadata=self.metadata)
            documents.extend(response.documents)
            if not (token := response.next_page_token):
                return documents

    async def list_jobs(self) -> list[job_pb2.Job]:
        jobs, token = [], ""
        while True:
            request = extractor_pb.ListJobsRequest(page_size=500, page_token=token)
            response = await self.extractor.ListJobs(request, timeout=30, metadata=self.metadata)
            jobs.extend(response.jobs)
            if not (token := response.next_page_token):
                return jobs

    async def search_chunks(self, query: str, *, top_k: int = 10, documents=()) -> search_pb.SearchChunksResponse:
        request = search_pb.SearchChunksRequest(query=query, top_k=top_k, documents=list(documents))
        return await self.search.SearchChunks(request, timeout=30, metadata=self.metadata)
