"""The query sets of bench/retrieval_quality.py, built in code with their answer pages.

Known items: verbatim sentence fragments of 8-15 words, sampled with a fixed seed
from the pages of real PDFs in ../shared/corpus and of the generated documents.
A fragment is kept only when both pypdf and PyMuPDF read it on its page (so
neither pipeline's extractor decides the truth) and it is not repeated: the
fragment occurs on no other page of any document, and most of its 6-word
shingles, digits masked, are the page's own (no boilerplate with one word or
a page number changed, no page headers and footers).

Questions: the generated documents' facts (bench/retrieval_docs.py) and a
hand-written set over corpus documents, each answer page checked by reading it.
"""

from __future__ import annotations

import collections
import pathlib
import random
import re
import unicodedata
from dataclasses import dataclass

import pymupdf

from bench.retrieval_docs import SEED, GeneratedDoc

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "corpus"
SHINGLE = 6


@dataclass(frozen=True)
class CorpusDoc:
    key: str
    relative: str  # under ../shared/corpus
    kind: str
    fragments: int  # how many known items to sample from it


# Papers, manuals, the 619-page handbook, the German thesis (READMEs in ../shared/corpus).
CORPUS_DOCS = [
    CorpusDoc("handbook-619p", "unstructured/DA-619p.pdf", "619-page game handbook", 50),
    CorpusDoc("manual-400p", "unstructured/pdf2image-memory-error-test-400p.pdf", "400-page command manual", 15),
    CorpusDoc("thesis-de", "GeoTopo-komprimiert.pdf", "German maths thesis", 25),
    CorpusDoc("patient-guide", "unstructured/failure-after-repair.pdf", "76-page patient guide", 20),
    CorpusDoc("dpr-paper", "unstructured/multi-column.pdf", "two-column paper", 12),
    CorpusDoc("olap-fr", "unstructured/fr_olap.pdf", "French paper", 8),
    CorpusDoc("eu-tables", "multicolumn.pdf", "multi-column with a table", 3),
]
QUICK_KEYS = ("dpr-paper",)

# (document key, question, answer pages): each page read and checked by hand.
CORPUS_QUESTIONS = [
    ("handbook-619p", "Which Old Gods have risen as archdemons and at which battles were they slain?", (67,)),
    ("handbook-619p", "What is an arcane horror and how is one created?", (7, 184)),
    ("handbook-619p", "How can you make sure a slain ogre does not regenerate?", (13, 187)),
    ("handbook-619p", "How is upper-class surface dwarf society divided?", (247, 368)),
    ("handbook-619p", "Who made the belt called Hindsight and how does it protect its wearer?", (307,)),
    ("handbook-619p", "What do the Ben-Hassrath do in Qunari cities?", (367,)),
    ("handbook-619p", "What happened to Ser Brandis, the Silver Helm?", (547,)),
    ("patient-guide", "How long do most people have chemotherapy for early breast cancer?", (41,)),
    ("patient-guide", "Which aromatase inhibitors are used and for how long are they taken?", (50,)),
    ("patient-guide", "Does a metastasis keep the name of the original cancer?", (7,)),
    ("patient-guide", "What is the difference between a benign and a malignant tumour?", (6,)),
    ("patient-guide", "What does a genetic counsellor do for people with breast cancer?", (25,)),
    ("patient-guide", "What share of breast cancers have oestrogen or progesterone receptors?", (18,)),
    ("patient-guide", "How can I cope with mixed feelings when my cancer treatment ends?", (62,)),
    ("dpr-paper", "By how much does the dense retriever beat BM25 in top-20 retrieval accuracy?", (1,)),
    ("dpr-paper", "What top-5 accuracy does DPR reach compared with BM25?", (2,)),
    ("dpr-paper", "Which library indexes the passage embeddings offline for similarity search?", (3, 7)),
    ("dpr-paper", "Which kinds of negative passages are used to train the encoders?", (3,)),
    ("thesis-de", "Was ist ein topologischer Raum?", (6,)),
    ("thesis-de", "Wann heißt ein topologischer Raum kompakt?", (18,)),
    ("thesis-de", "Wann ist eine Teilmenge des Rn kompakt?", (21,)),
]


@dataclass(frozen=True)
class Source:
    """A PDF in the benchmark, with each page's text as PyMuPDF and pypdf read it."""

    key: str
    filename: str
    data: bytes
    origin: str  # "corpus" or "generated"
    pymupdf_pages: list[str]
    pypdf_pages: list[str]


@dataclass(frozen=True)
class Query:
    text: str
    doc: str
    pages: tuple[int, ...]  # 1-based; a hit is right when it is in doc and its page range holds one of them
    origin: str


def normalize(text: str) -> str:
    """NFKC (ligatures apart), words hyphenated across a line joined again, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(\w)[-\u00ad]\n(?=[a-zäöüß])", r"\1", text)
    return " ".join(text.split())


def squash(text: str) -> str:
    """Letters and digits only, case-folded: how a quote or a fragment is looked for in a page's text."""
    return re.sub(r"\W+", "", normalize(text).casefold())


