"""A structured PDF built in code, with its ground truth: headings, lists, a table, a figure, furniture, two columns."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pymupdf

TITLE = "Annual Lighthouse Survey"
HEADINGS = [(1, TITLE), (2, "1 Introduction"), (2, "2 Measurements"), (2, "3 Coastal Notes")]
HEADER = "Lighthouse Survey 2026 - internal"
LIST_ITEMS = ["Beacon lamps were replaced.", "Fog horns were tested.", "Stairs were repainted."]
TABLE = [
    ["Station", "Range (km)", "Height (m)"],
    ["North Cape", "42", "71"],
    ["Gull Rock", "28", "35"],
    ["South Spit", "19", "22"],
]
FIGURE_CAPTION = "Figure 1: Beacon colours at dusk"
TABLE_CAPTION = "Table 1: Beam range by station"
LEFT_COLUMN = (
    "The western column starts the coastal notes. Keepers observed seabirds nesting on the upper gallery "
    "and recorded their numbers every morning. The column goes on with tides, winds and the state of the "
    "landing stage after the winter storms, which damaged two railings."
)
RIGHT_COLUMN = (
    "The eastern column follows after the western one. It lists the supplies ordered for the next season: "
    "paraffin, glass for the lantern room, rope and paint. Deliveries arrive by boat when the sea allows."
)
LINK_URI = "https://example.org/lighthouses"


@dataclass
class StructuredPdf:
    data: bytes
    image_png: bytes
    headings: list[tuple[int, str]] = field(default_factory=lambda: list(HEADINGS))
    pages: int = 3


def figure_png(width: int = 240, height: int = 140) -> bytes:
    """Left half red, right half blue: easy to check after any re-encoding."""
    from PIL import Image

    image = Image.new("RGB", (width, height), (220, 30, 30))
    image.paste((30, 60, 220), (width // 2, 0, width, height))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _furniture(page: pymupdf.Page, number: int, total: int) -> None:
    page.insert_text((72, 36), HEADER, fontsize=8, fontname="helv")
    page.insert_text((280, page.rect.height - 30), f"Page {number} of {total}", fontsize=8, fontname="helv")


def make_structured_pdf() -> StructuredPdf:
    doc = pymupdf.open()
    png = figure_png()
    total = 3

    # Page 1: title, a section, a hyphenated paragraph, a list and a figure with its caption.
    page = doc.new_page()
    _furniture(page, 1, total)
    page.insert_text((72, 90), TITLE, fontsize=24, fontname="hebo")
    page.insert_text((72, 130), HEADINGS[1][1], fontsize=16, fontname="hebo")
    y = 160
    for line in (
        "The survey covers every station of the northern coast and the",
        "state of their lamps, horns and stairs after a long and stormy main-",
        "tenance season that kept the keepers busy.",
    ):
        page.insert_text((72, y), line, fontsize=11, fontname="helv")
        y += 14
    y += 12
    for item in LIST_ITEMS:
        page.insert_text((84, y), "\u2022 " + item, fontsize=11, fontname="helv")
        y += 16
    figure = pymupdf.Rect(72, y + 20, 312, y + 160)
    page.insert_image(figure, stream=png)
    page.insert_text((72, figure.y1 + 16), FIGURE_CAPTION, fontsize=10, fontname="helv")

    # Page 2: a section with a ruled table and its caption.
    page = doc.new_page()
    _furniture(page, 2, total)
    page.insert_text((72, 90), HEADINGS[2][1], fontsize=16, fontname="hebo")
    page.insert_text(
        (72, 120), "Beam ranges were measured on clear nights from the supply boat.", fontsize=11, fontname="helv"
    )
    page.insert_text((72, 150), TABLE_CAPTION, fontsize=10, fontname="helv")
    top, row_height, widths = 160, 22, [160, 110, 110]
    left = 72
    for r, row in enumerate(TABLE):
        x = left
        for c, cell in enumerate(row):
            rect = pymupdf.Rect(x, top + r * row_height, x + widths[c], top + (r + 1) * row_height)
            page.draw_rect(rect, color=(0, 0, 0), width=0.7)
            page.insert_text((rect.x0 + 4, rect.y1 - 7), cell, fontsize=10, fontname="hebo" if r == 0 else "helv")
            x += widths[c]
    page.insert_text(
        (72, top + len(TABLE) * row_height + 30), "All stations met the required range.", fontsize=11, fontname="helv"
    )

    # Page 3: a full-width heading over two columns, and a link.
    page = doc.new_page()
    _furniture(page, 3, total)
    page.insert_text((72, 90), HEADINGS[3][1], fontsize=16, fontname="hebo")
    page.insert_textbox(pymupdf.Rect(72, 110, 290, 400), LEFT_COLUMN, fontsize=11, fontname="helv")
    page.insert_textbox(pymupdf.Rect(322, 110, 540, 400), RIGHT_COLUMN, fontsize=11, fontname="helv")
    link_text = "Read the station register online."
    page.insert_text((72, 440), link_text, fontsize=11, fontname="helv")
    page.insert_link({"kind": pymupdf.LINK_URI, "from": pymupdf.Rect(70, 428, 260, 444), "uri": LINK_URI})

    doc.set_toc([[1, TITLE, 1], [2, HEADINGS[1][1], 1], [2, HEADINGS[2][1], 2], [2, HEADINGS[3][1], 3]])
    doc.set_metadata({"title": TITLE, "author": "Ada Keeper; Ben Lamp", "creationDate": "D:20260102150405+01'00'"})
    data = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return StructuredPdf(data=data, image_png=png)
