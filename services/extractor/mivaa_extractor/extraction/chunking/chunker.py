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
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mivaa_extractor.extraction.structure.model import BlockKind, PageLayout

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class TextChunk:
    index: int  # 0-based, consecutive within a document
    text: str
    page_start: int  # 1-based, inclusive
    page_end: int
    token_estimate: int
    # The heading trail the chunk sits under, outermost first.
    section_path: tuple[str, ...] = ()
    # The kinds of blocks its text comes from, in order of first appearance.
    block_kinds: tuple[BlockKind, ...] = (BlockKind.PARAGRAPH,)


# --- the heuristic token estimate ------------------------------------------------

# [CLS] and [SEP].
_SPECIAL_TOKENS = 2
# Estimates are summed in hundredths of a token so that they add up exactly.
_HUNDREDTHS = 100
# Latin letters, accented ones included (the uncased model strips accents),
# but not the multiplication and division signs that sit among them.
_WORDISH = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+|[0-9]+|\S")


# Frequent English words, each a single token in the uncased WordPiece vocabulary.
_COMMON_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "more",
        "most",
        "must",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "use",
        "used",
        "using",
        "may",
        "new",
        "one",
        "two",
        "three",
        "first",
        "second",
        "number",
        "data",
        "system",
        "time",
        "see",
        "section",
        "page",
        "figure",
        "table",
        "within",
        "without",
        "however",
        "based",
        "following",
        "example",
        "value",
        "information",
        "shall",
        "make",
        "made",
        "many",
        "well",
        "way",
        "part",
        "set",
        "type",
        "name",
        "file",
        "model",
        "order",
        "point",
        "case",
        "form",
        "result",
        "results",
    ]
)


_VOWEL = re.compile(r"[aeiouy\u00e0-\u00e6\u00e8-\u00ef\u00f2-\u00f6\u00f8-\u00fd\u00ff\u0100-\u024f]")


def _letters_cost(word: str) -> int:
    """Hundredths of a token for a run of two or more Latin letters.

    Calibrated on the corpus against all-MiniLM-L6-v2's tokenizer to stay above
    the real count for English, German (maths included), French and Latin
    text: frequent English words are whole tokens; other two-letter runs
    ("xn", "DV") are often two; longer words break into pieces of two to three
    letters when they are not in the vocabulary.
    """
    lowered = word.lower()
    if lowered in _COMMON_WORDS:
        return 100
    if len(word) == 2:
        return 200
    if not _VOWEL.search(lowered):
        # No vowel: an acronym, a code or OCR noise, where WordPiece may need
        # one token per letter (it never needs more).
        return 100 * len(word)
    return 50 + 45 * (len(word) - 1)  # 1.4 at 3 letters, 2.3 at 5, 4.55 at 10


def _digits_cost(length: int) -> int:
    """Hundredths of a token for a run of digits (split into pieces of 1-3 digits)."""
    if length <= 2:
        return 100
    return 100 + 75 * (length - 2)


def _heuristic_hundredths(text: str) -> int:
    total = 0
    for match in _WORDISH.finditer(text):
        piece = match.group()
        first = piece[0]
        if first.isdigit() and first.isascii():
            total += _digits_cost(len(piece))
        elif len(piece) > 1:
            total += _letters_cost(piece)
        elif "\uac00" <= first <= "\ud7a3":
            # A Hangul syllable: the uncased model decomposes it into 2-3 jamo tokens.
            total += 300
        else:
            # Punctuation, symbols, single letters and other scripts (CJK, Arabic,
            # Cyrillic, ...): at most about one token per character.
            total += 100
    return total


def estimate_tokens(text: str) -> int:
    """A conservative estimate of all-MiniLM-L6-v2's token count, [CLS] and [SEP] included."""
    return _SPECIAL_TOKENS + -(-_heuristic_hundredths(text) // _HUNDREDTHS)


class _Measure:
    """How much of the token budget a piece of text takes, in `units` per token.

    Costs exclude the fixed per-chunk overhead (special tokens) and add up over
    text joined by whitespace, which holds for the heuristic and for a BERT
    pre-tokenizer; the count of every finished chunk is still checked.
    """

    def __init__(self, count: TokenCounter, overhead: int, units: int, cost: Callable[[str], int]):
        self.count = count
        self.overhead = overhead
        self.units = units
        self.cost = cost

    @classmethod
    def heuristic(cls) -> _Measure:
        return cls(estimate_tokens, _SPECIAL_TOKENS, _HUNDREDTHS, _heuristic_hundredths)

    @classmethod
    def from_counter(cls, count: TokenCounter) -> _Measure:
        overhead = count("")
        return cls(count, overhead, 1, lambda text: max(count(text) - overhead, 0))


# --- the chunker -----------------------------------------------------------------

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# Where a sentence ends: terminal punctuation (plus closing quotes or brackets)
# before whitespace, or CJK full stops, which need no space after them.
_SENTENCE_END = re.compile(
    r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*(?=\s)|[\u3002\uff01\uff1f]+[\u300d\u300f\u201d\u2019)\uff09]*"
)


@dataclass
class _Segment:
    text: str
    page: int
    cost: int
    joiner: str  # how it attaches to the segment before it in a chunk: "\n\n", " " or ""
    overlap: bool = False  # carried over from the previous chunk
    spaced: bool = True  # words are separated by spaces (not CJK text or a split blob)
    kind: BlockKind = BlockKind.PARAGRAPH


