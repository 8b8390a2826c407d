"""Chunks and the pieces of text they are packed from, and how text is cut into sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mivaa_extractor.extraction.structure.model import BlockKind


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


PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# Where a sentence ends: terminal punctuation (plus closing quotes or brackets)
# before whitespace, or CJK full stops, which need no space after them.
SENTENCE_END = re.compile(
    r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*(?=\s)|[\u3002\uff01\uff1f]+[\u300d\u300f\u201d\u2019)\uff09]*"
)


@dataclass
class Segment:
    text: str
    page: int
    cost: int
    joiner: str  # how it attaches to the segment before it in a chunk: "\n\n", " " or ""
    overlap: bool = False  # carried over from the previous chunk
    spaced: bool = True  # words are separated by spaces (not CJK text or a split blob)
    kind: BlockKind = BlockKind.PARAGRAPH


def join_segments(segments: list[Segment]) -> str:
    return segments[0].text + "".join(segment.joiner + segment.text for segment in segments[1:])


def split_sentences(text: str) -> list[tuple[str, str]]:
    """(joiner, sentence) pairs; the joiner is " " when whitespace preceded the sentence."""
    sentences: list[tuple[str, str]] = []
    start = 0
    joiner = ""
    for match in SENTENCE_END.finditer(text):
        sentence = text[start : match.end()].strip()
        if sentence:
            sentences.append((joiner, sentence))
        start = match.end()
        joiner = " " if text[start : start + 1].isspace() else ""
    rest = text[start:].strip()
    if rest:
        sentences.append((joiner, rest))
    return sentences


def halve(text: str) -> tuple[str, str, str] | None:
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
