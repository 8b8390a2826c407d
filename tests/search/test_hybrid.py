"""SearchChunks' modes, filters, highlights and pages over the real PostgreSQL and the real text model."""

from __future__ import annotations

import datetime as dt

import pytest

from mivaa_platform.errors import InvalidArgument
from mivaa_search.store import SearchFilter
from mivaa_search.usecases import Search
from tests.search.retrieval_support import IDENTIFIER, add_document, search


@pytest.fixture
def service(store, embedder):
    return Search(store, embedder)


def keys(results):
    return [(r.hit.document_id, r.hit.chunk_index) for r in results.hits]


async def test_exact_identifier_is_hybrids_first_hit(service, library):
    hybrid = await search(service, f"where is part {IDENTIFIER} reviewed", top_k=10)
    assert keys(hybrid)[0] == (library["long"], 37)
    assert hybrid.hits[0].keyword_score > 0 and hybrid.hits[0].vector_score != 0
    keyword = await search(service, IDENTIFIER, mode="KEYWORD")
    assert keys(keyword) == [(library["long"], 37)]
    # The vector ranking alone does not single it out: the model sees generated filler much like any other.
    vector = await search(service, f"where is part {IDENTIFIER} reviewed", mode="VECTOR", top_k=10)
    assert keys(vector)[0] != (library["long"], 37)
    assert vector.model and not keyword.model


async def test_keyword_phrases_and_verbatim_fragments(service, library):
    # A quoted phrase matches the words in that order only.
    phrase = await search(service, '"ground swelling"', mode="KEYWORD")
    assert keys(phrase) == [(library["volcano"], 1)]
    assert not (await search(service, '"swelling ground"', mode="KEYWORD")).hits
    # A verbatim fragment (no operators) finds its chunk first, even with a word changed.
    fragment = "gas pressure breaks the rock"
    assert keys(await search(service, fragment, mode="KEYWORD"))[0] == (library["volcano"], 0)
    assert keys(await search(service, "magma rising through the mantle until", mode="KEYWORD"))[0] == (
        library["volcano"],
        0,
    )
    # Exclusion: -word.
    excluded = await search(service, "eruption -sulfur", mode="KEYWORD")
    assert (library["volcano"], 1) not in keys(excluded)
    assert all(0 < r.score < 1 for r in fragment_hits(await search(service, fragment, mode="KEYWORD")))


def fragment_hits(results):
    return results.hits


async def test_german_chunks_are_stemmed_as_german(service, library):
    # "Vulkanausbrüche" and "Vulkanausbruch" share the German stem; the simple configuration would not match.
    hits = await search(service, "Vulkanausbrüche", mode="KEYWORD")
    assert keys(hits) == [(library["german"], 0)]
    assert hits.hits[0].hit.language == "de"


async def test_highlights_point_at_the_query_terms(service, library):
    results = await search(service, "sulfur eruption", mode="KEYWORD")
    hit = results.hits[0]
    words = {hit.hit.text[start:end].lower() for start, end in hit.highlights}
    assert words == {"sulfur", "eruption"}
    # Code points, not bytes: a hit with umlauts still slices to the words.
    german = (await search(service, "Asche Dörfer", mode="KEYWORD")).hits[0]
    assert {german.hit.text[s:e] for s, e in german.highlights} == {"Asche", "Dörfer"}


@pytest.mark.parametrize("mode", ["HYBRID", "VECTOR", "KEYWORD"])
async def test_filters(service, library, mode):
    query = "eruption"

    async def found(**where) -> set[tuple[str, int]]:
        return set(keys(await search(service, query, mode=mode, top_k=100, where=SearchFilter(**where))))

    everything = await found()
    assert (library["volcano"], 0) in everything
    assert {d for d, _ in await found(document_ids=[library["volcano"]])} == {library["volcano"]}
    assert {d for d, _ in await found(labels=["geology"])} == {library["volcano"]}
    pages = await found(page_min=2, page_max=3)
    assert pages and all(2 <= index + 1 <= 3 for _, index in pages)
    assert {k for k in await found(block_types=["table"])} == {(library["volcano"], 1)}
    assert {d for d, _ in await found(languages=["de"])} <= {library["german"]}
    old = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    assert {d for d, _ in await found(created_before=old)} <= {library["german"]}
    assert library["german"] not in {d for d, _ in await found(created_after=old)}


async def test_min_score_and_diversity(service, library):
    everything = await search(service, "volcanic eruption", mode="VECTOR", top_k=20)
    cut = everything.hits[2].score
    above = await search(service, "volcanic eruption", mode="VECTOR", top_k=20, min_score=cut)
    assert [r.score for r in above.hits] == [r.score for r in everything.hits if r.score >= cut]
    plain = await search(service, "lighthouse archive", top_k=5)
    diverse = await search(service, "lighthouse archive", top_k=5, diversity=0.9)
    assert len(diverse.hits) == 5 and keys(diverse) != keys(plain)


