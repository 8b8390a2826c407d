"""Chunker: token bounds, no lost text, page spans, overlap, determinism."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from mivaa_extractor.extraction.chunking import Chunker, TextChunk, estimate_tokens
from mivaa_extractor.extraction.structure.model import PageError, PageLayout
from mivaa_extractor.extraction.text_extraction import extract_page_range


def PageText(number: int, text: str, error: str | None = None) -> PageLayout:
    """A page given as plain text, as the chunker's older tests wrote it."""
    return PageLayout.from_text(number, text, error=PageError("PAGE_EXTRACTION_FAILED", error) if error else None)


REPO = Path(__file__).resolve().parents[2]
MINILM_TOKENIZER = REPO / "models" / "all-MiniLM-L6-v2" / "tokenizer.json"


@pytest.fixture(scope="session")
def minilm() -> Tokenizer:
    if not MINILM_TOKENIZER.is_file():
        pytest.skip(f"all-MiniLM-L6-v2 tokenizer not found: {MINILM_TOKENIZER} (made by tools/export_text_model.py)")
    tokenizer = Tokenizer.from_file(str(MINILM_TOKENIZER))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


# --- documents with known content ------------------------------------------------------


def words_of(page: int, paragraph: int, count: int) -> list[str]:
    """Distinct words that say where they come from: p<page>w<paragraph>x<index>."""
    return [f"p{page}q{paragraph}x{index}" for index in range(count)]


def sentence(page: int, paragraph: int, index: int, length: int = 8) -> str:
    return " ".join(f"p{page}q{paragraph}s{index}w{word}" for word in range(length)) + "."


def document(paragraph_sizes: dict[int, list[int]]) -> list[PageText]:
    """Pages of paragraphs, each paragraph a number of distinct words in sentences of eight."""
    pages = []
    for number, sizes in paragraph_sizes.items():
        paragraphs = []
        for index, size in enumerate(sizes):
            words = words_of(number, index, size)
            sentences = [" ".join(words[start : start + 8]) + "." for start in range(0, size, 8)]
            paragraphs.append(" ".join(sentences))
        pages.append(PageText(number=number, text="\n\n".join(paragraphs)))
    return pages


def all_words(pages: list[PageText]) -> list[str]:
    return [word.rstrip(".") for page in pages for word in page.text.split()]


def chunk_words(chunk: TextChunk) -> list[str]:
    return [word.rstrip(".") for word in chunk.text.split()]


def pages_of(words: list[str]) -> set[int]:
    return {int(re.match(r"p(\d+)", word).group(1)) for word in words if re.match(r"p\d+q", word)}


def without_overlap(chunks: list[TextChunk]) -> list[str]:
    """The chunks' words with each chunk's repeat of the previous chunk's tail removed."""
    words = chunk_words(chunks[0]) if chunks else []
    for previous, current in zip(chunks, chunks[1:], strict=False):
        before, after = chunk_words(previous), chunk_words(current)
        shared = max(n for n in range(len(after) + 1) if n <= len(before) and before[len(before) - n :] == after[:n])
        words.extend(after[shared:])
    return words


def check_invariants(chunker: Chunker, chunks: list[TextChunk]) -> None:
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text.strip() == chunk.text and chunk.text
        assert chunk.token_estimate == chunker.count_tokens(chunk.text)
        assert chunk.token_estimate <= chunker.max_tokens
        assert 1 <= chunk.page_start <= chunk.page_end


# --- the basics ------------------------------------------------------------------------


def test_small_document_is_one_chunk():
    chunker = Chunker()
    chunks = chunker.chunk([PageText(1, "Hello world.\n\nSecond paragraph.")])
    assert chunks == [
        TextChunk(
            index=0,
            text="Hello world.\n\nSecond paragraph.",
            page_start=1,
            page_end=1,
            token_estimate=estimate_tokens("Hello world.\n\nSecond paragraph."),
        )
    ]


