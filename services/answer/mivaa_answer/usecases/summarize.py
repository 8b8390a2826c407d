"""SummarizeDocument: a document's summary from its pages, cached per document version and generator."""

from __future__ import annotations

from mivaa_answer.generation.base import AnswerGenerator, GeneratorUnavailableError, Passage
from mivaa_answer.limits import DOMAIN
from mivaa_answer.text import citation_marks
from mivaa_answer.usecases.ask import GeneratorChoice, choose_generator, llm_unavailable
from mivaa_answer.usecases.ports import DocumentReader, PageReader, Summary, SummaryCache
from mivaa_platform.errors import InvalidArgument

# The pages a summary reads (the opening of a long document says what it is about).
SUMMARY_PAGES = 30
# A page's text sent to a generator at most.
MAX_PAGE_CHARS = 4000


class Summarize:
    def __init__(
        self,
        *,
        documents: DocumentReader,
        pages: PageReader,
        cache: SummaryCache,
        extractive: AnswerGenerator,
        llm: AnswerGenerator | None,
        default: GeneratorChoice,
    ):
        self._documents = documents
        self._pages = pages
        self._cache = cache
        self._extractive = extractive
        self._llm = llm
        self._default = default

    async def summarize(self, name: str, choice: GeneratorChoice, *, tenant: str) -> tuple[Summary, bool]:
        """(the summary, whether it came from the cache)."""
        if not name.startswith("documents/"):
            raise InvalidArgument(
                "INVALID_DOCUMENT_NAME",
                'A document is named "documents/{id}".',
                domain=DOMAIN,
                metadata={"name": name[:100]},
            )
        generator = choose_generator(choice, self._default, self._extractive, self._llm)
        document = await self._documents.document(name, tenant=tenant)
        cached = await self._cache.get(name, document.version, generator.name, tenant=tenant)
        if cached is not None:
            return cached, True
        last = min(document.page_count or SUMMARY_PAGES, SUMMARY_PAGES)
        pages = await self._pages.pages(name, 1, last, tenant=tenant)
        # One passage a page, numbered by the page, so a summary's [n] is its page.
        passages = [
            Passage(
                number=page.number,
                document=name,
                document_title=document.title,
                chunk_index=0,
                page_start=page.number,
                page_end=page.number,
                text="\n\n".join(block.text for block in page.blocks)[:MAX_PAGE_CHARS],
                score=0.0,
            )
            for page in pages
        ]
        try:
            text = await generator.summarize(document.title, passages)
        except GeneratorUnavailableError as exc:
            raise llm_unavailable() from exc
        page_numbers = {p.number for p in passages}
        summary = Summary(text, tuple(n for n in citation_marks(text) if n in page_numbers), generator.name)
        await self._cache.put(name, document.version, summary, tenant=tenant)
        return summary, False
