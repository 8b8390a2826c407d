"""Normalising extracted text: whitespace, invisible characters, hyphenation, ligatures.

MuPDF expands ligatures itself (we never ask it to preserve them); what is
left is joining a block's lines into one paragraph line and undoing the
hyphenation of words broken across lines or blocks.
"""

from __future__ import annotations

import re

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


def join_lines(lines: list[str]) -> str:
    """Joins lines into one paragraph line, undoing hyphenation at line ends."""
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
            # "exam-" + "ple" -> "example"; "Vitamin-" + "C" -> "Vitamin-C".
            out = (out[:-1] if line[0].islower() else out) + line
        else:
            out = out + " " + line
    return out.replace(_SOFT_HYPHEN, "")


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
