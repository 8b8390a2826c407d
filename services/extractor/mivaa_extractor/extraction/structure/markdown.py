"""Markdown and JSON renderings of structured pages.

Markdown is for reading and for LLMs: headings as `#`, lists indented by
level, tables as pipe tables, figures as image links with their captions,
code fenced; page furniture (running headers, footers, page numbers) left
out. The JSON form keeps everything, furniture included, with bounding boxes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict

from mivaa_extractor.extraction.structure.lexicon import BULLET_SYMBOLS, DASHES, MARKDOWN_ENUMERATED
from mivaa_extractor.extraction.structure.model import FURNITURE, Block, BlockKind, DocumentInfo, PageLayout, Table
from mivaa_extractor.extraction.structure.text_cleanup import continues_sentence, join_hyphenated

ImageLink = Callable[[str, str], str]  # (sha256, mime type) -> link target


def default_image_link(sha256: str, mime_type: str = "image/png") -> str:
    return f"images/{sha256}.{'jpg' if mime_type == 'image/jpeg' else 'png'}"


_BULLET_CHARS = BULLET_SYMBOLS + DASHES


def block_markdown(
    block: Block, image_link: ImageLink = default_image_link, mime_types: dict[str, str] | None = None
) -> str:
    kind = block.kind
    text = block.text
    if kind is BlockKind.HEADING:
        return "#" * max(1, min(block.level, 6)) + " " + text
    if kind is BlockKind.LIST_ITEM:
        indent = "  " * max(0, block.level - 1)
        if MARKDOWN_ENUMERATED.match(text):
            return indent + text
        return indent + "- " + text.lstrip(_BULLET_CHARS).lstrip()
    if kind is BlockKind.TABLE:
        return block.table.to_markdown() if block.table is not None else text
    if kind is BlockKind.FIGURE:
        if block.image is None:
            return ""
        mime = (mime_types or {}).get(block.image.sha256, "image/png")
        alt = block.image.caption.replace("]", ")").replace("[", "(")
        return f"![{alt}]({image_link(block.image.sha256, mime)})"
    if kind is BlockKind.CAPTION:
        return f"*{text}*"
    if kind is BlockKind.CODE:
        return "```\n" + text + "\n```"
    if kind is BlockKind.FOOTNOTE:
        return "> " + text
    return _with_links(block)


def _with_links(block: Block) -> str:
    text = block.text
    for link in block.links:
        target = link.uri or (f"#page-{link.page}" if link.page else "")
        if target and link.text and link.text in text and f"]({target})" not in text:
            text = text.replace(link.text, f"[{link.text}]({target})", 1)
    return text


def page_markdown(
    page: PageLayout, image_link: ImageLink = default_image_link, mime_types: dict[str, str] | None = None
) -> str:
    parts = [block_markdown(block, image_link, mime_types) for block in page.blocks if block.kind not in FURNITURE]
    return "\n\n".join(part for part in parts if part)


def document_markdown(
    pages: Iterable[PageLayout], image_link: ImageLink = default_image_link, mime_types: dict[str, str] | None = None
) -> Iterable[str]:
    """The document's markdown, one piece per page (join with blank lines).

    What a page break cut is joined once: a paragraph that goes on at the top
    of the next page (its sentence left open, the next starting in lower case,
    or a word hyphenated across the break) is carried on without a paragraph
    break, and a table whose rows go on in a table of as many columns at the
    top of the next page is one table (a repeated header row dropped).
    """
    pending = ""
    previous: PageLayout | None = None
    # The table a joined table started as, while it still ends the text: a third page's part is
    # compared with the first part's header, not with the second part's first row.
    started_as: Table | None = None
    for page in pages:
        text = page_markdown(page, image_link, mime_types)
        if not text:
            continue
        if previous is not None and pending:
            joined = _across_pages(previous, page, pending, image_link, mime_types, started_as)
            if joined is not None:
                (pending, started_as), previous = joined, page
                continue
            yield pending
        pending, previous, started_as = text, page, None
    if pending:
        yield pending


def _across_pages(
    before: PageLayout,
    after: PageLayout,
    text: str,
    image_link: ImageLink,
    mime_types: dict[str, str] | None,
    started_as: Table | None,
) -> tuple[str, Table | None] | None:
    """`text` (ending with `before`'s last block) with `after`'s markdown carried on, or None for a page
    break; with the table the text now ends with, as it started, when that table may go on."""
    last = next((block for block in reversed(before.blocks) if block.kind not in FURNITURE), None)
    body = [block for block in after.blocks if block.kind not in FURNITURE]
    if last is None or not body:
        return None
    first, rest = body[0], body[1:]
    tail = "\n\n".join(part for part in (block_markdown(b, image_link, mime_types) for b in rest) if part)
    if last.kind is BlockKind.PARAGRAPH and first.kind is BlockKind.PARAGRAPH:
        hyphenated = join_hyphenated(last.text, first.text)
        if hyphenated is not None and text.endswith(last.text):
            head = text[: -len(last.text)] + hyphenated
        elif continues_sentence(last.text, first.text):
            head = text + " " + _with_links(first)
        else:
            return None
        return head + ("\n\n" + tail if tail else ""), None
    if last.kind is BlockKind.TABLE and first.kind is BlockKind.TABLE and last.table and first.table:
        origin = started_as or last.table
        carried = origin.continued_by(first.table)
        if carried is None:
            return None
        still_open = origin if not rest else None
        return text + "\n" + "\n".join(carried) + ("\n\n" + tail if tail else ""), still_open
    return None


def page_json(page: PageLayout) -> dict:
    """A page as plain JSON-ready data (images by sha256; their bytes are served separately)."""
    data = {
        "number": page.number,
        "width": page.width,
        "height": page.height,
        "rotation": page.rotation,
        "blocks": [_block_json(block) for block in page.blocks],
    }
    if page.error:
        data["error"] = {"reason": page.error.reason, "message": page.error.message}
    if page.ocr_reason:
        data["ocr_reason"] = page.ocr_reason
    return data


def _block_json(block: Block) -> dict:
    data: dict = {"type": block.kind.value, "bbox": list(block.bbox), "text": block.text}
    if block.level:
        data["level"] = block.level
    if block.links:
        data["links"] = [asdict(link) for link in block.links]
    if block.table is not None:
        data["table"] = {
            "rows": block.table.row_count,
            "columns": block.table.column_count,
            "header_rows": block.table.header_rows,
            "cells": [asdict(cell) for cell in block.table.cells],
        }
    if block.image is not None:
        data["image"] = {"sha256": block.image.sha256, "caption": block.image.caption}
    return data


def info_json(info: DocumentInfo) -> dict:
    data = asdict(info)
    data["outline"] = [asdict(entry) for entry in info.outline]
    return data
