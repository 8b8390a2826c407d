"""Word recall: does every word of PyMuPDF's raw text reach our Markdown? No ground truth needed.

The reference is `page.get_text()` of every page: the text layer, whole, in
content order, with glyphs that have no Unicode read as U+FFFD (not a word)
instead of their glyph ids (PyMuPDF's default, TEXT_CID_FOR_UNKNOWN_UNICODE,
turns them into control characters and stray letters, "ϲΒϴΒ" for Arabic
glyphs, that are not on the page). Our side is the Markdown of `extract_document`. Both are
compared as multisets of words after NFKC and case folding, with words split
at line ends by a hyphen joined ("extrac-\\ntion") and hyphens, soft hyphens
and apostrophes inside a word dropped ("well-known" = "wellknown"), so
hyphenation and typography never count as a loss; order is ignored (the
reading-order metrics of bench/extract_quality.py judge that).

A raw word missing from the Markdown is either furniture (the extractor
removes running headers, footers and page numbers on purpose: found in the
text of those blocks) or lost. Recall counts only what is lost:
1 - lost / (raw words - furniture).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import pymupdf

# PyMuPDF's flags for plain text, except that a glyph without Unicode reads as U+FFFD, not as its glyph id.
RAW_TEXT_FLAGS = pymupdf.TEXTFLAGS_TEXT & ~pymupdf.TEXT_CID_FOR_UNKNOWN_UNICODE
# Passwords the corpus READMEs give for its encrypted files.
CORPUS_PASSWORDS = {"libreoffice-writer-password.pdf": "openpassword", "password.pdf": "password"}

# A hyphen at the end of a line followed by a word on the next: one word broken by hyphenation.
_LINE_BREAK_HYPHEN = re.compile(r"(?<=\w)[-\u00ad\u2010\u2011][ \t]*\r?\n\s*(?=\w)")
# Joiners dropped inside a word: hyphens, soft hyphen, apostrophes ("it's" and "it’s" alike).
_INNER_JOINER = re.compile(r"(?<=\w)[-\u00ad\u2010\u2011'\u2019](?=\w)")
# Letters, digits and the combining marks that belong to them (Arabic vowel signs, Devanagari
# matras, accents left combining): Python's \w alone would split "حَبيبي" at its fatha.
_MARKS = "".join(chr(c) for c in range(0x10000) if unicodedata.category(chr(c)).startswith("M"))
_WORD = re.compile(rf"[{re.escape(_MARKS)}]*\w[\w{re.escape(_MARKS)}]*")


def words(text: str) -> Counter[str]:
    """The multiset of normalised words of a text (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _LINE_BREAK_HYPHEN.sub("", text)
    text = _INNER_JOINER.sub("", text)
    return Counter(_WORD.findall(text))


@dataclass
class WordRecall:
    """One document's raw words against its Markdown."""

    raw: int = 0  # words in PyMuPDF's raw text
    furniture: Counter[str] = field(default_factory=Counter)  # raw words missing, found in removed furniture
    lost: Counter[str] = field(default_factory=Counter)  # raw words missing, not explained

    @property
    def recall(self) -> float:
        counted = self.raw - self.furniture.total()
        return 1.0 - self.lost.total() / counted if counted else 1.0

    def add(self, other: WordRecall) -> None:
        self.raw += other.raw
        self.furniture.update(other.furniture)
        self.lost.update(other.lost)

    def sample(self, kind: str = "lost", limit: int = 12) -> list[str]:
        """The most often missing words of `kind` ("lost" or "furniture"), with their count when above one."""
        missing = self.lost if kind == "lost" else self.furniture
        return [word if n == 1 else f"{word} x{n}" for word, n in missing.most_common(limit)]


def compare(raw: Counter[str], markdown: Counter[str], furniture: Counter[str]) -> WordRecall:
    """Raw words against the Markdown's; what is missing and in the furniture's words is furniture.

    A word split in two on one side and whole on the other is found, not lost:
    MuPDF runs words of touching spans together ("Begriffder") that the
    extractor separates, and a hyphen kept before a space ("master- file")
    splits what the raw text's hyphenation join made one word.
    """
    missing = raw - markdown
    extra = markdown - raw
    _match_split_words(missing, extra)  # raw "begriffder", ours "begriff" + "der"
    _match_split_words(extra, missing)  # ours "begriffder", raw "begriff" + "der"
    explained = missing & furniture
    return WordRecall(raw=raw.total(), furniture=explained, lost=missing - explained)


def _match_split_words(whole: Counter[str], pieces: Counter[str]) -> None:
    """Takes out of both counters each word of `whole` that is two words of `pieces` run together."""
    for word in list(whole):
        for cut in range(1, len(word)):
            head, tail = word[:cut], word[cut:]
            while whole[word] and pieces[head] and pieces[tail] and (head != tail or pieces[head] > 1):
                whole[word] -= 1
                pieces[head] -= 1
                pieces[tail] -= 1
    whole += Counter()  # drops the zero counts
    pieces += Counter()


def word_recall(path: str | os.PathLike[str], password: str | None = None) -> WordRecall:
    """Our extraction of `path` (in this process, as the quality bench runs it) against PyMuPDF's raw text.

    Page by page: each page's raw words against that page's Markdown (so a
    word cannot be found on another page), no hyphenation joined across pages.
    """
    # Imported here: the bench's other metrics do not need the extractor on the path.
    from mivaa_extractor.extraction.structure.document import extract_document
    from mivaa_extractor.extraction.structure.markdown import page_markdown
    from mivaa_extractor.extraction.structure.model import FURNITURE

    document = extract_document(path, password)
    layouts = {page.number: page for page in document.pages}
    total = WordRecall()
    with pymupdf.open(os.fspath(path)) as doc:
        if doc.needs_pass:
            doc.authenticate(password or "")
        for page in doc:
            raw = words(page.get_text(flags=RAW_TEXT_FLAGS))
            layout = layouts.get(page.number + 1)
            if layout is None:
                total.add(compare(raw, Counter(), Counter()))
                continue
            furniture = words(" ".join(block.text for block in layout.blocks if block.kind in FURNITURE))
            total.add(compare(raw, words(page_markdown(layout)), furniture))
    return total
