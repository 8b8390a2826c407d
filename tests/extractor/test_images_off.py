"""A task with images off: its pages' pictures are located but never decoded, encoded or returned.

The figures still steer reading order and mark their captions, which stay as text: the pages come out
as they did when every image was extracted and then dropped (apply_page_options), minus that work.
"""

from __future__ import annotations

import copy
import random
import time
from pathlib import Path

import pymupdf
import pytest

from mivaa.jobs.v1 import processing_options_pb2 as options_pb2
from mivaa_extractor.adapters.page_reader import ProcessPageReader
from mivaa_extractor.extraction.structure.model import BlockKind, PageLayout
from mivaa_extractor.extraction.structure.page_analysis import AnalysisSettings
from mivaa_extractor.extraction.text_extraction import PageExtractor, analyze_page_range
from mivaa_extractor.ports import WorkingCopy
from mivaa_extractor.worker.page_options import apply_page_options
from tests.extractor.image_pdfs import Image, encoded
from tests.extractor.test_images import count_encodings

PAGES = 6
PICTURES_PER_PAGE = 2
OFF = options_pb2.ProcessingOptions(images=options_pb2.IMAGE_EXTRACTION_OFF)


def noise(seed: int, width: int = 900, height: int = 700) -> bytes:
    """A PNG of noise: incompressible, so decoding and re-encoding it is real work."""
    pixels = random.Random(seed).randbytes(width * height * 3)
    return encoded(Image.frombytes("RGB", (width, height), pixels), "PNG", compress_level=1)


def captions(number: int) -> list[str]:
    """A labelled caption, and one that is a caption only because it sits under a picture."""
    return [f"Figure {number}: soundings of the inner basin.", f"Depths of the outer basin {number} in metres."]


@pytest.fixture(scope="module")
def pictures_pdf(tmp_path_factory) -> Path:
    """Pages of text with two large, distinct pictures each, every picture captioned below it."""
    doc = pymupdf.open()
    for number in range(1, PAGES + 1):
        page = doc.new_page()
        page.insert_text((72, 72), f"Chapter {number}", fontsize=18)
        page.insert_textbox(
            pymupdf.Rect(72, 90, 520, 150),
            f"Page {number} describes the harbour survey in plain prose, one paragraph of body text.",
            fontsize=11,
        )
        for index, caption in enumerate(captions(number)):
            top = 170 + index * 300
            page.insert_image(pymupdf.Rect(72, top, 452, top + 200), stream=noise(number * 10 + index))
            page.insert_text((72, top + 216), caption)
    path = tmp_path_factory.mktemp("images-off") / "pictures.pdf"
    doc.save(path)
    return path


def blocks(page: PageLayout) -> list[tuple]:
    return [(block.kind, block.text, tuple(round(v, 2) for v in block.bbox)) for block in page.blocks]


def test_images_off_encodes_no_picture_and_leaves_every_other_block_as_before(pictures_pdf, monkeypatch):
    encodings = count_encodings(monkeypatch)
    extracted = list(analyze_page_range(str(pictures_pdf), None, 0, PAGES))
    assert len(encodings) == PAGES * PICTURES_PER_PAGE  # the work images off saves
    assert sum(len(page.images) for page in extracted) == PAGES * PICTURES_PER_PAGE

    encodings.clear()
    located = list(analyze_page_range(str(pictures_pdf), None, 0, PAGES, settings=AnalysisSettings(emit_images=False)))
    assert encodings == [], "no picture was decoded or encoded"
    for page in located:
        assert page.images == [] and all(block.kind is not BlockKind.FIGURE for block in page.blocks)
        # Both captions stay as text, and as captions: the located pictures still mark them.
        assert [block.text for block in page.blocks if block.kind is BlockKind.CAPTION] == captions(page.number)

    # Why the pictures are still located: without them the unlabelled caption would read as body text.
    [unlocated] = analyze_page_range(str(pictures_pdf), None, 0, 1, settings=AnalysisSettings(extract_images=False))
    assert [block.kind for block in unlocated.blocks if block.text == captions(1)[1]] == [BlockKind.PARAGRAPH]

    # What a task with images off made before: every picture extracted, then dropped by its options.
    dropped = apply_page_options(copy.deepcopy(extracted), OFF)
    assert [blocks(page) for page in located] == [blocks(page) for page in dropped]
    assert [(p.ocr_reason, p.skipped_images, p.warnings) for p in located] == [
        (p.ocr_reason, p.skipped_images, p.warnings) for p in dropped
    ]


async def test_the_page_processes_extract_no_picture_when_a_reader_asks_for_none(pictures_pdf):
    extractor = PageExtractor(workers=1)
    reader = ProcessPageReader(extractor)
    document = WorkingCopy(str(pictures_pdf), None, "jobs/images-off", "acme")
    try:
        read = await reader.profile(document)
        seconds: dict[bool, float] = {}
        pages: dict[bool, list[PageLayout]] = {}
        for images in (True, False, True, False):  # twice each: the first run also starts the process
            started = time.perf_counter()
            pages[images] = [
                page async for batch in reader.pages(document, PAGES, read, images=images) for page in batch
            ]
            seconds[images] = time.perf_counter() - started
    finally:
        extractor.close()
    assert sum(len(page.images) for page in pages[True]) == PAGES * PICTURES_PER_PAGE
    assert all(page.images == [] for page in pages[False])
    assert not any(block.kind is BlockKind.FIGURE for page in pages[False] for block in page.blocks)
    dropped = apply_page_options(pages[True], OFF)
    assert [blocks(page) for page in pages[False]] == [blocks(page) for page in dropped]
    # Twelve large pictures decoded, re-encoded and shipped back, or none: a difference a busy machine still shows.
    assert seconds[False] < seconds[True], seconds
