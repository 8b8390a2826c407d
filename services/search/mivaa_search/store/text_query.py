"""A keyword query as the tsqueries that find and rank chunks, one set per text configuration.

PostgreSQL analyses the query once per configuration present among the candidate chunks
(`to_tsvector(config, query)` gives its lexemes and their positions); from those this module
builds, as tsquery text:

- `strict`: `websearch_to_tsquery(config, query)` (every word, "quoted phrases", or, -not),
  built by PostgreSQL itself;
- `pairs`: each pair of neighbouring words at its distance (`'volcan' <-> 'erupt'`): a chunk
  that holds a run of the query's words in order matches many pairs, which is what finds a
  verbatim fragment even when it straddles two chunks or one word differs;
- `terms`: each word alone: the share a chunk holds ranks it among the candidates.

Plain-text queries rank by all three; a query written with websearch operators (quotes, "or",
a leading "-") asked for exactly that, so only `strict` finds its chunks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Quotes, a word "or" between words, or a "-" starting a word: websearch_to_tsquery syntax.
_OPERATORS = re.compile(r"""["\u201c\u201d]|(?:^|\s)-\w|\s(?i:or)\s""")
MAX_QUERY_TERMS = 64  # a query's distinct words ranked (a 4 kB query has hundreds)
SEPARATOR = "\x1f"  # between the tsqueries of one list, as one SQL text parameter


def uses_operators(query: str) -> bool:
    return bool(_OPERATORS.search(query))


def quote_lexeme(lexeme: str) -> str:
    """A lexeme as a tsquery operand: quoted, so punctuation and spaces stay part of it."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class ConfigQuery:
    """The query as seen by one text search configuration."""

    config: str
    strict: str  # tsquery text; "" when the query has no words this configuration indexes
    pairs: list[str]
    terms: list[str]

    @property
    def loose(self) -> str:
        """Any of the words (tsquery text): what a chunk must match to be ranked at all."""
        return " | ".join(self.terms)


def config_query(
    config: str, strict: str, positions: Sequence[tuple[str, Sequence[int]]], *, exact: bool
) -> ConfigQuery:
    """From PostgreSQL's analysis: `strict` (websearch_to_tsquery's text) and the lexemes of the
    query with their positions (unnest(to_tsvector(...))). `exact` keeps only `strict`."""
    if exact or not strict:
        return ConfigQuery(config, strict, [], [])
    sequence = sorted((position, lexeme) for lexeme, where in positions for position in where)
    terms: list[str] = []
    for _, lexeme in sequence:
        operand = quote_lexeme(lexeme)
        if operand not in terms and len(terms) < MAX_QUERY_TERMS:
            terms.append(operand)
    pairs: list[str] = []
    for (first_at, first), (second_at, second) in zip(sequence, sequence[1:], strict=False):
        pair = f"{quote_lexeme(first)} <{second_at - first_at}> {quote_lexeme(second)}"
        if first_at != second_at and pair not in pairs and len(pairs) < MAX_QUERY_TERMS:
            pairs.append(pair)
    return ConfigQuery(config, strict, pairs, terms)


def any_of(queries: Sequence[ConfigQuery]) -> str:
    """One tsquery (text) that every candidate matches, so the GIN index finds them all at once:
    all the words (`strict`) or a pair of them in order. A chunk that shares only scattered
    single words with a longer query is no candidate: on a large tenant that would be most
    chunks (a query's "of" or "system"), and ranking them all costs seconds."""
    parts = [f"({q.strict})" for q in queries if q.strict] + [f"({pair})" for q in queries for pair in q.pairs]
    # Configurations often read a query alike ("'rye' <1> 'bread'" in most of them): each branch
    # once, as the index scan looks up every branch it is given (a third of its time, measured).
    return " | ".join(dict.fromkeys(parts))
