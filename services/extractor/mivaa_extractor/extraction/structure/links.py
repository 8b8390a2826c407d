"""The links of a page: web links and links into the document, with the words they cover."""

from __future__ import annotations

from collections.abc import Iterator

import pymupdf

from mivaa_extractor.extraction.structure.model import BBox, Link
from mivaa_extractor.extraction.structure.pymupdf_backend import PageSource


def page_links(source: PageSource) -> list[tuple[BBox, Link]]:
    """Links with the words inside their area; rectangles in the unrotated space the text lines use.

    The linked words are cut out of the spans the link covers, in proportion to
    the covered width, then widened to whole words: asking MuPDF for the text
    inside each link's rectangle costs more than the rest of the page.
    """
    page = source.page
    raw = list(_link_targets(page))
    if not raw:
        return []
    # Lines first, then their spans: a page of cross-references has hundreds of links.
    lines = [
        line
        for block in source.text_dict["blocks"]
        if block["type"] == 0
        for line in block["lines"]
        if line["dir"][0] > 0.99
    ]
    derotate = ~page.rotation_matrix if page.rotation else None
    found: list[tuple[BBox, Link]] = []
    for rect, uri, target in raw:
        if derotate is not None:
            rect = rect * derotate
            rect.normalize()
        area: BBox = (rect.x0, rect.y0, rect.x1, rect.y1)
        words = [
            _covered_words(span, rect)
            for line in lines
            if intersects(line["bbox"], area)
            for span in line["spans"]
            if intersects(span["bbox"], area)
        ]
        found.append((area, Link(text=" ".join(w for w in words if w), uri=uri, page=target)))
    return found


def _link_targets(page: pymupdf.Page) -> Iterator[tuple[pymupdf.Rect, str, int]]:
    """(area, URI, 1-based page) of the page's web links and links into the document.

    Walks MuPDF's link chain and resolves only internal targets: `page.get_links()`
    builds a full destination object for every link, which on a thesis with
    hundreds of cross-references costs more than reading the page's text.
    Links to other files (`file:`) are left out.
    """
    link = page.first_link
    while link:
        uri = link.uri or ""
        if uri.startswith("#"):
            target = page.parent.resolve_link(uri)[0] + 1
            if target > 0:
                yield pymupdf.Rect(link.rect), "", target
        elif link.is_external and not uri.startswith("file:"):
            yield pymupdf.Rect(link.rect), uri, 0
        link = link.next


def _covered_words(span: dict, rect: pymupdf.Rect) -> str:
    x0, y0, x1, y1 = span["bbox"]
    cy = (y0 + y1) / 2
    if not rect.y0 <= cy <= rect.y1 or x1 <= x0:
        return ""
    text = span["text"]
    start = int(len(text) * max(0.0, (rect.x0 - x0) / (x1 - x0)) + 0.5)
    end = int(len(text) * min(1.0, (rect.x1 - x0) / (x1 - x0)) + 0.5)
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return " ".join(text[start:end].split())


def intersects(a: BBox, b: BBox) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
