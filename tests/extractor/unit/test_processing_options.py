"""Processing options: refused when malformed, and applied by the pipeline to what a task writes."""

from __future__ import annotations

import pytest

from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1 import processing_options_pb2 as options_pb2
from mivaa_extractor.extraction.chunking import Chunker
from mivaa_extractor.extraction.structure.model import (
    Block,
    BlockKind,
    ExtractedImage,
    ImagePlacement,
    PageLayout,
    Table,
    TableCell,
)
from mivaa_extractor.processing_options import MAX_CHUNK_TOKENS, check_options
from mivaa_extractor.worker.page_options import OCR_FORCED, apply_page_options
from mivaa_extractor.worker.pipeline import DocumentPipeline
from mivaa_platform.errors import InvalidArgument
from tests.extractor.unit.fakes import FakeRecognizer
from tests.extractor.unit.test_pipeline import TEXT, Processing, no_heartbeat

Options = options_pb2.ProcessingOptions


def test_valid_options_pass_with_their_languages_deduplicated_in_order():
    given = Options(
        ocr_mode=options_pb2.OCR_MODE_FORCE,
        ocr_languages=["deu", "eng", "deu", "chi_sim"],
        images=options_pb2.IMAGE_EXTRACTION_OFF,
        tables=options_pb2.TABLE_EXTRACTION_OFF,
        chunk_tokens=64,
    )
    checked = check_options(given)
    assert list(checked.ocr_languages) == ["deu", "eng", "chi_sim"]
    assert (checked.ocr_mode, checked.chunk_tokens) == (options_pb2.OCR_MODE_FORCE, 64)
    assert check_options(Options()) == Options()  # every default


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (Options(ocr_mode=9), "options.ocr_mode"),  # type: ignore[arg-type]
        (Options(images=7), "options.images"),  # type: ignore[arg-type]
        (Options(tables=-1), "options.tables"),  # type: ignore[arg-type]
        (Options(chunk_tokens=31), "options.chunk_tokens"),
        (Options(chunk_tokens=MAX_CHUNK_TOKENS + 1), "options.chunk_tokens"),
        (Options(chunk_tokens=-5), "options.chunk_tokens"),
        (Options(ocr_languages=["English"]), "options.ocr_languages"),
        (Options(ocr_languages=["en"]), "options.ocr_languages"),
        (Options(ocr_languages=["../eng"]), "options.ocr_languages"),
        (Options(ocr_languages=["xyz"]), "options.ocr_languages"),  # well formed, not a language
        (
            Options(ocr_languages=["eng", "deu", "fra", "ita", "spa", "por", "nld", "swe", "dan"]),
            "options.ocr_languages",
        ),
        (Options(ocr_mode=options_pb2.OCR_MODE_OFF, ocr_languages=["eng"]), "options.ocr_languages"),
    ],
)
def test_bad_options_are_refused_naming_the_field(options, field):
    with pytest.raises(InvalidArgument) as refused:
        check_options(options)
    assert refused.value.reason == "PROCESSING_OPTION_INVALID"
    assert refused.value.metadata["field"] == field


def _table_page() -> PageLayout:
    table = Table(
        row_count=2,
        column_count=2,
        cells=(TableCell(0, 0, "Part", header=True), TableCell(0, 1, "Stock", header=True), *_row()),
        header_rows=1,
    )
    image = ExtractedImage("a" * 64, "image/png", 10, 10, b"png")
    return PageLayout(
        number=1,
        width=600,
        height=800,
        blocks=[
            Block(BlockKind.PARAGRAPH, (0, 0, 1, 1), "Before the table."),
            Block(BlockKind.TABLE, (0, 2, 1, 3), table.to_markdown(), table=table),
            Block(BlockKind.FIGURE, (0, 4, 1, 5), "", image=ImagePlacement("a" * 64, 1, (0, 4, 1, 5))),
        ],
        images=[image],
    )


