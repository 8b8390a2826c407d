"""The search adapter's translation: a document survives the trip through the extractor's types unchanged."""

from __future__ import annotations

from mivaa.search.v1 import search_service_pb2 as pb
from mivaa_extractor.adapters.search_proto import chunk_to_proto, document_from_proto, document_to_proto
from mivaa_extractor.extraction.chunking import TextChunk
from mivaa_extractor.extraction.structure.model import BlockKind
from mivaa_extractor.ports import DocumentState, EmbeddedChunk


def a_processed_document() -> pb.Document:
    document = pb.Document(
        name="documents/abc",
        filename="report.pdf",
        title="Report",
        labels=["a", "b"],
        sha256="f" * 64,
        size_bytes=1234,
        page_count=3,
        state=pb.DOCUMENT_STATE_READY,
        job="jobs/0123",
        chunk_count=7,
        image_count=2,
        metadata=pb.DocumentMetadata(title="Report", authors=["Ann"], language="en", create_date="2024-01-02"),
        outline=[pb.OutlineEntry(level=1, title="Intro", page=1), pb.OutlineEntry(level=2, title="Aim", page=2)],
    )
    document.create_time.FromSeconds(1_700_000_000)
    document.update_time.FromSeconds(1_700_000_123)
    return document


def test_a_document_round_trips():
    message = a_processed_document()
    document = document_from_proto(message)
    assert document.state is DocumentState.READY and document.info is not None
    assert document.info.authors == ("Ann",) and [e.title for e in document.info.outline] == ["Intro", "Aim"]
    assert document_to_proto(document) == message


def test_a_new_document_has_no_metadata_or_times():
    message = pb.Document(name="documents/new", sha256="e" * 64, state=pb.DOCUMENT_STATE_PENDING, job="jobs/01")
    document = document_from_proto(message)
    assert (document.info, document.create_time) == (None, None)
    assert document_to_proto(document) == message


def test_a_chunk_says_where_its_text_came_from():
    chunk = TextChunk(0, "text", 2, 3, 5, ("Intro",), (BlockKind.PARAGRAPH, BlockKind.TABLE))
    message = chunk_to_proto(EmbeddedChunk(chunk, [0.5, 0.5], 4, from_ocr=True, ocr_confidence=0.8))
    assert (message.text_source, message.token_count, list(message.section_path)) == (pb.TEXT_SOURCE_OCR, 4, ["Intro"])
    assert list(message.block_types) == [pb.BLOCK_TYPE_PARAGRAPH, pb.BLOCK_TYPE_TABLE]
    assert round(message.ocr_confidence, 3) == 0.8
    layer = chunk_to_proto(EmbeddedChunk(chunk, [1.0], 1))
    assert layer.text_source == pb.TEXT_SOURCE_TEXT_LAYER
