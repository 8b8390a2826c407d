"""The words and marks the structure stages recognise, in one place.

List bullets and numbering, page numbers, caption labels, section numbers,
numbers in table cells, dot leaders and the characters that are not text:
every stage that asks "is this a bullet?" or "is this a page number?" asks
here, so a new bullet glyph or caption word is added once and every stage
(block typing, tables, captions, Markdown, furniture) agrees on it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

__all__ = [
    "BULLET_SYMBOLS",
    "CAPTION_LABEL",
    "DASHES",
    "DIGITS",
    "DOT_LEADER",
    "FIGURE_CAPTION_PREFIXES",
    "INVISIBLE_CHARS",
    "LIST_ITEM_START",
    "LIST_MARKER",
    "MARKDOWN_ENUMERATED",
    "NOT_A_HEADING",
    "NUMBERED_HEADING",
    "NUMERIC",
    "PAGE_NUMBER",
    "PAGE_REFERENCE",
    "RIGHT_TO_LEFT_CHARS",
    "SECTION_NUMBER",
    "SPACES",
    "SUBCAPTION",
    "TABLE_CAPTION_PREFIXES",
    "UNPRINTABLE_CHARS",
    "RUN_IN_LABEL",
    "caption_label",
    "is_author_line",
    "is_title_page_line",
    "is_numeric",
]

# --- characters ------------------------------------------------------------------------

# C0/C1 controls (a broken character map, or a control character the producer
# left in, as Word does before list items) and U+FFFD (a glyph without Unicode):
# they never stand for a printed character.
UNPRINTABLE_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")
# Controls plus invisible format characters (zero-width spaces and joiners, BOM).
INVISIBLE_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\ufffe]")
# Everything that is whitespace to a reader, including NBSP, thin and ideographic spaces.
SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
DIGITS = re.compile(r"\d+")
# Hebrew, Arabic, Syriac, Thaana, NKo and their presentation forms: scripts written right to left.
RIGHT_TO_LEFT_CHARS = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")

# --- lists -----------------------------------------------------------------------------

# Glyphs that mark a list item (U+F0B7 and U+F0A7: Symbol/Wingdings bullets
# without a Unicode mapping, as Word exports them).
BULLET_SYMBOLS = (
    "\u2022\u25e6\u25aa\u25ab\u2023\u2043\u25cf\u25cb\u25a0\u25a1\u25ba\u25b8\u25b6\u2713\u2714\u27a2\u27a4"
    "\u2219\uf0b7\uf0a7\u00b7*"
)
# Dashes mark a list item too, but only followed by a space ("- item", not "-5").
DASHES = "-\u2013\u2014"
_SYMBOL_CLASS = "[" + re.escape(BULLET_SYMBOLS) + "]"
_DASH_CLASS = "[" + re.escape(DASHES) + "]"

# A line that starts a list item: a bullet or a short enumerator ("1.", "a)",
# "(iv)"), then the item's text. "A. Smith" and "12.5" do not start one.
LIST_ITEM_START = re.compile(
    rf"^(?:{_SYMBOL_CLASS}|{_DASH_CLASS}(?=\s)"
    r"|\(?\d{1,2}[.)](?!\d)|\(?[a-z][.)]|\([A-Za-z]\)|[A-Z]\)|\(?[ivx]{1,4}[.)])\s*\S"
)
# A piece of text that is nothing but a list marker: a bullet, "1.", "a)",
# "(iv)", "[12]" (a table's first column of such marks is a list, not data).
LIST_MARKER = re.compile(
    rf"^(?:{_SYMBOL_CLASS}|{_DASH_CLASS}|\(?\d{{1,3}}[.)]|\(?[a-zA-Z][.)]|\(?[ivxlcIVXLC]{{1,5}}[.)]"
    r"|\(\d{1,3}\)|\([a-zA-Z]\)|\[\d{1,4}\])$"
)
# A list item whose text keeps its own enumerator in Markdown ("1. ...", "(a) ...").
MARKDOWN_ENUMERATED = re.compile(r"^(\(?\w{1,4}[.)])\s+")

# --- headings and sections -------------------------------------------------------------

# A heading that starts with its section number ("2.3 Results", "A. Proofs", "IV. Discussion").
NUMBERED_HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.)\s+\S")
# Title-page lines set large that are not headings: dates, e-mail addresses, affiliations.
NOT_A_HEADING = re.compile(
    r"\b(?:jan(?:uary|uar)?|feb(?:ruary|ruar)?|m(?:arch|ärz)|apr(?:il)?|may|mai|june?|juni|july?|juli|aug(?:ust)?"
    r"|sep(?:tember)?|oct(?:ober)?|okt(?:ober)?|nov(?:ember)?|dec(?:ember)?|dez(?:ember)?)\.?\s+\d{1,2},?\s+\d{4}\b"
    r"|\b\d{1,2}\.?\s+(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|januar|februar|märz|juni|juli|oktober|dezember)\s+\d{4}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|@|\buniversit|\binstitut|\bdepartment\b"
    r"|\bfaculty of\b|\bschool of\b|\blaborator(?:y|ies)\b|\bcollege\b",
    re.IGNORECASE,
)
# An author line: two or more personal names ("Ada Keeper, Ben Lamp and C. Dee"), footnote marks allowed.
_NAME = r"(?:[A-Z][a-z'\-]+|[A-Z]\.)(?:\s+(?:[A-Z][a-z'\-]+|[A-Z]\.|van|von|de|da|del|der|di|le|la)){1,3}[\d*∗†‡]*"
_AUTHOR_LINE = re.compile(rf"^{_NAME}(?:\s*(?:,|;|&|\band\b)\s*{_NAME}){{1,}},?$")
# Bold labels that open a paragraph without titling it: notes, warnings, proofs ("Beweis:", "Beh.:").
RUN_IN_LABEL = re.compile(
    r"^(?:notes?|nb|n\.b|warning|caution|danger|tip|hint|important|remarks?|attention|proof|beweis|hinweis"
    r"|achtung|beh|bew|vor|bemerkung|anmerkung|preuve|remarque)\W*$",
    re.IGNORECASE,
)


def is_author_line(text: str) -> bool:
    """Two or more personal names: a title page's author line, not a heading."""
    # Names are separated by commas, "and" or "&": without one (most lines) the pattern is not tried.
    if len(text) > 200 or not ("," in text or "&" in text or " and " in text or ";" in text):
        return False
    return bool(_AUTHOR_LINE.match(text))


