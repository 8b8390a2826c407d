"""One page-token format and one page-size rule for every List/Search RPC."""

from __future__ import annotations

import base64

import pytest

from mivaa_platform.errors import InvalidArgument
from mivaa_platform.pagination import (
    MAX_PAGE_TOKEN_CHARS,
    PageSizes,
    decode_page_token,
    encode_page_token,
    filter_fingerprint,
    next_page,
)

SIZES = PageSizes(default=20, maximum=200)


def refused(token: str, kind: str = "pages", scope: str = "doc-1") -> str:
    with pytest.raises(InvalidArgument) as err:
        decode_page_token(token, kind, scope=scope, domain="test.mivaa")
    assert err.value.domain == "test.mivaa"
    return err.value.reason


def test_a_token_round_trips_and_empty_means_the_first_page():
    token = encode_page_token("pages", {"n": 20}, scope="doc-1")
    assert token.startswith("v1.") and len(token) < 100
    assert decode_page_token(token, "pages", scope="doc-1", domain="d") == {"n": 20}
    assert decode_page_token("", "pages", scope="doc-1", domain="d") is None


def test_a_token_works_only_for_its_listing_and_scope():
    token = encode_page_token("pages", {"n": 20}, scope="doc-1")
    assert refused(token, kind="images") == "INVALID_PAGE_TOKEN"
    assert refused(token, scope="doc-2") == "INVALID_PAGE_TOKEN"


def test_an_edited_cut_or_foreign_token_is_invalid():
    token = encode_page_token("pages", {"n": 20}, scope="doc-1")
    version, body, check = token.split(".")
    forged_body = base64.urlsafe_b64encode(b'{"a":{"n":99999},"k":"pages","s":"doc-1"}').decode().rstrip("=")
    for bad in [
        f"{version}.{forged_body}.{check}",  # the position edited, the check kept
        token[:-1],
        f"v0.{body}.{check}",
        "garbage!!",
        "%%%",
        base64.urlsafe_b64encode(b'["doc-1", 3]').decode(),  # the older formats are no longer issued
        "v1." + "A" * MAX_PAGE_TOKEN_CHARS,
    ]:
        assert refused(bad) == "INVALID_PAGE_TOKEN", bad


def test_page_sizes_default_clamp_and_refuse_negative():
    assert SIZES.clamp(0, domain="d") == 20
    assert SIZES.clamp(7, domain="d") == 7
    assert SIZES.clamp(10_000, domain="d") == 200
    with pytest.raises(InvalidArgument) as err:
        SIZES.clamp(-1, domain="d")
    assert err.value.reason == "INVALID_PAGE_SIZE"


def test_next_page_from_rows_fetched_one_past_the_limit():
    page, token = next_page([1, 2, 3], 2, "numbers", lambda n: {"n": n})
    assert page == [1, 2] and decode_page_token(token, "numbers", domain="d") == {"n": 2}
    assert next_page([1, 2], 2, "numbers", lambda n: {"n": n}) == ([1, 2], "")


def test_filter_fingerprint_ignores_order_and_repeats():
    assert filter_fingerprint(["b", "a", "a"]) == filter_fingerprint(["a", "b"]) != filter_fingerprint(["a"])
