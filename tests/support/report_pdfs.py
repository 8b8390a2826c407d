"""Generated English reports with known sections, entities and numbers (document intelligence tests).

Each section starts a page: a bold heading, then its paragraphs, so every sentence's page is known.
"""

from __future__ import annotations

from collections.abc import Sequence

import pymupdf

Section = tuple[str, Sequence[str]]

# page 1: a person and an organisation; page 2: a place and a date; page 3: amounts.
ENTITY_SECTIONS: list[Section] = [
    (
        "1 Board changes",
        [
            "In the last quarter Alice Johnson was appointed as the new chair of the board of Acme Corporation.",
            "The board said that the appointment of Alice Johnson was a sign of the confidence it has in the plan.",
        ],
    ),
    (
        "2 The new office",
        [
            "The company opened its new office in Paris on 12 March 2024 after a long search for a building.",
            "Most of the staff who work in Paris moved into the new office in the weeks that followed.",
        ],
    ),
    (
        "3 Costs of the move",
        [
            "The move cost $4,500 for the removal company and the shipping of 30 kilograms of archive boxes.",
            "The rent of the new office is 15% higher than the rent of the old one, which the board accepted.",
        ],
    ),
]

# Two versions of one policy: the second changes the budget of section 2 and drops section 3.
POLICY_V1: list[Section] = [
    (
        "1 Purpose of the policy",
        [
            "This policy sets out how the company plans, approves and reviews the travel of its staff.",
            "It applies to every member of staff who travels on behalf of the company for any reason.",
        ],
    ),
    (
        "2 Travel budget",
        [
            "The annual travel budget of each team is 4500 euros and it is reviewed at the end of the year.",
            "A team that needs more than its budget asks the finance office before it books any travel.",
        ],
    ),
    (
        "3 Rail before air",
        [
            "Staff travel by rail whenever the journey by train takes less than six hours in each direction.",
            "Flights are booked in economy class only, and only when no train can make the journey in time.",
        ],
    ),
    (
        "4 Review of the policy",
        [
            "The finance office reviews this policy every two years and reports on it to the board of the company.",
            "Comments on the policy are welcome at any time and are collected by the finance office.",
        ],
    ),
]
POLICY_V2: list[Section] = [
    POLICY_V1[0],
    (
        "2 Travel budget",
        [
            "The annual travel budget of each team is 5200 euros and it is reviewed at the end of the year.",
            "A team that needs more than its budget asks the finance office before it books any travel.",
        ],
    ),
    POLICY_V1[3],
]

VOLCANO_A: list[Section] = [
    (
        "1 Watching the volcano",
        [
            "The observatory watches the volcano day and night with seismometers that feel every small earthquake.",
            "When magma rises under the crater the ground swells and the gas from the vents grows richer in sulphur.",
            "An eruption is often announced by swarms of earthquakes and by lava glowing in the crater at night.",
        ],
    ),
]
VOLCANO_B: list[Section] = [
    (
        "1 After the eruption",
        [
            "The eruption of the volcano sent ash high into the sky and lava flowed down its slopes for weeks.",
            "Villages near the crater were covered with volcanic ash and the lava flows buried the roads.",
            "Volcanologists measured the gas and the heat of the lava to learn when the eruption would end.",
        ],
    ),
]
BREAD: list[Section] = [
    (
        "1 Baking sourdough bread",
        [
            "The baker mixes flour, water and salt with a sourdough starter and leaves the dough to rise overnight.",
            "In the morning the dough is shaped into loaves and baked in a hot oven until the crust is dark brown.",
            "A good loaf of bread has an open crumb, a crisp crust and a gentle sour taste from the starter.",
        ],
    ),
]


def make_report(title: str, sections: Sequence[Section]) -> bytes:
    """One page per section: its heading in bold 16 pt, then its paragraphs; `title` in the metadata."""
    document = pymupdf.open()
    for heading, paragraphs in sections:
        page = document.new_page(width=595, height=842)
        page.insert_text((72, 90), heading, fontsize=16, fontname="hebo")
        page.insert_textbox(pymupdf.Rect(72, 110, 523, 780), "\n\n".join(paragraphs), fontsize=11, fontname="helv")
    document.set_metadata({"title": title})
    data = document.tobytes()
    document.close()
    return data