_AFFILIATION_WORDS = ("universit", "institut", "department", "faculty", "school", "laborator", "college")


def is_title_page_line(text: str) -> bool:
    """A date, an address, an affiliation or an author line: set apart like a heading, but not one."""
    # The pattern is dear (every date form, case-folded): only tried on text with a digit, "@" or an affiliation word.
    lowered = text.lower()
    could_match = "@" in text or any(ch.isdigit() for ch in text) or any(word in lowered for word in _AFFILIATION_WORDS)
    return (could_match and bool(NOT_A_HEADING.search(text))) or is_author_line(text)


# A cell that is only a section number (a table of contents' first column).
SECTION_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.?|Chapter\s+\d+|Kapitel\s+\d+)$", re.IGNORECASE)

# --- page numbers ----------------------------------------------------------------------

# A block that is a printed page number: "12", "xiv", "Page 3 of 10", "Seite 4", "- 7 -".
PAGE_NUMBER = re.compile(
    r"^(?:(?:page|seite|p\.|pg\.)\s*)?(?:\d{1,5}|[ivxlcdm]{1,7})(?:\s*(?:/|of|von|de|sur)\s*\d{1,5})?$"
    r"|^[-\u2013\u2014]\s*\d{1,5}\s*[-\u2013\u2014]$",
    re.IGNORECASE,
)
# A bare page reference, as a table of contents' last column holds it: "42", "xiv".
PAGE_REFERENCE = re.compile(r"^(?:\d{1,4}|[ivxlc]{1,6})$", re.IGNORECASE)
# Dot (or rule) leaders between a contents entry and its page number.
DOT_LEADER = re.compile(r"(?:\.\s?){5,}|…{3,}|_{5,}|·{5,}")

# --- captions --------------------------------------------------------------------------

FIGURE_CAPTION_PREFIXES: tuple[str, ...] = ("Figure", "Fig.", "Abbildung", "Abb.", "Image", "Photo", "Chart", "Diagram")
TABLE_CAPTION_PREFIXES: tuple[str, ...] = ("Table", "Tab.", "Tabelle")
# A block typed as a caption on its own: a label word and a number ("Fig. 3", "Tabelle IV:").
CAPTION_LABEL = re.compile(
    r"^(?:fig(?:ure)?\.?|abbildung|abb\.|table|tabelle|tab\.|image|chart|diagram|listing|exhibit)\s*[0-9IVX]+[.:]?",
    re.IGNORECASE,
)
# A sub-figure's caption: "(a) ", "b) ".
SUBCAPTION = re.compile(r"^\(?[a-z]\)\s")


def caption_label(prefixes: Sequence[str]) -> re.Pattern[str]:
    """The label of a caption starting with one of `prefixes`, as `find_caption` matches it.

    "Figure 3: ...", "Fig. 2.1 ...", "Abb. 4 – ...", "Photo: ...", "Table IV." —
    a prefix, then a number (digits, letter+digits or roman), or directly a
    colon/dash/end. "Image processing is" is not a label.
    """
    return _caption_label(tuple(prefixes))


@lru_cache(maxsize=16)
def _caption_label(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(prefix.strip()) for prefix in sorted(prefixes, key=len, reverse=True))
    number = r"(?:[A-Z]?\d+(?:[.\-]\d+)*[a-z]?|(?-i:[IVXLC]+))\b"  # roman numerals upper case only
    return re.compile(rf"^\s*(?:{alternatives})(?:\s*{number}|\s*[:\-–—]|\s*$)", re.IGNORECASE)


# --- numbers ---------------------------------------------------------------------------

# A number: sign or currency, digits with thousands separators or a decimal part, an exponent,
# a percent or unit suffix, footnote marks. Not a section number ("2.3.59.1"), not a date.
NUMERIC = re.compile(
    r"^[(\[]?[+\-−–±~≈<>$€£¥]?\s?(?:\d{1,3}(?:[,.'’ ]\d{3})+|\d+)(?:[.,]\d+)?(?:[eE][+\-−–]?\d+)?"
    r"\s?(?:%|‰|[kKMBx×])?[)\]]?[*†‡⁰¹²³⁴⁵⁶⁷⁸⁹]*$"
)


def is_numeric(text: str) -> bool:
    return bool(text) and bool(NUMERIC.match(text))
