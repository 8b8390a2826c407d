"""Who may ask what: tenants see only their own documents and conversations; the gateway asks
for the read scope and gives answers a rate limit of their own."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from mivaa.answer.v1 import answer_service_pb2 as answer_pb
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from mivaa_platform.grpc_errors import error_reason
from tests.answer.facts import BAKERY_PAGES, OBSERVATORY_PAGES, ask, facts_pdf, ingest, unique
from tests.support.tenants import as_tenant


async def test_a_tenant_is_never_answered_from_another_tenants_documents(mesh, client):
    label = unique("tenancy")
    observatory = await ingest(client, facts_pdf(OBSERVATORY_PAGES), "observatory.pdf", label)
    theirs = await ask(client.answer, "Who founded the Quillfeather observatory?", labels=[label])
    assert theirs.done.found and {c.document for c in theirs.citations} == {observatory}

    async with as_tenant(mesh, client, unique("tenant-b")) as b:
        bakery = await ingest(b, facts_pdf(BAKERY_PAGES), "bakery.pdf", label)
        own = await ask(b.answer, "How hot is the oven of the Larkspur bakery?", metadata=b.metadata)
        assert own.done.found and {c.document for c in own.citations} == {bakery}

        # The same question as tenant "default" asked, in B's name: B's documents hold no answer.
        answer = await ask(b.answer, "Who founded the Quillfeather observatory?", metadata=b.metadata)
        assert not answer.done.found, answer.text
        assert {s.document for s in answer.sources} <= {bakery}
        assert answer.citations == []
        assert "Marwick" not in answer.text

        # Naming A's document does not reach it either.
        narrowed = await ask(
            b.answer, "Who founded the Quillfeather observatory?", metadata=b.metadata, documents=[observatory]
        )
        assert narrowed.sources == [] and not narrowed.done.found

        # A's conversation looks missing to B: the same answer as for an id nobody uses.
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await ask(b.answer, "In which year?", metadata=b.metadata, conversation=theirs.done.conversation)
        assert failure.value.code() == grpc.StatusCode.NOT_FOUND
        assert error_reason(failure.value) == "CONVERSATION_NOT_FOUND"
        assert theirs.done.conversation.removeprefix("conversations/") not in failure.value.details()

        # Nor can B summarize A's document: it is missing, as for any id.
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await b.answer.SummarizeDocument(
                answer_pb.SummarizeDocumentRequest(name=observatory), metadata=b.metadata, timeout=30
            )
        assert failure.value.code() == grpc.StatusCode.NOT_FOUND
        assert error_reason(failure.value) == "DOCUMENT_NOT_FOUND"


async def test_asking_needs_the_read_scope(mesh):
    token = mesh.token(scopes=("write",))
    async with MeshClient(mesh.gateway_address, token=token, ca=mesh.ca_path.read_bytes()) as writer:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await ask(writer.answer, "Who founded the Quillfeather observatory?")
    assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_answers_have_a_rate_limit_of_their_own(mesh):
    """A burst over the answers budget (10 per subject) is cut with RESOURCE_EXHAUSTED, labelled
    `answers`, while the same subject's reads go on."""
    token = mesh.token(subject=unique("asker"), scopes=("read",))
    async with MeshClient(mesh.gateway_address, token=token, ca=mesh.ca_path.read_bytes()) as asker:

        async def one() -> grpc.aio.AioRpcError | None:
            # An empty question: refused by the service at once, so only the gateway's budget counts.
            call = asker.answer.Ask(answer_pb.AskRequest(question=""), timeout=30)
            try:
                [response async for response in call]
            except grpc.aio.AioRpcError as exc:
                return exc
            return None

        failures = await asyncio.gather(*(one() for _ in range(30)))
        limited = [f for f in failures if f is not None and f.code() == grpc.StatusCode.RESOURCE_EXHAUSTED]
        assert limited, [f.code() if f else None for f in failures]
        headers = dict(limited[0].initial_metadata() or ()) | dict(limited[0].trailing_metadata() or ())
        assert headers.get("x-mivaa-ratelimited") == "answers"
        refused = [f for f in failures if f is not None and f.code() == grpc.StatusCode.INVALID_ARGUMENT]
        assert refused and all(error_reason(f) == "QUESTION_EMPTY" for f in refused)
        # Reads are another route class: not spent by the answers.
        await asker.search.ListDocuments(search_pb.ListDocumentsRequest(page_size=1), timeout=30)