def _row() -> tuple[TableCell, ...]:
    return (TableCell(1, 0, "XK-4471"), TableCell(1, 1, "12"))


def test_tables_off_turns_each_row_into_a_paragraph_and_images_off_drops_figures_and_bytes():
    options = Options(tables=options_pb2.TABLE_EXTRACTION_OFF, images=options_pb2.IMAGE_EXTRACTION_OFF)
    [page] = apply_page_options([_table_page()], options)
    assert [(block.kind, block.text) for block in page.blocks] == [
        (BlockKind.PARAGRAPH, "Before the table."),
        (BlockKind.PARAGRAPH, "Part Stock"),
        (BlockKind.PARAGRAPH, "XK-4471 12"),
    ]
    assert page.images == [] and all(block.table is None for block in page.blocks)


def test_default_options_leave_pages_as_read():
    [page] = apply_page_options([_table_page()], Options())
    assert [block.kind for block in page.blocks] == [BlockKind.PARAGRAPH, BlockKind.TABLE, BlockKind.FIGURE]
    assert len(page.images) == 1


def test_ocr_force_flags_every_readable_page_and_ocr_off_none():
    pages = [PageLayout.from_text(1, TEXT), PageLayout(number=2, ocr_reason="NO_TEXT_LAYER")]
    forced = apply_page_options(pages, Options(ocr_mode=options_pb2.OCR_MODE_FORCE))
    assert [page.ocr_reason for page in forced] == [OCR_FORCED, "NO_TEXT_LAYER"]
    off = apply_page_options(forced, Options(ocr_mode=options_pb2.OCR_MODE_OFF))
    assert [page.ocr_reason for page in off] == [None, None]


async def _run(texts, options: Options, recognizer: FakeRecognizer | None = None) -> Processing:
    processing = Processing(texts, recognizer=recognizer)
    task = await processing.queued_task()
    task.options.CopyFrom(options)
    job = await processing.pipeline.run(task, no_heartbeat)
    assert job.state in (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)
    return processing


async def test_ocr_off_leaves_a_scanned_page_without_text_and_calls_no_ocr():
    recognizer = FakeRecognizer()
    processing = await _run([TEXT, ""], Options(ocr_mode=options_pb2.OCR_MODE_OFF), recognizer)
    assert recognizer.calls == []
    [writer] = processing.index.writers
    assert writer.pages[1][0].text == "" and not writer.pages[1][1]
    assert all("Words read from the scan." not in chunk.chunk.text for chunk in writer.chunks)


async def test_ocr_force_reads_every_page_with_the_documents_languages():
    recognizer = FakeRecognizer()
    options = Options(ocr_mode=options_pb2.OCR_MODE_FORCE, ocr_languages=["deu", "eng"])
    processing = await _run([TEXT, TEXT, ""], options, recognizer)
    assert sorted(number for numbers, _ in recognizer.calls for number in numbers) == [1, 2, 3]
    assert set(recognizer.languages) == {("deu", "eng")}
    [writer] = processing.index.writers
    assert all(ocr for _, ocr in writer.pages)
    assert all(chunk.from_ocr for chunk in writer.chunks)


async def test_the_chunk_size_goes_to_the_chunker_and_changes_the_chunk_count():
    sizes: list[int] = []

    def chunker(max_tokens: int = 128) -> Chunker:
        sizes.append(max_tokens)
        return Chunker(max_tokens=max_tokens, overlap_tokens=4)

    counts = []
    for tokens in (0, 32):
        processing = Processing([TEXT * 6, TEXT * 6])
        processing.pipeline = DocumentPipeline(processing.pipeline.ports, chunker, processing.pipeline.settings)
        task = await processing.queued_task()
        task.options.chunk_tokens = tokens
        await processing.pipeline.run(task, no_heartbeat)
        [writer] = processing.index.writers
        counts.append(len(writer.chunks))
    assert sizes == [128, 32]
    assert counts[1] > counts[0] >= 1
