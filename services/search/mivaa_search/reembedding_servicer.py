"""SearchService's re-embedding RPCs (admin-only at the gateway): protos in, Reembedding, protos out."""

from __future__ import annotations

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa.search.v1 import search_service_pb2_grpc
from mivaa_platform.errors import FailedPrecondition, InvalidArgument
from mivaa_platform.tenancy import tenant_from_metadata
from mivaa_search.names import DOMAIN
from mivaa_search.store import ReembeddingRecord
from mivaa_search.store.reembedding import not_found
from mivaa_search.usecases.reembedding import Reembedding

PREFIX = "reembeddings/"
LATEST = PREFIX + "latest"
MAX_NAME_CHARS = 100


def reembedding_to_proto(record: ReembeddingRecord) -> pb.Reembedding:
    message = pb.Reembedding(
        name=PREFIX + record.id,
        model=record.model,
        from_model=record.from_model,
        state=getattr(pb.Reembedding, f"STATE_{record.state}"),
        chunks_total=record.chunks_total,
        chunks_done=record.chunks_done,
        error=record.error,
    )
    message.create_time.FromDatetime(record.create_time)
    message.update_time.FromDatetime(record.update_time)
    if record.switch_time is not None:
        message.switch_time.FromDatetime(record.switch_time)
    return message


def _id(name: str) -> str:
    if not name.startswith(PREFIX) or len(name) > MAX_NAME_CHARS:
        raise InvalidArgument("INVALID_NAME", f'name must be "{PREFIX}{{id}}".', domain=DOMAIN)
    return name.removeprefix(PREFIX)


class ReembeddingMethods(search_service_pb2_grpc.SearchServiceServicer):
    """Mixed into SearchServicer; `_reembedding` is set by its constructor (None: not offered)."""

    _reembedding: Reembedding | None

    def _require_reembedding(self) -> Reembedding:
        if self._reembedding is None:
            raise FailedPrecondition(
                "REEMBEDDING_UNAVAILABLE", "This search service runs no re-embedding.", domain=DOMAIN
            )
        return self._reembedding

    async def StartReembedding(self, request: pb.StartReembeddingRequest, context) -> pb.StartReembeddingResponse:
        tenant = tenant_from_metadata(context.invocation_metadata())
        record = await self._require_reembedding().start(request.model, tenant=tenant)
        return pb.StartReembeddingResponse(reembedding=reembedding_to_proto(record))

    async def GetReembedding(self, request: pb.GetReembeddingRequest, context) -> pb.GetReembeddingResponse:
        tenant = tenant_from_metadata(context.invocation_metadata())
        reembedding = self._require_reembedding()
        if request.name == LATEST:
            record = await reembedding.latest(tenant=tenant)
            if record is None:
                raise not_found(request.name)
        else:
            record = await reembedding.get(_id(request.name), tenant=tenant)
        return pb.GetReembeddingResponse(
            reembedding=reembedding_to_proto(record), active_model=await reembedding.model_for(tenant)
        )

    async def CancelReembedding(self, request: pb.CancelReembeddingRequest, context) -> pb.CancelReembeddingResponse:
        tenant = tenant_from_metadata(context.invocation_metadata())
        record = await self._require_reembedding().cancel(_id(request.name), tenant=tenant)
        return pb.CancelReembeddingResponse(reembedding=reembedding_to_proto(record))
