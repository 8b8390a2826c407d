"""Structure-aware chunking of pages, bounded by a token limit.

Chunks follow the document's structure: every heading starts a new chunk (so
a chunk has one section path, its heading trail, and never mixes sections,
overlap included); each table is its own chunk (or several, split between
rows with the header rows repeated, never inside a row); page furniture
(running headers, footers, page numbers) never enters a chunk.

Within a section, blocks (paragraphs, list items...) are packed greedily into chunks of at most
`max_tokens`; a paragraph that alone exceeds the limit is split at sentence
boundaries, a sentence that still does at word boundaries, and a single
overlong "word" (a URL, a run of CJK text) at characters. Each chunk after the
first starts with the previous chunk's trailing whole sentences, at most
`overlap_tokens` of them (none when its last sentence alone is longer; text
without spaces, such as CJK, overlaps by characters). A chunk records the first and last page its text (overlap included) came
from.

Chunks can be produced as pages stream in (`feed` / `finish`), so a huge
document never has to be held in memory; the output depends only on the
sequence of pages, never on how they were batched, so a redelivered job
writes identical chunks.

Token counts include the model's special tokens ([CLS] and [SEP] for a BERT
WordPiece model), so `token_estimate <= max_tokens` means the chunk fits the
model's input without truncation. Without a tokenizer the count is a
heuristic calibrated to over-estimate all-MiniLM-L6-v2's uncased WordPiece
vocabulary.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from mivaa_extractor.extraction.chunking.segments import Segment, TextChunk, split_sentences
from mivaa_extractor.extraction.chunking.stream import ChunkStream
from mivaa_extractor.extraction.chunking.tokens import Measure, TokenCounter
from mivaa_extractor.extraction.structure.model import BlockKind, PageLayout


class Chunker:
    """Chunking settings; `feed`/`finish` chunk one document at a time.

    For several documents at once, give each its own `stream()` (or Chunker).
    """

    def __init__(self, max_tokens: int = 256, overlap_tokens: int = 32, count_tokens: TokenCounter | None = None):
        self.measure = Measure.heuristic() if count_tokens is None else Measure.from_counter(count_tokens)
        if overlap_tokens < 0:
            raise ValueError("overlap_tokens must not be negative")
        if max_tokens - self.measure.overhead - overlap_tokens < 1:
            raise ValueError("max_tokens must leave room for the special tokens, the overlap and some text")
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        units = self.measure.units
        self.budget = (max_tokens - self.measure.overhead) * units
        self.overlap_budget = overlap_tokens * units
        # A piece of an oversized paragraph leaves room for a full overlap before it.
        self._piece_budget = self.budget - self.overlap_budget
        self._stream: ChunkStream | None = None

    @classmethod
    def from_tokenizer_file(
        cls, path: str | os.PathLike[str], max_tokens: int = 256, overlap_tokens: int = 32
    ) -> Chunker:
        """Counts with the model's own tokenizer (a Hugging Face tokenizer.json)."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(os.fspath(path))
        # The file may configure padding/truncation for inference; counting needs neither.
        tokenizer.no_padding()
        tokenizer.no_truncation()

        def count(text: str) -> int:
            return len(tokenizer.encode(text, add_special_tokens=True).ids)

        return cls(max_tokens=max_tokens, overlap_tokens=overlap_tokens, count_tokens=count)

    def count_tokens(self, text: str) -> int:
        return self.measure.count(text)

    def stream(self) -> ChunkStream:
        """A fresh, independent chunking state for one document."""
        return ChunkStream(self)

    def feed(self, page: PageLayout) -> list[TextChunk]:
        """Adds the next page; returns the chunks completed by it (often none)."""
        if self._stream is None:
            self._stream = self.stream()
        return self._stream.feed(page)

    def finish(self) -> list[TextChunk]:
        """Returns the last chunks and resets, ready for the next document."""
        stream, self._stream = self._stream, None
        return stream.finish() if stream is not None else []

    def chunk(self, pages: Iterable[PageLayout]) -> list[TextChunk]:
        """All chunks of a document at once (independent of feed/finish)."""
        stream = self.stream()
        chunks: list[TextChunk] = []
        for page in pages:
            chunks.extend(stream.feed(page))
        chunks.extend(stream.finish())
        return chunks

    # -- splitting text into segments no larger than the budget --

    def segments(self, paragraph: str, page: int, kind: BlockKind = BlockKind.PARAGRAPH) -> list[Segment]:
        segments = self._split_segments(paragraph, page)
        for segment in segments:
            segment.kind = kind
        return segments

    def _split_segments(self, paragraph: str, page: int) -> list[Segment]:
        cost = self.measure.cost(paragraph)
        spaced = " " in paragraph
        if cost <= self.budget:
            return [Segment(paragraph, page, cost, "\n\n", spaced=spaced)]
        segments: list[Segment] = []
        for joiner, sentence in split_sentences(paragraph):
            cost = self.measure.cost(sentence)
            if cost <= self._piece_budget:
                segments.append(Segment(sentence, page, cost, joiner, spaced=spaced))
            else:
                for index, (piece, piece_cost, piece_joiner, blob) in enumerate(self._split_words(sentence)):
                    segments.append(
                        Segment(piece, page, piece_cost, joiner if index == 0 else piece_joiner, spaced=not blob)
                    )
        segments[0].joiner = "\n\n"
        return segments

    def _split_words(self, text: str) -> list[tuple[str, int, str, bool]]:
        """Greedy groups of words within the piece budget: (text, cost, joiner, part of a cut word)."""
        pieces: list[tuple[str, int, str, bool]] = []
        group: list[str] = []
        group_cost = 0
        for word in text.split(" "):
            cost = self.measure.cost(word)
            if cost > self._piece_budget:
                if group:
                    pieces.append((" ".join(group), group_cost, " ", False))
                    group, group_cost = [], 0
                for index, part in enumerate(self._split_chars(word, self._piece_budget)):
                    pieces.append((part, self.measure.cost(part), " " if index == 0 else "", True))
                continue
            if group and group_cost + cost > self._piece_budget:
                pieces.append((" ".join(group), group_cost, " ", False))
                group, group_cost = [], 0
            group.append(word)
            group_cost += cost
        if group:
            pieces.append((" ".join(group), group_cost, " ", False))
        return pieces

    def _split_chars(self, text: str, budget: int) -> list[str]:
        parts: list[str] = []
        while text:
            size = self._longest_prefix(text, budget)
            parts.append(text[:size])
            text = text[size:]
        return parts

    def _longest_prefix(self, text: str, budget: int) -> int:
        """The most characters from the start whose cost is within budget (at least one)."""
        low, high = 1, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.measure.cost(text[:middle]) <= budget:
                low = middle
            else:
                high = middle - 1
        return low

    def _longest_suffix(self, text: str, budget: int) -> int:
        """The most characters from the end whose cost is within budget (possibly none)."""
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.measure.cost(text[-middle:]) <= budget:
                low = middle
            else:
                high = middle - 1
        return low

    def tail(self, segments: list[Segment], budget: int) -> list[Segment]:
        """The trailing text of `segments` costing at most `budget`, as overlap segments."""
        taken: list[Segment] = []
        for segment in reversed(segments):
            if budget <= 0:
                break
            if segment.cost <= budget:
                taken.append(
                    Segment(
                        segment.text,
                        segment.page,
                        segment.cost,
                        segment.joiner,
                        overlap=True,
                        spaced=segment.spaced,
                        kind=segment.kind,
                    )
                )
                budget -= segment.cost
                continue
            # Whole trailing sentences only: a chunk that starts mid-sentence reads
            # badly and embeds the fragment's words out of context.
            sentences = [text for _, text in split_sentences(segment.text)] if segment.spaced else []
            start = len(sentences)
            spent = 0
            while start > 0:
                cost = self.measure.cost(sentences[start - 1])
                if spent + cost > budget:
                    break
                spent += cost
                start -= 1
            words = segment.text.split(" ")
            if start < len(sentences):
                text = " ".join(sentences[start:])
            elif len(words) == 1 and not segment.spaced:
                # Text without spaces (CJK, a split blob) overlaps by its last characters.
                size = self._longest_suffix(words[0], budget)
                text = words[0][len(words[0]) - size :] if size else ""
            else:  # never start a chunk with the end of a cut word
                text = ""
            if text:
                taken.append(
                    Segment(
                        text,
                        segment.page,
                        self.measure.cost(text),
                        segment.joiner,
                        overlap=True,
                        spaced=segment.spaced,
                        kind=segment.kind,
                    )
                )
            break
        taken.reverse()
        return taken
