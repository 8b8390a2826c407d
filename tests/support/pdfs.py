"""PDFs generated in code with known ground truth, so every feature is proven without ../shared."""

from __future__ import annotations

import pymupdf

WORDS = [
    "river",
    "mountain",
    "signal",
    "harvest",
    "lantern",
    "copper",
    "meadow",
    "orbit",
    "canyon",
    "willow",
    "ember",
    "glacier",
    "harbor",
    "thunder",
    "velvet",
    "compass",
    "prairie",
    "falcon",
    "marble",
    "summit",
    "quartz",
    "tundra",
    "beacon",
    "cedar",
]


PEOPLE = [
    "violinist",
    "beekeeper",
    "astronaut",
    "blacksmith",
    "surgeon",
    "fisherman",
    "librarian",
    "pilot",
    "gardener",
    "chemist",
    "carpenter",
    "sailor",
    "baker",
    "miner",
    "poet",
    "judge",
    "tailor",
    "potter",
    "shepherd",
    "firefighter",
    "glassblower",
    "cartographer",
    "midwife",
    "clockmaker",
    "diver",
]
ACTIVITIES = [
    "repairing a lighthouse lamp",
    "training a falcon",
    "brewing cider from wild apples",
    "mapping an ice cave",
    "restoring a stained glass window",
    "tuning a church organ",
    "sailing through a thunderstorm",
    "harvesting saffron crocus",
    "forging a copper kettle",
    "decoding a wartime telegram",
    "planting a vineyard",
    "rescuing a stranded whale",
    "carving a marble statue",
    "building a suspension bridge",
    "baking rye bread",
    "photographing a solar eclipse",
    "weaving a wool tapestry",
    "excavating a dinosaur bone",
    "calibrating a telescope mirror",
    "herding reindeer across a frozen river",
    "painting a circus poster",
    "distilling lavender oil",
    "recording birdsong at dawn",
    "steering a hot air balloon",
    "binding an old atlas",
]


def page_phrase(tag: str, page: int) -> str:
    """A sentence that exists on exactly one page of one generated document (unique for pages < 625)."""
    person = PEOPLE[page % len(PEOPLE)]
    activity = ACTIVITIES[(page // len(PEOPLE) + page * 7) % len(ACTIVITIES)]
    return f"The {tag} archive tells of a {person} {activity} on day {page}."


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


def make_scanned_pdf(tag: str, pages: int, *, text_layer_pages: tuple[int, ...] = (), dpi: int = 200) -> bytes:
    """Like make_pdf, but every page not in `text_layer_pages` is only a picture of its text (a scan)."""
    source = pymupdf.open(stream=make_pdf(tag, pages, filler_sentences=3), filetype="pdf")
    scanned = pymupdf.open()
    for number, page in enumerate(source, 1):
        if number in text_layer_pages:
            scanned.insert_pdf(source, from_page=number - 1, to_page=number - 1)
            continue
        pixmap = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
        target = scanned.new_page(width=page.rect.width, height=page.rect.height)
        target.insert_image(target.rect, stream=pixmap.tobytes("png"))
    data = scanned.tobytes(deflate=True)
    scanned.close()
    source.close()
    return data
