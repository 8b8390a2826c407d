"""Text comparison for the extraction quality bench: exact Levenshtein, normalisation, Markdown parsing.

Levenshtein: rapidfuzz when installed (C++, bit-parallel), else an exact
bit-parallel implementation on Python integers (Myers/Hyyrö, O(n*m/64)).
"""

from __future__ import annotations

import re
import unicodedata

try:
    from rapidfuzz.distance import Levenshtein as _rapidfuzz_levenshtein  # noqa: N813 - a module, named like one
except ImportError:  # pragma: no cover - depends on the environment
    _rapidfuzz_levenshtein = None


def levenshtein_bitparallel(a: str, b: str) -> int:
    """Exact edit distance (unit costs) with the bit-vector algorithm of Myers as formulated by Hyyrö.

    One Python big integer holds a whole column of the DP matrix, so the loop
    runs once per character of the shorter string with a handful of
    big-integer operations of len(longer)/64 machine words each: 100k x 100k
    characters take seconds, not the hours of a Python DP.
    """
    if len(a) < len(b):
        a, b = b, a
    pattern, text = a, b  # the longer string lives in the bit vectors
    m = len(pattern)
    if m == 0:
        return len(text)
    peq: dict[str, int] = {}
    for index, char in enumerate(pattern):
        peq[char] = peq.get(char, 0) | (1 << index)
    mask = (1 << m) - 1
    high = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for char in text:
        eq = peq.get(char, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | 1) & mask  # | 1: row 0 of the matrix is 0, 1, 2, ... (global distance)
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


def levenshtein_backend() -> str:
    """Which implementation `levenshtein` uses, for the report's first line."""
    return "rapidfuzz" if _rapidfuzz_levenshtein else "bit-parallel Python fallback (pip install rapidfuzz)"


def levenshtein(a: str, b: str) -> int:
    if _rapidfuzz_levenshtein is not None:
        return _rapidfuzz_levenshtein.distance(a, b)
    return levenshtein_bitparallel(a, b)


# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

_BULLETS = "\u2022\u00b7\u25e6\u25aa\u25cf\u2023\u2043\u2219\u25a0\u25a1\u2013\u2014-*+\uf0b7\uf0a7"
_LINE_BULLET = re.compile(rf"^[ \t]*[{re.escape(_BULLETS)}][ \t]+", re.MULTILINE)


def normalize_text(text: str) -> str:
    """What the text similarity compares: NFKC, no soft hyphens or line-leading bullets, single spaces."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "")
    text = _LINE_BULLET.sub("", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers, for anchors, furniture and bag-of-words comparisons."""
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())


_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _split_pipe_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [cell.replace("\\|", "|").strip() for cell in re.split(r"(?<!\\)\|", line)]


def strip_tables(text: str) -> str:
    """Markdown pipe tables to plain rows (cells separated by a space); everything else untouched."""
    out = []
    for line in text.splitlines():
        if _TABLE_SEPARATOR.match(line) and "-" in line:
            continue
        if line.lstrip().startswith("|"):
            out.append(" ".join(cell for cell in _split_pipe_row(line) if cell))
        else:
            out.append(line)
    return "\n".join(out)


def strip_markdown(markdown: str) -> str:
    """Markdown to the plain text a reader sees: no heading marks, emphasis, HTML, links, list marks, tables."""
    text = strip_tables(markdown)
    text = re.sub(r"^\s*(```|~~~).*$", "", text, flags=re.MULTILINE)  # code fences
    text = re.sub(r"^.*==> picture .* <==.*$", "", text, flags=re.MULTILINE)  # pymupdf4llm image placeholders
    text = re.sub(r"^.*----- (Start|End) of picture text -----.*$", "", text, flags=re.MULTILINE)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"</?[A-Za-z][^>]*>", "", text)  # other HTML (<sup>, <u>, <sub>)
    text = re.sub(r"^[ \t]*#{1,6}[ \t]+", "", text, flags=re.MULTILINE)  # ATX headings
    text = re.sub(r"^[ \t]*>[ \t]?", "", text, flags=re.MULTILINE)  # block quotes
    text = re.sub(r"^[ \t]*[-*+][ \t]+", "", text, flags=re.MULTILINE)  # list marks
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", text)  # *emphasis*
    text = re.sub(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])", r"\1", text)  # _emphasis_
    text = re.sub(r"`([^`\n]*)`", r"\1", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", text)  # backslash escapes
    return text


def markdown_headings(markdown: str) -> list[tuple[str, int]]:
    return [
        (strip_markdown(match[2]).strip(), len(match[1]))
        for match in re.finditer(r"^[ \t]*(#{1,6})[ \t]+(.+?)[ \t#]*$", markdown, flags=re.MULTILINE)
    ]


def markdown_tables(markdown: str) -> list[list[list[str]]]:
    """Every pipe table of a Markdown text as a grid (the separator row dropped)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*markdown.splitlines(), ""]:
        if line.lstrip().startswith("|"):
            if not (_TABLE_SEPARATOR.match(line) and "-" in line):
                current.append([strip_markdown(cell).strip() for cell in _split_pipe_row(line)])
        elif current:
            tables.append(current)
            current = []
    return tables


def markdown_segments(markdown: str) -> list[tuple[bool, str]]:
    """(is heading, plain text) per line in order: '#' lines are headings, every other line content."""
    segments = []
    for line in markdown.splitlines():
        match = re.match(r"^[ \t]*(#{1,6})[ \t]+(.+?)[ \t#]*$", line)
        if match:
            segments.append((True, strip_markdown(match[2]).strip()))
        elif line.strip():
            segments.append((False, strip_markdown(line)))
    return segments
