"""How many of the text model's tokens a text takes: its tokenizer, or a conservative heuristic.

The heuristic is calibrated to over-estimate all-MiniLM-L6-v2's uncased WordPiece
vocabulary, [CLS] and [SEP] included, so a chunk it accepts fits the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable

TokenCounter = Callable[[str], int]

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


class Measure:
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
    def heuristic(cls) -> Measure:
        return cls(estimate_tokens, _SPECIAL_TOKENS, _HUNDREDTHS, _heuristic_hundredths)

    @classmethod
    def from_counter(cls, count: TokenCounter) -> Measure:
        overhead = count("")
        return cls(count, overhead, 1, lambda text: max(count(text) - overhead, 0))
