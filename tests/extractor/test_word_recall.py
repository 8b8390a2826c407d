"""No word left behind: every word of PyMuPDF's raw text reaches our Markdown.

The measure is the quality bench's own (bench/quality_words.py): page by page,
words compared as multisets after NFKC, case folding and hyphenation joins;
running headers, footers and page numbers removed on purpose are explained,
not lost. First pages generated here with what used to lose words or could
(a text-only table of Korean cells, a control character before a list item,
a glyph without Unicode beside a word, right-to-left and mixed-direction
lines, a right-to-left page with wrapped paragraphs and one in two columns),
then the corpus.
"""

from __future__ import annotations

import pathlib
import unicodedata

import pymupdf
import pytest

from bench.quality_words import CORPUS_PASSWORDS, word_recall, words
from mivaa_extractor.extraction.structure.document import extract_document
from mivaa_extractor.extraction.structure.page_analysis import ocr_reason
from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource

# A text-only table (no rules, no numeric-only column) with Korean cells, as in the
# corpus's korean-text-with-tables.pdf.
KOREAN_TABLE = (
    ("업종", "적립 대상", "조건"),
    ("할인점", "이마트, 롯데마트", "전월 이용금액 40만원 이상"),
    ("주유", "모든 주유소", "발급월 1개월까지는 제공"),
    ("커피전문점", "스타벅스, 커피빈", "오프라인 결제건"),
)
# "\x07" before a list item (Word leaves it; the font maps it to no glyph): it used to
# take the whole span, and with it the item's words, out of the text.
CONTROL_ITEM = "* \x07전월 이용금액 40만원 미만 시에도 제공"
LATIN_CONTROL_LINE = "Benefits \x07apply from the first month of issue"
# Right-to-left and mixed lines, laid out by MuPDF's HTML engine (shaping, bidi); no Arabic lam:
# its shaped glyphs get no Unicode from that engine, in the raw text too.
RTL_HTML = (
    '<p dir="rtl">שלום עולם, זוהי שורה מימין לשמאל</p>'
    '<p dir="rtl">مرحبا حبيبي في بيت صغير</p>'
    "<p>Price מחיר 40 and again English</p>"
)
RTL_PHRASES = ("שלום עולם, זוהי שורה מימין לשמאל", "مرحبا حبيبي في بيت صغير")
# A right-to-left page: paragraphs that wrap, numbers and Latin words inside Hebrew.
RTL_PARAGRAPHS = (
    "זהו עמוד שנכתב מימין לשמאל כדי לבדוק שכל מילה נשמרת במקומה ובסדר הנכון גם כאשר השורה נשברת"
    " לשתי שורות או יותר בתוך הפסקה",
    "המחיר הוא 40 שקלים עבור Model X בשנת 2024 והמשלוח חינם",
    "مرحبا حبيبي في بيت صغير بجانب نهر كبير مع حديقة خضراء وشجرة تين",
)
# A right-to-left page in two columns: the right one is read first.
RTL_COLUMNS = (
    "העמודה הימנית נקראת ראשונה כי זהו עמוד בעברית שנכתב מימין לשמאל ויש בו שתי עמודות של טקסט רציף",
    "העמודה השמאלית נקראת שנייה ומסיימת את הטקסט של העמוד הזה בלי לאבד אף מילה אחת בדרך",
)


def _nfkc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _mixed_script_pdf(path: pathlib.Path) -> pathlib.Path:
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Card benefits", fontname="hebo", fontsize=16)
    page.insert_text((72, 96), "The table below lists where points are earned.", fontname="helv", fontsize=10)
    columns = (72.0, 170.0, 300.0)
    y = 130.0
    for row in KOREAN_TABLE:
        for x, cell in zip(columns, row, strict=True):
            page.insert_text((x, y), cell, fontname="korea", fontsize=10)
        y += 16.0
    page.insert_text((72, y + 14), CONTROL_ITEM, fontname="korea", fontsize=9)
    page.insert_text((72, y + 30), LATIN_CONTROL_LINE, fontname="helv", fontsize=10)
    page.insert_htmlbox(pymupdf.Rect(72, y + 50, 520, y + 160), RTL_HTML)
    page = doc.new_page()
    paragraphs = "".join(f'<p dir="rtl">{text}</p>' for text in RTL_PARAGRAPHS)
    page.insert_htmlbox(pymupdf.Rect(72, 72, 400, 500), f'<h1 dir="rtl">כותרת העמוד</h1>{paragraphs}')
    page = doc.new_page()
    page.insert_htmlbox(pymupdf.Rect(320, 72, 520, 400), f'<p dir="rtl">{RTL_COLUMNS[0]}</p>')
    page.insert_htmlbox(pymupdf.Rect(72, 72, 272, 400), f'<p dir="rtl">{RTL_COLUMNS[1]}</p>')
    doc.save(path)
    doc.close()
    return path


