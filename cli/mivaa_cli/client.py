"""A small async client of the mesh's public API, used by the CLI, the demo and the benchmarks."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator, Iterable, Iterator

import grpc

from mivaa.admin.v1 import admin_service_pb2_grpc
from mivaa.answer.v1 import answer_service_pb2_grpc
from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.extractor.v1 import extractor_service_pb2_grpc
from mivaa.images.v1 import image_analysis_service_pb2_grpc
from mivaa.jobs.v1.processing_options_pb2 import ProcessingOptions
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa.search.v1 import search_service_pb2_grpc
from mivaa.webhooks.v1 import webhook_service_pb2_grpc
from mivaa_platform.channels import create_blocking_channel, create_channel
from mivaa_platform.grpc_errors import as_aio_error
from mivaa_platform.tls import ClientTls

UPLOAD_CHUNK_BYTES = 1024 * 1024


class MeshClient:
    """The public API through the gateway: TLS verified against `ca` (PEM bytes), a bearer `token` on every call."""

    def __init__(self, address: str, *, token: str = "", ca: bytes | None = None):
        tls = ClientTls(root_certificates=ca) if ca is not None else None
        self.channel = create_channel(address, tls=tls, token=token)
        self._blocking_settings = (address, tls, token)
        self._blocking: grpc.Channel | None = None
        self.extractor = extractor_service_pb2_grpc.ExtractorServiceStub(self.channel)
        self.search = search_service_pb2_grpc.SearchServiceStub(self.channel)
        self.answer = answer_service_pb2_grpc.AnswerServiceStub(self.channel)
        self.admin = admin_service_pb2_grpc.AdminServiceStub(self.channel)
        self.webhooks = webhook_service_pb2_grpc.WebhookServiceStub(self.channel)
        self.images = image_analysis_service_pb2_grpc.ImageAnalysisServiceStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()
        if self._blocking is not None:
            self._blocking.close()

    def _blocking_extractor(self) -> extractor_service_pb2_grpc.ExtractorServiceStub:
        if self._blocking is None:
            address, tls, token = self._blocking_settings
            self._blocking = create_blocking_channel(address, tls=tls, token=token)
        return extractor_service_pb2_grpc.ExtractorServiceStub(self._blocking)

    async def __aenter__(self) -> MeshClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def upload_bytes(
        self,
        data: bytes,
        filename: str,
        *,
        title: str = "",
        labels: Iterable[str] = (),
        password: str = "",
        batch: str = "",
        options: ProcessingOptions | None = None,
        parent: str = "",
        replace_by_filename: bool = False,
        timeout: float = 300,
    ) -> extractor_pb.UploadDocumentResponse:
        def requests() -> Iterator[extractor_pb.UploadDocumentRequest]:
            yield extractor_pb.UploadDocumentRequest(
                metadata=extractor_pb.UploadMetadata(
                    filename=filename,
                    title=title,
                    labels=list(labels),
                    password=password,
                    batch=batch,
                    options=options,
                    parent=parent,
                    replace_by_filename=replace_by_filename,
                )
            )
            for offset in range(0, len(data), UPLOAD_CHUNK_BYTES):
                yield extractor_pb.UploadDocumentRequest(chunk=data[offset : offset + UPLOAD_CHUNK_BYTES])

        # Uploads go over the blocking API: a server that refuses a file part way (over the size
        # limit, say) ends the stream early, and grpc.aio can report that as INTERNAL (grpc#36066).
        upload = self._blocking_extractor().UploadDocument
        try:
            return await asyncio.to_thread(upload, requests(), timeout=timeout)
        except grpc.RpcError as exc:
            raise as_aio_error(exc) from None

    async def upload_file(self, path: pathlib.Path, **kwargs) -> extractor_pb.UploadDocumentResponse:
        data = await asyncio.to_thread(path.read_bytes)
        return await self.upload_bytes(data, path.name, **kwargs)

    async def watch(self, job: str, timeout: float = 3600) -> AsyncIterator[extractor_pb.WatchJobResponse]:
        async for response in self.extractor.WatchJob(extractor_pb.WatchJobRequest(name=job), timeout=timeout):
            yield response

    async def wait_for_job(self, job: str, timeout: float = 3600):
        last = None
        async for response in self.watch(job, timeout=timeout):
            last = response.event.job
        return last

    async def search_chunks(
        self, query: str, top_k: int = 5, documents=(), labels=(), **fields
    ) -> search_pb.SearchChunksResponse:
        """SearchChunks; `fields` are further SearchChunksRequest fields (mode, min_score, page_min, ...)."""
        return await self.search.SearchChunks(
            search_pb.SearchChunksRequest(
                query=query, top_k=top_k, documents=list(documents), labels=list(labels), **fields
            ),
            timeout=30,
        )
