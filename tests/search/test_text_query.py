"""The candidate query a keyword search gives the full-text index."""

from __future__ import annotations

from mivaa_search.store.text_query import ConfigQuery, any_of


def test_the_candidate_query_names_each_branch_once_however_many_configurations_read_it_alike():
    english = ConfigQuery("english", "'rye' & 'bread'", ["'rye' <1> 'bread'"], ["'rye'", "'bread'"])
    german = ConfigQuery("german", "'rye' & 'bread'", ["'rye' <1> 'bread'"], ["'rye'", "'bread'"])
    simple = ConfigQuery("simple", "'the' & 'rye' & 'bread'", ["'the' <1> 'rye'", "'rye' <1> 'bread'"], [])
    assert any_of([english, german, simple]) == (
        "('rye' & 'bread') | ('the' & 'rye' & 'bread') | ('rye' <1> 'bread') | ('the' <1> 'rye')"
    )
    # A configuration that indexes none of the words adds nothing.
    assert any_of([english, ConfigQuery("arabic", "", [], [])]) == "('rye' & 'bread') | ('rye' <1> 'bread')"