def test_empty_and_failed_pages_give_nothing():
    chunker = Chunker()
    pages = [
        PageText(1, ""),
        PageText(2, "  \n\n \n"),
        PageText(3, "", error="The text of page 3 could not be extracted."),
    ]
    assert chunker.chunk(pages) == []
    assert [chunker.feed(page) for page in pages] == [[], [], []]
    assert chunker.finish() == []


def test_bounds_no_loss_and_page_spans():
    pages = document({1: [30, 50, 12], 2: [200], 3: [5, 5, 5, 5], 4: [400, 3], 5: [90]})
    chunker = Chunker(max_tokens=128, overlap_tokens=16)
    chunks = chunker.chunk(pages)
    check_invariants(chunker, chunks)
    assert len(chunks) > 10
    # No text lost or reordered: the chunks minus their overlaps are the document.
    assert without_overlap(chunks) == all_words(pages)
    # Each chunk's page span is exactly the pages its words came from.
    for chunk in chunks:
        found = pages_of(chunk_words(chunk))
        assert (chunk.page_start, chunk.page_end) == (min(found), max(found)), chunk


def test_paragraphs_that_fit_are_never_split():
    pages = document({1: [5, 8, 3, 9, 6, 7], 2: [4, 8, 5]})
    chunker = Chunker(max_tokens=200, overlap_tokens=0)
    chunks = chunker.chunk(pages)
    check_invariants(chunker, chunks)
    for page in pages:
        for paragraph in page.text.split("\n\n"):
            assert any(paragraph in chunk.text.split("\n\n") for chunk in chunks), paragraph
    # Packed greedily: several paragraphs share a chunk, separated by a blank line.
    assert any(chunk.text.count("\n\n") >= 2 for chunk in chunks)
    # A chunk spanning a page break covers both pages.
    assert any(chunk.page_start == 1 and chunk.page_end == 2 for chunk in chunks)


def test_long_paragraph_splits_at_sentences():
    text = " ".join(sentence(1, 0, index) for index in range(60))
    chunker = Chunker(max_tokens=100, overlap_tokens=0)
    chunks = chunker.chunk([PageText(1, text)])
    check_invariants(chunker, chunks)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.endswith(".")
        assert re.fullmatch(r"(p1q0s\d+w0 (p1q0s\d+w\d+ )*p1q0s\d+w7\. ?)+", chunk.text + " "), chunk.text
    assert " ".join(chunk.text for chunk in chunks) == text


def test_long_sentence_splits_at_words():
    words = [f"word{index}" for index in range(500)]
    text = " ".join(words)  # one sentence, no full stop
    chunker = Chunker(max_tokens=64, overlap_tokens=8)
    chunks = chunker.chunk([PageText(7, text)])
    check_invariants(chunker, chunks)
    assert all(word in words for chunk in chunks for word in chunk.text.split())  # no word cut
    assert without_overlap(chunks) == words
    assert {(chunk.page_start, chunk.page_end) for chunk in chunks} == {(7, 7)}


def test_a_huge_word_splits_at_characters():
    blob = "".join(f"{index:x}" for index in range(3000))  # 10k characters, no space
    chunker = Chunker(max_tokens=64, overlap_tokens=0)
    chunks = chunker.chunk([PageText(1, f"before {blob} after")])
    check_invariants(chunker, chunks)
    assert len(chunks) > 20
    # Nothing lost and nothing repeated (no overlap asked for); "before"/"after" keep their spaces.
    assert "".join(chunk.text for chunk in chunks).replace(" ", "") == f"before{blob}after"


def test_cjk_text_without_spaces():
    ideographs = [chr(0x4E00 + index) for index in range(1200)]  # all different, so overlaps are unambiguous
    text = "".join(char + ("。" if index % 15 == 14 else "") for index, char in enumerate(ideographs)) + "结束"
    chunker = Chunker(max_tokens=64, overlap_tokens=8)
    chunks = chunker.chunk([PageText(1, text)])
    check_invariants(chunker, chunks)
    assert len(chunks) > 10
    assert chunks[-1].text.endswith("结束")
    # Text without spaces overlaps by characters: each chunk starts with the end of the one before.
    for previous, current in zip(chunks, chunks[1:], strict=False):
        shared = max(n for n in range(1, 40) if previous.text.endswith(current.text[:n]))
        assert shared >= 3 and estimate_tokens(current.text[:shared]) - 2 <= 8


