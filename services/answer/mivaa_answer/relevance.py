"""How well each sentence of the retrieved passages answers the question.

Score = cosine similarity of the question's and the sentence's embeddings (the embedder's
text model) plus a small bonus for the question's content terms the sentence contains (names,
part numbers and figures, which a small embedding model blurs). Embedding costs about 35 ms a
sentence on a busy 2-core machine, so only the MAX_EMBEDDED sentences that share the most of the
question's word stems (ties: the better-ranked passage first) are embedded. Embeddings are cached
by text, so ranking the same passages twice in one Ask (the relevance gate, then the extractive
answerer) embeds them once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mivaa_answer.generation.base import Passage
from mivaa_answer.text import Span, content_terms, sentences, stem_overlap, stems, term_overlap
from mivaa_answer.usecases.ports import TextEmbedder

# Sentences shorter than this are fragments, not answers.
MIN_SENTENCE_CHARS = 20
# Sentences embedded per ranking at most (the question's own embedding comes on top).
MAX_EMBEDDED = 8
# A line without closing punctuation is a heading or a caption unless it is this long (in words).
MIN_UNPUNCTUATED_WORDS = 8
# The weight of term overlap beside cosine similarity.
OVERLAP_WEIGHT = 0.15
_CACHE_SIZE = 4096


@dataclass(frozen=True)
class ScoredSentence:
    passage: Passage
    span: Span  # within passage.text
    similarity: float  # cosine with the question
    score: float  # similarity + OVERLAP_WEIGHT * term overlap


def is_statement(sentence: str) -> bool:
    """Whether a sentence can answer anything: not a heading, title or caption line."""
    return (
        sentence.rstrip("\"'”’)").endswith((".", "!", "?", ";", ":")) or len(sentence.split()) >= MIN_UNPUNCTUATED_WORDS
    )


class SentenceRanker:
    def __init__(self, embedder: TextEmbedder):
        self._embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    async def _vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, await self._embedder.embed(missing), strict=True):
                self._cache[text] = np.asarray(vector, dtype=np.float32)
                while len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        found = []
        for text in texts:
            self._cache.move_to_end(text)
            found.append(self._cache[text])
        return found

    async def rank(self, question: str, passages: Sequence[Passage]) -> list[ScoredSentence]:
        """The passages' likeliest sentences (MAX_EMBEDDED at most), best first."""
        candidates = [
            (passage, span)
            for passage in passages
            for span in sentences(passage.text, min_chars=MIN_SENTENCE_CHARS)
            if is_statement(span.text)
        ]
        if not candidates:
            return []
        question_stems = stems(question)
        candidates.sort(key=lambda c: (-stem_overlap(question_stems, c[1].text), c[0].number))
        candidates = candidates[:MAX_EMBEDDED]
        question_vector, *vectors = await self._vectors([question, *(span.text for _, span in candidates)])
        terms = content_terms(question)
        scored = []
        for (passage, span), vector in zip(candidates, vectors, strict=True):
            similarity = float(np.dot(question_vector, vector))
            score = similarity + OVERLAP_WEIGHT * term_overlap(terms, span.text)
            scored.append(ScoredSentence(passage, span, similarity, score))
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored

    async def centrality(self, texts: Sequence[str]) -> list[float]:
        """Cosine similarity of each text with the mean of all of them: how typical it is."""
        vectors = np.stack(await self._vectors(texts))
        centre = vectors.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-9)
        return [float(v) for v in vectors @ centre]
