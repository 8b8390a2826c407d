"""Deterministic English-looking prose for the generated documents (and the speed bench's pages)."""

from __future__ import annotations

import random

_SUBJECTS = (
    "The harbour observers",
    "Coastal forecasters",
    "The lighthouse keeper",
    "Our field volunteers",
    "The survey vessel crew",
    "Regional meteorologists",
    "The island weather station",
    "Experienced sailors",
    "The tide gauge network",
    "Visiting climatologists",
    "The fishing cooperative",
    "Night watch officers",
    "The ferry captains",
    "Retired pilots",
    "The coastguard radio room",
    "Student assistants",
)
_VERBS = (
    "recorded",
    "compared",
    "documented",
    "monitored",
    "questioned",
    "calibrated",
    "summarised",
    "reconstructed",
    "predicted",
    "reviewed",
    "measured",
    "tabulated",
    "photographed",
    "described",
)
_OBJECTS = (
    "atmospheric pressure",
    "the southwesterly swell",
    "precipitation totals",
    "cloud condensation patterns",
    "visibility over the estuary",
    "thunderstorm development",
    "anticyclonic conditions",
    "sea surface temperatures",
    "the instrumentation logs",
    "fog formation near the breakwater",
    "meteorological observations",
    "wind shear above the cliffs",
    "humidity in the boathouse",
    "the approaching squall lines",
    "overnight temperature inversions",
    "the barometric tendency",
)
_TAILS = (
    "before the autumn equinox",
    "during unusually calm mornings",
    "throughout the winter campaign",
    "whenever the barometer fell sharply",
    "with remarkable consistency",
    "alongside historical archives",
    "despite persistent interference",
    "across neighbouring stations",
    "at irregular intervals",
    "under challenging circumstances",
    "for the quarterly bulletin",
    "while the ferries were suspended",
    "using hand-drawn synoptic charts",
    "long after the harbour lights dimmed",
    "for the regional almanac",
    "with characteristically understated notes",
)


class Prose:
    """Deterministic English-looking sentences; a seeded RNG makes most 6-word windows unique."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)

    def sentence(self) -> str:
        pick = self._rng.choice
        return f"{pick(_SUBJECTS)} {pick(_VERBS)} {pick(_OBJECTS)} {pick(_TAILS)}."

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence() for _ in range(sentences))
