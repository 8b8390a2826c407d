"""Two documents compared section by section: pure computation over their chunks (no I/O).

A section is the chunks under one heading trail. Sections are matched first by heading (the
trail with section numbers and case ignored), then, among those left, by the cosine similarity
of their vectors (the normalized mean of their chunks'), greedily from the closest pair down to
SIMILARITY_THRESHOLD. A matched pair is MATCHING when its text is the same up to whitespace, else
DIFFERENT, with the numbers that changed between the two texts (a word diff in which a number
was replaced by another with the words around it unchanged).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mivaa_search.store.related import ChunkSlice

# Below this cosine similarity two sections with different headings are not the same section.
SIMILARITY_THRESHOLD = 0.80
MAX_SIMILARITY_SECTIONS = 2000
# Words of a section compared for numbers (the diff is quadratic in the worst case).
MAX_DIFF_WORDS = 4000
# Words diffed in one comparison, all sections together: past it, differing sections are
# reported without their number changes, so a comparison's time stays bounded.
MAX_DIFF_WORDS_PER_COMPARISON = 200_000
MAX_NUMBER_CHANGES_PER_SECTION = 20
CONTEXT_WORDS = 5

_NUMBER = re.compile(r"[-+]?\d(?:[\d,]*\d)?(?:\.\d+)?")
_SECTION_NUMBER = re.compile(r"^\s*(?:[ivxlcdm]+|\d+|[a-z])(?:\.\d+)*[.)]?\s+", re.IGNORECASE)
_UNIT_WORD = re.compile(r"^[^\W\d_]{1,12}$|^%$")

MATCHING, DIFFERENT, ONLY_IN_FIRST, ONLY_IN_SECOND = "MATCHING", "DIFFERENT", "ONLY_IN_FIRST", "ONLY_IN_SECOND"


@dataclass
class Section:
    path: tuple[str, ...]
    texts: list[str]
    page_start: int
    page_end: int
    vectors: list[np.ndarray]

    @functools.cached_property
    def text(self) -> str:
        """The section's text, spaces collapsed (read once the section is complete)."""
        return " ".join(" ".join(self.texts).split())

    def vector(self) -> np.ndarray:
        mean = np.mean(self.vectors, axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else mean


@dataclass(frozen=True)
class NumberChange:
    context: str
    unit: str
    old: str
    new: str


@dataclass
class SectionPair:
    change: str
    first: Section | None
    second: Section | None
    similarity: float = 0.0
    numbers: list[NumberChange] = field(default_factory=list)


def sections(chunks: Sequence[ChunkSlice]) -> list[Section]:
    """The document's sections in order of first appearance; chunks of one trail are one section."""
    by_path: dict[tuple[str, ...], Section] = {}
    for chunk in chunks:
        section = by_path.get(chunk.section_path)
        if section is None:
            by_path[chunk.section_path] = Section(
                chunk.section_path, [chunk.text], chunk.page_start, chunk.page_end, [chunk.embedding]
            )
        else:
            section.texts.append(chunk.text)
            section.page_start = min(section.page_start, chunk.page_start)
            section.page_end = max(section.page_end, chunk.page_end)
            section.vectors.append(chunk.embedding)
    return list(by_path.values())


def heading_key(path: tuple[str, ...]) -> tuple[str, ...]:
    """A heading trail without section numbers, case or extra spaces ("2.1 Costs" is "costs")."""
    return tuple(" ".join(_SECTION_NUMBER.sub("", part).split()).casefold() for part in path)


def compare(first: list[Section], second: list[Section]) -> list[SectionPair]:
    """The first document's sections in order, each with its counterpart or ONLY_IN_FIRST, then
    the second's sections without one (ONLY_IN_SECOND)."""
    partner: dict[int, int] = {}
    second_by_key: dict[tuple[str, ...], list[int]] = {}
    for j, section in enumerate(second):
        second_by_key.setdefault(heading_key(section.path), []).append(j)
    for i, section in enumerate(first):
        candidates = second_by_key.get(heading_key(section.path))
        if candidates:
            partner[i] = candidates.pop(0)
    first_vectors = [s.vector() for s in first]
    second_vectors = [s.vector() for s in second]
    _match_by_similarity(first_vectors, second_vectors, partner)
    pairs: list[SectionPair] = []
    diff_budget = MAX_DIFF_WORDS_PER_COMPARISON
    for i, section in enumerate(first):
        if i not in partner:
            pairs.append(SectionPair(ONLY_IN_FIRST, section, None))
            continue
        other = second[partner[i]]
        score = float(first_vectors[i] @ second_vectors[partner[i]])
        if section.text == other.text:
            pairs.append(SectionPair(MATCHING, section, other, score))
        else:
            words = min(len(section.text.split()), MAX_DIFF_WORDS) + min(len(other.text.split()), MAX_DIFF_WORDS)
            numbers = number_changes(section.text, other.text) if words <= diff_budget else []
            diff_budget -= words
            pairs.append(SectionPair(DIFFERENT, section, other, score, numbers))
    matched = set(partner.values())
    pairs.extend(SectionPair(ONLY_IN_SECOND, None, s) for j, s in enumerate(second) if j not in matched)
    return pairs


def _match_by_similarity(first: list[np.ndarray], second: list[np.ndarray], partner: dict[int, int]) -> None:
    """Pairs the sections the headings left unmatched, the closest pair first, down to
    SIMILARITY_THRESHOLD; of each side only the first MAX_SIMILARITY_SECTIONS are tried (the
    matrix of their similarities is at most 16 MB)."""
    taken = set(partner.values())
    rows = [i for i in range(len(first)) if i not in partner][:MAX_SIMILARITY_SECTIONS]
    columns = [j for j in range(len(second)) if j not in taken][:MAX_SIMILARITY_SECTIONS]
    if not rows or not columns:
        return
    similarity = np.stack([first[i] for i in rows]) @ np.stack([second[j] for j in columns]).T
    close_rows, close_columns = np.nonzero(similarity >= SIMILARITY_THRESHOLD)
    order = np.argsort(-similarity[close_rows, close_columns], kind="stable")
    for k in order:
        i, j = rows[close_rows[k]], columns[close_columns[k]]
        if i not in partner and j not in taken:
            partner[i] = j
            taken.add(j)


def number_changes(old_text: str, new_text: str) -> list[NumberChange]:
    """Numbers replaced one for one with the words around them unchanged, in the order of the old text."""
    old_words = old_text.split()[:MAX_DIFF_WORDS]
    new_words = new_text.split()[:MAX_DIFF_WORDS]
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    changes: list[NumberChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace" or i2 - i1 != j2 - j1:
            continue
        for offset in range(i2 - i1):
            before, after = old_words[i1 + offset], new_words[j1 + offset]
            old_number, new_number = _NUMBER.search(before), _NUMBER.search(after)
            if old_number is None or new_number is None or old_number.group() == new_number.group():
                continue
            if _shell(before, old_number) != _shell(after, new_number):
                continue  # not the same kind of quantity ("$5" against "5%")
            context = " ".join(old_words[max(0, i1 + offset - CONTEXT_WORDS) : i1 + offset])
            changes.append(
                NumberChange(
                    context, _unit(before, old_number, old_words, i1 + offset), old_number.group(), new_number.group()
                )
            )
            if len(changes) >= MAX_NUMBER_CHANGES_PER_SECTION:
                return changes
    return changes


def _shell(word: str, number: re.Match[str]) -> str:
    """The word around its number, trailing punctuation dropped ("$4,500." -> "$|")."""
    return word[: number.start()] + "|" + word[number.end() :].rstrip(".,;:)")


def _unit(word: str, number: re.Match[str], words: list[str], position: int) -> str:
    """What the number counts: the symbols around it in its word ("$", "%"), else the next word when
    it is a short word ("kg", "EUR", "percent")."""
    around = (word[: number.start()] + word[number.end() :]).strip(".,;:()")
    if around:
        return around
    if position + 1 < len(words):
        following = words[position + 1].strip(".,;:()")
        if _UNIT_WORD.match(following):
            return following
    return ""
