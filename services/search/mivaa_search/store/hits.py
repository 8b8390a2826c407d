"""A page's hits, read by key once the rankings are fused and cut: the chunks' columns and where
the query's words occur in each text (from ts_headline, so a highlight is exactly what full text
search matched). One statement for the page, however deep the rankings went: they carry keys and
scores only, and a text is read for the hits shown, not for the hundreds ranked."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence

from mivaa_search.store._common import Connections
from mivaa_search.store.records import MAX_HIT_TITLE_CHARS, ChunkHit, ChunkRank

Spans = tuple[tuple[int, int], ...]  # (start, end) in code points, end exclusive, in order

_COLUMNS = (
    "c.document_id, left(d.title, %(title_chars)s), c.chunk_index, c.text, c.page_start, c.page_end,"
    " c.text_source, c.ocr_confidence, c.section_path, c.block_types, c.language"
)
_START, _STOP = "\x02", "\x03"  # marks around matched words; texts holding them get no highlights
_MARKS = re.compile("[\x02\x03]")
_JOINERS = ("", "-", "_", ".", "/")


async def read_hits(
    connections: Connections, ranks: Sequence[ChunkRank], *, tenant: str, query: str | None = None
) -> dict[tuple[str, int], tuple[ChunkHit, Spans]]:
    """The hits of `ranks` by key, in the ranks' order, each with its rank's score and vector and,
    given `query`, the spans of the query's words (as its language's configuration stems them) in
    its text. A chunk gone since it was ranked (its document deleted or replaced) is left out."""
    if not ranks:
        return {}
    headline = (
        "ts_headline(f.cfg, c.text, replace(plainto_tsquery(f.cfg, %(query)s)::text, ' & ', ' | ')::tsquery,"
        " 'HighlightAll=true, StartSel=' || chr(2) || ', StopSel=' || chr(3))"
        if query is not None
        else "NULL"
    )
    async with connections.connection() as conn:
        cur = await conn.execute(
            f"""
            SELECT {_COLUMNS}, {headline}, k.n
            FROM unnest(%(documents)s::uuid[], %(indexes)s::int[]) WITH ORDINALITY AS k(document_id, chunk_index, n)
            JOIN chunks c ON c.document_id = k.document_id AND c.chunk_index = k.chunk_index
            JOIN documents d ON d.id = c.document_id AND d.tenant = %(tenant)s
            CROSS JOIN LATERAL (SELECT mivaa_text_config(c.language) AS cfg) f
            ORDER BY k.n
            """,
            {
                "documents": [uuid.UUID(r.document_id) for r in ranks],
                "indexes": [r.chunk_index for r in ranks],
                "tenant": tenant,
                "query": query,
                "title_chars": MAX_HIT_TITLE_CHARS,
            },
        )
        rows = await cur.fetchall()
    found: dict[tuple[str, int], tuple[ChunkHit, Spans]] = {}
    for row in rows:
        rank = ranks[row[12] - 1]
        doc_id, title, index, text, page_start, page_end, source, confidence, path, kinds, language = row[:11]
        hit = ChunkHit(
            str(doc_id),
            title,
            index,
            text,
            page_start,
            page_end,
            rank.score,
            source,
            confidence,
            path,
            kinds,
            language,
            rank.embedding,
        )
        found[(hit.document_id, hit.chunk_index)] = (hit, _spans(text, row[11]) if query is not None else ())
    return found


def _spans(original: str, marked: str) -> Spans:
    # ts_headline rebuilds the text from its tokens: trust the offsets only if it came back intact
    # (so positions in the marked text, markers left out, are positions in the original).
    if _START in original or _STOP in original or _MARKS.sub("", marked) != original:
        return ()
    spans: list[tuple[int, int]] = []
    length = 0
    start = -1
    for piece, mark in _pieces(marked):
        length += len(piece)
        if mark == _START:
            start = length
            continue
        if start >= 0 and length > start:
            gap = original[spans[-1][1] : start] if spans else " "
            if len(gap) <= 1 and gap in _JOINERS:  # parts of one compound: "XK-4471-QZ", "e-mail"
                spans[-1] = (spans[-1][0], length)
            else:
                spans.append((start, length))
        start = -1
    return tuple(spans)


def _pieces(marked: str) -> Iterator[tuple[str, str]]:
    """(the text before each marker, the marker); the text after the last one is not needed."""
    position = 0
    for match in _MARKS.finditer(marked):
        yield marked[position : match.start()], match.group()
        position = match.end()
