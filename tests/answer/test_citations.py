"""Citations are made, never invented: the domain rules, on pages held in memory (the fault
injected: a page whose text lacks the quote). The mesh tests check the same on real pages."""

from __future__ import annotations

from mivaa_answer.citations import cite, locate
from mivaa_answer.generation.base import Passage
from mivaa_answer.text import citation_marks, sentences
from mivaa_answer.usecases.ports import PageBlock, PageText

PASSAGE_TEXT = (
    "The Halden reflector has a primary mirror 3.6 metres wide. "
    "It was installed in 1971 after a long delay.\n\nThe dome rotates on steel wheels."
)


def passage(number: int = 1, text: str = PASSAGE_TEXT) -> Passage:
    return Passage(number, "documents/d1", "Handbook", 0, 2, 2, text, 0.9)


class Pages:
    """A PageReader over pages given in the test."""

    def __init__(self, pages: list[PageText]):
        self._pages = pages
        self.calls = 0

    async def pages(self, document: str, first: int, last: int, *, tenant: str) -> list[PageText]:
        self.calls += 1
        return [p for p in self._pages if first <= p.number <= last]


PAGE_2 = PageText(
    2,
    (
        PageBlock(
            "The Halden reflector has a primary mirror 3.6 metres\nwide. It was installed in", (72, 100, 500, 140)
        ),
        PageBlock("1971 after a long delay.", (72, 140, 300, 160)),
        PageBlock("The dome rotates on steel wheels.", (72, 200, 400, 220)),
    ),
)


def test_sentences_keep_abbreviations_and_markers():
    text = "Dr. Marwick founded it in 1962 [1]. Fig. 2 shows the dome.\n- a list item\n- another"
    assert [s.text for s in sentences(text)] == [
        "Dr. Marwick founded it in 1962 [1].",
        "Fig. 2 shows the dome.",
        "- a list item",
        "- another",
    ]
    assert citation_marks("as [2] and [1], again [2]") == [2, 1]


def test_a_quote_is_located_across_line_breaks_and_blocks():
    located = locate("It was installed in 1971 after a long delay.", [PAGE_2])
    assert located is not None and located.page == 2
    assert located.bbox == (72, 100, 500, 160)  # the two blocks the quote spans
    assert locate("It was installed in 1972 after a long delay.", [PAGE_2]) is None


async def test_each_cited_sentence_gets_its_quote_page_and_box():
    answer = (
        "“The Halden reflector has a primary mirror 3.6 metres wide.” [1]\n“The dome rotates on steel wheels.” [1]\n"
    )
    citations = await cite(answer, [passage()], Pages([PAGE_2]), tenant="t")
    assert [(c.source, c.page, c.quote) for c in citations] == [
        (1, 2, "The Halden reflector has a primary mirror 3.6 metres wide."),
        (1, 2, "The dome rotates on steel wheels."),
    ]
    first = citations[0]
    assert answer[first.answer_start : first.answer_end].startswith("“The Halden")


async def test_no_citation_without_its_quote_on_the_page():
    # The passage says it, but the page the search service holds does not: no citation.
    altered = PageText(2, (PageBlock("The dome rotates on steel wheels.", (72, 200, 400, 220)),))
    citations = await cite("The mirror is 3.6 metres wide [1].", [passage()], Pages([altered]), tenant="t")
    assert citations == []


async def test_a_claim_the_passage_does_not_support_is_not_cited():
    # An LLM's sentence citing [1] for something passage 1 does not say.
    citations = await cite(
        "The observatory has a cafeteria and a gift shop [1].", [passage()], Pages([PAGE_2]), tenant="t"
    )
    assert citations == []
    # A marker naming no passage is ignored: the sentence is tied to a passage by its words instead.
    assert await cite("The dome rotates on steel wheels [7].", [passage()], Pages([PAGE_2]), tenant="t") != []
