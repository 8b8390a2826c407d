"""PDFs with known facts, made in code, and helpers to ask the mesh about them."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pymupdf

from mivaa.answer.v1 import answer_service_pb2 as answer_pb
from mivaa.jobs.v1 import job_pb2

DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)

# The observatory handbook: one fact a page, among sentences on other subjects.
OBSERVATORY_PAGES = [
    [
        "The Quillfeather Observatory",
        "The Quillfeather observatory stands on Mount Varne at an altitude of 2417 metres above sea level.",
        "Visitors reach the summit by a narrow gravel road that closes during the winter months.",
        "The surrounding valley is known for its orchards and its quiet villages.",
    ],
    [
        "Instruments",
        "The main telescope of the observatory, the Halden reflector, has a primary mirror 3.6 metres wide.",
        "A smaller solar telescope on the east terrace records sunspots every clear morning.",
        "The control room sits below the dome and is heated by a wood stove.",
    ],
    [
        "History",
        "The Quillfeather observatory was founded in 1962 by the astronomer Ilse Marwick.",
        "Marwick had studied variable stars in Leiden before she came to the mountain.",
        "During its first decade the observatory employed only four people.",
    ],
]

# Another tenant's document: a different subject, its own facts.
BAKERY_PAGES = [
    [
        "The Larkspur Bakery",
        "The Larkspur bakery bakes its sourdough rye in a wood-fired oven heated to 260 degrees.",
        "The bakery opens at six in the morning and closes when the bread is sold out.",
    ]
]


def facts_pdf(pages: list[list[str]]) -> bytes:
    document = pymupdf.open()
    for lines in pages:
        page = document.new_page()
        y = 80
        heading, *paragraphs = lines
        page.insert_text((72, y), heading, fontsize=18)
        y += 40
        for paragraph in paragraphs:
            rect = pymupdf.Rect(72, y, 520, y + 60)
            page.insert_textbox(rect, paragraph, fontsize=11)
            y += 70
    data = document.tobytes()
    document.close()
    return data


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def ingest(client_or_caller, data: bytes, filename: str, label: str) -> str:
    """Uploads as the caller's tenant, waits for the job; the document's name."""
    if hasattr(client_or_caller, "upload_bytes"):
        response = await client_or_caller.upload_bytes(data, filename, labels=[label])
        job = await client_or_caller.wait_for_job(response.job.name, timeout=300)
    else:
        response = await client_or_caller.upload(data, filename, labels=[label])
        job = (await client_or_caller.watch(response.job.name))[-1]
    assert job.state in DONE, job
    return response.document.name


class Answer:
    """An Ask's stream, gathered."""

    def __init__(self, responses: list[answer_pb.AskResponse]):
        kinds = [r.WhichOneof("event") for r in responses]
        assert kinds[0] == "sources" and kinds[-2:] == ["citations", "done"], kinds
        assert set(kinds[1:-2]) <= {"delta"}, kinds
        self.sources = list(responses[0].sources.sources)
        self.text = "".join(r.delta.text for r in responses[1:-2])
        self.citations = list(responses[-2].citations.citations)
        self.done = responses[-1].done


async def ask_stream(stub, request: answer_pb.AskRequest, *, metadata=(), timeout: float = 60) -> list:
    """Ask's responses, as a well-behaved client gets them: it waits out the gateway's per-subject
    answers budget (5/s, burst 10) instead of failing, since the suite's tests share one subject.
    Any other error is raised as it came."""
    for attempt in range(10):
        try:
            return [response async for response in stub.Ask(request, timeout=timeout, metadata=metadata)]
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.RESOURCE_EXHAUSTED or exc.details() != "local_rate_limited":
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
    raise AssertionError("the answers budget never refilled")


async def ask(stub, question: str, *, metadata=(), **fields) -> Answer:
    return Answer(await ask_stream(stub, answer_pb.AskRequest(question=question, **fields), metadata=metadata))
