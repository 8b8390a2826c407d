"""Section comparison and entity normalization: pure functions, no database."""

from __future__ import annotations

import numpy as np

from mivaa_search.store.entities import normalize_entity
from mivaa_search.store.related import ChunkSlice
from mivaa_search.usecases.compare import compare, heading_key, number_changes, sections


def chunk(index: int, path: tuple[str, ...], text: str, page: int, direction: int) -> ChunkSlice:
    vector = np.zeros(8, dtype=np.float32)
    vector[direction] = 1.0
    return ChunkSlice(index, path, text, page, page, vector)


def test_entities_normalize_case_spaces_punctuation_and_a_leading_the():
    assert normalize_entity("  The  Acme\nCorp. ") == normalize_entity("acme corp") == "acme corp"
    assert normalize_entity("$4,500") == "$4,500"


def test_headings_match_without_their_numbers():
    assert heading_key(("2.1 Costs",)) == heading_key(("3 COSTS",)) == ("costs",)


def test_numbers_that_changed_with_their_context_and_unit():
    changes = number_changes(
        "The budget is 4500 euros and the fee is $30. Staff: 12.",
        "The budget is 5200 euros and the fee is $30. Staff: 14.",
    )
    assert [(c.context, c.unit, c.old, c.new) for c in changes] == [
        ("The budget is", "euros", "4500", "5200"),
        ("the fee is $30. Staff:", "", "12", "14"),
    ]
    assert number_changes("costs $5", "costs 5%") == []  # another kind of quantity, not a changed number


def test_sections_match_by_heading_then_by_vector_and_the_rest_stand_alone():
    first = sections(
        [
            chunk(0, ("1 Intro",), "same words", 1, 0),
            chunk(1, ("2 Budget",), "budget is 10 euros", 2, 1),
            chunk(2, ("3 Renamed",), "about trains", 3, 2),
            chunk(3, ("4 Gone",), "about planes", 4, 3),
        ]
    )
    second = sections(
        [
            chunk(0, ("1 Intro",), "same  words", 1, 0),
            chunk(1, ("2 Budget",), "budget is 12 euros", 2, 1),
            chunk(2, ("3 Rail",), "about trains", 3, 2),
            chunk(3, ("5 New",), "about ships", 4, 5),
        ]
    )
    pairs = compare(first, second)
    assert [(p.change, p.first and p.first.path, p.second and p.second.path) for p in pairs] == [
        ("MATCHING", ("1 Intro",), ("1 Intro",)),
        ("DIFFERENT", ("2 Budget",), ("2 Budget",)),
        ("MATCHING", ("3 Renamed",), ("3 Rail",)),
        ("ONLY_IN_FIRST", ("4 Gone",), None),
        ("ONLY_IN_SECOND", None, ("5 New",)),
    ]
    assert [(n.old, n.new, n.unit) for n in pairs[1].numbers] == [("10", "12", "euros")]
