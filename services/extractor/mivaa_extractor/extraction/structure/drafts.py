"""Blocks being built on a page, and the passes over them once they are in reading order.

A `Draft` is a block in the making: its lines, then what it turned out to be.
After reading order: each run-in heading put right before its paragraph, list
nesting from indentation, a lone number at the page's edge typed as the page
number, and paragraphs that layout split (a hyphenated word across blocks, a
paragraph carried on in the next column) joined again.
"""

from __future__ import annotations

from dataclasses import dataclass

from mivaa_extractor.extraction.structure import tables as table_stage
from mivaa_extractor.extraction.structure.lexicon import PAGE_NUMBER
from mivaa_extractor.extraction.structure.model import BBox, BlockKind
from mivaa_extractor.extraction.structure.pymupdf_backend import TextLine
from mivaa_extractor.extraction.structure.text_cleanup import continues_sentence, join_hyphenated


@dataclass
class Draft:
    """A block being built: its lines, then what it turned out to be."""

    lines: list[TextLine]
    kind: BlockKind = BlockKind.PARAGRAPH
    level: int = 0
    text: str = ""
    bbox: BBox = (0.0, 0.0, 0.0, 0.0)
    table: table_stage.DetectedTable | None = None
    image_index: int = -1
    # A run-in heading cut off the first line of this paragraph (read right before it).
    run_in: Draft | None = None
    is_run_in: bool = False

    def finish_geometry(self) -> None:
        if self.lines:
            self.bbox = (
                min(line.bbox[0] for line in self.lines),
                min(line.bbox[1] for line in self.lines),
                max(line.bbox[2] for line in self.lines),
                max(line.bbox[3] for line in self.lines),
            )

    @property
    def size(self) -> float:
        return max((line.size for line in self.lines), default=0.0)

    @property
    def bold(self) -> bool:
        return bool(self.lines) and all(line.bold for line in self.lines)


def run_in_before_paragraph(drafts: list[Draft]) -> list[Draft]:
    """Each run-in heading right before its paragraph, whatever the XY-cut made of their overlapping boxes."""
    heads = {id(draft.run_in) for draft in drafts if draft.run_in is not None}
    if not heads:
        return drafts
    ordered: list[Draft] = []
    for draft in drafts:
        if id(draft) in heads:
            continue
        if draft.run_in is not None:
            ordered.append(draft.run_in)
        ordered.append(draft)
    return ordered


def demote_title_block(drafts: list[Draft], page_width: float) -> None:
    """Subtitle, author and date lines centred under a document's title are part of the title block, not headings.

    They are set in a size of their own, as headings are; what gives them away
    is that they follow the title, centred and not bold, before any section.
    """
    title = next((index for index, draft in enumerate(drafts) if draft.kind is BlockKind.HEADING), None)
    if title is None:
        return
    middle = page_width / 2
    for draft in drafts[title + 1 :]:
        centre = (draft.bbox[0] + draft.bbox[2]) / 2
        if draft.bold or abs(centre - middle) > 0.08 * page_width:
            break
        if draft.kind is BlockKind.HEADING and draft.size < drafts[title].size:
            draft.kind = BlockKind.PARAGRAPH
            draft.level = 0
        elif draft.kind is not BlockKind.PARAGRAPH:
            break


def set_list_levels(drafts: list[Draft]) -> None:
    indents = sorted({round(d.bbox[0]) for d in drafts if d.kind is BlockKind.LIST_ITEM})
    if not indents:
        return
    levels: list[int] = []
    for x in indents:
        levels.append(levels[-1] + (1 if x - indents[len(levels) - 1] >= 8 else 0) if levels else 1)
    by_indent = dict(zip(indents, levels, strict=True))
    for draft in drafts:
        if draft.kind is BlockKind.LIST_ITEM:
            draft.level = min(by_indent[round(draft.bbox[0])], 6)


def mark_edge_page_numbers(drafts: list[Draft]) -> None:
    """A lone number below (or above) everything else on the page is its page number, margin or not."""
    for draft in drafts:
        if draft.kind is not BlockKind.PARAGRAPH or not PAGE_NUMBER.match(draft.text):
            continue
        others = [other.bbox for other in drafts if other is not draft]
        if (
            not others
            or draft.bbox[1] >= max(b[3] for b in others) - 1
            or draft.bbox[3] <= min(b[1] for b in others) + 1
        ):
            draft.kind = BlockKind.PAGE_NUMBER


# Blocks a paragraph flows around: it stops above a figure or table (and its caption) and goes on below it.
_FLOATS = frozenset({BlockKind.FIGURE, BlockKind.TABLE, BlockKind.CAPTION})
MAX_FLOATS_BETWEEN = 4


def join_split_paragraphs(drafts: list[Draft]) -> list[Draft]:
    """Re-joins what layout split: words hyphenated across blocks, paragraphs across columns, figures or tables,
    multi-line titles. A paragraph continued after a figure is joined once, the figure read after it."""
    joined: list[Draft] = []
    for draft in drafts:
        previous = joined[-1] if joined else None
        target, floats = _interrupted_paragraph(joined) if draft.kind is BlockKind.PARAGRAPH else (None, 0)
        if target is not None:
            merged = join_hyphenated(target.text, draft.text)
            # Carried on at the top of the next column (the next block starts higher up), or below a figure.
            column_break = draft.bbox[1] < target.bbox[3] and draft.bbox[0] > target.bbox[0] + 20
            if merged is None and (column_break or floats) and continues_sentence(target.text, draft.text):
                merged = target.text + " " + draft.text
            if merged is not None:
                target.text = merged
                target.lines.extend(draft.lines)
                target.finish_geometry()
                continue
        if (
            previous is not None
            and previous.kind is BlockKind.HEADING
            and draft.kind is BlockKind.HEADING
            and previous.level == draft.level
            and 0 <= draft.bbox[1] - previous.bbox[3] < 0.8 * max(previous.size, 1.0)
        ):
            previous.text = previous.text + " " + draft.text
            previous.lines.extend(draft.lines)
            previous.finish_geometry()
            continue
        joined.append(draft)
    return joined


def _interrupted_paragraph(joined: list[Draft]) -> tuple[Draft | None, int]:
    """The last paragraph read, when only figures, tables and captions came after it; and how many."""
    for back, draft in enumerate(reversed(joined[-MAX_FLOATS_BETWEEN - 1 :])):
        if draft.kind is BlockKind.PARAGRAPH:
            return draft, back
        if draft.kind not in _FLOATS:
            break
    return None, 0