# --- overlap ---------------------------------------------------------------------------


def test_consecutive_chunks_overlap_by_whole_trailing_sentences():
    pages = document({1: [300], 2: [300]})
    one_sentence = estimate_tokens(" ".join(words_of(1, 0, 8))) - 2
    budget = 2 * one_sentence + 4  # room for two of the eight-word sentences, not three
    chunker = Chunker(max_tokens=160, overlap_tokens=budget)
    chunks = chunker.chunk(pages)
    check_invariants(chunker, chunks)
    for previous, current in zip(chunks, chunks[1:], strict=False):
        before, after = chunk_words(previous), chunk_words(current)
        shared = max(n for n in range(len(after) + 1) if n <= len(before) and before[len(before) - n :] == after[:n])
        assert shared >= 8, "at least one whole sentence of overlap"
        overlap_text = " ".join(current.text.split()[:shared])
        assert estimate_tokens(overlap_text) - 2 <= budget
        # It starts where a sentence starts: right after a full stop in the previous chunk.
        assert previous.text.split()[len(before) - shared - 1].endswith(".")
        assert overlap_text.endswith(".")
    # The overlap carries its page: a chunk starting with page 1's tail spans pages 1-2.
    first_on_two = next(chunk for chunk in chunks if "p2q0x0" in chunk_words(chunk))
    assert first_on_two.page_start == 1 and first_on_two.page_end == 2


def test_no_overlap_when_the_last_sentence_is_longer_than_the_budget():
    long_sentence = " ".join(words_of(1, 0, 60)) + "."
    pages = [PageText(1, " ".join([long_sentence] * 6))]
    chunks = Chunker(max_tokens=200, overlap_tokens=8).chunk(pages)
    assert len(chunks) > 1
    assert [word for chunk in chunks for word in chunk_words(chunk)] == all_words(pages)


def test_no_overlap_when_disabled():
    pages = document({1: [300, 300]})
    chunks = Chunker(max_tokens=100, overlap_tokens=0).chunk(pages)
    words = [word for chunk in chunks for word in chunk_words(chunk)]
    assert words == all_words(pages)


# --- streaming and determinism ---------------------------------------------------------


def test_feed_and_finish_equal_chunk_and_stream_as_pages_arrive():
    pages = document({number: [40, 70, 15, 120] for number in range(1, 21)})
    chunker = Chunker(max_tokens=200, overlap_tokens=32)
    whole = chunker.chunk(pages)
    streamed: list[TextChunk] = []
    emitted_early = 0
    for page in pages:
        new = chunker.feed(page)
        emitted_early += len(new)
        streamed.extend(new)
    streamed.extend(chunker.finish())
    assert streamed == whole
    assert emitted_early >= len(whole) - 2  # chunks come out while pages still arrive
    # finish() resets: the next document starts again at index 0 and gives the same chunks.
    assert chunker.chunk(pages) == whole
    assert [c for page in pages for c in chunker.feed(page)] + chunker.finish() == whole


def test_deterministic_across_instances_and_batching():
    pages = document({1: [33, 250, 7], 2: [500], 3: [64, 64, 64]})
    first = Chunker(max_tokens=96, overlap_tokens=20).chunk(pages)
    second = Chunker(max_tokens=96, overlap_tokens=20).chunk(list(pages))
    assert first == second
    streams = [Chunker(max_tokens=96, overlap_tokens=20).stream() for _ in range(2)]
    interleaved: list[list[TextChunk]] = [[], []]
    for page in pages:  # two documents chunked side by side do not disturb each other
        for index, stream in enumerate(streams):
            interleaved[index].extend(stream.feed(page))
    for index, stream in enumerate(streams):
        interleaved[index].extend(stream.finish())
    assert interleaved == [first, first]


