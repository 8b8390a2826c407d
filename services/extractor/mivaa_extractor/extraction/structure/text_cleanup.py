"""Normalising extracted text: whitespace, invisible characters, hyphenation, ligatures.

MuPDF expands ligatures itself (we never ask it to preserve them); what is
left is joining a block's lines into one paragraph line and undoing the
hyphenation of words broken across lines or blocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mivaa_extractor.extraction.structure.lexicon import INVISIBLE_CHARS, SPACES

# Hyphens that can end a line: ASCII hyphen-minus, HYPHEN U+2010; SOFT HYPHEN is handled apart.
_HYPHENS = "-\u2010"
_SOFT_HYPHEN = "\u00ad"


def clean_line(raw: str) -> str:
    """One line with its whitespace collapsed and invisible characters removed."""
    return SPACES.sub(" ", INVISIBLE_CHARS.sub("", raw)).strip()


def ends_hyphenated(text: str) -> bool:
    """A letter followed by a hyphen at the very end ("exam-", not "--" or "x -")."""
    return len(text) >= 2 and text[-1] in _HYPHENS and text[-2].isalpha()


# A word with a hyphen inside it ("hand-drawn"): letters on both sides.
_COMPOUND = re.compile(r"[^\W\d_]+[-\u2010][^\W\d_]+")
_LAST_WORD = re.compile(r"[^\W\d_]+$")
_FIRST_WORD = re.compile(r"^[^\W\d_]+")


def hyphenated_words(lines: Iterable[str]) -> frozenset[str]:
    """The hyphenated compounds written inside lines ("hand-drawn"), case-folded, with an ASCII hyphen.

    A line that ends "hand-" over "drawn" is then read "hand-drawn", as the
    page writes it elsewhere, not "handdrawn".
    """
    return frozenset(
        match.group().casefold().replace("\u2010", "-")
        for line in lines
        if "-" in line or "\u2010" in line
        for match in _COMPOUND.finditer(line)
    )


def join_lines(lines: list[str], compounds: frozenset[str] = frozenset()) -> str:
    """Joins lines into one paragraph line, undoing hyphenation at line ends.

    A hyphen at a line end stays when the page writes the compound with it
    elsewhere (`compounds`, from `hyphenated_words`).
    """
    out = ""
    for raw in lines:
        line = clean_line(raw)
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith(_SOFT_HYPHEN):
            out = out[:-1] + line
        elif ends_hyphenated(out):
            # "exam-" + "ple" -> "example"; "Vitamin-" + "C" -> "Vitamin-C"; "hand-" + "drawn" -> "hand-drawn"
            # where the page has "hand-drawn" on one line.
            out = (out[:-1] if line[0].islower() and not _is_compound(out, line, compounds) else out) + line
        else:
            out = out + " " + line
    return out.replace(_SOFT_HYPHEN, "")


def _is_compound(before: str, after: str, compounds: frozenset[str]) -> bool:
    if not compounds:
        return False
    head = _LAST_WORD.search(before[:-1])
    tail = _FIRST_WORD.search(after)
    if head is None or tail is None:
        return False
    return f"{head.group()}-{tail.group()}".casefold() in compounds


def join_hyphenated(first: str, second: str) -> str | None:
    """`first` + `second` when `first` ends in a word hyphenated onto `second`, else None."""
    if first and second and ends_hyphenated(first) and second[0].islower():
        return first[:-1] + second
    return None


# A paragraph that stops without closing punctuation goes on in the next block (a column, figure or page break).
_OPEN_END = re.compile(r"[^.!?:;\"\u201d\u2019)\]]$")


def continues_sentence(first: str, second: str) -> bool:
    """`second` goes on with the sentence `first` left open (no closing mark; starts in lower case)."""
    return second[:1].islower() and bool(_OPEN_END.search(first))
