"""The extractive answerer: quotes the sentences of the sources that best answer the question.

Needs no language model beyond the embedder (through SentenceRanker). It never writes a word of
its own beyond one line saying the answer is quoted, and cites every sentence it quotes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence

from mivaa_answer.generation.base import NOT_FOUND_ANSWER, Passage
from mivaa_answer.relevance import ScoredSentence, SentenceRanker, is_statement
from mivaa_answer.text import STOPWORDS, content_terms, sentences, words

EXTRACTIVE = "extractive"
ANSWER_HEADER = "Extractive answer (sentences quoted from the documents):\n"
# Sentences a summary chooses from (each is embedded).
SUMMARY_CANDIDATES = 40
SUMMARY_HEADER = "Extractive summary (sentences quoted from the document; [n] is the page):\n"


class ExtractiveGenerator:
    name = EXTRACTIVE

    def __init__(self, ranker: SentenceRanker, *, min_similarity: float, max_sentences: int = 3, margin: float = 0.12):
        """min_similarity: a sentence less similar to the question than this is no answer.
        margin: sentences scoring within this of the best are quoted too (up to max_sentences)."""
        self._ranker = ranker
        self._min_similarity = min_similarity
        self._max_sentences = max_sentences
        self._margin = margin

    def choose(self, ranked: Sequence[ScoredSentence]) -> list[ScoredSentence]:
        if not ranked or ranked[0].similarity < self._min_similarity:
            return []
        best = ranked[0].score
        chosen: list[ScoredSentence] = []
        seen: set[str] = set()
        for sentence in ranked:
            if len(chosen) == self._max_sentences or sentence.score < best - self._margin:
                break
            key = " ".join(words(sentence.span.text))
            if sentence.similarity >= self._min_similarity and key not in seen:
                chosen.append(sentence)
                seen.add(key)
        return chosen

    async def stream_answer(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        chosen = self.choose(await self._ranker.rank(question, passages))
        if not chosen:
            yield NOT_FOUND_ANSWER
            return
        yield ANSWER_HEADER
        for sentence in chosen:
            yield quote_line(sentence.span.text, sentence.passage.number)

    async def condense(self, history: Sequence[tuple[str, str]], question: str) -> str:
        """The follow-up plus the topic of the turn before it, so retrieval stays on the subject:
        "When was it built?" after a question on the Zentrix reactor becomes "When was it built?
        (Zentrix)". The topic is the names the earlier question used (capitalized words past a
        sentence's first), else its content terms; not its other words, which would outweigh the
        follow-up's. A follow-up about a person ("Where did she study?") takes instead the names the
        earlier answer's first quote adds, where that person was named."""
        if not history:
            return question
        earlier_question, earlier_answer = history[-1]
        topic = _names(earlier_question) or [t for t in _tokens(earlier_question) if t.lower() in content_terms(t)]
        if set(words(question)) & _PERSONAL_PRONOUNS:
            # "she" is someone the answer named, not the question's subject again.
            quotes = [line for line in earlier_answer.splitlines() if line.startswith("“")]
            people = [n for n in _names(quotes[0].strip("“”")) if n not in topic] if quotes else []
            topic = people or topic
        own = set(words(question))
        inherited = list(dict.fromkeys(t for t in topic if t.lower() not in own))
        return f"{question} ({' '.join(inherited)})" if inherited else question

    async def summarize(self, title: str, passages: Sequence[Passage]) -> str:
        """The sentences most typical of the document (nearest the mean of their embeddings), in
        reading order. Boilerplate is left out: lines repeated on several pages, contents lines
        with dot leaders, headings, sentence tails."""
        seen: Counter[str] = Counter(" ".join(words(span.text)) for p in passages for span in sentences(p.text))
        candidates = [
            (passage, span.text)
            for passage in passages
            for span in sentences(passage.text)
            if len(span.text) >= 40
            and span.text[:1].isupper()  # not the tail of a sentence cut by a column or page break
            and is_statement(span.text)
            and not _DOT_LEADER.search(span.text)
            and seen[" ".join(words(span.text))] == 1
        ]
        if not candidates:
            return ""
        # Spread over the document, and few enough to embed in a second or two.
        step = max(1, len(candidates) // SUMMARY_CANDIDATES)
        candidates = candidates[::step][:SUMMARY_CANDIDATES]
        typical = await self._ranker.centrality([text for _, text in candidates])
        ranked = sorted(range(len(candidates)), key=lambda i: typical[i], reverse=True)[: self._max_sentences + 2]
        lines = [quote_line(candidates[i][1], candidates[i][0].number) for i in sorted(ranked)]
        return SUMMARY_HEADER + "".join(lines)


def quote_line(sentence: str, number: int) -> str:
    """One quoted sentence on a line of its own, cited: “…” [n]."""
    return f"“{' '.join(sentence.split())}” [{number}]\n"


_DOT_LEADER = re.compile(r"\.{4,}|…{2,}|(?:\. ){4,}")
_PERSONAL_PRONOUNS = frozenset({"he", "she", "him", "her", "his", "hers", "they", "them", "their", "theirs"})


def _tokens(text: str) -> list[str]:
    return [word.strip(".,;:!?\"'()[]“”") for word in text.split()]


def _names(text: str) -> list[str]:
    """Capitalized words that do not start the text (names, mostly)."""
    return [t for t in _tokens(text)[1:] if t[:1].isupper() and t.lower() not in STOPWORDS]
