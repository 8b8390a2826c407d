"""Sentences and words: how answers and passages are cut and compared (pure functions).

Sentences are returned as spans of the original text, so a quote is always a verbatim slice of
its passage. Matching ignores case and runs of whitespace (a chunk and its page's blocks may
break lines differently), never the words themselves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# Words before a period that do not end a sentence ("Dr. Smith", "Fig. 2", "e.g. this").
_ABBREVIATIONS = frozenset(
    str.split("al approx ca cf dept dr e.g eg etc fig figs i.e ie inc jr ltd mr mrs ms no nos p pp prof sr st vol vs")
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?:\s*\[\d+\])*(?=\s)|\n\s*\n|\n(?=\s*(?:[-•*]|\d+[.)])\s)")
_WORD = re.compile(r"\w+", re.UNICODE)
_CITATION_MARK = re.compile(r"\[(\d{1,3})\]")
_SPACE = re.compile(r"\s+")

# Words that carry no topic: left out of term overlap and of the terms a follow-up inherits.
STOPWORDS = frozenset(
    str.split("""a about above after again all also am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or other
    our out over own same she should so some such than that the their them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with would you your
    tell explain describe give list show please many much""")
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def sentences(text: str, *, min_chars: int = 1) -> list[Span]:
    """The sentences of `text` as stripped spans, in order (at least `min_chars` long)."""
    spans: list[Span] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if match.group().startswith(".") and _ends_with_abbreviation(text, match.start()):
            continue
        spans.extend(_stripped(text, start, end))
        start = end
    spans.extend(_stripped(text, start, len(text)))
    return [span for span in spans if len(span.text) >= min_chars]


def _ends_with_abbreviation(text: str, period: int) -> bool:
    word = re.search(r"(\w+(?:\.\w+)*)$", text[max(0, period - 12) : period])
    if word is None:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _stripped(text: str, start: int, end: int) -> Iterator[Span]:
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    if right > left:
        yield Span(start + left, start + right, piece[left:right])


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def content_terms(text: str) -> set[str]:
    """The words of `text` that name something (no stopwords, no one-letter words)."""
    return {w for w in words(text) if w not in STOPWORDS and len(w) > 1}


# Words compared by their first letters: "counsellor" meets "counselling", "founded" "founder".
STEM_CHARS = 5


def stems(text: str) -> set[str]:
    """The content terms of `text`, cut to their first STEM_CHARS letters."""
    return {term[:STEM_CHARS] for term in content_terms(text)}


def stem_overlap(question_stems: set[str], sentence: str) -> float:
    """The share of the question's stems that the sentence has (0..1)."""
    if not question_stems:
        return 0.0
    return len(question_stems & stems(sentence)) / len(question_stems)


def term_overlap(question_terms: set[str], sentence: str) -> float:
    """The share of the question's content terms that occur in `sentence` (0..1)."""
    if not question_terms:
        return 0.0
    return len(question_terms & set(words(sentence))) / len(question_terms)


def citation_marks(text: str) -> list[int]:
    """The passage numbers a piece of answer cites as [n], in order, without repeats."""
    seen: list[int] = []
    for match in _CITATION_MARK.finditer(text):
        number = int(match.group(1))
        if number not in seen:
            seen.append(number)
    return seen


def strip_citation_marks(text: str) -> str:
    return _CITATION_MARK.sub("", text).strip()


def normalized(text: str) -> str:
    """For matching only: NFKC, one space for any whitespace run, lower case; hyphens at line ends
    joined (a PDF line break inside a word)."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    return _SPACE.sub(" ", text).strip().lower()
