"""ImageAnalysisService: translates between protos and the image analyzer, nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from mivaa.images.v1 import image_analysis_service_pb2 as pb
from mivaa.images.v1 import image_analysis_service_pb2_grpc
from mivaa_extractor.api.servicer import tenant_of
from mivaa_extractor.images.analysis import Analysis, ImageAnalyzer, Kind, Options, check_options
from mivaa_extractor.images.pictures import DOMAIN
from mivaa_platform.errors import InvalidArgument, MivaaError

KINDS = {
    pb.ANALYSIS_PROPERTIES: Kind.PROPERTIES,
    pb.ANALYSIS_COLORS: Kind.COLORS,
    pb.ANALYSIS_TEXT: Kind.TEXT,
    pb.ANALYSIS_TAGS: Kind.TAGS,
    pb.ANALYSIS_SIMILAR: Kind.SIMILAR,
}
ANALYSES = {kind: value for value, kind in KINDS.items()}
MAX_NAME_CHARS = 512


def options_from_proto(options: pb.AnalysisOptions) -> Options:
    unknown = [value for value in options.analyses if value not in KINDS]
    if unknown:
        raise InvalidArgument("OPTIONS_INVALID", "analyses names an unknown analysis.", domain=DOMAIN)
    return check_options(
        kinds=[KINDS[value] for value in options.analyses],
        labels=list(options.labels),
        max_tags=options.max_tags,
        max_colors=options.max_colors,
        threshold=options.similarity_threshold,
        limit=options.similar_limit,
    )


def analysis_to_proto(analysis: Analysis) -> pb.ImageAnalysis:
    message = pb.ImageAnalysis(
        image=analysis.image,
        image_model=analysis.model,
        image_model_source=analysis.model_source,
        colors=[
            pb.DominantColor(hex=c.hex, red=c.rgb[0], green=c.rgb[1], blue=c.rgb[2], fraction=c.fraction)
            for c in analysis.colors
        ],
        tags=[pb.Tag(label=t.label, score=t.score, similarity=t.similarity) for t in analysis.tags],
        similar=[
            pb.SimilarImage(
                image=s.image, document=s.document, document_title=s.document_title, score=s.score, pages=s.pages
            )
            for s in analysis.similar
        ],
        errors=[
            pb.AnalysisError(analysis=ANALYSES[f.kind], reason=f.reason, message=f.message) for f in analysis.failures
        ],
    )
    if analysis.properties is not None:
        p = analysis.properties
        message.properties.CopyFrom(
            pb.ImageProperties(
                format=p.format,
                mime_type=p.mime_type,
                width=p.width,
                height=p.height,
                size_bytes=p.size_bytes,
                color_space=p.color_space,
                bits_per_channel=p.bits_per_channel,
                has_alpha=p.has_alpha,
                file_dpi_x=p.file_dpi[0],
                file_dpi_y=p.file_dpi[1],
                placements=[
                    pb.PlacedResolution(
                        page=r.placement.page,
                        width_points=r.placement.width_points,
                        height_points=r.placement.height_points,
                        dpi_x=r.dpi[0],
                        dpi_y=r.dpi[1],
                    )
                    for r in analysis.placements
                ],
            )
        )
    if analysis.text is not None:
        message.text.CopyFrom(
            pb.ImageText(text=analysis.text.text, confidence=analysis.text.confidence, engine=analysis.text.engine)
        )
    return message


def _check_name(name: str) -> str:
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidArgument("IMAGE_NAME_INVALID", "Name an image as documents/{id}/images/{sha256}.", domain=DOMAIN)
    return name


class ImageAnalysisServicer(image_analysis_service_pb2_grpc.ImageAnalysisServiceServicer):
    def __init__(self, analyzer: ImageAnalyzer, *, max_batch_images: int):
        self._analyzer = analyzer
        self._max_batch = max_batch_images

    async def AnalyzeImage(
        self, request: pb.AnalyzeImageRequest, context: grpc.aio.ServicerContext
    ) -> pb.AnalyzeImageResponse:
        tenant = tenant_of(context)
        options = options_from_proto(request.options)
        source = request.WhichOneof("source")
        if source == "image":
            analysis = await self._analyzer.analyze_stored(_check_name(request.image), options, tenant=tenant)
        elif source == "content":
            analysis = await self._analyzer.analyze_content(request.content, options, tenant=tenant)
        else:
            raise InvalidArgument("IMAGE_MISSING", "Send a stored image's name or the picture's bytes.", domain=DOMAIN)
        return pb.AnalyzeImageResponse(analysis=analysis_to_proto(analysis))

    async def BatchAnalyzeImages(
        self, request: pb.BatchAnalyzeImagesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.BatchAnalyzeImagesResponse]:
        tenant = tenant_of(context)
        if not request.images or len(request.images) > self._max_batch:
            raise InvalidArgument(
                "BATCH_SIZE_INVALID",
                f"Name 1 to {self._max_batch} images.",
                domain=DOMAIN,
                metadata={"limit": str(self._max_batch)},
            )
        options = options_from_proto(request.options)
        for name in request.images:
            try:
                analysis = await self._analyzer.analyze_stored(_check_name(name), options, tenant=tenant)
            except MivaaError as error:
                yield pb.BatchAnalyzeImagesResponse(
                    image=name[:MAX_NAME_CHARS], error=pb.AnalysisError(reason=error.reason, message=error.message)
                )
                continue
            yield pb.BatchAnalyzeImagesResponse(image=name, analysis=analysis_to_proto(analysis))
