"""Seeds for PDF mutation fuzzing (see tests/support/pdf_mutations.py).

`generated_seeds()`: small PDFs made here with PyMuPDF: text, an image, a
table drawn with rules, an outline, links, all of them together (saved plain,
compressed with object and xref streams, encrypted, and with an incremental
update so there are two xref sections). `corpus_seeds(dir)`: a handful of
small corpus files (< 300 KB), with the passwords the corpus READMEs give.
"""

from __future__ import annotations

import os
import pathlib
import tempfile
from dataclasses import dataclass, field

import pymupdf

# ---- seeds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes = field(repr=False)
    password: str | None = None
    # Whether its unmutated form has a text layer (its body text must not be empty).
    has_text: bool = True

    def __repr__(self) -> str:  # hypothesis prints seeds in falsifying examples: no bytes
        return f"Seed({self.name!r})"


SEED_PASSWORD = "fuzz-pw"
KNOWN_GOOD_PHRASE = "The known good document says hello"

CORPUS_PASSWORDS = {"libreoffice-writer-password.pdf": "openpassword", "password.pdf": "password"}
# Small corpus files with varied producers and features; the first of them that exist are used.
PREFERRED_CORPUS_SEEDS = (
    "minimal-document.pdf",
    "libre-office-link.pdf",
    "pdflatex-outline.pdf",
    "inline-image.pdf",
    "imagemagick-CCITTFaxDecode.pdf",
    "habibi.pdf",
    "annotated_pdf.pdf",
    "libreoffice-writer-password.pdf",
    "unstructured/rotated-page-90.pdf",
    "unstructured/korean-text-with-tables.pdf",
)
CORPUS_SEED_MAX_BYTES = 300_000
# Corpus files without a text layer (scans, bare images): their body text is empty, by design.
CORPUS_WITHOUT_TEXT = frozenset(
    {
        "cmyk-image.pdf",
        "grayscale-image.pdf",
        "imagemagick-ASCII85Decode.pdf",
        "imagemagick-CCITTFaxDecode.pdf",
        "imagemagick-images.pdf",
        "imagemagick-lzw.pdf",
        "unstructured/loremipsum-flat.pdf",
        "unstructured/single_table.pdf",
        "unstructured/table-multi-row-column-cells.pdf",
    }
)


def _png(width: int = 64, height: int = 48) -> bytes:
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), False)
    pixmap.set_rect(pixmap.irect, (200, 40, 40))
    pixmap.set_rect(pymupdf.IRect(width // 2, 0, width, height), (40, 60, 200))
    return pixmap.tobytes("png")


def _add_text_page(doc: pymupdf.Document, title: str, body: str) -> pymupdf.Page:
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 80), title, fontsize=18, fontname="hebo")
    page.insert_textbox(pymupdf.Rect(72, 100, 523, 300), body, fontsize=10, fontname="helv")
    return page


def _add_image(page: pymupdf.Page) -> None:
    page.insert_image(pymupdf.Rect(72, 320, 312, 500), stream=_png(160, 120))
    page.insert_text((72, 520), "Figure 1: A red and blue square", fontsize=9, fontname="helv")


def _add_table(page: pymupdf.Page, top: float = 560) -> None:
    rows = [["Station", "Range", "Height"], ["North", "42", "71"], ["South", "19", "22"], ["West", "7", "3"]]
    left, width, height = 72.0, 120.0, 20.0
    for r in range(len(rows) + 1):
        page.draw_line((left, top + r * height), (left + width * 3, top + r * height), width=0.8)
    for c in range(4):
        page.draw_line((left + c * width, top), (left + c * width, top + len(rows) * height), width=0.8)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            page.insert_text((left + c * width + 4, top + r * height + 14), text, fontsize=9, fontname="helv")


def _add_links(doc: pymupdf.Document) -> None:
    page = doc[0]  # a Page object made before later new_page() calls may be detached: load it again
    page.insert_text((72, 720), "Visit https://example.org/fuzz for more.", fontsize=10, fontname="helv")
    page.insert_link(
        {"kind": pymupdf.LINK_URI, "from": pymupdf.Rect(100, 708, 260, 724), "uri": "https://example.org/fuzz"}
    )
    if doc.page_count > 1:
        page.insert_text((72, 745), "See the last page.", fontsize=10, fontname="helv")
        page.insert_link(
            {"kind": pymupdf.LINK_GOTO, "from": pymupdf.Rect(72, 733, 200, 749), "page": doc.page_count - 1}
        )


BODY = (
    "This generated document exists to be broken on purpose. Each sentence carries ordinary words "
    "so that text extraction has something to find: rivers, lanterns, copper kettles and harbours."
)


