"""Hostile PDFs generated in code: decompression bombs and oversized pages, a few KB each.

A content stream of `size` bytes of one repeated pattern is Flate-compressed
twice (the stream's /Filter is [/FlateDecode /FlateDecode]): deflate cannot
shrink data more than ~1000:1, but its output for repetitive input is itself
repetitive, so a second pass takes 1 GiB down to a few KB, as a real bomb does.
The compressed form is built from one compressed block repeated, so making
a 1 GiB bomb costs well under a second.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection

import pymupdf

from tests.support.pdfs import filler, page_phrase

GIB = 1 << 30
_BLOCK = 1 << 20


def deflate_repeated(pattern: bytes, size: int) -> bytes:
    """zlib data that inflates to `pattern` repeated up to `size` bytes (a multiple of 1 MiB)."""
    assert size % _BLOCK == 0 and _BLOCK % len(pattern) == 0
    block = pattern * (_BLOCK // len(pattern))
    compressor = zlib.compressobj(9)
    # After a full flush the compressor forgets its history, so every later
    # identical block compresses to the same bytes: compress two, repeat the second.
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum = 1
    for _ in range(size // _BLOCK):
        checksum = zlib.adler32(block, checksum)
    # A final empty block with fixed Huffman codes (0x03 0x00), then the Adler-32 of everything.
    return first + repeated * (size // _BLOCK - 1) + b"\x03\x00" + checksum.to_bytes(4, "big")


def bomb_stream(pattern: bytes = b" ", size: int = GIB) -> bytes:
    """Doubly deflated content: a few KB that inflate to `size` bytes of `pattern`."""
    return zlib.compress(deflate_repeated(pattern, size), 9)


def pdf_with_bomb_page(
    tag: str, pages: int = 3, *, bomb_page: int = 2, pattern: bytes = b" ", size: int = GIB
) -> bytes:
    """`pages` text pages (page_phrase(tag, n) on page n); page `bomb_page` draws a content bomb instead."""
    return pdf_with_heavy_pages(tag, pages, heavy_pages=(bomb_page,), pattern=pattern, size=size, keep_text=False)


def pdf_with_heavy_pages(
    tag: str,
    pages: int,
    *,
    heavy_pages: Collection[int],
    pattern: bytes = b"q Q ",
    size: int = 16 << 20,
    keep_text: bool = True,
) -> bytes:
    """Text pages (page_phrase(tag, n) on page n); each of `heavy_pages` also draws (or, without
    `keep_text`, only draws) `size` bytes of `pattern`: slow to parse, every time MuPDF reads the page."""
    document = pymupdf.open()
    for number in range(1, pages + 1):
        page = document.new_page(width=595, height=842)
        if number in heavy_pages and not keep_text:
            continue
        text = page_phrase(tag, number) + "\n\n" + filler(number, 4)
        page.insert_textbox(pymupdf.Rect(60, 60, 535, 800), text, fontsize=10, fontname="helv")
    heavy = document.get_new_xref()
    document.update_object(heavy, "<<>>")
    document.update_stream(heavy, bomb_stream(pattern, size), compress=False)
    document.xref_set_key(heavy, "Filter", "[/FlateDecode /FlateDecode]")
    for number in heavy_pages:
        page = document[number - 1]
        own = " ".join(f"{xref} 0 R" for xref in page.get_contents()) if keep_text else ""
        document.xref_set_key(page.xref, "Contents", f"[{own} {heavy} 0 R]")
    data = document.tobytes(garbage=1)
    document.close()
    return data


def pdf_with_huge_scan_page(tag: str, pages: int = 3, *, huge_page: int = 2, side_points: float = 14400) -> bytes:
    """Text pages, and on `huge_page` an image-only page of `side_points` square (14400 pt = 200 inches,
    the largest page PDF allows) whose one small picture is stretched over the whole page."""
    document = pymupdf.open()
    picture = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 64, 64), False)
    picture.set_rect(picture.irect, (200,))
    for number in range(1, pages + 1):
        if number == huge_page:
            page = document.new_page(width=side_points, height=side_points)
            page.insert_image(page.rect, pixmap=picture)
            continue
        page = document.new_page(width=595, height=842)
        text = page_phrase(tag, number) + "\n\n" + filler(number, 4)
        page.insert_textbox(pymupdf.Rect(60, 60, 535, 800), text, fontsize=10, fontname="helv")
    data = document.tobytes(garbage=1, deflate=True)
    document.close()
    return data
