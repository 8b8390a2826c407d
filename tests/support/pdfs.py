"""PDFs generated in code with known ground truth, so every feature is proven without ../shared."""

from __future__ import annotations

import pymupdf

WORDS = (
    "river mountain signal harvest lantern copper meadow orbit canyon willow ember glacier "
    "harbor thunder velvet compass prairie falcon marble summit quartz tundra beacon cedar"
).split()


def page_phrase(tag: str, page: int) -> str:
    """A sentence that exists on exactly one page of one generated document."""
    a, b, c = WORDS[(page * 7) % len(WORDS)], WORDS[(page * 11 + 3) % len(WORDS)], WORDS[(page * 13 + 5) % len(WORDS)]
    return f"The {tag} archive records that the {a} {b} guild met beside the {c} on day {page}."


def filler(page: int, sentences: int = 12) -> str:
    parts = []
    for i in range(sentences):
        w = [WORDS[(page * 31 + i * 5 + k) % len(WORDS)] for k in range(8)]
        parts.append(f"Section {page}.{i} notes {' '.join(w)} for later review.")
    return " ".join(parts)


def make_pdf(tag: str, pages: int, *, filler_sentences: int = 6, password: str | None = None) -> bytes:
    """`pages` pages; page N holds page_phrase(tag, N) followed by filler text."""
    document = pymupdf.open()
    document.set_metadata({"title": f"Generated {tag} document"})
    for number in range(1, pages + 1):
        page = document.new_page(width=595, height=842)
        text = page_phrase(tag, number) + "\n\n" + filler(number, filler_sentences)
        page.insert_textbox(pymupdf.Rect(60, 60, 535, 800), text, fontsize=10, fontname="helv")
    if password:
        data = document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=password, owner_pw=password + "-owner")
    else:
        data = document.tobytes()
    document.close()
    return data