class Chunker:
    """Chunking settings; `feed`/`finish` chunk one document at a time.

    For several documents at once, give each its own `stream()` (or Chunker).
    """

    def __init__(self, max_tokens: int = 256, overlap_tokens: int = 32, count_tokens: TokenCounter | None = None):
        self.measure = _Measure.heuristic() if count_tokens is None else _Measure.from_counter(count_tokens)
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

    def segments(self, paragraph: str, page: int, kind: BlockKind = BlockKind.PARAGRAPH) -> list[_Segment]:
        segments = self._split_segments(paragraph, page)
        for segment in segments:
            segment.kind = kind
        return segments

    def _split_segments(self, paragraph: str, page: int) -> list[_Segment]:
        cost = self.measure.cost(paragraph)
        spaced = " " in paragraph
        if cost <= self.budget:
            return [_Segment(paragraph, page, cost, "\n\n", spaced=spaced)]
        segments: list[_Segment] = []
        for joiner, sentence in _sentences(paragraph):
            cost = self.measure.cost(sentence)
            if cost <= self._piece_budget:
                segments.append(_Segment(sentence, page, cost, joiner, spaced=spaced))
            else:
                for index, (piece, piece_cost, piece_joiner, blob) in enumerate(self._split_words(sentence)):
                    segments.append(
                        _Segment(piece, page, piece_cost, joiner if index == 0 else piece_joiner, spaced=not blob)
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

    def tail(self, segments: list[_Segment], budget: int) -> list[_Segment]:
        """The trailing text of `segments` costing at most `budget`, as overlap segments."""
        taken: list[_Segment] = []
        for segment in reversed(segments):
            if budget <= 0:
                break
            if segment.cost <= budget:
                taken.append(
                    _Segment(
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
            sentences = [text for _, text in _sentences(segment.text)] if segment.spaced else []
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
                    _Segment(
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


class ChunkStream:
    """The chunking state of one document (see Chunker)."""

    def __init__(self, chunker: Chunker):
        self._chunker = chunker
        self._segments: list[_Segment] = []
        self._cost = 0
        self._index = 0
        self._ready: list[TextChunk] = []
        self._queue: deque[_Segment] = deque()
        self._path: list[tuple[int, str]] = []  # (level, heading) of the current section

    def feed(self, page: PageLayout) -> list[TextChunk]:
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
                    self._table(block, page.number, " ".join(caption.split()))
                elif block.kind is BlockKind.FIGURE:
                    continue  # the caption comes as its own block; the image is indexed apart
                else:
                    for paragraph in _PARAGRAPH_BREAK.split(block.text):
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

    def _table(self, block, page: int, caption: str = "") -> None:
        """A table as chunks of whole rows, each repeating the caption and the header rows."""
        self._close_chunk()
        chunker = self._chunker
        rows = block.table.rows_markdown()
        header_count = max(1, block.table.header_rows) + 1  # header rows and the separator line
        header, body = rows[:header_count], rows[header_count:]
        head_text = "\n".join(([caption] if caption else []) + header)
        pieces: list[list[str]] = [[]]
        for row in body:
            candidate = "\n".join([head_text, *pieces[-1], row])
            if pieces[-1] and chunker.count_tokens(candidate) > chunker.max_tokens:
                pieces.append([])
            pieces[-1].append(row)
        for piece in pieces:
            text = "\n".join([head_text, *piece])
            self._ready.append(
                TextChunk(
                    index=self._index,
                    text=text,
                    page_start=page,
                    page_end=page,
                    token_estimate=chunker.count_tokens(text),
                    section_path=self._section_path(),
                    block_kinds=(BlockKind.CAPTION, BlockKind.TABLE) if caption else (BlockKind.TABLE,),
                )
            )
            self._index += 1

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

    def _set(self, segments: list[_Segment]) -> None:
        self._segments = segments
        self._cost = sum(segment.cost for segment in segments)

    def _emit(self) -> None:
        """Turns the current segments into a chunk; the overlap for the next one stays."""
        chunker = self._chunker
        segments = self._segments
        carry: list[_Segment] = []
        text = _join(segments)
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
                cut = _halve(only.text)
                if cut is None:
                    break  # a single character over the limit: nothing more to split
                head, tail, joiner = cut
                cost = chunker.measure.cost
                segments = [_Segment(head, only.page, cost(head), only.joiner, spaced=only.spaced, kind=only.kind)]
                carry.insert(0, _Segment(tail, only.page, cost(tail), joiner, spaced=only.spaced, kind=only.kind))
            text = _join(segments)
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


def _join(segments: list[_Segment]) -> str:
    return segments[0].text + "".join(segment.joiner + segment.text for segment in segments[1:])


def _sentences(text: str) -> list[tuple[str, str]]:
    """(joiner, sentence) pairs; the joiner is " " when whitespace preceded the sentence."""
    sentences: list[tuple[str, str]] = []
    start = 0
    joiner = ""
    for match in _SENTENCE_END.finditer(text):
        sentence = text[start : match.end()].strip()
        if sentence:
            sentences.append((joiner, sentence))
        start = match.end()
        joiner = " " if text[start : start + 1].isspace() else ""
    rest = text[start:].strip()
    if rest:
        sentences.append((joiner, rest))
    return sentences


def _halve(text: str) -> tuple[str, str, str] | None:
    """Splits text near its middle, at a space when there is one: (head, tail, joiner)."""
    if len(text) < 2:
        return None
    middle = len(text) // 2
    space = text.rfind(" ", 0, middle + 1)
    if space <= 0:
        space = text.find(" ", middle)
    if 0 < space < len(text) - 1:
        return text[:space], text[space + 1 :], " "
    return text[:middle], text[middle:], ""
