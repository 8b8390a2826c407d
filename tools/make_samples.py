"""Writes the demo's sample PDFs (generated, so their text is known and nothing is shipped).

python tools/make_samples.py OUT_DIR
"""

from __future__ import annotations

import pathlib
import sys

import pymupdf

SAMPLES: dict[str, tuple[str, list[list[str]]]] = {
    "solar-power-primer.pdf": (
        "A Primer on Solar Power",
        [
            [
                "Photovoltaic cells turn sunlight directly into electricity. When photons strike a silicon "
                "wafer they free electrons, and the built-in electric field of the p-n junction pushes those "
                "electrons through an external circuit as direct current.",
                "A typical rooftop panel of sixty cells produces between 300 and 400 watts at noon on a clear "
                "day. Output falls with heat: every degree above 25 Celsius costs about 0.4 percent of power.",
            ],
            [
                "Inverters convert the panel's direct current into the alternating current used by household "
                "appliances and the grid. String inverters serve a whole array; microinverters sit behind each "
                "panel so one shaded panel does not drag down the others.",
                "Battery storage shifts solar energy from the afternoon into the evening peak. Lithium iron "
                "phosphate batteries tolerate thousands of charge cycles and are less prone to thermal runaway.",
            ],
        ],
    ),
    "sourdough-baking-guide.pdf": (
        "Sourdough Baking Guide",
        [
            [
                "A sourdough starter is a culture of wild yeast and lactic acid bacteria living in a paste of "
                "flour and water. Feed it equal weights of flour and water every day and it will double in "
                "four to eight hours at room temperature.",
                "The bacteria produce lactic and acetic acid, which give the bread its tangy flavour and help "
                "it keep for days without going stale.",
            ],
            [
                "Bulk fermentation is the long rise after mixing. Stretch and fold the dough every half hour "
                "during the first two hours to build gluten strength without kneading.",
                "Bake the loaf in a preheated Dutch oven at 250 degrees Celsius with the lid on for twenty "
                "minutes, so the trapped steam lets the crust expand, then uncover it to brown.",
            ],
            [
                "If the crumb is dense and gummy the dough was underproofed; if the loaf spreads flat and "
                "tastes very sour it was overproofed. Adjust the bulk time before changing anything else.",
            ],
        ],
    ),
    "volcano-field-notes.pdf": (
        "Field Notes on Volcanoes",
        [
            [
                "Shield volcanoes such as Mauna Loa are built from runny basaltic lava that flows for many "
                "kilometres before it cools, which gives them their broad, gently sloping profile.",
                "Stratovolcanoes erupt viscous andesitic magma rich in dissolved gas. Pressure builds until "
                "the gas escapes explosively, throwing out ash columns and pyroclastic flows.",
            ],
            [
                "Volcanologists watch for swarms of small earthquakes, ground swelling measured by GPS and "
                "satellite radar, and rising sulfur dioxide emissions: together they are the best warning "
                "that magma is moving towards the surface.",
            ],
        ],
    ),
}


def write_sample(path: pathlib.Path, title: str, pages: list[list[str]]) -> None:
    document = pymupdf.open()
    # Fixed dates and no fresh /ID: the same sample is the same bytes on every run, so a
    # second `make demo` finds the documents it already has instead of adding copies.
    fixed = "D:20260101000000Z"
    document.set_metadata({"title": title, "author": "mivaa demo", "creationDate": fixed, "modDate": fixed})
    for number, paragraphs in enumerate(pages, 1):
        page = document.new_page(width=595, height=842)
        y = 72
        if number == 1:
            page.insert_text((72, y), title, fontsize=20, fontname="hebo")
            y += 40
        for paragraph in paragraphs:
            box = pymupdf.Rect(72, y, 523, 800)
            page.insert_textbox(box, paragraph, fontsize=11, fontname="helv")
            y += 14 * (len(paragraph) // 80 + 2)
        page.insert_text((290, 820), str(number), fontsize=9)
    document.save(path, no_new_id=True)


def main() -> int:
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "samples")
    out.mkdir(parents=True, exist_ok=True)
    for name, (title, pages) in SAMPLES.items():
        write_sample(out / name, title, pages)
    print(f"{len(SAMPLES)} sample PDFs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
