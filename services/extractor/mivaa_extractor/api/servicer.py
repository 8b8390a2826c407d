"""ExtractorService: translates between protos and the extractor's use cases, nothing more."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator

import grpc

from mivaa.extractor.v1 import extractor_service_pb2 as pb
from mivaa.extractor.v1 import extractor_service_pb2_grpc
from mivaa_extractor.adapters.search_proto import document_to_proto
from mivaa_extractor.api.batch_uploads import BatchUploads
from mivaa_extractor.api.ingest import Ingestor, UploadRequest, new_upload_request
from mivaa_extractor.api.page_rendering import PageRenderer, new_render_request
from mivaa_extractor.api.reprocess import Reprocessor
from mivaa_extractor.api.thumbnails import new_thumbnail_request, render_thumbnail
from mivaa_extractor.api.url_import import UrlImports, new_import_request
from mivaa_extractor.api.versions import check_parent, with_version_target
from mivaa_extractor.job_filter import JobFilter, new_job_filter
from mivaa_extractor.jobs import DOMAIN
from mivaa_extractor.ports import JobRecords
from mivaa_extractor.processing_options import options_or_none
from mivaa_platform.bus_errors import bus_errors
from mivaa_platform.errors import InvalidArgument, MivaaError
from mivaa_platform.tenancy import tenant_from_metadata


def tenant_of(context: grpc.aio.ServicerContext) -> str:
    """The caller's tenant, from the `x-mivaa-tenant` metadata the gateway sets ("default" without it)."""
    return tenant_from_metadata(context.invocation_metadata())