def words(text: str) -> list[str]:
    return re.findall(r"\w+", normalize(text).casefold())


def read_source(key: str, filename: str, data: bytes, origin: str) -> Source:
    import io
    import logging

    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # font warnings by the thousand on the handbook

    with pymupdf.open(stream=data, filetype="pdf") as document:
        mupdf_pages = [page.get_text() for page in document]
    reader = pypdf.PdfReader(io.BytesIO(data))
    return Source(key, filename, data, origin, mupdf_pages, [page.extract_text() or "" for page in reader.pages])


def load_sources(generated: list[GeneratedDoc], *, quick: bool) -> tuple[list[Source], list[str]]:
    """The generated documents and the corpus documents present; notes say what was skipped and why."""
    sources = [read_source(doc.key, doc.filename, doc.data, "generated") for doc in generated]
    notes = []
    if not CORPUS.is_dir():
        return sources, [f"corpus skipped: {CORPUS} is absent (only generated documents are measured)"]
    for doc in CORPUS_DOCS:
        if quick and doc.key not in QUICK_KEYS:
            continue
        path = CORPUS / doc.relative
        if not path.is_file():
            notes.append(f"corpus document skipped: {path} is absent")
            continue
        sources.append(read_source(doc.key, path.name, path.read_bytes(), "corpus"))
    return sources, notes


def shingles(tokens: list[str]) -> set[tuple[str, ...]]:
    """Runs of 6 words, digits masked: "page 72" and "page 386" of a running footer are the same shingle."""
    masked = [re.sub(r"\d", "#", token) for token in tokens]
    return {tuple(masked[i : i + SHINGLE]) for i in range(len(masked) - SHINGLE + 1)}


class FragmentSampler:
    """Samples known-item fragments; remembers which pages hold every 6-word shingle and every page's text."""

    def __init__(self, sources: list[Source]):
        self.owners: dict[tuple[str, ...], set[tuple[str, int]]] = collections.defaultdict(set)
        self.squashed: dict[tuple[str, int], str] = {}
        for source in sources:
            for number, text in enumerate(source.pymupdf_pages, 1):
                self.squashed[(source.key, number)] = squash(text)
                for shingle in shingles(words(text)):
                    self.owners[shingle].add((source.key, number))

    def repeated(self, fragment: str, where: tuple[str, int]) -> bool:
        needle = squash(fragment)
        if any(needle in text for page, text in self.squashed.items() if page != where):
            return True
        own = shingles(words(fragment))
        shared = sum(1 for s in own if self.owners[s] != {where})
        return shared * 2 > len(own)

    def candidates(self, source: Source, number: int, rng: random.Random) -> list[str]:
        """Fragments of the page's sentences, mostly words (no formulas, tables or numbers)."""
        text = normalize(source.pymupdf_pages[number - 1])
        found = []
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            tokens = sentence.split()
            if len(tokens) < 8:
                continue
            size = rng.randint(8, min(15, len(tokens)))
            start = rng.randint(0, len(tokens) - size)
            fragment = tokens[start : start + size]
            wordlike = sum(1 for t in fragment if re.fullmatch(r"[(\"'„“]?[^\W\d_]{2,}[)\"'“”.,;:!?]*", t))
            if wordlike >= 0.8 * size and max(len(t) for t in fragment) <= 25:
                found.append(" ".join(fragment))
        rng.shuffle(found)
        return found

    def sample(self, source: Source, count: int) -> list[Query]:
        rng = random.Random(f"{SEED}:{source.key}")
        pages = list(range(1, len(source.pymupdf_pages) + 1))
        rng.shuffle(pages)
        chosen: list[Query] = []
        for number in pages:
            if len(chosen) >= count:
                break
            pypdf_text = squash(source.pypdf_pages[number - 1])
            for fragment in self.candidates(source, number, rng)[:4]:
                if squash(fragment) in pypdf_text and not self.repeated(fragment, (source.key, number)):
                    chosen.append(Query(fragment, source.key, (number,), source.origin))
                    break
        return chosen


def known_items(sources: list[Source], generated_per_doc: int) -> list[Query]:
    sampler = FragmentSampler(sources)
    quotas = {doc.key: doc.fragments for doc in CORPUS_DOCS}
    queries = []
    for source in sources:
        queries += sampler.sample(source, quotas.get(source.key, generated_per_doc))
    return queries


def questions(sources: list[Source], generated: list[GeneratedDoc]) -> list[Query]:
    present = {source.key for source in sources}
    asked = [Query(f.question, f.doc, (f.page,), "generated") for doc in generated for f in doc.facts]
    asked += [Query(q, key, pages, "corpus") for key, q, pages in CORPUS_QUESTIONS if key in present]
    return asked


def identifiers(generated: list[GeneratedDoc]) -> list[Query]:
    """Each generated fact's exact identifier alone (a part number, an archive reference) as the query."""
    return [Query(f.identifier, f.doc, (f.page,), "generated") for doc in generated for f in doc.facts]