def _document(kind: str) -> pymupdf.Document:
    doc = pymupdf.open()
    doc.set_metadata({"title": f"Fuzz seed {kind}", "author": "mivaa tests"})
    if kind == "text":
        _add_text_page(doc, "Plain text", BODY)
        _add_text_page(doc, "Second page", BODY[::-1])
    elif kind == "image":
        _add_image(_add_text_page(doc, "An image", BODY))
    elif kind == "table":
        _add_table(_add_text_page(doc, "A table", BODY), top=320)
    elif kind == "outline":
        for number in range(1, 4):
            _add_text_page(doc, f"Chapter {number}", BODY)
        doc.set_toc([[1, "Chapter 1", 1], [2, "Section 1.1", 1], [1, "Chapter 2", 2], [1, "Chapter 3", 3]])
    elif kind == "link":
        _add_text_page(doc, "Links", BODY)
        _add_text_page(doc, "Target", BODY)
        _add_links(doc)
    elif kind == "all":
        first = _add_text_page(doc, "Everything", BODY)
        _add_image(first)
        _add_table(first)
        _add_text_page(doc, "Second", BODY)
        _add_text_page(doc, "Third", BODY)
        _add_links(doc)
        doc.set_toc([[1, "Everything", 1], [1, "Second", 2], [2, "Third", 3]])
    else:
        raise ValueError(kind)
    return doc


def generated_seeds() -> list[Seed]:
    """Small PDFs made with PyMuPDF, in several serialisations (see the module docstring)."""
    seeds = []
    for kind in ("text", "image", "table", "outline", "link"):
        doc = _document(kind)
        seeds.append(Seed(f"gen-{kind}", doc.tobytes()))
        doc.close()
    doc = _document("all")
    seeds.append(Seed("gen-all-plain", doc.tobytes(garbage=1, deflate=False)))
    seeds.append(Seed("gen-all-objstm", doc.tobytes(garbage=3, deflate=True, use_objstms=1)))
    seeds.append(
        Seed(
            "gen-all-encrypted",
            doc.tobytes(
                encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=SEED_PASSWORD, owner_pw=SEED_PASSWORD + "-owner"
            ),
            password=SEED_PASSWORD,
        )
    )
    doc.close()
    seeds.append(Seed("gen-incremental", _incremental_update()))
    return seeds


def _incremental_update() -> bytes:
    """A document saved, then changed and saved incrementally: two xref sections linked by /Prev."""
    with tempfile.TemporaryDirectory(prefix="mivaa-fuzz-seed-") as folder:
        path = os.path.join(folder, "incremental.pdf")
        doc = _document("text")
        doc.save(path)
        doc.close()
        doc = pymupdf.open(path)
        _add_table(doc[0], top=400)
        doc.set_metadata({"title": "Fuzz seed incremental, updated"})
        doc.save(path, incremental=True, encryption=pymupdf.PDF_ENCRYPT_KEEP)
        doc.close()
        return pathlib.Path(path).read_bytes()


def corpus_seeds(corpus_dir: pathlib.Path | None, limit: int = 8, max_bytes: int = CORPUS_SEED_MAX_BYTES) -> list[Seed]:
    """Up to `limit` small corpus files (PREFERRED_CORPUS_SEEDS first); [] without a corpus."""
    if corpus_dir is None or not pathlib.Path(corpus_dir).is_dir():
        return []
    corpus_dir = pathlib.Path(corpus_dir)
    candidates = [corpus_dir / name for name in PREFERRED_CORPUS_SEEDS]
    candidates += sorted(corpus_dir.rglob("*.pdf"), key=lambda p: (p.stat().st_size, str(p)))
    seeds: list[Seed] = []
    seen: set[pathlib.Path] = set()
    for path in candidates:
        if len(seeds) >= limit:
            break
        if path in seen or not path.is_file() or path.stat().st_size >= max_bytes:
            continue
        seen.add(path)
        relative = path.relative_to(corpus_dir).as_posix()
        seeds.append(
            Seed(
                "corpus:" + relative,
                path.read_bytes(),
                password=CORPUS_PASSWORDS.get(path.name),
                has_text=relative not in CORPUS_WITHOUT_TEXT,
            )
        )
    return seeds


def known_good_pdf() -> bytes:
    """Two pages of plain text: what a healthy extractor must always extract."""
    doc = pymupdf.open()
    for number in (1, 2):
        page = doc.new_page()
        page.insert_text((72, 120), f"{KNOWN_GOOD_PHRASE} from page {number}.", fontsize=11)
    data = doc.tobytes()
    doc.close()
    return data