@pytest.mark.parametrize("mode", ["HYBRID", "VECTOR", "KEYWORD"])
async def test_pages_do_not_overlap(service, library, mode):
    seen: list[tuple[str, int]] = []
    token = ""
    for _ in range(20):
        results = await search(service, "lighthouse archive review", mode=mode, top_k=7, page_token=token)
        seen += keys(results)
        token = results.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) and len(seen) > 7
    whole = await search(service, "lighthouse archive review", mode=mode, top_k=len(seen))
    assert keys(whole) == seen


async def test_another_tenants_documents_never_come_back(service, store, embedder, library):
    other = await add_document(
        store, embedder, "secret", [f"Secret volcano notes about part {IDENTIFIER}."], tenant="b"
    )
    for mode in ("HYBRID", "VECTOR", "KEYWORD"):
        mine = await search(service, f"volcano {IDENTIFIER}", mode=mode, top_k=100)
        assert other not in {d for d, _ in keys(mine)}
        theirs = await search(service, f"volcano {IDENTIFIER}", mode=mode, top_k=100, tenant="b")
        assert {d for d, _ in keys(theirs)} == {other}
        # A page token of one tenant is refused to another.
        first = await search(service, "lighthouse", mode=mode, top_k=1)
        with pytest.raises(InvalidArgument) as refused:
            await search(service, "lighthouse", mode=mode, top_k=1, tenant="b", page_token=first.next_page_token)
        assert refused.value.reason == "INVALID_PAGE_TOKEN"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"mode": "FUZZY"}, "INVALID_MODE"),
        ({"min_score": float("nan")}, "INVALID_MIN_SCORE"),
        ({"diversity": 1.5}, "INVALID_DIVERSITY"),
        ({"where": SearchFilter(page_min=5, page_max=2)}, "INVALID_PAGE_RANGE"),
        ({"where": SearchFilter(page_min=-1)}, "INVALID_PAGE_RANGE"),
        ({"where": SearchFilter(block_types=["table"] * 17)}, "TOO_MANY_BLOCK_TYPES"),
        ({"where": SearchFilter(languages=["english"])}, "INVALID_LANGUAGE"),
        ({"where": SearchFilter(languages=["en"] * 17)}, "TOO_MANY_LANGUAGES"),
        (
            {
                "where": SearchFilter(
                    created_after=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                    created_before=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                )
            },
            "INVALID_TIME_RANGE",
        ),
        ({"page_token": "v1.garbage.0000"}, "INVALID_PAGE_TOKEN"),
        ({"top_k": -1}, "INVALID_TOP_K"),
    ],
)
async def test_bad_inputs_have_reasons(service, fields, reason):
    with pytest.raises(InvalidArgument) as refused:
        await search(service, "anything", **fields)
    assert refused.value.reason == reason


async def test_page_token_of_another_query_is_refused(service, library):
    first = await search(service, "lighthouse", top_k=1)
    assert first.next_page_token
    with pytest.raises(InvalidArgument) as refused:
        await search(service, "lighthouse", top_k=1, mode="KEYWORD", page_token=first.next_page_token)
    assert refused.value.reason == "INVALID_PAGE_TOKEN"


@pytest.mark.parametrize("mode", ["HYBRID", "VECTOR", "KEYWORD"])
async def test_queries_with_tsquery_syntax_are_just_text(service, library, mode):
    for query in ("'", "\\", "a:*", "!()&|<-> <2>", "o'reilly's \\x 'quoted'", "-", '"', "or", "the the the", "C++ -"):
        results = await search(service, query, mode=mode)
        assert all(r.hit.text for r in results.hits)


class _Reversed:
    """A reranker as a cross-encoder would plug in: it is given the candidates' texts and reorders
    them (here: last first, so its hand shows in every page)."""

    def __init__(self):
        self.seen: list[tuple[str, int, str]] = []

    async def rerank(self, query, ranked, texts):
        self.seen = [(r.hit.document_id, r.hit.chunk_index, text) for r, text in zip(ranked, texts, strict=True)]
        return list(reversed(ranked))


async def test_a_reranker_gets_each_candidates_text_and_orders_the_page(store, embedder, library):
    reranker = _Reversed()
    results = await search(Search(store, embedder, reranker=reranker), "eruption warning signs", top_k=3)
    assert len(reranker.seen) > 3, "the reranker saw only the page, not the candidates"
    assert keys(results) == [(d, i) for d, i, _ in reversed(reranker.seen)][:3]
    texts = {(d, i): t for d, i, t in reranker.seen}
    for hit in results.hits:  # each candidate's own text, as the page shows it
        assert texts[(hit.hit.document_id, hit.hit.chunk_index)] == hit.hit.text