# --- token counting --------------------------------------------------------------------


def test_settings_are_checked():
    with pytest.raises(ValueError):
        Chunker(max_tokens=32, overlap_tokens=32)
    with pytest.raises(ValueError):
        Chunker(max_tokens=64, overlap_tokens=-1)


def test_default_estimate_counts_special_tokens_and_scripts():
    assert estimate_tokens("") == 2
    assert estimate_tokens("the") == 3
    assert estimate_tokens("삼성") == 2 + 6  # Hangul decomposes into jamo
    assert estimate_tokens("机器学习") == 2 + 4
    assert estimate_tokens("a, b.") == 2 + 4
    assert estimate_tokens("xkcd") == 2 + 4  # no vowel: a token per letter


def test_a_custom_counter_that_does_not_add_up_still_bounds_chunks():
    # Characters as "tokens": the joiners between pieces count too, so piece costs
    # do not add up to the chunk's count and the final check must catch it.
    pages = document({1: [60, 60, 60], 2: [200]})
    chunker = Chunker(max_tokens=150, overlap_tokens=20, count_tokens=len)
    chunks = chunker.chunk(pages)
    check_invariants(chunker, chunks)
    assert all(len(chunk.text) <= 150 for chunk in chunks)
    assert set(all_words(pages)) <= {word for chunk in chunks for word in chunk_words(chunk)}


