"""SearchService's document-intelligence RPCs: protos in, DocumentIntelligence, protos out."""

from __future__ import annotations

from typing import cast

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa.search.v1 import search_service_pb2_grpc
from mivaa_platform.tenancy import tenant_from_metadata
from mivaa_search.names import document_id
from mivaa_search.search_protos import entity_type, entity_type_name
from mivaa_search.usecases.compare import SectionPair
from mivaa_search.usecases.intelligence import DocumentIntelligence


def _section(pair: SectionPair) -> pb.SectionComparison:
    # grpc_tools' .pyi types EnumTypeWrapper.Value as returning int; it returns the enum's value.
    message = pb.SectionComparison(
        change=cast(pb.SectionChange, pb.SectionChange.Value(f"SECTION_CHANGE_{pair.change}")),
        similarity=pair.similarity,
        number_changes=[
            pb.NumberChange(context=n.context, unit=n.unit, old_value=n.old, new_value=n.new) for n in pair.numbers
        ],
    )
    if pair.first is not None:
        message.first_heading.extend(pair.first.path)
        message.first_page_start, message.first_page_end = pair.first.page_start, pair.first.page_end
    if pair.second is not None:
        message.second_heading.extend(pair.second.path)
        message.second_page_start, message.second_page_end = pair.second.page_start, pair.second.page_end
    return message


class DocumentIntelligenceMethods(search_service_pb2_grpc.SearchServiceServicer):
    """Mixed into SearchServicer; `_intelligence` is set by its constructor."""

    _intelligence: DocumentIntelligence

    async def ListDocumentEntities(
        self, request: pb.ListDocumentEntitiesRequest, context
    ) -> pb.ListDocumentEntitiesResponse:
        entities, token = await self._intelligence.entities(
            document_id(request.parent),
            tenant=tenant_from_metadata(context.invocation_metadata()),
            types=[entity_type_name(value) or "UNSPECIFIED" for value in request.types],
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListDocumentEntitiesResponse(
            entities=[
                pb.DocumentEntity(
                    type=entity_type(e.type),
                    text=e.text,
                    normalized_text=e.normalized,
                    pages=e.pages,
                    mention_count=e.mentions,
                )
                for e in entities
            ],
            next_page_token=token,
        )

    async def ListRelatedDocuments(
        self, request: pb.ListRelatedDocumentsRequest, context
    ) -> pb.ListRelatedDocumentsResponse:
        related, token = await self._intelligence.related(
            document_id(request.name),
            tenant=tenant_from_metadata(context.invocation_metadata()),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListRelatedDocumentsResponse(
            documents=[
                pb.RelatedDocument(document=f"documents/{r.document_id}", title=r.title, score=1.0 - r.distance)
                for r in related
            ],
            next_page_token=token,
        )

    async def CompareDocuments(self, request: pb.CompareDocumentsRequest, context) -> pb.CompareDocumentsResponse:
        pairs = await self._intelligence.compare(
            document_id(request.first),
            document_id(request.second),
            tenant=tenant_from_metadata(context.invocation_metadata()),
        )
        counts = {change: sum(1 for p in pairs if p.change == change) for change in {p.change for p in pairs}}
        return pb.CompareDocumentsResponse(
            sections=[_section(pair) for pair in pairs],
            matching_count=counts.get("MATCHING", 0),
            different_count=counts.get("DIFFERENT", 0),
            only_in_first_count=counts.get("ONLY_IN_FIRST", 0),
            only_in_second_count=counts.get("ONLY_IN_SECOND", 0),
        )
