"""One document's chunking state: sections, tables and the greedy packing of blocks into chunks."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mivaa_extractor.extraction.chunking.segments import PARAGRAPH_BREAK, Segment, TextChunk, halve, join_segments
from mivaa_extractor.extraction.structure.model import BlockKind, PageLayout, Table

if TYPE_CHECKING:
    from mivaa_extractor.extraction.chunking.chunker import Chunker


@dataclass(frozen=True)
class _OpenTable:
    """A table that ended its page: a table at the top of the next page may go on with it."""

    table: Table  # as it started, header included
    head_text: str  # the caption and header lines its chunks repeat
    captioned: bool


class ChunkStream:
    """The chunking state of one document (see Chunker)."""

    def __init__(self, chunker: Chunker):
        self._chunker = chunker
        self._segments: list[Segment] = []
        self._cost = 0
        self._index = 0
        self._ready: list[TextChunk] = []
        self._queue: deque[Segment] = deque()
        self._path: list[tuple[int, str]] = []  # (level, heading) of the current section
        self._open_table: _OpenTable | None = None

    def feed(self, page: PageLayout) -> list[TextChunk]:
        # A table that ended the page before goes on only at the very top of this one.
        open_table, self._open_table = self._open_table, None
        if page.error is None:
            blocks = page.body_blocks()
            # A table's caption (just before or after it) travels with the table's chunks.
            caption_of_table: dict[int, int] = {}  # table block index -> caption block index
            for index, block in enumerate(blocks):
                if block.kind is BlockKind.TABLE:
                    for neighbour in (index - 1, index + 1):
                        if (
                            0 <= neighbour < len(blocks)
                            and blocks[neighbour].kind is BlockKind.CAPTION
                            and neighbour not in caption_of_table.values()
                        ):
                            caption_of_table[index] = neighbour
                            break
            taken = set(caption_of_table.values())
            for index, block in enumerate(blocks):
                if index in taken:
                    continue
                if block.kind is BlockKind.HEADING:
                    self._start_section(block.level, " ".join(block.text.split()), page.number)
                elif block.kind is BlockKind.TABLE and block.table is not None:
                    caption = blocks[caption_of_table[index]].text if index in caption_of_table else ""
                    caption = " ".join(caption.split())
                    carried = open_table.table.continued_by(block.table) if index == 0 and open_table else None
                    if open_table is not None and carried is not None:
                        # Rows that go on from the page before: chunked under that table's caption and header.
                        self._table_rows(open_table.head_text, carried, page.number, open_table.captioned)
                        if caption:  # the continuation's own caption (below it) stays text of its own
                            self._text_alone(caption, page.number, BlockKind.CAPTION)
                        kept = open_table
                    else:
                        kept = self._table(block, page.number, caption)
                    if index == len(blocks) - 1:
                        self._open_table = kept
                elif block.kind is BlockKind.FIGURE:
                    continue  # the caption comes as its own block; the image is indexed apart
                else:
                    for paragraph in PARAGRAPH_BREAK.split(block.text):
                        paragraph = (
                            " ".join(paragraph.split()) if block.kind is not BlockKind.CODE else paragraph.strip()
                        )
                        if paragraph:
                            self._queue.extend(self._chunker.segments(paragraph, page.number, block.kind))
            self._drain()
        ready, self._ready = self._ready, []
        return ready

    def _close_chunk(self) -> None:
        """Ends the current chunk here, without overlap into the next (a section or table boundary)."""
        self._drain()
        if self._has_fresh_text():
            self._emit()
            self._drain()
        self._segments, self._cost = [], 0

    def _start_section(self, level: int, title: str, page: int) -> None:
        # Headings with no text between them ("1.2 Spaces" then "Definition 8")
        # open one chunk together: a chunk of headings alone would match every
        # query about its words and answer none.
        self._drain()
        if any(not segment.overlap and segment.kind is not BlockKind.HEADING for segment in self._segments):
            self._close_chunk()
        else:
            self._segments = [segment for segment in self._segments if not segment.overlap]
            self._cost = sum(segment.cost for segment in self._segments)
        level = max(1, level)
        self._path = [(lvl, text) for lvl, text in self._path if lvl < level] + [(level, title)]
        # The heading opens its section's first chunk, which helps both readers and retrieval.
        self._queue.extend(self._chunker.segments(title, page, BlockKind.HEADING))

    def _table(self, block, page: int, caption: str = "") -> _OpenTable:
        """A table as chunks of whole rows, each repeating the caption and the header rows."""
        self._close_chunk()
        chunker = self._chunker
        rows = block.table.rows_markdown()
        header_count = max(1, block.table.header_rows) + 1  # header rows and the separator line
        header, body = rows[:header_count], rows[header_count:]
        repeat_limit = chunker.max_tokens // 2
        if caption and chunker.count_tokens("\n".join([caption, *header])) > repeat_limit:
            # A caption too long to repeat on every piece of the table goes in once, as text.
            self._text_alone(caption, page, BlockKind.CAPTION)
            caption = ""
        if chunker.count_tokens("\n".join(header)) > repeat_limit:
            header, body = [], rows  # a header that would crowd out the rows is not repeated
        head_text = "\n".join(([caption] if caption else []) + header)
        self._table_rows(head_text, body, page, bool(caption))
        return _OpenTable(block.table, head_text, bool(caption))

    def _table_rows(self, head_text: str, body: list[str], page: int, captioned: bool) -> None:
        """Rows of a table in chunks of whole rows, each starting with `head_text` (caption and header)."""
        self._close_chunk()
        chunker = self._chunker
        pieces: list[list[str]] = [[]]
        for row in body:
            candidate = "\n".join([head_text, *pieces[-1], row])
            if pieces[-1] and chunker.count_tokens(candidate) > chunker.max_tokens:
                pieces.append([])
            pieces[-1].append(row)
        for piece in pieces:
            text = "\n".join([line for line in [head_text, *piece] if line])
            if chunker.count_tokens(text) > chunker.max_tokens:
                # One row longer than a chunk: its text, cut as prose is.
                self._text_alone(text, page, BlockKind.TABLE)
                continue
            self._ready.append(
                TextChunk(
                    index=self._index,
                    text=text,
                    page_start=page,
                    page_end=page,
                    token_estimate=chunker.count_tokens(text),
                    section_path=self._section_path(),
                    block_kinds=(BlockKind.CAPTION, BlockKind.TABLE) if captioned else (BlockKind.TABLE,),
                )
            )
            self._index += 1

    def _text_alone(self, text: str, page: int, kind: BlockKind) -> None:
        """Text in chunks of its own, cut at sentences (or halved) as paragraphs are."""
        self._queue.extend(self._chunker.segments(text, page, kind))
        self._close_chunk()

    def _section_path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._path)

    def finish(self) -> list[TextChunk]:
        self._drain()
        if self._has_fresh_text():
            self._emit()
            self._drain()
        ready, self._ready = self._ready, []
        self._segments, self._cost = [], 0
        return ready

    def _has_fresh_text(self) -> bool:
        return any(not segment.overlap for segment in self._segments)

    def _drain(self) -> None:
        budget = self._chunker.budget
        while self._queue:
            segment = self._queue.popleft()
            if self._cost + segment.cost > budget:
                if self._has_fresh_text():
                    self._emit()
                if self._cost + segment.cost > budget:  # shrink the overlap to make room
                    self._set(self._chunker.tail(self._segments, budget - segment.cost))
            self._segments.append(segment)
            self._cost += segment.cost

    def _set(self, segments: list[Segment]) -> None:
        self._segments = segments
        self._cost = sum(segment.cost for segment in segments)

    def _emit(self) -> None:
        """Turns the current segments into a chunk; the overlap for the next one stays."""
        chunker = self._chunker
        segments = self._segments
        carry: list[Segment] = []
        text = join_segments(segments)
        tokens = chunker.count_tokens(text)
        # The costs add up for the counters we ship; a custom counter may not, so
        # the real count decides: drop the overlap, then move text to the next chunk.
        while tokens > chunker.max_tokens:
            if segments[0].overlap:
                segments = [segment for segment in segments if not segment.overlap]
            elif len(segments) > 1:
                carry.insert(0, segments.pop())
            else:
                only = segments[0]
                cut = halve(only.text)
                if cut is None:
                    break  # a single character over the limit: nothing more to split
                head, tail, joiner = cut
                cost = chunker.measure.cost
                segments = [Segment(head, only.page, cost(head), only.joiner, spaced=only.spaced, kind=only.kind)]
                carry.insert(0, Segment(tail, only.page, cost(tail), joiner, spaced=only.spaced, kind=only.kind))
            text = join_segments(segments)
            tokens = chunker.count_tokens(text)
        kinds: list[BlockKind] = []
        for segment in segments:
            if not segment.overlap and segment.kind not in kinds:
                kinds.append(segment.kind)
        self._ready.append(
            TextChunk(
                index=self._index,
                text=text,
                page_start=min(segment.page for segment in segments),
                page_end=max(segment.page for segment in segments),
                token_estimate=tokens,
                section_path=self._section_path(),
                block_kinds=tuple(kinds) or (BlockKind.PARAGRAPH,),
            )
        )
        self._index += 1
        self._set(chunker.tail(segments, chunker.overlap_budget))
        self._queue.extendleft(reversed(carry))