def write_wordpiece_tokenizer(path: Path) -> Path:
    """A small BERT-style tokenizer.json whose vocabulary knows only letters, digits and a few words,
    saved with padding and truncation switched on as exported model files often are."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    vocab_list = specials + list(alphabet) + [f"##{c}" for c in alphabet] + list(".,;:!?-") + ["the", "page", "##s"]
    vocab = {token: index for index, token in enumerate(vocab_list)}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
    )
    tokenizer.enable_truncation(max_length=16)
    tokenizer.enable_padding(length=16)
    tokenizer.save(str(path))
    return path


def test_from_tokenizer_file_counts_with_the_real_tokenizer(tmp_path: Path):
    path = write_wordpiece_tokenizer(tmp_path / "tokenizer.json")
    chunker = Chunker.from_tokenizer_file(path, max_tokens=64, overlap_tokens=8)
    assert chunker.count_tokens("") == 2
    assert chunker.count_tokens("the pages") == 2 + 1 + 2  # "the", "page" "##s"
    assert chunker.count_tokens("xyz " * 50) == 2 + 150  # no truncation to 16, no padding
    pages = document({1: [120, 40], 2: [300]})
    chunks = chunker.chunk(pages)
    check_invariants(chunker, chunks)
    reference = Tokenizer.from_file(str(path))
    reference.no_padding()
    reference.no_truncation()
    for chunk in chunks:
        assert len(reference.encode(chunk.text).ids) == chunk.token_estimate <= 64
    assert without_overlap(chunks) == all_words(pages)


SAMPLES = {
    "english": "The quick brown fox jumps over the lazy dog. It is a well-known sentence used for testing keyboards.",
    "german": "Sei X ein topologischer Raum und A eine Teilmenge. Dann gilt: A ist genau dann abgeschlossen, "
    "wenn das Komplement offen ist. Zusammenhangskomponenten sind abgeschlossen.",
    "french": "L'analyse en ligne (OLAP) permet d'interroger rapidement des données multidimensionnelles.",
    "latin": "Lorem ipsum dolor sit amet, consectetuer adipiscing elit. Ut purus elit, vestibulum ut, placerat ac.",
    "numbers": "Invoice 2024-11-23 #123456789: total 98,765.4321 EUR; IBAN DE89370400440532013000.",
    "code": "def extract_page_range(path: str, password: str | None) -> list[PageText]: return [x for x in xs]",
    "url": "See https://github.com/py-pdf/sample-files/blob/main/GeoTopo-komprimiert.pdf?raw=true#page=17",
    "hex": "sha256 8391d2b65ec5549ae07748dc9770a7907582650f30884cf0efba6ca35742f26d",
    "korean": "삼성카드의 포인트는 빅포인트, 보너스포인트, 서비스포인트로 구분되며, 적립된 포인트는 합산하여 사용 가능",
    "chinese": "今天天气很好，我们去公园散步吧。机器学习是人工智能的一个分支。",
    "japanese": "これは日本語のテキストです。カタカナとひらがなを含みます。",
    "arabic": "مرحبا بالعالم، هذا نص عربي للاختبار مع بعض الكلمات الطويلة",
    "russian": "Съешь же ещё этих мягких французских булок, да выпей чаю",
    "greek": "Η γρήγορη καφέ αλεπού πηδάει πάνω από το τεμπέλικο σκυλί",
    "maths": "∀ε>0 ∃δ>0: |x−x₀|<δ ⇒ |f(x)−f(x₀)|<ε, σ(z)=(az+b)/(cz+d), ∫₀¹ x² dx = ⅓",
    "acronyms": "NATO UNESCO HTTP API JSON XML PDF OCR GPU CPU RAM SSD xn DV Fj",
}


@pytest.mark.parametrize("name", SAMPLES)
def test_default_estimate_is_conservative_for_minilm(minilm: Tokenizer, name: str):
    text = SAMPLES[name]
    assert estimate_tokens(text) >= len(minilm.encode(text).ids)


# --- corpus --------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name",
    [
        "GeoTopo-komprimiert.pdf",
        "multicolumn.pdf",
        "unstructured/fr_olap.pdf",
        "unstructured/korean-text-with-tables.pdf",
    ],
)
def test_corpus_chunks_fit_the_model(corpus: Path, name: str, minilm: Tokenizer):
    path = corpus / name
    import pymupdf

    with pymupdf.open(path) as doc:
        page_count = doc.page_count
    pages = extract_page_range(str(path), None, 0, page_count)
    chunker = Chunker()  # the default heuristic, no tokenizer
    chunks = chunker.chunk(pages)
    check_invariants(chunker, chunks)
    # The heuristic never lets a chunk exceed what all-MiniLM-L6-v2 accepts.
    assert max(len(minilm.encode(chunk.text).ids) for chunk in chunks) <= 256
    # Every word of the document is in some chunk.
    chunk_words_all = {word for chunk in chunks for word in chunk.text.split()}
    assert {word for page in pages for word in page.text.split()} <= chunk_words_all
    assert chunks == chunker.chunk(pages)  # deterministic
    exact = Chunker.from_tokenizer_file(MINILM_TOKENIZER).chunk(pages)
    assert all(chunk.token_estimate <= 256 for chunk in exact)
    assert len(exact) <= len(chunks)


def test_a_table_with_a_long_caption_and_a_row_longer_than_a_chunk_stays_within_the_limit():
    """Seen on a Korean leaflet once its cells were read whole: caption + header + one row > 256 tokens."""
    from mivaa_extractor.extraction.structure.model import Block, BlockKind, Table, TableCell

    caption = " ".join(f"caption word {n} about the reward programme" for n in range(30))
    long_row = " ".join(f"benefit {n} applies at partner stores" for n in range(60))
    cells = [TableCell(0, 0, "Category", header=True), TableCell(0, 1, "Reward", header=True)]
    cells += [TableCell(1, 0, "Coffee"), TableCell(1, 1, "2% points")]
    cells += [TableCell(2, 0, "Fuel"), TableCell(2, 1, long_row)]
    table = Table(row_count=3, column_count=2, cells=tuple(cells), header_rows=1)
    page = PageLayout(
        number=1,
        blocks=[
            Block(BlockKind.CAPTION, (0, 0, 100, 10), caption),
            Block(BlockKind.TABLE, (0, 20, 100, 200), "", table=table),
        ],
    )
    chunker = Chunker()
    chunks = chunker.chunk([page])
    check_invariants(chunker, chunks)
    joined = " ".join(chunk.text for chunk in chunks)
    for word in ("caption word 29", "Coffee", "2% points", "benefit 59 applies", "Fuel"):
        assert word in joined