def test_generated_pages_keep_every_word(tmp_path: pathlib.Path):
    path = _mixed_script_pdf(tmp_path / "mixed-scripts.pdf")
    result = word_recall(path)
    assert result.raw > 140
    assert not result.lost, f"words lost: {result.sample('lost', 30)}"
    assert result.recall == 1.0

    markdown = _nfkc(extract_document(path).markdown())
    found = words(markdown)
    for row in KOREAN_TABLE:
        for cell in row:
            assert not words(cell) - found, f"table cell {cell!r} missing from the Markdown"
    assert "전월 이용금액 40만원 미만 시에도 제공" in markdown
    assert "apply from the first month of issue" in markdown
    # Right-to-left lines whole and in their reading (logical) order, not reversed or cut.
    for phrase in RTL_PHRASES:
        assert _nfkc(phrase) in markdown, f"{phrase!r} not whole in {markdown!r}"
    assert "Price מחיר 40 and again English" in markdown
    for paragraph in RTL_PARAGRAPHS:
        assert _nfkc(paragraph) in markdown, f"{paragraph!r} not whole in {markdown!r}"
    right, left = (markdown.find(_nfkc(column)) for column in RTL_COLUMNS)
    assert 0 <= right < left, "the right-hand column of a right-to-left page is read first, each whole"


def _line_dict(*spans: str) -> dict:
    """A page's text dict (as `get_text("dict")` gives it) with one line made of `spans`."""
    x = 72.0
    read = []
    for text in spans:
        read.append(
            {"text": text, "bbox": (x, 100.0, x + 6.0 * len(text), 112.0), "size": 10.0, "flags": 0, "font": "F"}
        )
        x += 6.0 * len(text)
    line = {"bbox": (72.0, 100.0, x, 112.0), "dir": (1.0, 0.0), "spans": read}
    return {"width": 595.0, "height": 842.0, "blocks": [{"type": 0, "bbox": line["bbox"], "lines": [line]}]}


def test_unprintable_glyphs_are_cut_and_their_neighbours_kept():
    page = pymupdf.open().new_page()
    # A ligature without Unicode inside a word, leader dots without Unicode, a control character.
    source = PageSource(page, _line_dict("e\ufffdcient ", "Contents\ufffd\ufffd\ufffd\ufffd12 ", "\x07Korean item"))
    assert [" ".join(line.text.split()) for line in source.lines] == ["ecient Contents 12 Korean item"]
    assert source.unmapped == 5
    assert ocr_reason(source, source.lines[0].text) is None  # a sound page with a few unmapped glyphs


def test_page_mostly_without_unicode_is_garbled():
    page = pymupdf.open().new_page()
    source = PageSource(page, _line_dict("\ufffd" * 40, " ok ", "\ufffd" * 40))
    assert source.unmapped == 80
    assert ocr_reason(source, " ".join(line.text for line in source.lines)) == "GARBLED_TEXT_LAYER"


# --- the corpus ---------------------------------------------------------------------------

# Where tests/conftest.py looks for the corpus; only used to list the files at collection time.
_CORPUS = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
# Files this test leaves to bench/word_recall.py: the two long manuals (1,000 pages, two thirds of
# the whole corpus's time; both at recall 1.0000 there). The rest takes about 10 s on one core.
_LEFT_TO_THE_BENCH = {
    "unstructured/DA-619p.pdf": "619 pages",
    "unstructured/pdf2image-memory-error-test-400p.pdf": "400 pages",
}
_FILES = (
    sorted(p.relative_to(_CORPUS).as_posix() for p in _CORPUS.rglob("*.pdf") if p.is_file()) if _CORPUS.is_dir() else []
)
RECALL_TARGET = 0.99


@pytest.mark.corpus
@pytest.mark.parametrize("relative", _FILES or ["<no corpus>"])
def test_corpus_file_keeps_its_words(corpus: pathlib.Path, relative: str):
    if relative in _LEFT_TO_THE_BENCH:
        pytest.skip(f"{relative} ({_LEFT_TO_THE_BENCH[relative]}) is measured by bench/word_recall.py")
    path = corpus / relative
    if not path.is_file():
        pytest.skip(f"{relative} is not in {corpus}")
    result = word_recall(path, CORPUS_PASSWORDS.get(path.name))
    assert result.recall >= RECALL_TARGET, (
        f"{relative}: word recall {result.recall:.4f} < {RECALL_TARGET}; lost: {result.sample('lost', 20)}"
    )
