"""PDFs the extraction benches run on: a realistic generated 1,000-page PDF, and the 117-page fallback."""

from __future__ import annotations

import pathlib
import tempfile
import time

import pymupdf

from bench.ground_truth.types import REPO_ROOT

CACHE_DIR = REPO_ROOT / ".cache" / "bench"
LARGE_PDF_PAGES = 1000
MIB = 1 << 20


def _photo(page: int, width: int = 360, height: int = 220) -> bytes:
    """A photo-like JPEG unique to `page`: smooth gradients, waves and some noise (compresses like a photo)."""
    import numpy as np

    rng = np.random.default_rng(page)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = page * 0.37
    red = 128 + 90 * np.sin(x / (23 + page % 17) + phase) * np.cos(y / 31)
    green = 110 + 80 * np.cos((x + y) / (41 + page % 13) - phase)
    blue = 140 + 70 * np.sin(y / (19 + page % 11) + 2 * phase)
    image = np.stack([red, green, blue], axis=-1) + rng.normal(0, 9, (height, width, 3))
    samples = np.clip(image, 0, 255).astype(np.uint8).tobytes()
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, width, height, samples, False)
    return pixmap.tobytes("jpg", jpg_quality=70)


def make_large_pdf(path: pathlib.Path, pages: int = LARGE_PDF_PAGES) -> pathlib.Path:
    """Per page: a heading, four paragraphs, a ruled 6x4 table, a unique photo and a shared logo."""
    from bench.ground_truth.prose import Prose  # the same deterministic prose as the quality documents

    prose = Prose(seed=1000)
    doc = pymupdf.open()
    logo = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 64, 64), False)
    logo.set_rect(logo.irect, (30, 90, 160))
    logo_png, logo_xref = logo.tobytes("png"), 0
    for number in range(1, pages + 1):
        page = doc.new_page(width=595, height=842)
        page.insert_text((64, 44), "Mivaa Bench Large Document", fontname="helv", fontsize=8, color=(0.4, 0.4, 0.4))
        logo_xref = page.insert_image(
            pymupdf.Rect(507, 30, 531, 54), stream=logo_png if not logo_xref else None, xref=logo_xref
        )  # one image object shared by every page
        page.insert_text((64, 86), f"Chapter {number}: Field Notes", fontname="hebo", fontsize=16)
        text = "\n\n".join(prose.paragraph(4) for _ in range(2))
        page.insert_textbox(pymupdf.Rect(64, 100, 531, 300), text, fontname="helv", fontsize=10)
        page.insert_image(pymupdf.Rect(64, 310, 304, 457), stream=_photo(number))
        page.insert_textbox(pymupdf.Rect(316, 310, 531, 460), prose.paragraph(4), fontname="helv", fontsize=9)
        left, top, widths, row_height = 64.0, 480.0, (140.0, 110.0, 110.0, 107.0), 18.0
        for r in range(6):
            x = left
            for c, width in enumerate(widths):
                cell = (
                    ("Station", "Rain (mm)", "Wind (m/s)", "Observer")[c]
                    if r == 0
                    else (
                        f"Site {number}-{r}",
                        f"{(number * 7 + r * 13) % 300 / 2:.1f}",
                        f"{(number + r * 3) % 40}.{r}",
                        f"Observer {chr(65 + (number + r) % 26)}",
                    )[c]
                )
                page.insert_text(
                    (x + 4, top + r * row_height + 13), cell, fontname="hebo" if r == 0 else "helv", fontsize=9
                )
                x += width
        for r in range(7):
            page.draw_line((left, top + r * row_height), (left + sum(widths), top + r * row_height), width=0.5)
        x = left
        for width in (0.0, *widths):
            x += width
            page.draw_line((x, top), (x, top + 6 * row_height), width=0.5)
        page.insert_textbox(
            pymupdf.Rect(64, 600, 531, 790),
            "\n\n".join(prose.paragraph(3) for _ in range(2)),
            fontname="helv",
            fontsize=10,
        )
        page.insert_text((290, 815), str(number), fontname="helv", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    doc.save(partial, garbage=3, deflate=True)
    doc.close()
    partial.rename(path)
    return path


def large_pdf() -> pathlib.Path:
    path = CACHE_DIR / f"generated-{LARGE_PDF_PAGES}p-v1.pdf"
    if not path.exists():
        started = time.perf_counter()
        make_large_pdf(path)
        seconds = time.perf_counter() - started
        print(f"  (generated {path.name}: {path.stat().st_size / MIB:.1f} MiB in {seconds:.1f} s, cached)")
    return path


def pdf_or_generated(pdf: pathlib.Path) -> pathlib.Path:
    """`pdf`, or a generated 117-page PDF (the size of the corpus's GeoTopo) when it is absent."""
    if pdf.exists():
        return pdf
    from tests.support.pdfs import make_pdf

    generated = pathlib.Path(tempfile.mkdtemp()) / "generated-117p.pdf"
    generated.write_bytes(make_pdf("bench", 117, filler_sentences=24))
    print(f"{pdf} not found; using a generated 117-page PDF")
    return generated


MIXED_MAX_PAGES = 150  # the 400- and 619-page manuals are long-document runs of their own
MIXED_GENERATED = 40


def mixed_documents(corpus: pathlib.Path) -> list[tuple[str, bytes]]:
    """What a day of uploads looks like: every corpus PDF that opens without a password, up to
    MIXED_MAX_PAGES pages (one to 117 pages: letters, forms, scans, papers, a thesis), or, without
    the corpus, generated documents of 1 to 12 pages."""
    if not corpus.is_dir():
        from tests.support.pdfs import make_pdf

        return [(f"mixed-{i}.pdf", make_pdf(f"mixed{i}", 1 + i % 12)) for i in range(MIXED_GENERATED)]
    documents = []
    for path in sorted(corpus.rglob("*.pdf")):
        data = path.read_bytes()
        try:
            with pymupdf.open(stream=data, filetype="pdf") as document:
                if document.needs_pass or not 1 <= document.page_count <= MIXED_MAX_PAGES:
                    continue
        except Exception:  # noqa: BLE001 - a file PyMuPDF cannot open is not part of the mix
            continue
        documents.append((str(path.relative_to(corpus)), data))
    return documents
