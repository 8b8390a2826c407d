"""An UpsertChunks stream read into one document's content, as the search service holds it until the commit."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa_platform.errors import InvalidArgument
from mivaa_search.upserts import read_upsert

DIMENSION = 384


def _chunk(index: int) -> pb.UpsertChunksRequest:
    vector = np.random.default_rng(index).standard_normal(DIMENSION).astype(np.float32)
    return pb.UpsertChunksRequest(
        chunk=pb.Chunk(index=index, text=f"chunk {index} " + "word " * 40, page_start=1, page_end=1, embedding=vector)
    )


async def _stream(count: int, *, header: bool = True, repeat: int | None = None):
    if header:
        yield pb.UpsertChunksRequest(header=pb.UpsertChunksHeader(document="documents/d1", model="m", page_count=1))
    for index in range(count):
        yield _chunk(index)
    if repeat is not None:
        yield _chunk(repeat)


async def test_the_chunks_arrive_with_the_vectors_that_were_sent():
    upsert = await read_upsert(_stream(3), lambda name: name.removeprefix("documents/"))
    assert upsert.document == "d1"
    assert [chunk.index for chunk in upsert.content.chunks] == [0, 1, 2]
    for chunk in upsert.content.chunks:
        sent = np.random.default_rng(chunk.index).standard_normal(DIMENSION).astype(np.float32)
        assert np.array_equal(np.asarray(chunk.embedding, dtype=np.float32), sent)


async def test_a_long_documents_chunks_are_held_at_about_their_vectors_size():
    # A 600-page manual sends ~5000 chunks, all held until the commit: as Python float lists
    # they took ~12 KiB each (the search service grew by 100 MiB while one such document was indexed).
    count = 3000
    tracemalloc.start()
    try:
        upsert = await read_upsert(_stream(count), lambda name: name.removeprefix("documents/"))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(upsert.content.chunks) == count
    vectors = count * DIMENSION * 4
    assert held < 2.5 * vectors, f"{held / count:.0f} bytes held per chunk of {DIMENSION * 4} vector bytes"


@pytest.mark.parametrize(
    ("malformed", "reason"),
    [({"header": False}, "UPSERT_HEADER_MISSING"), ({"repeat": 1}, "DUPLICATE_CHUNK_INDEX")],
)
async def test_a_malformed_stream_is_refused_with_its_reason(malformed, reason):
    with pytest.raises(InvalidArgument) as refused:
        await read_upsert(_stream(2, **malformed), lambda name: name)
    assert refused.value.reason == reason
