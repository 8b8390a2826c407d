"""Documents generated in code for bench/retrieval_quality.py: facts written on known pages, and questions about them.

Two documents, both deterministic: a field-service handbook (one component a page:
its part number, maker, tightening torque and inspection interval) and a town
chronicle (one event a page: the year, the person, what happened, an archive
reference). Each fact occurs on exactly one page, so every question has one
answer page, and the part numbers and archive references are exact identifiers
that pure vector search is known to miss.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pymupdf

SEED = 20261203

SYSTEMS = ["coolant", "hydraulic", "exhaust", "intake", "fuel", "brake", "steering", "cabin", "winch", "auger"]
PARTS = ["bypass valve", "pressure sensor", "return pump", "mounting bracket", "filter housing", "drive belt"]
MAKERS = [
    ("Norrland Castings", "Umeå"),
    ("Brightwater Seals", "Dundee"),
    ("Kessler Antriebstechnik", "Augsburg"),
    ("Oakridge Fluid Power", "Tulsa"),
    ("Valmont Precision", "Lyon"),
    ("Harbour Electrics", "Gdańsk"),
    ("Sierra Bearings", "Valencia"),
    ("Tamarack Hydraulics", "Winnipeg"),
]
PEOPLE = [
    "Ingrid Halvorsen",
    "Tobias Wren",
    "Marguerite Aubel",
    "Samuel Okafor",
    "Clara Ventimiglia",
    "Henrik Dahl",
    "Agnes Moorcroft",
    "Pieter Vos",
    "Lucia Ferrante",
    "Edmund Tarrow",
    "Rosa Kwiatek",
    "Jonas Lindqvist",
]
ROLES = ["the harbour master", "the schoolteacher", "the mayor", "a rope maker", "the apothecary", "a ferry captain"]
EVENTS = [
    ("opened the first lending library", "Who opened the first lending library in Varden?"),
    ("rebuilt the lighthouse after the winter storm", "Who rebuilt the Varden lighthouse after the storm?"),
    ("founded the choir that still sings at midsummer", "Who founded the Varden midsummer choir?"),
    ("dug the canal that drained the eastern marsh", "Who drained the eastern marsh with a canal?"),
    ("brought the telegraph line across the fjord", "Who brought the telegraph across the fjord to Varden?"),
    ("led the strike of the herring salters", "Who led the herring salters' strike?"),
    ("planted the lime trees along the market street", "Who planted the lime trees on the market street?"),
    ("saved the grain store from the great fire", "Who saved the grain store during the great fire?"),
    ("opened a clinic for the families of fishermen", "Who opened the clinic for fishermen's families?"),
    ("built the iron footbridge over the river Aske", "Who built the footbridge over the river Aske?"),
    ("ran the first steam ferry to the island of Holm", "Who ran the first steam ferry to Holm?"),
    ("wrote the town's first printed newspaper", "Who printed Varden's first newspaper?"),
    ("discovered the silver seam above the quarry", "Who found silver above the Varden quarry?"),
    ("organised the relief of the flooded lower town", "Who organised relief when the lower town flooded?"),
    ("restored the painted ceiling of the old church", "Who restored the painted ceiling of the old church?"),
    ("set up the cooperative dairy on the hill farms", "Who set up the cooperative dairy?"),
]
FILLER = [
    "Before any work, isolate the machine, release stored pressure and hang a lockout tag on the main switch.",
    "Record every measurement in the service log together with the operating hours shown on the display.",
    "Use only the lubricants named in the appendix; mixing grades shortens the life of the seals.",
    "If the warning lamp stays on after the repair, repeat the self test before the machine returns to work.",
    "Keep the work area clean, since grit in an open circuit causes more failures than wear does.",
    "Worn parts go to the collection bin for recycling; never reuse a gasket that has been compressed once.",
    "A second technician checks the work and signs the log before the guards are closed again.",
    "Cold weather thickens the oil, so let the machine idle for ten minutes before loading it.",
    "Report any crack, leak or unusual noise to the workshop supervisor on the same day.",
    "Photographs of the installed part help the next technician and belong in the digital service file.",
]
CHRONICLE_FILLER = [
    "The harbour was busy with herring boats from spring until the first autumn gales.",
    "Most families kept a cow and a few sheep on the common pasture above the town.",
    "The parish records of the period are incomplete, and some dates are known only from letters.",
    "Travellers reached Varden by the coastal road or, more often, by the weekly mail boat.",
    "Prices for salt and timber rose and fell with the fortunes of the fishing fleet.",
    "The town council met in the back room of the customs house until the new hall was built.",
    "Winters were long, and the school closed whenever the fjord froze over.",
    "Letters from emigrants in America were read aloud in the market square.",
]


@dataclass(frozen=True)
class Fact:
    """A fact on one page of a generated document, asked about in a question."""

    doc: str
    page: int
    question: str
    identifier: str  # an exact identifier printed on the page (part number, archive reference)


@dataclass(frozen=True)
class GeneratedDoc:
    key: str
    filename: str
    data: bytes
    facts: list[Fact]


def _write_pages(title: str, pages: list[str]) -> bytes:
    document = pymupdf.open()
    document.set_metadata({"title": title})
    for number, text in enumerate(pages, 1):
        page = document.new_page(width=595, height=842)
        if page.insert_textbox(pymupdf.Rect(60, 60, 535, 800), text, fontsize=10, fontname="helv") < 0:
            raise ValueError(f"{title}: page {number}'s text does not fit on the page")
    data = document.tobytes(deflate=True)
    document.close()
    return data


def _part_number(rng: random.Random, taken: set[str]) -> str:
    while True:
        number = f"{rng.choice('BDHKMQRTVX')}{rng.choice('ACELNPSW')}-{rng.randint(1000, 9999)}-{rng.choice('CFGJZ')}"
        if number not in taken:
            taken.add(number)
            return number


def handbook(pages: int = 40) -> GeneratedDoc:
    """A field-service handbook: page N describes one component; questions ask its torque, maker or interval."""
    rng = random.Random(f"{SEED}:handbook")
    components = [f"{system} {part}" for system in SYSTEMS for part in PARTS]
    rng.shuffle(components)
    taken: set[str] = set()
    texts, facts = [], []
    for number in range(1, pages + 1):
        component = components[number - 1]
        part = _part_number(rng, taken)
        maker, city = rng.choice(MAKERS)
        torque, hours, years = rng.randint(12, 95), rng.choice(range(150, 2001, 50)), rng.randint(2, 9)
        lines = [
            f"Chapter {number}. The {component}",
            f"The {component} carries part number {part} and is made by {maker} in {city}.",
            f"Tighten the fasteners of the {component} to {torque} newton metres with a calibrated torque wrench.",
            f"Inspect the {component} every {hours} operating hours and replace it after {years} years of service.",
            " ".join(rng.sample(FILLER, 4)),
            " ".join(rng.sample(FILLER, 3)),
        ]
        texts.append("\n\n".join(lines))
        question = [
            f"What torque should the fasteners of the {component} be tightened to?",
            f"Which company makes the {component}, and where?",
            f"How often does the {component} have to be inspected?",
        ][number % 3]
        facts.append(Fact("handbook", number, question, part))
    return GeneratedDoc("handbook", "field-service-handbook.pdf", _write_pages("Field service handbook", texts), facts)


def chronicle(pages: int = 16) -> GeneratedDoc:
    """A town chronicle: page N tells one event of one year; questions ask who did it."""
    rng = random.Random(f"{SEED}:chronicle")
    events = list(EVENTS)
    rng.shuffle(events)
    texts, facts = [], []
    year = 1841
    for number in range(1, min(pages, len(events)) + 1):
        year += rng.randint(2, 6)
        person, role = PEOPLE[number % len(PEOPLE)], rng.choice(ROLES)
        deed, question = events[number - 1]
        reference = f"VA/{year}/{rng.randint(100, 999)}"
        lines = [
            f"The year {year}",
            f"In {year}, {person}, {role}, {deed}.",
            f"The account is kept in the town archive under reference {reference}.",
            " ".join(rng.sample(CHRONICLE_FILLER, 4)),
        ]
        texts.append("\n\n".join(lines))
        facts.append(Fact("chronicle", number, question, reference))
    return GeneratedDoc("chronicle", "varden-chronicle.pdf", _write_pages("A chronicle of Varden", texts), facts)


def generated_documents(*, quick: bool = False) -> list[GeneratedDoc]:
    return [handbook(12 if quick else 40), chronicle(8 if quick else 16)]