class ExtractorServicer(extractor_service_pb2_grpc.ExtractorServiceServicer):
    def __init__(
        self,
        ingestor: Ingestor,
        jobs: JobRecords,
        renderer: PageRenderer,
        batches: BatchUploads,
        imports: UrlImports,
    ):
        self._ingestor = ingestor
        self._jobs = jobs
        self._renderer = renderer
        self._batches = batches
        self._imports = imports
        self._reprocessor = Reprocessor(ingestor.ports, ingestor.validate)

    async def UploadDocument(
        self, request_iterator: AsyncIterator[pb.UploadDocumentRequest], context: grpc.aio.ServicerContext
    ) -> pb.UploadDocumentResponse:
        tenant = tenant_of(context)  # before reading the upload: a bad tenant fails fast
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("content") != "metadata":
            raise InvalidArgument(
                "UPLOAD_METADATA_MISSING", "The first upload message must carry the metadata.", domain=DOMAIN
            )
        metadata = first.metadata
        # Every caller field is checked before a byte of the file is read or anything is stored.
        upload = new_upload_request(
            filename=metadata.filename,
            title=metadata.title,
            labels=metadata.labels,
            password=metadata.password,
            tenant=tenant,
        )
        upload = dataclasses.replace(upload, options=options_or_none(metadata))
        upload = with_version_target(
            upload, parent=metadata.parent, replace_by_filename=metadata.replace_by_filename, fields="metadata."
        )
        await check_parent(upload, self._ingestor.ports.catalog)
        if metadata.batch:
            with bus_errors(domain=DOMAIN):
                upload = await self._batches.admit(upload, metadata.batch)

        async def byte_chunks() -> AsyncIterator[bytes]:
            async for message in request_iterator:
                if message.WhichOneof("content") != "chunk":
                    raise InvalidArgument(
                        "UPLOAD_METADATA_REPEATED", "Only the first upload message may carry metadata.", domain=DOMAIN
                    )
                yield message.chunk

        result = await self._upload(upload, byte_chunks())
        return pb.UploadDocumentResponse(
            document=document_to_proto(result.document), job=result.job, created=result.created
        )

    async def ImportDocument(
        self, request: pb.ImportDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImportDocumentResponse:
        tenant = tenant_of(context)
        # The caller's fields and the URL's syntax are checked before a connection is made.
        upload = new_import_request(
            uri=request.uri,
            filename=request.filename,
            title=request.title,
            labels=request.labels,
            password=request.password,
            tenant=tenant,
        )
        upload = dataclasses.replace(upload, options=options_or_none(request))
        upload = with_version_target(
            upload, parent=request.parent, replace_by_filename=request.replace_by_filename, fields=""
        )
        await check_parent(upload, self._ingestor.ports.catalog)
        with self._imports.slots.hold(tenant):
            if request.batch:
                with bus_errors(domain=DOMAIN):
                    upload = await self._batches.admit(upload, request.batch)
            # The fetched bytes take the upload's path: the same size and signature checks while
            # they arrive, the same validation, storage, job and batch accounting after. Closing the
            # stream drops the connection at once when a check stops reading part way.
            async with contextlib.aclosing(self._imports.chunks(request.uri)) as chunks:
                result = await self._upload(upload, chunks)
        return pb.ImportDocumentResponse(
            document=document_to_proto(result.document), job=result.job, created=result.created
        )

    async def _upload(self, upload: UploadRequest, chunks: AsyncIterator[bytes]):
        """The upload, joined to its batch when it names one (or counted there as refused)."""
        try:
            result = await self._ingestor.upload(upload, await self._ingestor.read_upload(chunks))
        except MivaaError as error:
            if upload.batch:
                await self._batches.refused(upload, error)
            raise
        if upload.batch:
            with bus_errors(domain=DOMAIN):
                await self._batches.joined(upload, result.job)
        return result

    async def ReprocessDocument(
        self, request: pb.ReprocessDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReprocessDocumentResponse:
        tenant = tenant_of(context)
        options = options_or_none(request)  # checked before anything is read
        document, job = await self._reprocessor.reprocess(
            request.name, options=options, password=request.password, tenant=tenant
        )
        return pb.ReprocessDocumentResponse(document=document_to_proto(document), job=job)

    async def CreateBatch(
        self, request: pb.CreateBatchRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateBatchResponse:
        options = options_or_none(request)
        with bus_errors(domain=DOMAIN):
            batch = await self._batches.create(
                display_name=request.display_name,
                labels=list(request.labels),
                expected_documents=request.expected_documents,
                tenant=tenant_of(context),
                options=options,
            )
        return pb.CreateBatchResponse(batch=batch)

    async def GetBatch(self, request: pb.GetBatchRequest, context: grpc.aio.ServicerContext) -> pb.GetBatchResponse:
        with bus_errors(domain=DOMAIN):
            return pb.GetBatchResponse(batch=await self._batches.records.get(request.name, tenant=tenant_of(context)))

    async def ListBatches(
        self, request: pb.ListBatchesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListBatchesResponse:
        tenant = tenant_of(context)
        with bus_errors(domain=DOMAIN):
            found, next_token = await self._batches.records.list(request.page_size, request.page_token, tenant=tenant)
        return pb.ListBatchesResponse(batches=found, next_page_token=next_token)

    async def WatchBatch(
        self, request: pb.WatchBatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchBatchResponse]:
        with bus_errors(domain=DOMAIN):
            async for batch in self._batches.records.watch(request.name, tenant=tenant_of(context)):
                yield pb.WatchBatchResponse(batch=batch)

    async def GetJob(self, request: pb.GetJobRequest, context: grpc.aio.ServicerContext) -> pb.GetJobResponse:
        with bus_errors(domain=DOMAIN):
            return pb.GetJobResponse(job=await self._jobs.get(request.name, tenant=tenant_of(context)))

    async def ListJobs(self, request: pb.ListJobsRequest, context: grpc.aio.ServicerContext) -> pb.ListJobsResponse:
        tenant = tenant_of(context)
        where = _job_filter(request)
        with bus_errors(domain=DOMAIN):
            jobs, next_token = await self._jobs.list(request.page_size, request.page_token, tenant=tenant, where=where)
        return pb.ListJobsResponse(jobs=jobs, next_page_token=next_token)

    async def WatchJob(
        self, request: pb.WatchJobRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchJobResponse]:
        with bus_errors(domain=DOMAIN):
            async for event in self._jobs.watch(request.name, tenant=tenant_of(context)):
                yield pb.WatchJobResponse(event=event)

    async def CancelJob(self, request: pb.CancelJobRequest, context: grpc.aio.ServicerContext) -> pb.CancelJobResponse:
        with bus_errors(domain=DOMAIN):
            return pb.CancelJobResponse(job=await self._jobs.cancel(request.name, tenant=tenant_of(context)))

    async def RenderPage(
        self, request: pb.RenderPageRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenderPageResponse:
        image = await self._renderer.render(
            new_render_request(
                name=request.name,
                page=request.page,
                max_width=request.max_width,
                max_height=request.max_height,
                password=request.password,
                tenant=tenant_of(context),
            )
        )
        return pb.RenderPageResponse(
            png=image.png,
            width=image.width,
            height=image.height,
            page_width=image.page_width,
            page_height=image.page_height,
            page_count=image.page_count,
        )

    async def RenderThumbnail(
        self, request: pb.RenderThumbnailRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenderThumbnailResponse:
        thumbnail = new_thumbnail_request(
            name=request.name, size=request.size, password=request.password, tenant=tenant_of(context)
        )
        image = await render_thumbnail(self._renderer, thumbnail)
        return pb.RenderThumbnailResponse(png=image.png, width=image.width, height=image.height)


def _job_filter(request: pb.ListJobsRequest) -> JobFilter:
    def millis(field: str) -> int | None:
        return getattr(request, field).ToMilliseconds() if request.HasField(field) else None

    return new_job_filter(
        states=request.states,
        labels=request.labels,
        after_ms=millis("create_time_after"),
        before_ms=millis("create_time_before"),
        batch=request.batch,
    )
