"""Citations, computed by the service for any generator: never invented.

Each answer sentence is tied to a passage: the ones it cites as [n], or else the passage with
the most of its words. The quote is the passage sentence that shares the most of the answer
sentence's content terms (at least MIN_SUPPORT of them), verbatim. The quote is then looked for
on the pages the passage spans (the blocks the search service stored): the citation names the
page and the box of the block where it was found. A quote found on no page is dropped, as is a
sentence no passage supports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mivaa_answer.generation.base import Passage
from mivaa_answer.text import (
    Span,
    citation_marks,
    content_terms,
    normalized,
    sentences,
    strip_citation_marks,
    term_overlap,
    words,
)
from mivaa_answer.usecases.ports import PageReader, PageText

# The share of an answer sentence's content terms its quote must contain.
MIN_SUPPORT = 0.5
# Pages fetched for one passage at most (a chunk spans a page or two).
MAX_PAGES_PER_PASSAGE = 4


@dataclass(frozen=True)
class Citation:
    answer_start: int
    answer_end: int
    source: int
    document: str
    page: int
    bbox: tuple[float, float, float, float] | None
    quote: str


@dataclass(frozen=True)
class Located:
    page: int
    bbox: tuple[float, float, float, float] | None


async def cite(answer: str, passages: Sequence[Passage], pages: PageReader, *, tenant: str) -> list[Citation]:
    by_number = {p.number: p for p in passages}
    cache: dict[tuple[str, int, int], list[PageText]] = {}
    citations: list[Citation] = []
    for sentence in sentences(answer):
        claim = strip_citation_marks(sentence.text).strip("“”\"' ")
        terms = content_terms(claim)
        if not terms:
            continue  # a header line or a bare marker: nothing to support
        cited = [by_number[n] for n in citation_marks(sentence.text) if n in by_number]
        for passage in cited or _best_passages(terms, passages):
            quote = supporting_quote(terms, passage.text)
            if quote is None:
                continue
            key = (passage.document, passage.page_start, passage.page_end)
            if key not in cache:
                last = min(passage.page_end, passage.page_start + MAX_PAGES_PER_PASSAGE - 1)
                cache[key] = await pages.pages(passage.document, passage.page_start, last, tenant=tenant)
            located = locate(quote.text, cache[key])
            if located is None:
                continue
            citations.append(
                Citation(
                    answer_start=sentence.start,
                    answer_end=sentence.end,
                    source=passage.number,
                    document=passage.document,
                    page=located.page,
                    bbox=located.bbox,
                    quote=quote.text,
                )
            )
    return citations


def _best_passages(terms: set[str], passages: Sequence[Passage]) -> list[Passage]:
    """The passage sharing the most of the terms, for a sentence that cites none."""
    scored = [(term_overlap(terms, p.text), p) for p in passages]
    scored = [(s, p) for s, p in scored if s >= MIN_SUPPORT]
    return [max(scored, key=lambda sp: sp[0])[1]] if scored else []


def supporting_quote(terms: set[str], passage_text: str) -> Span | None:
    """The passage's sentence containing the most of `terms` (at least MIN_SUPPORT), or None."""
    best: tuple[float, Span] | None = None
    for span in sentences(passage_text):
        support = term_overlap(terms, span.text)
        if support >= MIN_SUPPORT and (best is None or support > best[0]):
            best = (support, span)
    return best[1] if best else None


def locate(quote: str, pages: Sequence[PageText]) -> Located | None:
    """The page (and block box) whose text contains the quote, ignoring case and line breaks."""
    needle = normalized(quote)
    if not needle or not words(needle):
        return None
    for page in pages:
        texts = [normalized(block.text) for block in page.blocks]
        joined = ""
        starts = []
        for text in texts:
            starts.append(len(joined))
            joined += text + " "
        at = joined.find(needle)
        if at < 0:
            continue
        first = max(i for i, s in enumerate(starts) if s <= at)
        last = max(i for i, s in enumerate(starts) if s < at + len(needle))
        return Located(page.number, _union([b.bbox for b in page.blocks[first : last + 1]]))
    return None


def _union(boxes: Sequence[tuple[float, float, float, float] | None]) -> tuple[float, float, float, float] | None:
    present = [b for b in boxes if b is not None]
    if not present:
        return None
    return (
        min(b[0] for b in present),
        min(b[1] for b in present),
        max(b[2] for b in present),
        max(b[3] for b in present),
    )
